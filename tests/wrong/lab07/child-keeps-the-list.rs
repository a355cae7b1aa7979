// wrong: TODO 3 left out: a child keeps its copy of the list, so a SIGTERM to it also terminates its older siblings
// rejected-by: the_fix_sigterm_to_a_child_stops_that_child_only
//! Lab 07 — the "infinite" terminate loop: the SIGTERM handler registered before the forks.
//!
//! Post 000, third listing: the parent registers `term` *first*, then starts three children,
//! then joins them. Every child inherits the handler — and its own copy of the global list of
//! children, as it was at its fork. `term` terminates (SIGTERM) every process in the list and
//! returns, so SIGTERMs flow from process to process; the post calls it "an infinite loop".
//! `--post` runs the listing as it is. Without it, the handlers really stop the processes.

use clap::Parser;
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, kill, sigaction};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork, getpid};
use std::ffi::c_int;
use std::io::Write;
use std::os::fd::BorrowedFd;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::time::Duration;

/// Room in the list.
const MAX: usize = 6;

// ANCHOR: list
/// The post's global `processes` list: the children's pids, filled in as they are forked.
/// Each fork copies the whole memory, this list included, *as it is at that moment*.
static PROCESSES: [AtomicI32; MAX] = [const { AtomicI32::new(0) }; MAX];
static COUNT: AtomicUsize = AtomicUsize::new(0);
/// Set by the handler: "a SIGTERM came, stop" (the main code acts on it).
static STOP: AtomicBool = AtomicBool::new(false);
// ANCHOR_END: list

/// The post's SIGTERM handler, registered before the children start.
#[derive(Parser)]
struct Args {
    /// The post's listing as it is: the handler terminates its list and returns; no process
    /// ever stops.
    #[arg(long)]
    post: bool,
    /// How many children to start.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=MAX as i64))]
    children: u8,
}

/// write(2) straight to stdout: async-signal-safe. `println!` is not: if the signal arrived
/// while main was inside a `println!`, the handler's `println!` would find stdout's buffer
/// already borrowed, panic, and abort the process (a panic cannot leave a signal handler).
fn say(msg: &[u8]) {
    // SAFETY: fd 1 stays open for the whole life of the process.
    let _ = nix::unistd::write(unsafe { BorrowedFd::borrow_raw(1) }, msg);
}

// ANCHOR: handler
/// The post's `term`: terminate every process in *this process's* list. Only async-signal-safe
/// calls: atomics, write(2) (through `say` and `labkit::note_num`), kill(2).
extern "C" fn term(_signal: c_int) {
    let n = COUNT.load(Ordering::SeqCst);
    labkit::note_num("handler-run", n as i64); // one note per run: the length of my list
    say(b"SIGTERM caught: terminating every process in my list\n");
    for slot in PROCESSES.iter().take(n) {
        let _ = kill(Pid::from_raw(slot.load(Ordering::SeqCst)), Signal::SIGTERM);
    }
    STOP.store(true, Ordering::SeqCst);
}
// ANCHOR_END: handler

// ANCHOR: fun
/// The post's `fun`: a child that works until it is told to stop (with `--post`: forever).
fn fun(i: usize, post: bool) -> ! {
    println!("current sub-process pid is {}", getpid());
    while post || !STOP.load(Ordering::SeqCst) {
        println!("args is {i}");
        std::thread::sleep(Duration::from_millis(500));
    }
    labkit::note("stopped", "clean");
    println!("child {i}: SIGTERM received, stopping");
    std::process::exit(0);
}
// ANCHOR_END: fun

fn main() {
    let args: Args = labkit::args();
    labkit::role("parent");

    // ANCHOR: fork
    // The post's third listing: the handler is registered first, before any child exists.
    // SA_RESTART: a waitpid() the handler interrupts is restarted by the kernel (lab 06).
    let action = SigAction::new(SigHandler::Handler(term), SaFlags::SA_RESTART, SigSet::empty());
    // SAFETY: `term` only does async-signal-safe work.
    unsafe { sigaction(Signal::SIGTERM, &action) }.expect("sigaction");
    println!("current main-process pid is {}", getpid());

    for (i, slot) in PROCESSES.iter().enumerate().take(args.children.into()) {
        std::io::stdout().flush().expect("flush stdout before fork");
        // SAFETY: one thread; the child runs `fun` and never returns here.
        match unsafe { fork() }.expect("fork") {
            ForkResult::Child => {
                labkit::role(&format!("child {i}"));
                // This child has the handler, and a copy of the list as it was at the fork:
                // the i children started before it.
                let mine = COUNT.load(Ordering::SeqCst);
                labkit::note_num("list-len", mine as i64);
                println!("child {i}: my copy of the list holds {mine} pid(s)");
                fun(i, args.post);
            }
            ForkResult::Parent { child } => {
                slot.store(child.as_raw(), Ordering::SeqCst);
                COUNT.store(i + 1, Ordering::SeqCst);
            }
        }
    }
    // ANCHOR_END: fork

    // The post's `for p in processes: p.join()`.
    for slot in PROCESSES.iter().take(COUNT.load(Ordering::SeqCst)) {
        let child = Pid::from_raw(slot.load(Ordering::SeqCst));
        labkit::note_num("joining", child.as_raw());
        match waitpid(child, None) {
            Ok(status) => reaped(status),
            Err(e) => {
                println!("join {child}: {e}");
                return;
            }
        }
    }
    println!("parent {}: every child joined, exiting", getpid());
}

/// Says how a joined child ended.
fn reaped(status: WaitStatus) {
    let how = match status {
        WaitStatus::Exited(_, code) => format!("exited with status {code}"),
        WaitStatus::Signaled(_, sig, _) => format!("killed by {sig}"),
        other => format!("{other:?}"),
    };
    let pid = status.pid().map(Pid::as_raw).unwrap_or(0);
    labkit::note("reaped", &format!("{pid} {how}"));
    println!("joined child {pid}: {how}");
}
