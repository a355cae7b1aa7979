//! The C library calls and kernel constants the sandbox needs (std has none of them).
//! Linux x86_64 and aarch64, glibc or musl.

#![allow(dead_code)]

pub type Pid = i32;

unsafe extern "C" {
    pub fn setsid() -> i32;
    pub fn prctl(option: i32, arg2: u64, arg3: u64, arg4: u64, arg5: u64) -> i32;
    pub fn signal(sig: i32, handler: usize) -> usize;
    pub fn sigprocmask(how: i32, set: *const u64, old: *mut u64) -> i32;
    pub fn waitpid(pid: Pid, status: *mut i32, options: i32) -> Pid;
    pub fn kill(pid: Pid, sig: i32) -> i32;
    pub fn getpid() -> Pid;
    pub fn getppid() -> Pid;
    pub fn getuid() -> u32;
    pub fn getgid() -> u32;
    pub fn getpgid(pid: Pid) -> Pid;
    pub fn setpgid(pid: Pid, pgid: Pid) -> i32;
    pub fn tcsetpgrp(fd: i32, pgrp: Pid) -> i32;
    pub fn ioctl(fd: i32, req: u64, ...) -> i32;
    pub fn dup(fd: i32) -> i32;
    pub fn dup2(old: i32, new: i32) -> i32;
    pub fn close(fd: i32) -> i32;
    pub fn fork() -> Pid;
    pub fn _exit(code: i32) -> !;
    pub fn fcntl(fd: i32, cmd: i32, ...) -> i32;
    pub fn unshare(flags: i32) -> i32;
    pub fn mount(src: *const u8, target: *const u8, fstype: *const u8, flags: u64, data: *const u8) -> i32;
    pub fn setrlimit(resource: i32, rlim: *const [u64; 2]) -> i32;
    pub fn getrlimit(resource: i32, rlim: *mut [u64; 2]) -> i32;
    pub fn syscall(nr: i64, ...) -> i64;
    pub fn socketpair(domain: i32, ty: i32, proto: i32, sv: *mut [i32; 2]) -> i32;
    pub fn sendmsg(fd: i32, msg: *const MsgHdr, flags: i32) -> isize;
    pub fn recvmsg(fd: i32, msg: *mut MsgHdr, flags: i32) -> isize;
    pub fn write(fd: i32, buf: *const u8, n: usize) -> isize;
    pub fn clock_gettime(clk: i32, ts: *mut i64) -> i32;
    pub fn __errno_location() -> *mut i32;
}

pub fn errno() -> i32 {
    // SAFETY: reading the thread's errno.
    unsafe { *__errno_location() }
}

pub fn last_error(what: &str) -> String {
    format!("{what}: {}", std::io::Error::last_os_error())
}

#[repr(C)]
pub struct IoVec {
    pub base: *mut u8,
    pub len: usize,
}

#[repr(C)]
pub struct MsgHdr {
    pub name: *mut u8,
    pub namelen: u32,
    pub iov: *mut IoVec,
    pub iovlen: usize,
    pub control: *mut u8,
    pub controllen: usize,
    pub flags: i32,
}

pub const PR_SET_PDEATHSIG: i32 = 1;
pub const PR_SET_SECCOMP: i32 = 22;
pub const PR_SET_CHILD_SUBREAPER: i32 = 36;
pub const PR_GET_CHILD_SUBREAPER: i32 = 37;
pub const PR_SET_NO_NEW_PRIVS: i32 = 38;

pub const SIG_SETMASK: i32 = 2;
pub const SIG_BLOCK: i32 = 0;
pub const SIGKILL: i32 = 9;
pub const SIGTTOU: i32 = 22;

pub const ECHILD: i32 = 10;
pub const EINTR: i32 = 4;
pub const EPERM: i32 = 1;
pub const ENOSYS: i32 = 38;
pub const ENOENT: i32 = 2;

pub const TIOCSCTTY: u64 = 0x540E;
pub const F_SETFD: i32 = 2;
pub const FD_CLOEXEC: i32 = 1;

pub const CLONE_NEWNS: i32 = 0x0002_0000;
pub const CLONE_NEWUSER: i32 = 0x1000_0000;
pub const CLONE_NEWPID: i32 = 0x2000_0000;

pub const MS_NOSUID: u64 = 2;
pub const MS_NODEV: u64 = 4;
pub const MS_NOEXEC: u64 = 8;
pub const MS_REC: u64 = 16384;
pub const MS_PRIVATE: u64 = 1 << 18;

pub const RLIMIT_CORE: i32 = 4;
pub const RLIMIT_NPROC: i32 = 6;

pub const AF_UNIX: i32 = 1;
pub const SOCK_SEQPACKET: i32 = 5;
pub const SOCK_CLOEXEC: i32 = 0o2000000;
pub const SOL_SOCKET: i32 = 1;
pub const SCM_RIGHTS: i32 = 1;

#[cfg(target_arch = "x86_64")]
pub mod nr {
    pub const SECCOMP: i64 = 317;
    pub const LANDLOCK_RESTRICT_SELF: i64 = 446;
    pub const PIDFD_OPEN: i64 = 434;
    pub const PIDFD_SEND_SIGNAL: i64 = 424;
}
#[cfg(target_arch = "aarch64")]
pub mod nr {
    pub const SECCOMP: i64 = 277;
    pub const LANDLOCK_RESTRICT_SELF: i64 = 446;
    pub const PIDFD_OPEN: i64 = 434;
    pub const PIDFD_SEND_SIGNAL: i64 = 424;
}

/// CLOCK_MONOTONIC in ns: the clock of every trace record.
pub fn monotonic_ns() -> i128 {
    let mut ts = [0i64; 2];
    // SAFETY: clock_gettime writes two longs.
    unsafe { clock_gettime(1, ts.as_mut_ptr()) };
    i128::from(ts[0]) * 1_000_000_000 + i128::from(ts[1])
}

/// Writes `text` to `path` in one write(2) (for /proc and cgroup files).
pub fn write_file(path: &str, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("write {path}: {e}"))
}

/// A C string for a path, for the raw calls.
pub fn cstr(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

/// Sends one fd over a unix socket (SCM_RIGHTS). Async-signal-safe: stack buffers only.
pub fn send_fd(sock: i32, fd: i32) -> bool {
    let mut byte = [b'f'];
    let mut iov = IoVec { base: byte.as_mut_ptr(), len: 1 };
    // cmsghdr { len: usize, level: i32, type: i32 } + one int, aligned to 8.
    let mut control = [0u64; 3];
    let c = control.as_mut_ptr() as *mut u8;
    // SAFETY: writing the header fields into our own stack buffer.
    unsafe {
        *(c as *mut usize) = 16 + 4;
        *(c.add(8) as *mut i32) = SOL_SOCKET;
        *(c.add(12) as *mut i32) = SCM_RIGHTS;
        *(c.add(16) as *mut i32) = fd;
    }
    let msg = MsgHdr {
        name: std::ptr::null_mut(),
        namelen: 0,
        iov: &mut iov,
        iovlen: 1,
        control: c,
        controllen: 24,
        flags: 0,
    };
    // SAFETY: msg points at live stack buffers.
    unsafe { sendmsg(sock, &msg, 0) == 1 }
}

/// Receives one fd sent by [`send_fd`]; -1 if none came.
pub fn recv_fd(sock: i32) -> i32 {
    let mut byte = [0u8];
    let mut iov = IoVec { base: byte.as_mut_ptr(), len: 1 };
    let mut control = [0u64; 3];
    let c = control.as_mut_ptr() as *mut u8;
    let mut msg = MsgHdr {
        name: std::ptr::null_mut(),
        namelen: 0,
        iov: &mut iov,
        iovlen: 1,
        control: c,
        controllen: 24,
        flags: 0,
    };
    loop {
        // SAFETY: msg points at live buffers.
        let n = unsafe {
            recvmsg(sock, &mut msg, 0o2000000 /* MSG_CMSG_CLOEXEC */)
        };
        if n < 0 && errno() == EINTR {
            continue;
        }
        if n <= 0 || msg.controllen < 20 {
            return -1;
        }
        // SAFETY: the kernel filled one SCM_RIGHTS header with one fd.
        return unsafe { *(c.add(16) as *const i32) };
    }
}
