//! proclab-sandbox: the parent of one scenario. Built by the harness's build script from this
//! one file with std alone (no crates), so every spec can exec it.
//!
//! It becomes a session leader and a *child subreaper* (orphans of the scenario are reparented
//! to it, not to pid 1, so they stay observable), resets the signal state, starts the lab in a
//! process group of its own (as a job-control shell would), reaps every process that becomes
//! its child and reports each exit on the trace pipe. When the runner writes `kill` on the
//! control pipe, or goes away (EOF), it SIGKILLs every descendant it has, reaps them all and
//! exits.
//!
//! usage: proclab-sandbox [--pty] -- LAB [ARG...]
//! fds on entry: 0 control (runner -> sandbox), 1/2 the lab's stdout/stderr pipes,
//! 3 trace pipe (write end), 5 a pty slave when --pty is given.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

unsafe extern "C" {
    fn setsid() -> i32;
    fn prctl(option: i32, arg2: u64, arg3: u64, arg4: u64, arg5: u64) -> i32;
    fn signal(sig: i32, handler: usize) -> usize;
    fn sigprocmask(how: i32, set: *const u64, old: *mut u64) -> i32;
    fn waitpid(pid: i32, status: *mut i32, options: i32) -> i32;
    fn kill(pid: i32, sig: i32) -> i32;
    fn getpid() -> i32;
    fn getppid() -> i32;
    fn getpgid(pid: i32) -> i32;
    fn setpgid(pid: i32, pgid: i32) -> i32;
    fn tcsetpgrp(fd: i32, pgrp: i32) -> i32;
    fn ioctl(fd: i32, req: u64, ...) -> i32;
    fn dup2(old: i32, new: i32) -> i32;
    fn __errno_location() -> *mut i32;
}

const PR_SET_CHILD_SUBREAPER: i32 = 36;
const PR_SET_NO_NEW_PRIVS: i32 = 38;
const PR_SET_SECCOMP: i32 = 22;
const SECCOMP_MODE_FILTER: u64 = 2;
const SIG_SETMASK: i32 = 2;
const SIG_BLOCK: i32 = 0;
const SIGKILL: i32 = 9;
const SIGTTOU: i32 = 22;
const ECHILD: i32 = 10;
const EINTR: i32 = 4;
const TIOCSCTTY: u64 = 0x540E;

static REAPER_DONE: AtomicBool = AtomicBool::new(false);

fn trace(line: &str) {
    // One write(2) per record, under PIPE_BUF: records from several writers never interleave.
    let mut f = std::mem::ManuallyDrop::new(unsafe { File::from_raw_fd(3) });
    let mono = monotonic_ns();
    let _ = f.write_all(format!("{} {} {}\n", unsafe { getpid() }, mono, line).as_bytes());
}

fn monotonic_ns() -> i128 {
    // The same clock as labkit's records: CLOCK_MONOTONIC.
    let mut ts = [0i64; 2];
    unsafe extern "C" {
        fn clock_gettime(clk: i32, ts: *mut i64) -> i32;
    }
    unsafe { clock_gettime(1, ts.as_mut_ptr()) };
    i128::from(ts[0]) * 1_000_000_000 + i128::from(ts[1])
}

/// Reset what the runner may have left us: blocked signals, ignored dispositions.
fn reset_signals() {
    for sig in 1..=64 {
        if sig != 9 && sig != 19 {
            unsafe { signal(sig, 0) }; // SIG_DFL; fails harmlessly for glibc's reserved 32/33
        }
    }
    let empty = [0u64; 16];
    unsafe { sigprocmask(SIG_SETMASK, empty.as_ptr(), std::ptr::null_mut()) };
}

/// A seccomp filter that makes kill(2) fail with EPERM for the pids and groups the scenario must
/// never touch: -1 (broadcast; glibc's killpg(1) becomes kill(-1)), 1 and -1's cousins, the
/// sandbox and its group, the runner and its group. Everything else is allowed.
fn deny_kill_of(values: &[i32]) -> std::io::Result<()> {
    #[repr(C)]
    struct SockFilter {
        code: u16,
        jt: u8,
        jf: u8,
        k: u32,
    }
    #[repr(C)]
    struct SockFprog {
        len: u16,
        filter: *const SockFilter,
    }
    #[cfg(target_arch = "x86_64")]
    const ARCH: u32 = 0xc000_003e;
    #[cfg(target_arch = "x86_64")]
    const NR_KILL: u32 = 62;
    #[cfg(target_arch = "aarch64")]
    const ARCH: u32 = 0xc000_00b7;
    #[cfg(target_arch = "aarch64")]
    const NR_KILL: u32 = 129;
    const LD_ABS: u16 = 0x20;
    const JEQ: u16 = 0x15;
    const RET: u16 = 0x06;
    const ALLOW: u32 = 0x7fff_0000;
    const DENY_EPERM: u32 = 0x0005_0000 | 1;
    let n = values.len() as u8;
    // 0 ld arch; 1 jeq ARCH else allow; 2 ld nr; 3 jeq kill else allow; 4 ld arg0 (low half);
    // 5.. jeq value -> deny; then ret allow; ret deny.
    let mut prog = vec![
        SockFilter { code: LD_ABS, jt: 0, jf: 0, k: 4 },
        SockFilter { code: JEQ, jt: 0, jf: n + 3, k: ARCH },
        SockFilter { code: LD_ABS, jt: 0, jf: 0, k: 0 },
        SockFilter { code: JEQ, jt: 0, jf: n + 1, k: NR_KILL },
        SockFilter { code: LD_ABS, jt: 0, jf: 0, k: 16 },
    ];
    for (i, &v) in values.iter().enumerate() {
        let to_deny = n - i as u8; // skip the rest of the compares and the allow
        prog.push(SockFilter { code: JEQ, jt: to_deny, jf: 0, k: v as u32 });
    }
    prog.push(SockFilter { code: RET, jt: 0, jf: 0, k: ALLOW });
    prog.push(SockFilter { code: RET, jt: 0, jf: 0, k: DENY_EPERM });
    let fprog = SockFprog { len: prog.len() as u16, filter: prog.as_ptr() };
    unsafe {
        if prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
            || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog as *const _ as u64, 0, 0) != 0
        {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Every process below us in the process tree (zombies included), from /proc.
fn descendants(me: i32) -> Vec<i32> {
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            // "pid (comm) S ppid ..."; comm may hold spaces and parentheses: cut at the last ')'.
            let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else { continue };
            let mut fields = rest.split_whitespace();
            let _state = fields.next();
            if let Some(ppid) = fields.next().and_then(|s| s.parse::<i32>().ok()) {
                children.entry(ppid).or_default().push(pid);
            }
        }
    }
    let mut out = Vec::new();
    let mut todo = vec![me];
    while let Some(p) = todo.pop() {
        if let Some(kids) = children.get(&p) {
            for &k in kids {
                out.push(k);
                todo.push(k);
            }
        }
    }
    out
}

fn reaper() {
    loop {
        let mut status = 0;
        let pid = unsafe { waitpid(-1, &mut status, 0) };
        if pid > 0 {
            let sig = status & 0x7f;
            let what = if sig == 0 {
                format!("exit {pid} code {}", (status >> 8) & 0xff)
            } else {
                let core = if status & 0x80 != 0 { " core" } else { "" };
                format!("exit {pid} signal {sig}{core}")
            };
            trace(&what);
            continue;
        }
        match unsafe { *__errno_location() } {
            EINTR => continue,
            ECHILD => {
                // No child left means no descendant left: orphans are reparented to us before
                // their parent can be reaped.
                trace("empty");
                REAPER_DONE.store(true, Ordering::SeqCst);
                return;
            }
            e => {
                trace(&format!("sandbox-error waitpid errno {e}"));
                REAPER_DONE.store(true, Ordering::SeqCst);
                return;
            }
        }
    }
}

fn kill_everything(me: i32) {
    let start = Instant::now();
    loop {
        let below = descendants(me);
        if below.is_empty() && REAPER_DONE.load(Ordering::SeqCst) {
            return;
        }
        for pid in below {
            unsafe { kill(pid, SIGKILL) };
        }
        if start.elapsed() > Duration::from_secs(10) {
            trace("sandbox-error could not empty the tree in 10 s");
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let pty = args.first().map(String::as_str) == Some("--pty");
    let Some(sep) = args.iter().position(|a| a == "--") else {
        eprintln!("proclab-sandbox: usage: proclab-sandbox [--pty] -- LAB [ARG...]");
        std::process::exit(2);
    };
    let (lab, lab_args) = match args[sep + 1..].split_first() {
        Some((l, rest)) => (l.clone(), rest.to_vec()),
        None => {
            eprintln!("proclab-sandbox: no lab given");
            std::process::exit(2);
        }
    };

    let runner = unsafe { getppid() };
    let runner_group = unsafe { getpgid(runner) };
    if unsafe { setsid() } < 0 {
        eprintln!("proclab-sandbox: setsid: {}", std::io::Error::last_os_error());
        std::process::exit(1);
    }
    let me = unsafe { getpid() };
    if unsafe { prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } != 0 {
        eprintln!("proclab-sandbox: PR_SET_CHILD_SUBREAPER: {}", std::io::Error::last_os_error());
        std::process::exit(1);
    }
    reset_signals();
    if pty && unsafe { ioctl(5, TIOCSCTTY, 0) } != 0 {
        eprintln!("proclab-sandbox: TIOCSCTTY: {}", std::io::Error::last_os_error());
        std::process::exit(1);
    }

    let mut denied = vec![-1, 1, me, -me, runner, -runner_group];
    denied.retain(|&v| v != 0);
    let mut cmd = Command::new(&lab);
    cmd.args(&lab_args).env("PROCLAB_TRACE_FD", "3").env_remove("PROCLAB_TRACE");
    if pty {
        // The terminal is the lab's stdin; its stdout/stderr stay on the capture pipes.
        cmd.stdin(unsafe { Stdio::from_raw_fd(libc_dup(5)) });
    } else {
        cmd.stdin(Stdio::null());
    }
    unsafe {
        cmd.pre_exec(move || {
            // A process group of its own, like a job started by an interactive shell.
            if setpgid(0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if pty {
                // Become the terminal's foreground group (SIGTTOU blocked while we ask).
                let mut set = [0u64; 16];
                set[0] = 1 << (SIGTTOU - 1);
                let mut old = [0u64; 16];
                sigprocmask(SIG_BLOCK, set.as_ptr(), old.as_mut_ptr());
                let rc = tcsetpgrp(5, getpid());
                sigprocmask(SIG_SETMASK, old.as_ptr(), std::ptr::null_mut());
                if rc != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            deny_kill_of(&denied)
        });
    }
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            trace(&format!("spawn-failed {e}"));
            eprintln!("proclab-sandbox: cannot start {lab}: {e}");
            std::process::exit(1);
        }
    };
    trace(&format!("spawn {}", child.id()));
    // Keep no copy of the lab's stdout/stderr: the runner sees EOF once every lab process
    // has closed them, which tells it that all their output has arrived.
    if let Ok(null) = File::options().write(true).open("/dev/null") {
        unsafe {
            dup2(null.as_raw_fd(), 1);
            dup2(null.as_raw_fd(), 2);
        }
    }
    drop(child); // we reap it with waitpid(-1) like every other child
    let reaper = std::thread::spawn(reaper);

    // Wait for the runner to say `kill`, or to go away.
    let control = BufReader::new(std::io::stdin());
    for line in control.lines() {
        match line {
            Ok(l) if l.trim() == "kill" => break,
            Ok(_) => continue,
            Err(_) => break,
        }
    }
    kill_everything(me);
    let _ = reaper.join();
    std::process::exit(0);
}

fn libc_dup(fd: i32) -> i32 {
    unsafe extern "C" {
        fn dup(fd: i32) -> i32;
    }
    unsafe { dup(fd) }
}
