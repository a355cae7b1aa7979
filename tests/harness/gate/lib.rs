//! libproclab_gate.so: pause points a spec opens *inside* the lab's own calls, so that a race
//! window the lesson is about is open on purpose, every run — without a line of the lab
//! changed. The sandbox preloads it (LD_PRELOAD) into the lab when the spec asks
//! (`Setup::hold_println`, `Setup::gate_pdeathsig`); each gate then stops the process like a
//! `labkit::pause` (the same trace record and FIFO), and the spec releases it as usual:
//!
//! - `PROCLAB_GATE_WRITE=<text>`: the process's first write(2) to stdout whose bytes contain
//!   `<text>` — in practice one `println!` of the lab — waits *inside* that write, i.e. while
//!   stdout's buffer is borrowed. A signal handler that runs then and calls `println!` finds it
//!   borrowed and aborts, every time; one that writes with write(2) goes through (writes from
//!   the held thread are never held again). Pause label: `println: <text>`.
//! - `PROCLAB_GATE_PDEATHSIG=1`: every prctl(PR_SET_PDEATHSIG) waits just before the kernel
//!   sees it: the window of "check the parent, then arm the signal". Pause label:
//!   `prctl(PR_SET_PDEATHSIG)`.
//!
//! no_std, no allocation: only raw system calls and getenv.

#![no_std]

use core::sync::atomic::{AtomicBool, AtomicI32, Ordering};

#[link(name = "c")]
unsafe extern "C" {
    fn syscall(nr: i64, ...) -> i64;
    fn getenv(name: *const u8) -> *const u8;
    fn mkfifo(path: *const u8, mode: u32) -> i32;
    fn open(path: *const u8, flags: i32, ...) -> i32;
    fn read(fd: i32, buf: *mut u8, n: usize) -> isize;
    fn close(fd: i32) -> i32;
    fn clock_gettime(clk: i32, ts: *mut [i64; 2]) -> i32;
    fn __errno_location() -> *mut i32;
}

#[cfg(target_arch = "x86_64")]
mod nr {
    pub const WRITE: i64 = 1;
    pub const GETPID: i64 = 39;
    pub const GETTID: i64 = 186;
    pub const PRCTL: i64 = 157;
}
#[cfg(target_arch = "aarch64")]
mod nr {
    pub const WRITE: i64 = 64;
    pub const GETPID: i64 = 172;
    pub const GETTID: i64 = 178;
    pub const PRCTL: i64 = 167;
}

const PR_SET_PDEATHSIG: i32 = 1;
const O_RDONLY: i32 = 0;
const O_CLOEXEC: i32 = 0o2000000;
const EINTR: i32 = 4;
const CLOCK_MONOTONIC: i32 = 1;

/// The write gate has held this process once (inherited across fork: a child of a held
/// process is not held again for the same text).
static WRITE_DONE: AtomicBool = AtomicBool::new(false);
/// The thread waiting in a gate (0: none): its own writes, from a handler, pass through.
static HOLDING_TID: AtomicI32 = AtomicI32::new(0);

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}

/// The precompiled `core` refers to it even with panic=abort; nothing here unwinds.
#[unsafe(no_mangle)]
pub extern "C" fn rust_eh_personality() {}

fn env(name: &[u8]) -> Option<&'static [u8]> {
    // SAFETY: a NUL-terminated name; getenv returns null or a NUL-terminated string.
    let p = unsafe { getenv(name.as_ptr()) };
    if p.is_null() {
        return None;
    }
    let mut n = 0;
    // SAFETY: walking a NUL-terminated string.
    while unsafe { *p.add(n) } != 0 {
        n += 1;
    }
    // SAFETY: `n` bytes before the NUL, alive as long as the environment.
    Some(unsafe { core::slice::from_raw_parts(p, n) })
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// A line on the stack.
struct Buf {
    b: [u8; 1024],
    n: usize,
}

impl Buf {
    fn new() -> Buf {
        Buf { b: [0; 1024], n: 0 }
    }
    fn push(&mut self, s: &[u8]) -> &mut Buf {
        for &c in s {
            if self.n < self.b.len() - 1 {
                self.b[self.n] = if c == b'\n' { b' ' } else { c };
                self.n += 1;
            }
        }
        self
    }
    fn num(&mut self, v: i64) -> &mut Buf {
        let mut d = [0u8; 20];
        let mut i = d.len();
        let mut x = v.unsigned_abs();
        loop {
            i -= 1;
            d[i] = b'0' + (x % 10) as u8;
            x /= 10;
            if x == 0 {
                break;
            }
        }
        if v < 0 {
            self.push(b"-");
        }
        self.push(&d[i..])
    }
}

fn raw_write(fd: i32, buf: *const u8, n: usize) -> isize {
    // SAFETY: the write(2) system call with the caller's arguments.
    unsafe { syscall(nr::WRITE, fd as i64, buf, n) as isize }
}

/// Announces `label` as a pause on the trace and waits on the process's FIFO for the spec's
/// release — exactly what `labkit::pause` does under the harness.
fn hold(label: &[&[u8]]) {
    let (Some(dir), Some(trace)) = (env(b"PROCLAB_GO_DIR\0"), env(b"PROCLAB_TRACE_FD\0")) else { return };
    let mut fd_trace: i32 = 0;
    for &c in trace {
        if !c.is_ascii_digit() {
            return;
        }
        fd_trace = fd_trace * 10 + i32::from(c - b'0');
    }
    // SAFETY: getpid/gettid cannot fail.
    let (pid, tid) = unsafe { (syscall(nr::GETPID), syscall(nr::GETTID)) };
    let mut path = Buf::new();
    path.push(dir).push(b"/").num(pid);
    path.b[path.n] = 0;
    // SAFETY: a NUL-terminated path; EEXIST is fine.
    unsafe { mkfifo(path.b.as_ptr(), 0o600) };
    let mut ts = [0i64; 2];
    // SAFETY: clock_gettime writes two longs.
    unsafe { clock_gettime(CLOCK_MONOTONIC, &mut ts) };
    let mut rec = Buf::new();
    rec.num(pid).push(b" ").num(ts[0] * 1_000_000_000 + ts[1]).push(b" pause ");
    for part in label {
        rec.push(part);
    }
    rec.b[rec.n] = b'\n';
    HOLDING_TID.store(tid as i32, Ordering::SeqCst);
    raw_write(fd_trace, rec.b.as_ptr(), rec.n + 1);
    loop {
        // SAFETY: a NUL-terminated path.
        let fd = unsafe { open(path.b.as_ptr(), O_RDONLY | O_CLOEXEC) };
        if fd < 0 {
            // SAFETY: errno of this thread.
            if unsafe { *__errno_location() } == EINTR {
                continue;
            }
            break;
        }
        let mut byte = 0u8;
        let n = loop {
            // SAFETY: one byte into `byte`.
            let n = unsafe { read(fd, &mut byte, 1) };
            // SAFETY: errno of this thread.
            if n < 0 && unsafe { *__errno_location() } == EINTR {
                continue;
            }
            break n;
        };
        // SAFETY: our fd.
        unsafe { close(fd) };
        if n != 0 {
            break; // released (or an error: go on rather than hang)
        }
    }
    HOLDING_TID.store(0, Ordering::SeqCst);
}

/// write(2), with the write gate in front of it.
///
/// # Safety
/// The contract of write(2).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn write(fd: i32, buf: *const u8, n: usize) -> isize {
    if fd == 1 && !WRITE_DONE.load(Ordering::Relaxed) && HOLDING_TID.load(Ordering::Relaxed) == 0 {
        if let Some(text) = env(b"PROCLAB_GATE_WRITE\0") {
            // SAFETY: the caller's buffer of `n` bytes.
            let bytes = unsafe { core::slice::from_raw_parts(buf, n) };
            if contains(bytes, text) && !WRITE_DONE.swap(true, Ordering::SeqCst) {
                hold(&[b"println: ", text]);
            }
        }
    }
    raw_write(fd, buf, n)
}

/// prctl(2), with the PR_SET_PDEATHSIG gate in front of it. prctl is variadic in C; its
/// arguments arrive in the same registers as these five.
///
/// # Safety
/// The contract of prctl(2).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn prctl(option: i32, a2: u64, a3: u64, a4: u64, a5: u64) -> i32 {
    if option == PR_SET_PDEATHSIG && env(b"PROCLAB_GATE_PDEATHSIG\0").is_some() {
        hold(&[b"prctl(PR_SET_PDEATHSIG)"]);
    }
    // SAFETY: the prctl(2) system call with the caller's arguments.
    unsafe { syscall(nr::PRCTL, option as i64, a2, a3, a4, a5) as i32 }
}
