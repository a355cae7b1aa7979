// wrong: only the worker calls setpgid; until it first runs, it is still in the foreground group and a ^C then reaches it
// rejected-by: the_parent_stops_its_workers_in_its_own_order
//! Lab 09 — Ctrl-C on a real terminal: who gets SIGINT.
//!
//! Post 001 starts four `multiprocessing.Process` workers that print in a loop and catch
//! `KeyboardInterrupt`; the main process joins them. Press Ctrl-C and every process prints
//! "Keyboard interrupt in process: i" and cleans up. The post explains: the main process gets
//! SIGINT "and then publishes it to all its children one by one (signals are propagated down
//! the process tree)". Nothing propagates: the terminal's line discipline sends SIGINT to every
//! process of the terminal's *foreground process group* at once — the parent's group, which the
//! workers were born in. `kill -INT <parent>` reaches the parent alone.
//!
//! The exercise: a server whose workers keep running when Ctrl-C is pressed, until the parent
//! stops them, one at a time, in the order it chooses (last started, first stopped). Each worker
//! moves to a process group of its own; the parent, the only process left in the foreground
//! group, gets the Ctrl-C and decides.
//!
//! `--post` is the post's program: the workers stay in the parent's group.

use clap::Parser;
use nix::errno::Errno;
use nix::libc::{self, c_int, c_void};
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, kill, sigaction};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork, getpgrp, getpid, setpgid};
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::Duration;

/// A parent and its workers on a terminal: press Ctrl-C and see who gets SIGINT.
#[derive(Parser)]
struct Args {
    /// How many workers the parent starts.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=8))]
    workers: u32,
    /// The post's program: the workers stay in the parent's process group, and the parent
    /// only waits for them.
    #[arg(long)]
    post: bool,
    /// Stop right after the last fork, in the parent or in the new worker, before anything
    /// else runs there (a pause, to look at the moment between fork and setpgid).
    #[arg(long, value_enum)]
    hold: Option<Hold>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Hold {
    Parent,
    Worker,
}

/// 0 while working; then the first signal that told this process to stop.
static STOP: AtomicI32 = AtomicI32::new(0);
/// That signal came from the kernel itself (a terminal's Ctrl-C), not from someone's kill().
static FROM_TERMINAL: AtomicBool = AtomicBool::new(false);

// ANCHOR: handler
/// The post's `except KeyboardInterrupt`, for SIGINT and SIGTERM: remember the first signal,
/// and say where it came from. Installed in the parent before the forks, so every worker has it.
extern "C" fn on_signal(sig: c_int, info: *mut libc::siginfo_t, _: *mut c_void) {
    // Async-signal-safe only: atomics and labkit's single write(2). No println! here.
    // SAFETY: the kernel passes a valid siginfo_t to an SA_SIGINFO handler.
    let (code, sender) = unsafe { ((*info).si_code, (*info).si_pid()) };
    // SI_KERNEL: sent by the kernel itself — the terminal's line discipline on Ctrl-C.
    // SI_USER: sent by a process with kill(); si_pid says which.
    let from_terminal = code == libc::SI_KERNEL;
    if STOP.compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
        FROM_TERMINAL.store(from_terminal, Ordering::SeqCst);
    }
    labkit::note(
        "got",
        match (sig, from_terminal) {
            (libc::SIGINT, true) => "SIGINT from the terminal",
            (libc::SIGINT, false) => "SIGINT from kill()",
            _ => "SIGTERM",
        },
    );
    labkit::note_num("sender", sender);
}
// ANCHOR_END: handler

fn main() {
    let args: Args = labkit::args();
    labkit::role("parent");
    let action = SigAction::new(
        SigHandler::SigAction(on_signal),
        SaFlags::SA_SIGINFO | SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for sig in [Signal::SIGINT, Signal::SIGTERM] {
        // SAFETY: the handler only does async-signal-safe things.
        unsafe { sigaction(sig, &action) }.expect("sigaction");
    }
    println!("parent {}: group {}, starting {} workers", getpid(), getpgrp(), args.workers);

    // ANCHOR: start
    let mut workers = Vec::new();
    for i in 0..args.workers {
        let last = i + 1 == args.workers;
        std::io::stdout().flush().expect("flush stdout");
        // SAFETY: one thread; the child runs only the worker loop and never returns here.
        match unsafe { fork() }.expect("fork") {
            ForkResult::Child => {
                if last && args.hold == Some(Hold::Worker) {
                    labkit::pause("a worker is born");
                }
                worker(i, &args)
            }
            ForkResult::Parent { child } => {
                if last && args.hold == Some(Hold::Parent) {
                    labkit::pause("the parent has forked a worker");
                }
                workers.push(child);
            }
        }
    }
    // ANCHOR_END: start
    labkit::note_num("started", workers.len() as i64);

    // ANCHOR: join
    // The post's join(): wait until the workers end or a signal says stop.
    while STOP.load(Ordering::SeqCst) == 0 && !workers.is_empty() {
        match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(Errno::EINTR) => std::thread::sleep(Duration::from_millis(10)),
            Ok(status) => {
                let Some(pid) = status.pid() else { continue };
                workers.retain(|&w| w != pid);
                println!("parent: worker {pid} ended by itself: {}", describe(status));
            }
            Err(e) => panic!("waitpid: {e}"),
        }
    }
    if args.post {
        cleanup("parent");
        // Python's exit joins the children that are still running; so does this parent.
        wait_all(&workers);
    } else {
        shutdown(&workers);
        cleanup("parent");
    }
    // ANCHOR_END: join
}

// ANCHOR: worker
/// The post's `f(process_number)`: print in a loop until a signal says stop, then clean up.
fn worker(i: u32, args: &Args) -> ! {
    labkit::role("worker");
    labkit::note_num("index", i);
    if !args.post {
        // The worker's half: a group of its own, out of the terminal's foreground group.
        setpgid(Pid::from_raw(0), Pid::from_raw(0)).expect("setpgid");
    }
    println!("starting worker {i}: pid {}, group {}", getpid(), getpgrp());
    let mut round = 0;
    while STOP.load(Ordering::SeqCst) == 0 {
        if round % 100 == 0 {
            println!("worker {i} working");
        }
        if round % 10 == 0 {
            labkit::note_num("working", round / 10 + 1);
        }
        round += 1;
        std::thread::sleep(Duration::from_millis(10));
    }
    cleanup(&format!("worker {i}"));
    std::process::exit(0);
}
// ANCHOR_END: worker

// ANCHOR: shutdown
/// The parent decides: stop the workers one at a time, last started first — SIGTERM, then
/// wait until it has cleaned up and exited before stopping the next one.
fn shutdown(workers: &[Pid]) {
    for (i, &w) in workers.iter().enumerate().rev() {
        println!("parent: stopping worker {i}");
        labkit::note_num("stopping", i as i64);
        kill(w, Signal::SIGTERM).expect("kill");
        let status = wait_for(w);
        println!("parent: worker {i} stopped: {}", describe(status));
        labkit::note_num("stopped", i as i64);
    }
}
// ANCHOR_END: shutdown

/// The post's `finally:` — what each process does on its way out.
fn cleanup(who: &str) {
    let why = match (STOP.load(Ordering::SeqCst), FROM_TERMINAL.load(Ordering::SeqCst)) {
        (libc::SIGINT, true) => "SIGINT from the terminal",
        (libc::SIGINT, false) => "SIGINT from kill()",
        (0, _) => "no signal",
        _ => "SIGTERM",
    };
    println!("{who}: {why} — cleaning up");
    labkit::note("cleanup", who);
}

/// Waits for every worker still running.
fn wait_all(workers: &[Pid]) {
    for &w in workers {
        let status = wait_for(w);
        println!("parent: worker {w} ended: {}", describe(status));
    }
}

fn wait_for(pid: Pid) -> WaitStatus {
    loop {
        match waitpid(pid, None) {
            Err(Errno::EINTR) => continue,
            other => return other.expect("waitpid"),
        }
    }
}

fn describe(status: WaitStatus) -> String {
    match status {
        WaitStatus::Exited(_, code) => format!("exited {code}"),
        WaitStatus::Signaled(_, sig, _) => format!("killed by {sig}"),
        other => format!("{other:?}"),
    }
}
