//! proclab-sandbox: the parent of one scenario. Built by the harness's build script from these
//! files with std alone (no crates), so that every spec can exec it.
//!
//! It becomes a session leader and a *child subreaper* (orphans of the scenario are re-parented
//! to it, not to pid 1, so they stay observable), resets the signal state, starts the lab in a
//! process group of its own (as a job-control shell would), reaps every process that becomes
//! its child and reports each exit on the trace pipe. When the runner writes `kill` on the
//! control pipe, or goes away (EOF), it SIGKILLs every process of the scenario, reaps them,
//! removes what it made (the pause directory, its cgroup) and exits.
//!
//! The lab may signal only processes of its own scenario. Three layers make sure of it, each
//! enough on its own (the runner says which to use; `--probe` tells which this kernel has):
//! - `landlock`: the lab runs in a Landlock domain scoped for signals (ABI ≥ 6): the kernel
//!   refuses any signal, by any system call or ABI, to a process outside the domain;
//! - `pidns`: the scenario has its own PID namespace whose pid 1 is this sandbox
//!   (namespace.rs);
//! - `seccomp`: a filter hands every signal-sending call to the sandbox, which allows it only
//!   for processes of the scenario (seccomp.rs).
//!
//! usage: proclab-sandbox [--pty | --setsid] [--ignore SIG,SIG] [--no-subreaper] [--layers landlock,pidns,seccomp] -- LAB [ARG...]
//!
//! `--no-subreaper` (with `pidns` only): the sandbox does not become a child subreaper. It is
//! still pid 1 of the scenario's namespace, so orphans still come to it — as to pid 1, the
//! namespace's init, not as to a subreaper. Without the namespace they would go up to the
//! runner: refused.
//!        proclab-sandbox --probe
//! fds on entry: 0 control (runner -> sandbox), 1/2 the lab's stdout/stderr pipes,
//! 3 trace pipe (write end), 5 a pty slave (--pty), 6 a Landlock ruleset (layer landlock).

mod limits;
mod namespace;
mod seccomp;
mod sys;

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

static REAPER_DONE: AtomicBool = AtomicBool::new(false);

const TRACE_FD: i32 = 3;
const PTY_FD: i32 = 5;
const LANDLOCK_FD: i32 = 6;

/// One record on the trace pipe: `<pid> <monotonic ns> <text>`, in one write(2) (under
/// PIPE_BUF, so records of several writers never interleave).
pub fn trace(line: &str) {
    let mut f = std::mem::ManuallyDrop::new(unsafe { File::from_raw_fd(TRACE_FD) });
    // SAFETY: getpid has no effects.
    let _ =
        f.write_all(format!("{} {} {}\n", unsafe { sys::getpid() }, sys::monotonic_ns(), line).as_bytes());
}

fn fail(msg: &str) -> ! {
    trace(&format!("sandbox-error {msg}"));
    eprintln!("proclab-sandbox: {msg}");
    std::process::exit(1);
}

struct Opts {
    pty: bool,
    /// Start the lab as a session leader (`setsid ./lab`), not as a group leader.
    setsid: bool,
    /// Signals the lab starts with ignored (SIG_IGN survives exec), like a careless launcher's.
    ignore: Vec<i32>,
    /// Do not become a child subreaper (orphans then go to pid 1 of the namespace: this one).
    no_subreaper: bool,
    landlock: bool,
    pidns: bool,
    seccomp: bool,
    lab: String,
    args: Vec<String>,
}

fn parse() -> Opts {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(sep) = args.iter().position(|a| a == "--") else {
        eprintln!("proclab-sandbox: usage: proclab-sandbox [--pty] [--layers L,L] -- LAB [ARG...] | --probe");
        std::process::exit(2);
    };
    let mut o = Opts {
        pty: false,
        setsid: false,
        ignore: Vec::new(),
        no_subreaper: false,
        landlock: false,
        pidns: false,
        seccomp: false,
        lab: String::new(),
        args: vec![],
    };
    let mut it = args[..sep].iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--pty" => o.pty = true,
            "--setsid" => o.setsid = true,
            "--no-subreaper" => o.no_subreaper = true,
            "--ignore" => {
                for n in it.next().map(String::as_str).unwrap_or("").split(',').filter(|n| !n.is_empty()) {
                    match n.parse::<i32>() {
                        Ok(sig) if (1..=64).contains(&sig) && sig != 9 && sig != 19 => o.ignore.push(sig),
                        _ => fail(&format!("--ignore: '{n}' is not a signal that can be ignored")),
                    }
                }
            }
            "--layers" => {
                for l in it.next().map(String::as_str).unwrap_or("").split(',').filter(|l| !l.is_empty()) {
                    match l {
                        "landlock" => o.landlock = true,
                        "pidns" => o.pidns = true,
                        "seccomp" => o.seccomp = true,
                        other => fail(&format!("unknown layer '{other}'")),
                    }
                }
            }
            other => fail(&format!("unknown option '{other}'")),
        }
    }
    if o.no_subreaper && !o.pidns {
        fail(
            "--no-subreaper needs the pidns layer: outside a PID namespace the scenario's orphans would go to the runner",
        );
    }
    if o.pty && o.setsid {
        fail("--setsid and --pty exclude each other: a new session has no terminal");
    }
    match args[sep + 1..].split_first() {
        Some((l, rest)) => {
            o.lab = l.clone();
            o.args = rest.to_vec();
        }
        None => fail("no lab given"),
    }
    o
}

/// Reset what the runner may have left us: blocked signals, ignored dispositions.
fn reset_signals() {
    for sig in 1..=64 {
        if sig != 9 && sig != 19 {
            unsafe { sys::signal(sig, 0) }; // SIG_DFL; fails harmlessly for glibc's reserved 32/33
        }
    }
    let empty = [0u64; 16];
    unsafe { sys::sigprocmask(sys::SIG_SETMASK, empty.as_ptr(), std::ptr::null_mut()) };
}

/// Every process below `me` in the process tree (zombies included), from /proc.
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
        let pid = unsafe { sys::waitpid(-1, &mut status, 0) };
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
        match sys::errno() {
            sys::EINTR => continue,
            sys::ECHILD => {
                // No child left means no descendant left: orphans are re-parented to us before
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

/// SIGKILLs every process of the scenario until none is left.
fn kill_everything(me: i32, pidns: bool, cgroup: Option<&limits::Cgroup>) {
    let start = Instant::now();
    loop {
        let mut below = descendants(me);
        if let Some(cg) = cgroup {
            below.extend(cg.procs().into_iter().filter(|&p| p != me));
        }
        if below.is_empty() && REAPER_DONE.load(Ordering::SeqCst) {
            return;
        }
        if pidns {
            // pid 1 of the namespace: -1 is everyone in it but us, in one atomic sweep that
            // no fork can outrun.
            unsafe { sys::kill(-1, sys::SIGKILL) };
        }
        for pid in below {
            unsafe { sys::kill(pid, sys::SIGKILL) };
        }
        if start.elapsed() > Duration::from_secs(10) {
            trace("sandbox-error could not empty the tree in 10 s");
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("--probe") {
        probe();
    }
    let opts = parse();
    // Stale state of dead runners, read while /proc still shows the runner's pids.
    limits::clean_stale_tmp();
    let cgroup = limits::cgroup();
    let cgroup_bound = cgroup.is_some();
    // SAFETY: fcntl on an fd we were given.
    if opts.landlock && unsafe { sys::fcntl(LANDLOCK_FD, sys::F_SETFD, sys::FD_CLOEXEC) } != 0 {
        fail("layer landlock: no ruleset on fd 6");
    }
    if !opts.pidns {
        trace(&format!("root {}", unsafe { sys::getpid() }));
        run(&opts, cgroup, cgroup_bound);
    }
    // The stub leaves the runner's session first, so that nothing aimed at the runner's job
    // (^C in its terminal, a hang-up) reaches it and, through it, the scenario.
    unsafe { sys::setsid() };
    if let Err(e) = namespace::enter() {
        fail(&format!("layer pidns: {e}"));
    }
    // SAFETY: single-threaded; the child continues as pid 1 of the new namespace.
    let init = unsafe { sys::fork() };
    if init < 0 {
        fail(&sys::last_error("fork"));
    }
    if init == 0 {
        namespace::die_with_parent();
        if let Err(e) = namespace::mount_proc() {
            fail(&format!("layer pidns: {e}"));
        }
        run(&opts, None, cgroup_bound);
    }
    // The stub: outside the namespace, it only waits. It keeps no copy of the pipes, so the
    // runner sees their ends when the scenario ends; if it is killed, init dies with it.
    trace(&format!("root {init}"));
    if let Ok(null) = File::options().write(true).open("/dev/null") {
        unsafe {
            sys::dup2(null.as_raw_fd(), 1);
            sys::dup2(null.as_raw_fd(), 2);
        }
    }
    for (fd, open) in [(0, true), (TRACE_FD, true), (PTY_FD, opts.pty), (LANDLOCK_FD, opts.landlock)] {
        if open {
            unsafe { sys::close(fd) };
        }
    }
    let mut status = 0;
    while unsafe { sys::waitpid(init, &mut status, 0) } < 0 && sys::errno() == sys::EINTR {}
    // If init was killed before it could, remove what the scenario left.
    if let Some(dir) = std::env::var_os("PROCLAB_GO_DIR") {
        let _ = std::fs::remove_dir_all(dir);
    }
    if let Some(cg) = &cgroup {
        cg.remove();
    }
    std::process::exit(if status & 0x7f == 0 { (status >> 8) & 0xff } else { 128 + (status & 0x7f) });
}

/// The sandbox proper (the process itself, or pid 1 of the scenario's namespace).
/// `cgroup` is the pids cgroup to remove at the end (made by this process), `cgroup_bound`
/// whether the scenario is in one (made here or by the stub).
fn run(opts: &Opts, cgroup: Option<limits::Cgroup>, cgroup_bound: bool) -> ! {
    if unsafe { sys::setsid() } < 0 && !opts.pidns {
        fail(&sys::last_error("setsid"));
    }
    let me = unsafe { sys::getpid() };
    if !opts.no_subreaper && unsafe { sys::prctl(sys::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } != 0 {
        fail(&sys::last_error("PR_SET_CHILD_SUBREAPER"));
    }
    // What the kernel says, not what was asked: the spec reports it ("child subreaper" or not).
    let mut flag: i32 = 0;
    let subreaper = unsafe {
        sys::prctl(sys::PR_GET_CHILD_SUBREAPER, &mut flag as *mut i32 as u64, 0, 0, 0) == 0 && flag != 0
    };
    reset_signals();
    limits::no_core_files();
    let bound = if cgroup_bound {
        format!("nproc {} (pids cgroup)", limits::bound())
    } else {
        limits::nproc(opts.pidns)
            .unwrap_or_else(|| "nproc unbounded (root, and no writable pids cgroup)".into())
    };
    if opts.pty && unsafe { sys::ioctl(PTY_FD, sys::TIOCSCTTY, 0) } != 0 {
        fail(&sys::last_error("TIOCSCTTY"));
    }

    let filter = opts.seccomp.then(seccomp::Filter::new);
    let mut socks = [-1i32; 2];
    if opts.seccomp
        && unsafe { sys::socketpair(sys::AF_UNIX, sys::SOCK_SEQPACKET | sys::SOCK_CLOEXEC, 0, &mut socks) }
            != 0
    {
        fail(&sys::last_error("socketpair"));
    }
    let layers: Vec<&str> = [("landlock", opts.landlock), ("pidns", opts.pidns), ("seccomp", opts.seccomp)]
        .iter()
        .filter(|l| l.1)
        .map(|l| l.0)
        .collect();
    trace(&format!(
        "ready {}; {bound}; core files off; {}",
        if layers.is_empty() { "none".into() } else { layers.join(",") },
        if subreaper { "child subreaper" } else { "not a child subreaper" }
    ));

    // The sandbox's own threads are made before the lab starts: a lab that forks without end
    // (the fork bomb) may leave no room for one more task, and std's thread::spawn panics then.
    let (reap_now, reap_go) = std::sync::mpsc::channel::<()>();
    let reaper = std::thread::spawn(move || {
        if reap_go.recv().is_ok() {
            reaper();
        }
    });
    let (listener_tx, listener_rx) = std::sync::mpsc::channel::<i32>();
    let supervisor = opts.seccomp.then(|| {
        std::thread::spawn(move || {
            if let Ok(listener) = listener_rx.recv() {
                seccomp::supervise(listener, me);
            }
        })
    });

    let mut cmd = Command::new(&opts.lab);
    cmd.args(&opts.args).env("PROCLAB_TRACE_FD", "3").env_remove("PROCLAB_TRACE");
    // The spec's gates (gate/lib.rs), preloaded into the lab only — never into the sandbox.
    if let Some(lib) = std::env::var_os("PROCLAB_PRELOAD") {
        cmd.env("LD_PRELOAD", lib).env_remove("PROCLAB_PRELOAD");
    }
    if opts.pty {
        // The terminal is the lab's stdin; its stdout/stderr stay on the capture pipes.
        cmd.stdin(unsafe { Stdio::from_raw_fd(sys::dup(PTY_FD)) });
    } else {
        cmd.stdin(Stdio::null());
    }
    let (pty, setsid, landlock, child_sock) = (opts.pty, opts.setsid, opts.landlock, socks[1]);
    let ignore = opts.ignore.clone();
    unsafe {
        cmd.pre_exec(move || {
            // Dispositions a launcher may leave: SIG_IGN is kept across exec.
            for &sig in &ignore {
                sys::signal(sig, 1); // SIG_IGN
            }
            // A process group of its own, like a job started by an interactive shell — or, with
            // --setsid, a session of its own (and so a group of its own), like `setsid ./lab`.
            if setsid {
                if sys::setsid() < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            } else if sys::setpgid(0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if pty {
                // Become the terminal's foreground group (SIGTTOU blocked while we ask).
                let mut set = [0u64; 16];
                set[0] = 1 << (sys::SIGTTOU - 1);
                let mut old = [0u64; 16];
                sys::sigprocmask(sys::SIG_BLOCK, set.as_ptr(), old.as_mut_ptr());
                let rc = sys::tcsetpgrp(PTY_FD, sys::getpid());
                sys::sigprocmask(sys::SIG_SETMASK, old.as_ptr(), std::ptr::null_mut());
                if rc != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            if landlock
                && (sys::prctl(sys::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                    || sys::syscall(sys::nr::LANDLOCK_RESTRICT_SELF, LANDLOCK_FD, 0) != 0)
            {
                return Err(std::io::Error::last_os_error());
            }
            if let Some(f) = &filter {
                let listener = f.install();
                if listener < 0 || !sys::send_fd(child_sock, listener) {
                    return Err(std::io::Error::last_os_error());
                }
                sys::close(listener);
            }
            Ok(())
        });
    }
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            trace(&format!("spawn-failed {e}"));
            eprintln!("proclab-sandbox: cannot start {}: {e}", opts.lab);
            std::process::exit(1);
        }
    };
    trace(&format!("spawn {}", child.id()));
    drop(cmd);
    // Keep no copy of the lab's stdout/stderr: the runner sees EOF once every lab process
    // has closed them, which tells it that all their output has arrived.
    if let Ok(null) = File::options().write(true).open("/dev/null") {
        unsafe {
            sys::dup2(null.as_raw_fd(), 1);
            sys::dup2(null.as_raw_fd(), 2);
        }
    }
    if opts.landlock {
        unsafe { sys::close(LANDLOCK_FD) };
    }
    drop(child); // we reap it with waitpid(-1) like every other child
    if opts.seccomp {
        unsafe { sys::close(socks[1]) };
        let listener = sys::recv_fd(socks[0]);
        if listener < 0 {
            trace("sandbox-error layer seccomp: no listener from the lab");
        } else {
            let _ = listener_tx.send(listener);
        }
    }
    drop((listener_tx, supervisor));
    let _ = reap_now.send(());

    // Wait for the runner to say `kill`, or to go away.
    let control = BufReader::new(std::io::stdin());
    for line in control.lines() {
        match line {
            Ok(l) if l.trim() == "kill" => break,
            // A marker on the trace: every record the lab wrote before it has arrived.
            Ok(l) if l.starts_with("sync ") => trace(&format!("synced {}", l[5..].trim())),
            Ok(_) => continue,
            Err(_) => break,
        }
    }
    kill_everything(me, opts.pidns, cgroup.as_ref());
    let _ = reaper.join();
    if let Some(dir) = std::env::var_os("PROCLAB_GO_DIR") {
        let _ = std::fs::remove_dir_all(dir);
    }
    if let Some(cg) = &cgroup {
        cg.remove();
    }
    std::process::exit(0);
}

/// `--probe`: which layers this kernel and this user can have, one line each:
/// `<layer> ok <detail>` or `<layer> no <why>`.
fn probe() -> ! {
    // Landlock's ABI version (the runner makes the ruleset itself, with the landlock crate).
    let abi = unsafe { sys::syscall(444, std::ptr::null::<u8>(), 0usize, 1u32) };
    if abi >= 6 {
        println!("landlock ok ABI {abi}");
    } else if abi > 0 {
        println!("landlock no ABI {abi} < 6: no signal scoping (Linux ≥ 6.12 has it)");
    } else {
        println!("landlock no {}", sys::last_error("landlock_create_ruleset"));
    }
    println!("pidns {}", in_child(probe_pidns));
    println!("seccomp {}", in_child(probe_seccomp));
    println!("bound {}", in_child(probe_bound));
    let _ = std::io::stdout().flush();
    std::process::exit(0);
}

/// Runs `f` in a child process; its `Err` text comes back through a pipe.
fn in_child(f: fn() -> Result<String, String>) -> String {
    let (mut r, w) = std::io::pipe().expect("pipe");
    let pid = unsafe { sys::fork() };
    if pid == 0 {
        drop(r);
        let mut w = w;
        let line = match f() {
            Ok(s) => format!("ok {s}"),
            Err(e) => format!("no {e}"),
        };
        let _ = w.write_all(line.as_bytes());
        unsafe { sys::_exit(0) };
    }
    drop(w);
    let mut out = String::new();
    let _ = std::io::Read::read_to_string(&mut r, &mut out);
    let mut status = 0;
    unsafe { sys::waitpid(pid, &mut status, 0) };
    if out.is_empty() { format!("no the probe died (status {status})") } else { out }
}

/// Whether a scenario's processes can be bounded here (see limits.rs).
fn probe_bound() -> Result<String, String> {
    if unsafe { sys::getuid() } != 0 {
        return Ok(format!("{} processes (RLIMIT_NPROC)", limits::NPROC));
    }
    match limits::cgroup() {
        Some(cg) => {
            cg.remove();
            Ok(format!("{} processes (a pids cgroup per scenario)", limits::NPROC))
        }
        None => Err("root ignores RLIMIT_NPROC, and no pids cgroup hierarchy is writable here".into()),
    }
}

fn probe_pidns() -> Result<String, String> {
    namespace::enter()?;
    let (mut r, w) = std::io::pipe().map_err(|e| e.to_string())?;
    let pid = unsafe { sys::fork() };
    if pid == 0 {
        drop(r);
        let mut w = w;
        let msg = match namespace::mount_proc() {
            Ok(()) if unsafe { sys::getpid() } == 1 => "ok".to_string(),
            Ok(()) => "not pid 1".to_string(),
            Err(e) => e,
        };
        let _ = w.write_all(msg.as_bytes());
        unsafe { sys::_exit(0) };
    }
    drop(w);
    let mut out = String::new();
    let _ = std::io::Read::read_to_string(&mut r, &mut out);
    unsafe { sys::waitpid(pid, std::ptr::null_mut(), 0) };
    if out == "ok" { Ok("user, pid and mount namespaces".into()) } else { Err(out) }
}

fn probe_seccomp() -> Result<String, String> {
    let mut socks = [-1i32; 2];
    if unsafe { sys::socketpair(sys::AF_UNIX, sys::SOCK_SEQPACKET | sys::SOCK_CLOEXEC, 0, &mut socks) } != 0 {
        return Err(sys::last_error("socketpair"));
    }
    let filter = seccomp::Filter::new();
    let pid = unsafe { sys::fork() };
    if pid == 0 {
        let l = filter.install();
        if l < 0 || !sys::send_fd(socks[1], l) {
            unsafe { sys::_exit(2) };
        }
        // A notified call: it returns only if the supervisor lets it go on.
        let rc = unsafe { sys::kill(sys::getpid(), 0) };
        unsafe { sys::_exit(if rc == 0 { 0 } else { 3 }) };
    }
    // Our copy of the child's end closed: if the child cannot make a listener (no seccomp
    // user notification here) and exits, recv_fd sees end-of-file instead of waiting forever.
    unsafe { sys::close(socks[1]) };
    let listener = sys::recv_fd(socks[0]);
    if listener < 0 {
        unsafe { sys::waitpid(pid, std::ptr::null_mut(), 0) };
        return Err("seccomp(SECCOMP_FILTER_FLAG_NEW_LISTENER) failed (kernel < 5.0?)".into());
    }
    std::thread::spawn(move || seccomp::supervise(listener, unsafe { sys::getpid() }));
    let mut status = 0;
    unsafe { sys::waitpid(pid, &mut status, 0) };
    match status {
        0 => Ok("user notification with CONTINUE".into()),
        s => Err(format!("the notified call did not go on (status {s}; kernel < 5.5?)")),
    }
}
