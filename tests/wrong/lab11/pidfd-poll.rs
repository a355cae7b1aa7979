// right: waits on a pidfd with poll(2) for the time that is left, so it wakes the moment the child ends, with no sleep loop
//! Lab 11 — uncatchable signals and stop escalation.
//!
//! Post 001: "SIGKILL and SIGSTOP cannot have a handler bound (cannot be caught, blocked, or
//! ignored)", and PyCharm's Stop button: the first press sends SIGINT (the program's handler
//! runs and the program goes on), the second sends SIGKILL, which nothing can catch. Post 003:
//! "SIGINT is nearly identical to SIGTERM"; SIGKILL leaves no chance to clean up.
//!
//! `--try-uncatchable` tries to bind, ignore and block SIGKILL and SIGSTOP and reports what
//! the kernel and signal-hook said. Otherwise the parent starts one child of the given kind
//! and, once its work is done, stops it with a *stop routine*: a first signal (SIGTERM, or
//! SIGINT like the IDE), a grace period to end by itself, then SIGKILL — and says which
//! happened. The exercise is that routine.

use clap::{Parser, ValueEnum};
use nix::sys::signal::{
    SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal, kill, sigaction, sigprocmask,
};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork, getpid};
use std::ffi::c_int;
use std::io::Write;
use std::os::fd::BorrowedFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The kind of child the parent starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Kind {
    /// Stops on SIGTERM or SIGINT: a flag, a cleanup of 30 ms, exit 0.
    Cooperative,
    /// Ignores SIGTERM and SIGINT.
    Stubborn,
    /// Cooperative, but stops itself (SIGSTOP, like Ctrl-Z) once at work.
    Stopped,
    /// No handler at all: the default actions.
    Plain,
    /// The post's listing: a SIGINT handler that prints "Received: 2" and returns.
    Post,
}

/// The first signal of the stop routine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum First {
    /// SIGTERM, like `kill` and Python's `terminate()`.
    Term,
    /// SIGINT, like an IDE's first Stop (or Ctrl-C).
    Int,
}

/// Stop a child with a first signal, a grace period, then SIGKILL — or try to catch the
/// uncatchable.
#[derive(Parser)]
struct Args {
    /// Try to bind, ignore and block SIGKILL and SIGSTOP, report, and wait.
    #[arg(long)]
    try_uncatchable: bool,
    /// The child the parent starts.
    #[arg(long, value_enum, default_value_t = Kind::Cooperative)]
    child: Kind,
    /// The stop routine's first signal.
    #[arg(long, value_enum, default_value_t = First::Term)]
    first: First,
    /// How long the child may take to end by itself after the first signal (ms).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    grace_ms: u64,
}

/// Where the parent waits before it stops its child (by hand: Enter).
const WORKING: &str = "the parent works; its child too";
/// Where `--try-uncatchable` waits after its attempts.
const TRIED: &str = "tried to catch SIGKILL and SIGSTOP";
/// How long a cooperative child's cleanup takes.
const CLEANUP: Duration = Duration::from_millis(30);

/// Set by SIGTERM or SIGINT in a cooperative child.
static STOP: AtomicBool = AtomicBool::new(false);

/// write(2) straight to stdout: async-signal-safe.
fn say(msg: &[u8]) {
    // SAFETY: fd 1 stays open for the whole life of the process.
    let _ = nix::unistd::write(unsafe { BorrowedFd::borrow_raw(1) }, msg);
}

/// A handler that must never run (SIGKILL and SIGSTOP have none).
extern "C" fn never(_: c_int) {
    labkit::note("handler", "ran");
}

// ANCHOR: uncatchable
/// Tries every way to keep SIGKILL and SIGSTOP from doing their job, and says what happened.
fn try_uncatchable() {
    labkit::role("parent");
    for sig in [Signal::SIGKILL, Signal::SIGSTOP] {
        let handler = SigAction::new(SigHandler::Handler(never), SaFlags::empty(), SigSet::empty());
        let ignore = SigAction::new(SigHandler::SigIgn, SaFlags::empty(), SigSet::empty());
        // SAFETY: `never` only writes a note; SIG_IGN installs no code.
        let caught = unsafe { sigaction(sig, &handler) };
        // SAFETY: as above.
        let ignored = unsafe { sigaction(sig, &ignore) };
        let mut set = SigSet::empty();
        set.add(sig);
        let blocked = sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), None);
        // signal-hook refuses these signals itself: it panics before asking the kernel.
        // (The panic is caught and reported here, not printed.)
        let panic_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let hook = std::panic::catch_unwind(|| signal_hook::flag::register(sig as c_int, &STOP).map(|_| ()));
        std::panic::set_hook(panic_hook);
        let hook = match hook {
            Ok(r) => format!("{r:?}"),
            Err(p) => format!(
                "panicked: {}",
                p.downcast_ref::<String>().map(String::as_str).unwrap_or("(no message)")
            ),
        };
        for (how, result) in
            [("handler", caught.map(|_| ())), ("ignore", ignored.map(|_| ())), ("block", blocked)]
        {
            let result = match result {
                Ok(()) => "Ok".to_string(),
                Err(e) => format!("{e:?}"),
            };
            labkit::note(&format!("{how}-{sig}"), &result);
            println!("{how} {sig}: {result}");
        }
        labkit::note(&format!("signal-hook-{sig}"), &hook);
        println!("signal_hook::flag::register({sig}): {hook}");
    }
    labkit::pause(TRIED);
    println!("parent {}: still here, exiting", getpid());
}
// ANCHOR_END: uncatchable

// ANCHOR: child
/// The child: works (a loop of short sleeps) until its kind says otherwise.
fn child(kind: Kind) -> ! {
    labkit::role("child");
    match kind {
        Kind::Cooperative | Kind::Stopped => {
            for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
                signal_hook::flag::register(sig, &STOP).expect("signal-hook");
            }
        }
        Kind::Stubborn => {
            for sig in [Signal::SIGTERM, Signal::SIGINT] {
                // SAFETY: SIG_IGN installs no code.
                unsafe { nix::sys::signal::signal(sig, SigHandler::SigIgn) }.expect("signal");
            }
        }
        Kind::Post => {
            let action =
                SigAction::new(SigHandler::Handler(post_handler), SaFlags::SA_RESTART, SigSet::empty());
            // SAFETY: the handler only writes (write(2), labkit::note).
            unsafe { sigaction(Signal::SIGINT, &action) }.expect("sigaction");
        }
        Kind::Plain => {}
    }
    labkit::note("ready", &format!("{kind:?}"));
    if kind == Kind::Stopped {
        // Stop myself, like Ctrl-Z or a debugger would.
        kill(getpid(), Signal::SIGSTOP).expect("kill");
    }
    let mut turns: u32 = 0;
    while !STOP.load(Ordering::SeqCst) {
        if kind == Kind::Post && turns.is_multiple_of(10) {
            // The post's loop prints every 3 s; this one every 50 ms.
            println!("Waiting...try kill using signal 2(SIGINT)");
            labkit::note_num("waiting", turns / 10 + 1);
        }
        turns += 1;
        std::thread::sleep(Duration::from_millis(5));
    }
    println!("child {}: stop requested, cleaning up", getpid());
    std::thread::sleep(CLEANUP);
    labkit::note("cleanup", "done");
    println!("child {}: cleanup done, exiting", getpid());
    std::process::exit(0);
}

/// The post's `signal_handler`: print the signal and return — the program goes on.
extern "C" fn post_handler(_: c_int) {
    labkit::note("received", "2");
    say(b"Received: 2\n");
}
// ANCHOR_END: child

/// How the stop routine ended.
enum Outcome {
    /// The child ended within the grace period (exit, or killed by the first signal).
    ByItself(WaitStatus),
    /// Still alive after the grace period: SIGKILLed.
    Killed(WaitStatus),
}

// ANCHOR: stop
/// Stops `child`: `first`, then up to `grace` for it to end by itself, then SIGKILL. Never
/// waits longer than `grace` before the SIGKILL.
fn stop(child: Pid, first: Signal, grace: Duration) -> Outcome {
    use std::os::fd::{AsFd, FromRawFd, OwnedFd};
    // SAFETY: pidfd_open(2) takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, child.as_raw(), 0) };
    assert!(fd >= 0, "pidfd_open: {}", std::io::Error::last_os_error());
    // SAFETY: a fresh fd that nothing else owns.
    let pidfd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    labkit::note("sending", first.as_str());
    let deadline = Instant::now() + grace;
    kill(child, first).expect("kill");
    loop {
        let status = waitpid(child, Some(WaitPidFlag::WNOHANG)).expect("waitpid");
        if status != WaitStatus::StillAlive {
            return Outcome::ByItself(status);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        // Readable when the child has ended (a stop does not count).
        let mut fds = [nix::poll::PollFd::new(pidfd.as_fd(), nix::poll::PollFlags::POLLIN)];
        let ms = u16::try_from(left.as_millis().max(1)).unwrap_or(u16::MAX);
        let _ = nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(ms));
    }
    labkit::note("sending", "SIGKILL");
    kill(child, Signal::SIGKILL).expect("kill");
    let status = waitpid(child, None).expect("waitpid");
    match status {
        WaitStatus::Signaled(_, Signal::SIGKILL, _) => Outcome::Killed(status),
        _ => Outcome::ByItself(status),
    }
}
// ANCHOR_END: stop

fn main() {
    let args: Args = labkit::args();
    if args.try_uncatchable {
        try_uncatchable();
        return;
    }
    labkit::role("parent");
    println!("parent {}: starting a {:?} child", getpid(), args.child);
    std::io::stdout().flush().expect("flush stdout before fork");
    // SAFETY: one thread; the child runs `child` and never returns here.
    let kid = match unsafe { fork() }.expect("fork") {
        ForkResult::Child => child(args.child),
        ForkResult::Parent { child } => child,
    };
    labkit::pause(WORKING);

    // ANCHOR: report
    let first = match args.first {
        First::Term => Signal::SIGTERM,
        First::Int => Signal::SIGINT,
    };
    let grace = Duration::from_millis(args.grace_ms);
    let started = Instant::now();
    let outcome = stop(kid, first, grace);
    let ms = started.elapsed().as_millis();
    let report = match outcome {
        Outcome::ByItself(status) => format!("ended by itself: {}", describe(status)),
        Outcome::Killed(status) => format!("still alive after the grace period: {}", describe(status)),
    };
    labkit::note("outcome", &report);
    println!("parent {}: child {kid} {report} ({ms} ms after {first})", getpid());
    // ANCHOR_END: report
}

fn describe(status: WaitStatus) -> String {
    match status {
        WaitStatus::Exited(_, code) => format!("exited {code}"),
        WaitStatus::Signaled(_, sig, _) => format!("killed by {sig}"),
        other => format!("{other:?}"),
    }
}
