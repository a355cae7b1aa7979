//! The hostile lab: every route a lab could take to signal a process outside its scenario.
//! Each attempt is noted (`<route>:<target>` = `ok` or the errno); whether it *worked* is for
//! the test to see, on the targets.

use std::ffi::CString;

/// One target: a name, a pid and its process group, as the test runner sees them.
pub struct Target {
    pub name: String,
    pub pid: i32,
    pub pgid: i32,
}

/// `name=pid/pgid`
pub fn parse(arg: &str) -> Option<Target> {
    let (name, ids) = arg.split_once('=')?;
    let (pid, pgid) = ids.split_once('/')?;
    Some(Target { name: name.to_string(), pid: pid.parse().ok()?, pgid: pgid.parse().ok()? })
}

fn result(rc: i64) -> String {
    if rc >= 0 { "ok".into() } else { format!("{:?}", nix::errno::Errno::last()) }
}

fn note(route: &str, target: &str, rc: i64) {
    labkit::note(&format!("{route}:{target}"), &result(rc));
}

const PIDFD_SIGNAL_PROCESS_GROUP: u32 = 4;

fn siginfo(sig: i32) -> [u8; 128] {
    // si_signo, si_errno, si_code = SI_QUEUE (-1), si_pid, si_uid: what sigqueue(3) sends.
    let mut info = [0u8; 128];
    info[0..4].copy_from_slice(&sig.to_ne_bytes());
    info[8..12].copy_from_slice(&(-1i32).to_ne_bytes());
    // SAFETY: getpid/getuid have no effects.
    info[16..20].copy_from_slice(&unsafe { libc::getpid() }.to_ne_bytes());
    info[20..24].copy_from_slice(&unsafe { libc::getuid() }.to_ne_bytes());
    info
}

/// 32-bit `int 0x80` kill(2) (i386 number 37): another ABI, the classic way around a
/// filter that checks only x86_64 numbers.
#[cfg(target_arch = "x86_64")]
fn int80_kill(pid: i32, sig: i32) -> i64 {
    let ret: i64;
    // SAFETY: the i386 kill(2) takes two integers; rbx is saved and restored around the call.
    unsafe {
        std::arch::asm!(
            "xchg {b}, rbx",
            "int 0x80",
            "xchg {b}, rbx",
            b = inout(reg) i64::from(pid) => _,
            inlateout("rax") 37i64 => ret,
            in("rcx") i64::from(sig),
        );
    }
    if ret < 0 {
        nix::errno::Errno::set_raw(-ret as i32);
        -1
    } else {
        ret
    }
}
#[cfg(not(target_arch = "x86_64"))]
fn int80_kill(_pid: i32, _sig: i32) -> i64 {
    nix::errno::Errno::set_raw(libc::ENOSYS);
    -1
}

/// Every route, against every target, with `sig`; the broadcasts too if `broadcasts`.
pub fn attack(targets: &[Target], sig: i32, broadcasts: bool) {
    if broadcasts {
        broadcast(sig);
    }
    // SAFETY: getpid has no effects.
    let me = unsafe { libc::getpid() };
    for t in targets {
        // In a PID namespace of its own, an outside pid can be the same number as one of
        // ours: sending to ourselves proves nothing, and SIGKILL would end the attack.
        if t.pid == me {
            labkit::note(&format!("skipped:{}", t.name), "its pid is also ours");
            continue;
        }
        one(t, sig);
    }
    labkit::note("attack", "done");
}

/// Targets nobody names: everyone, init, our own sandbox.
fn broadcast(sig: i32) {
    // SAFETY (for every call): raw system calls with integer arguments; making them is the
    // point of this program.
    unsafe {
        // glibc's killpg(1) is kill(-1); int 0x80 and x32 go around a filter of x86_64 numbers.
        note("kill", "-1", i64::from(libc::kill(-1, sig)));
        note("killpg", "1", i64::from(libc::killpg(1, sig)));
        note("int80-kill", "-1", int80_kill(-1, sig));
        note("x32-kill", "-1", libc::syscall(0x4000_0000 | libc::SYS_kill, -1, sig));
        note("kill", "init", i64::from(libc::kill(1, sig)));
    }
}

/// Every route against one target.
fn one(t: &Target, sig: i32) {
    let (p, g, n) = (t.pid, t.pgid, t.name.as_str());
    // SAFETY (for every call): raw system calls with integer arguments or buffers we own.
    // A group id of 1 (the sandbox as init of a PID namespace) would make the group routes
    // broadcasts, which `broadcast` covers.
    let g = if g > 1 { g } else { p };
    unsafe {
        note("kill", n, i64::from(libc::kill(p, sig)));
        note("kill-group", n, i64::from(libc::kill(-g, sig)));
        note("int80-kill", n, int80_kill(p, sig));
        note("int80-kill-group", n, int80_kill(-g, sig));
        note("x32-kill", n, libc::syscall(0x4000_0000 | libc::SYS_kill, p, sig));
        note("tkill", n, libc::syscall(libc::SYS_tkill, p, sig));
        note("tgkill", n, libc::syscall(libc::SYS_tgkill, p, p, sig));
        let mut info = siginfo(sig);
        note("rt_sigqueueinfo", n, libc::syscall(libc::SYS_rt_sigqueueinfo, p, sig, info.as_mut_ptr()));
        let mut info = siginfo(sig);
        note(
            "rt_tgsigqueueinfo",
            n,
            libc::syscall(libc::SYS_rt_tgsigqueueinfo, p, p, sig, info.as_mut_ptr()),
        );
        let fd = libc::syscall(libc::SYS_pidfd_open, p, 0);
        note("pidfd_open", n, fd);
        if fd >= 0 {
            note("pidfd_send_signal", n, libc::syscall(libc::SYS_pidfd_send_signal, fd, sig, 0usize, 0u32));
            note(
                "pidfd_send_signal-group",
                n,
                libc::syscall(libc::SYS_pidfd_send_signal, fd, sig, 0usize, PIDFD_SIGNAL_PROCESS_GROUP),
            );
            libc::close(fd as i32);
        }
        let path = CString::new(format!("/proc/{p}")).unwrap_or_default();
        let dir = libc::open(path.as_ptr(), libc::O_DIRECTORY | libc::O_RDONLY | libc::O_CLOEXEC);
        note("open-proc-dir", n, i64::from(dir));
        if dir >= 0 {
            note("procfd_send_signal", n, libc::syscall(libc::SYS_pidfd_send_signal, dir, sig, 0usize, 0u32));
            libc::close(dir);
        }
        for (route, owner) in [("sigio", p), ("sigio-group", -g)] {
            let mut fds = [0; 2];
            if libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) == 0 {
                let rc = libc::fcntl(fds[0], libc::F_SETOWN, owner);
                note(&format!("{route}-setown"), n, i64::from(rc));
                libc::fcntl(fds[0], 10 /* F_SETSIG */, sig);
                libc::fcntl(fds[0], libc::F_SETFL, libc::O_ASYNC | libc::O_NONBLOCK);
                note(route, n, libc::write(fds[1], b"x".as_ptr().cast(), 1) as i64);
                libc::close(fds[0]);
                libc::close(fds[1]);
            }
        }
        note("ptrace-seize", n, libc::ptrace(libc::PTRACE_SEIZE, p, 0usize, 0usize));
    }
}
