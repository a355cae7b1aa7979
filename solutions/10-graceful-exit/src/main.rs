//! Lab 10 — graceful exit: a flag, not an exception.
//!
//! Post 001 ends with `MyProcess`: its `run()` binds SIGTERM to a handler that raises
//! `TerminateInterrupt`, the work loop runs until the exception cuts it off, and the parent's
//! `p.terminate()` (which sends SIGTERM) ends the child "gracefully". The post then says a flag
//! checked by the loop is better, because an exception can end an operation half-way ("imagine
//! the operation sends a piece of data: data sent half is fatal"). Rust has no exceptions; the
//! abrupt equivalent is leaving the process from inside the handler (`_exit`, the exit that is
//! async-signal-safe).
//!
//! The worker's operation here is a *record*: 32 bytes written to stdout in four pieces, like a
//! message sent in chunks. `--abrupt` keeps the post's handler; the default is the flag.
//! `--bind` moves the binding to where the post discusses it: `run()` (in the worker, the
//! default), `__init__` (in the parent, before the fork) or after the fork in the parent.

use clap::{Parser, ValueEnum};
use nix::errno::Errno;
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, kill, sigaction};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork, getpid};
use std::ffi::c_int;
use std::io::Write;
use std::os::fd::BorrowedFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Where `signal.signal(SIGTERM, ...)` is called.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Bind {
    /// In the worker, first thing (the post's `run()`).
    InWorker,
    /// In the parent, before the fork (the post's `__init__`).
    BeforeFork,
    /// In the parent, right after its first fork.
    AfterFork,
}

/// A worker writes records until the parent terminates it: with the post's handler that
/// exits on the spot (--abrupt), or with a flag checked between records.
#[derive(Parser)]
struct Args {
    /// The post's way: the SIGTERM handler leaves the process at once (Rust's stand-in for
    /// raising TerminateInterrupt).
    #[arg(long)]
    abrupt: bool,
    /// Where SIGTERM is bound.
    #[arg(long, value_enum, default_value_t = Bind::InWorker)]
    bind: Bind,
    /// The worker stops (a pause) in the middle of record K, half of it written.
    #[arg(long, value_name = "K")]
    pause_in_record: Option<u32>,
    /// How many workers the parent starts and terminates, one after another.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    rounds: u32,
    /// The work between two pieces of a record, in microseconds.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(0..=1_000_000))]
    piece_us: u64,
}

/// Where the parent waits before `p.terminate()` (the post's `time.sleep(5)`).
const SLEEPS: &str = "the parent sleeps before terminate()";
/// Where the worker waits with `--pause-in-record`.
const HALF: &str = "half of a record is written";

/// One record's payload; with "rec NNNN " before it and a newline after, 32 bytes.
const PAYLOAD: &str = "abcdefghijklmnopqrstuv";

// ANCHOR: flag
/// Set by SIGTERM: "stop at the end of this record".
static STOP: AtomicBool = AtomicBool::new(false);
// ANCHOR_END: flag

/// write(2) straight to stdout: async-signal-safe (no lock, no allocation).
fn say(msg: &[u8]) {
    // SAFETY: fd 1 stays open for the whole life of the process.
    let _ = nix::unistd::write(unsafe { BorrowedFd::borrow_raw(1) }, msg);
}

// ANCHOR: abrupt
/// The post's `signal_handler`: print, then `raise TerminateInterrupt`. Rust has no
/// exceptions: the abrupt equivalent leaves the process right here, wherever the worker was.
/// Async-signal-safe only: write(2) and _exit(2).
extern "C" fn terminate_interrupt(_: c_int) {
    say(b"Capture terminate signal. Exit the process.\n");
    // SAFETY: _exit(2) ends the process at once: no destructors, no atexit, no stdio flush.
    unsafe { libc::_exit(0) }
}
// ANCHOR_END: abrupt

// ANCHOR: bind
/// `signal.signal(SIGTERM, ...)`, in the calling process.
fn bind_sigterm(abrupt: bool) {
    if abrupt {
        let action =
            SigAction::new(SigHandler::Handler(terminate_interrupt), SaFlags::empty(), SigSet::empty());
        // SAFETY: the handler does only async-signal-safe things.
        unsafe { sigaction(Signal::SIGTERM, &action) }.expect("sigaction");
    } else {
        // The handler signal-hook installs only sets STOP (an atomic store: async-signal-safe);
        // the worker looks at it between two records.
        signal_hook::flag::register(signal_hook::consts::SIGTERM, &STOP).expect("signal-hook");
    }
}
// ANCHOR_END: bind

// ANCHOR: record
/// Writes record `n`: four pieces of 8 bytes, each its own write(2), with some work between —
/// one operation, like a message sent in chunks.
fn write_record(n: u32, args: &Args) {
    let record = format!("rec {n:04} {PAYLOAD}\n");
    let mut out = std::io::stdout().lock();
    for (i, piece) in record.as_bytes().chunks(8).enumerate() {
        if i > 0 {
            std::thread::sleep(Duration::from_micros(args.piece_us));
        }
        if i == 2 && args.pause_in_record == Some(n) {
            labkit::pause(HALF);
        }
        out.write_all(piece).and_then(|()| out.flush()).expect("write to stdout");
    }
}
// ANCHOR_END: record

// ANCHOR: run
/// The post's `MyProcess.run()`: bind SIGTERM, then work, record after record.
fn run(args: &Args) -> ! {
    labkit::role("worker");
    if args.bind == Bind::InWorker {
        bind_sigterm(args.abrupt);
    }
    labkit::note("ready", "at work");
    let mut n = 0;
    while !STOP.load(Ordering::SeqCst) {
        write_record(n, args);
        n += 1;
        labkit::note_num("written", n);
    }
    labkit::note_num("stopped", n);
    println!("worker {}: SIGTERM seen between records: stopping after {n} whole records", getpid());
    std::process::exit(0);
}
// ANCHOR_END: run

fn main() {
    let args: Args = labkit::args();
    labkit::role("parent");
    println!("parent {}: {} worker(s), one after another", getpid(), args.rounds);
    // ANCHOR: main
    if args.bind == Bind::BeforeFork {
        bind_sigterm(args.abrupt); // the post's __init__: this is still the parent
    }
    for round in 0..args.rounds {
        // p = MyProcess(); p.start()
        std::io::stdout().flush().expect("flush stdout before fork");
        // SAFETY: one thread; the child runs `run` and never returns here.
        let worker = match unsafe { fork() }.expect("fork") {
            ForkResult::Child => run(&args),
            ForkResult::Parent { child } => child,
        };
        if args.bind == Bind::AfterFork && round == 0 {
            bind_sigterm(args.abrupt);
        }
        // time.sleep(5)
        labkit::pause(SLEEPS);
        // p.terminate()
        kill(worker, Signal::SIGTERM).expect("kill");
        labkit::note_num("terminated", worker.as_raw());
        // p.join()
        let status = loop {
            match waitpid(worker, None) {
                Err(Errno::EINTR) => continue,
                other => break other.expect("waitpid"),
            }
        };
        let how = describe(status);
        labkit::note("joined", &format!("{worker} {how}"));
        println!("parent {}: worker {worker} {how}", getpid());
    }
    // ANCHOR_END: main
}

fn describe(status: WaitStatus) -> String {
    match status {
        WaitStatus::Exited(_, code) => format!("exited {code}"),
        WaitStatus::Signaled(_, sig, _) => format!("killed by {sig}"),
        other => format!("{other:?}"),
    }
}
