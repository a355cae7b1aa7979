// wrong: no once-per-process flag: the SIGTERM each member sends to the group comes back to every member, which sends it again (lab 07's ping-pong)
// rejected-by: the_fix_stops_its_own_group_gracefully_and_spares_the_launcher
//! Lab 08 — killpg: the whole group, and only the group.
//!
//! Post 000 ends with a "fix": every process has a SIGTERM handler that does
//! `os.killpg(os.getpgid(os.getpid()), signal.SIGKILL)`, so `kill -15` to the parent *or any
//! child* kills the whole process group. It does — but the group is the parent's only when
//! the parent leads it (a job-control shell, setsid, setpgid). Started by a launcher without job
//! control (a script, cron, a supervisor's plain fork) the group is the launcher's, and the
//! launcher is SIGKILLed too. And SIGKILL runs no cleanup anywhere.
//!
//! The fix: the program makes its own group (`setpgid(0, 0)`) before forking its children, the
//! handler sends SIGTERM (not SIGKILL) to that group, every member cleans up and exits, and the
//! parent SIGKILLs only the children still alive after a grace period.
//!
//! `--naive` keeps the post's handler; `--launcher` starts the program the way a script would.

use clap::Parser;
use nix::errno::Errno;
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, kill, killpg, sigaction, signal};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork, getpgid, getpgrp, getpid, setpgid};
use std::ffi::c_int;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Stop a group of processes with one signal to any of them — the post's way (--naive) or
/// the fixed way.
#[derive(Parser)]
struct Args {
    /// Start as a launcher without job control: fork the program in the launcher's own
    /// process group and wait for it, like a shell script or a supervisor would.
    #[arg(long)]
    launcher: bool,
    /// The post's program: no group of its own, and the SIGTERM handler SIGKILLs the group.
    #[arg(long)]
    naive: bool,
    /// How many children to fork.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=16))]
    children: u32,
    /// Child 0 ignores SIGTERM: only SIGKILL can stop it.
    #[arg(long)]
    stubborn: bool,
    /// How long the parent waits for its children to clean up before it SIGKILLs them (ms).
    #[arg(long, default_value_t = 1000)]
    grace_ms: u64,
}

/// Set by the SIGTERM handler: "stop working, clean up, exit".
static STOP: AtomicBool = AtomicBool::new(false);

// ANCHOR: naive
/// The post's handler: SIGKILL to my whole process group, whoever I am.
extern "C" fn naive_term(_: c_int) {
    // Async-signal-safe only: no println! here (the interrupted code may hold stdout's lock).
    let Ok(group) = getpgid(Some(getpid())) else { return };
    labkit::note_num("killpg", group.as_raw());
    let _ = killpg(group, Signal::SIGKILL);
}
// ANCHOR_END: naive

// ANCHOR: handler
/// The fixed handler: ask the whole group to stop, once, with a signal it can catch.
extern "C" fn on_term(_: c_int) {
    // Once per process: the SIGTERM we send to the group comes back to us, and to every member
    // that sends it again — without this flag, lab 07's ping-pong.
    STOP.store(true, Ordering::SeqCst);
    let Ok(group) = getpgid(Some(getpid())) else { return };
    labkit::note_num("killpg", group.as_raw());
    // Never a group id ≤ 1: glibc's killpg(1, sig) is kill(-1, sig) — every process we may
    // signal — and killpg(0, sig) is "my group" whatever that happens to be.
    if group.as_raw() > 1 {
        let _ = killpg(group, Signal::SIGTERM);
    }
}
// ANCHOR_END: handler

fn main() {
    let args: Args = labkit::args();
    if args.launcher {
        launcher(&args);
    }
    program(&args);
}

// ANCHOR: launcher
/// A launcher without job control: it starts the program in its own process group and waits.
fn launcher(args: &Args) -> ! {
    labkit::role("launcher");
    println!("launcher {}: starting the program in my group {}", getpid(), getpgrp());
    std::io::stdout().flush().expect("flush");
    // SAFETY: one thread.
    match unsafe { fork() }.expect("fork") {
        ForkResult::Child => program(args),
        ForkResult::Parent { child } => {
            let status = loop {
                match waitpid(child, None) {
                    Err(Errno::EINTR) => continue,
                    other => break other.expect("waitpid"),
                }
            };
            let what = describe(status);
            labkit::note("program-status", &what);
            println!("launcher {}: the program {child} {what}", getpid());
            std::process::exit(0);
        }
    }
}
// ANCHOR_END: launcher

fn program(args: &Args) -> ! {
    labkit::role("parent");
    // ANCHOR: own_group
    if !args.naive {
        // Lead a process group of my own before forking, so my children are born in it and
        // killpg(my group) reaches us and nobody else — whoever started me.
        // (A session leader, started by `setsid`, already leads its group and may not move.)
        if getpgrp() != getpid() {
            setpgid(Pid::from_raw(0), Pid::from_raw(0)).expect("setpgid");
        }
    }
    // ANCHOR_END: own_group
    // Registered before the children are forked, as in the post: they inherit it.
    let handler = if args.naive { naive_term } else { on_term };
    let action = SigAction::new(SigHandler::Handler(handler), SaFlags::SA_RESTART, SigSet::empty());
    // SAFETY: the handlers only do async-signal-safe things.
    unsafe { sigaction(Signal::SIGTERM, &action) }.expect("sigaction");

    println!("current pid is {}, group id is {}", getpid(), getpgrp());
    let mut children = Vec::new();
    for i in 0..args.children {
        std::io::stdout().flush().expect("flush");
        // SAFETY: one thread.
        match unsafe { fork() }.expect("fork") {
            ForkResult::Child => child(i, args),
            ForkResult::Parent { child } => children.push(child),
        }
    }
    labkit::note_num("started", children.len() as i64);
    supervise(children, Duration::from_millis(args.grace_ms))
}

// ANCHOR: child
fn child(i: u32, args: &Args) -> ! {
    labkit::role("child");
    labkit::note_num("index", i);
    if args.stubborn && i == 0 {
        // SAFETY: SIG_IGN installs no code.
        unsafe { signal(Signal::SIGTERM, SigHandler::SigIgn) }.expect("signal");
        labkit::note("stubborn", "ignores SIGTERM");
    }
    println!("current pid is {}, group id is {}", getpid(), getpgrp());
    labkit::note_num("pgid", getpgrp().as_raw());
    // The post's `while True`: work until told to stop.
    let mut next = Instant::now();
    while !STOP.load(Ordering::SeqCst) {
        if Instant::now() >= next {
            println!("args is {i}");
            next += Duration::from_millis(500);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    cleanup(&format!("child {i}"))
}
// ANCHOR_END: child

// ANCHOR: supervise
/// The post's `join()`: reap the children as they end. Once SIGTERM has come, give them
/// `grace` to clean up, then SIGKILL the ones still alive.
fn supervise(mut children: Vec<Pid>, grace: Duration) -> ! {
    let mut deadline: Option<Instant> = None;
    let mut killed = false;
    while !children.is_empty() {
        match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(Errno::EINTR) => std::thread::sleep(Duration::from_millis(10)),
            Ok(status) => {
                let Some(pid) = status.pid() else { continue };
                children.retain(|&c| c != pid);
                let what = describe(status);
                labkit::note("reaped", &format!("{pid} {what}"));
                println!("parent {}: child {pid} {what}", getpid());
            }
            Err(e) => panic!("waitpid: {e}"),
        }
        if STOP.load(Ordering::SeqCst) {
            let deadline = *deadline.get_or_insert_with(|| Instant::now() + grace);
            if !killed && Instant::now() >= deadline {
                for &c in &children {
                    labkit::note_num("sigkill", c.as_raw());
                    println!("parent {}: child {c} still alive after the grace period: SIGKILL", getpid());
                    let _ = kill(c, Signal::SIGKILL);
                }
                killed = true;
            }
        }
    }
    cleanup("parent")
}
// ANCHOR_END: supervise

/// What a process does on its way out — never reached after a SIGKILL.
fn cleanup(who: &str) -> ! {
    println!("{who} {}: cleanup done", getpid());
    labkit::note("cleanup", who);
    std::process::exit(0);
}

fn describe(status: WaitStatus) -> String {
    match status {
        WaitStatus::Exited(_, code) => format!("exited {code}"),
        WaitStatus::Signaled(_, sig, _) => format!("killed by {sig}"),
        other => format!("{other:?}"),
    }
}
