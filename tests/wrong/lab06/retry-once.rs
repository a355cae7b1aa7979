// wrong: on EINTR it calls waitpid once more instead of looping: a second interruption, of the retry itself, ends the join
// rejected-by: the_join_waits_again_as_often_as_it_is_interrupted
//! Lab 06 — late handler: a SIGTERM handler registered after the children were forked.
//!
//! Post 000, second listing: the parent starts three children that loop forever, *then*
//! registers a SIGTERM handler that terminates every child in the global list, then joins the
//! children in order. `kill -15 <parent>` runs the handler; `kill -15 <child>` kills only that
//! child — the handler was installed after the fork, so it exists in the parent alone. The post
//! also sees its join fail with "Interrupted system call". This program is that listing in Rust.

use clap::Parser;
use nix::errno::Errno;
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, kill, sigaction};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork, getpid};
use std::ffi::c_int;
use std::io::Write;
use std::os::fd::BorrowedFd;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::time::Duration;

/// How many children the post starts.
const N: usize = 3;

// ANCHOR: list
/// The post's global `processes` list: the children's pids, filled in as they are forked.
/// Atomics, so that the signal handler may read it.
static PROCESSES: [AtomicI32; N] = [const { AtomicI32::new(0) }; N];
static COUNT: AtomicUsize = AtomicUsize::new(0);
// ANCHOR_END: list

/// The post's late SIGTERM handler, in Rust.
#[derive(Parser)]
struct Args {
    /// Register the handler with SA_RESTART: the kernel restarts a waitpid() it interrupted.
    /// Without it (like Python's signal.signal) the waitpid fails with EINTR.
    #[arg(long)]
    restart: bool,
}

/// write(2) straight to stdout: async-signal-safe. `println!` is not: if the signal arrived
/// while main was inside a `println!`, the handler's `println!` would find stdout's buffer
/// already borrowed, panic, and abort the process (a panic cannot leave a signal handler).
fn say(msg: &[u8]) {
    // SAFETY: fd 1 stays open for the whole life of the process.
    let _ = nix::unistd::write(unsafe { BorrowedFd::borrow_raw(1) }, msg);
}

// ANCHOR: handler
/// The post's `term`: terminate every process in the list. Only async-signal-safe calls:
/// an atomic load, write(2) (through `say` and `labkit::note`), kill(2).
extern "C" fn term(_signal: c_int) {
    labkit::note("handler", "SIGTERM");
    say(b"parent: SIGTERM caught, terminating the children\n");
    for slot in PROCESSES.iter().take(COUNT.load(Ordering::SeqCst)) {
        let pid = Pid::from_raw(slot.load(Ordering::SeqCst));
        labkit::note_num("terminate", pid.as_raw());
        let _ = kill(pid, Signal::SIGTERM);
    }
}
// ANCHOR_END: handler

/// The post's `fun`: a child that works forever.
fn fun(i: usize) -> ! {
    println!("current sub-process pid is {}", getpid());
    loop {
        println!("args is {i}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn main() {
    let args: Args = labkit::args();
    labkit::role("parent");
    println!("current pid is {}", getpid());

    // ANCHOR: fork
    for (i, slot) in PROCESSES.iter().enumerate() {
        std::io::stdout().flush().expect("flush stdout before fork");
        // SAFETY: one thread; the child runs `fun` and never returns here.
        match unsafe { fork() }.expect("fork") {
            ForkResult::Child => {
                labkit::role(&format!("child {i}"));
                fun(i);
            }
            ForkResult::Parent { child } => {
                slot.store(child.as_raw(), Ordering::SeqCst);
                COUNT.store(i + 1, Ordering::SeqCst);
            }
        }
    }

    // The post's line 28: the handler is registered now — after the three forks. The children
    // are separate processes already: this sigaction changes the parent's table only.
    let flags = if args.restart { SaFlags::SA_RESTART } else { SaFlags::empty() };
    let action = SigAction::new(SigHandler::Handler(term), flags, SigSet::empty());
    // SAFETY: `term` only does async-signal-safe work.
    unsafe { sigaction(Signal::SIGTERM, &action) }.expect("sigaction");
    // ANCHOR_END: fork

    // ANCHOR: join
    // The post's `for p in processes: p.join()`, inside a try/except that prints the error.
    for slot in &PROCESSES {
        let child = Pid::from_raw(slot.load(Ordering::SeqCst));
        labkit::note_num("joining", child.as_raw());
        let mut result = waitpid(child, None);
        if let Err(e) = result {
            labkit::note("join-error", &e.to_string());
            println!("join {child}: {e}");
            if e == Errno::EINTR {
                // Interrupted: wait for it again.
                result = waitpid(child, None);
            }
        }
        match result {
            Ok(status) => reaped(status),
            Err(e) => {
                labkit::note("join-error", &e.to_string());
                println!("join {child}: {e}");
                return;
            }
        }
    }
    // ANCHOR_END: join
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
