//! Lab 04 — reaping: SIGCHLD handler vs polling vs SIG_IGN.
//!
//! Post 002 (parts 三 and 四) collects its zombies two ways: a SIGCHLD handler that loops on
//! `waitpid(-1, WNOHANG)`, and a parent that polls with the same loop every minute. This
//! program does both, adds the third way (`SIGCHLD = SIG_IGN`: the kernel reaps), and times
//! how long each child stays a zombie. Its other modes show what the post gets wrong: one
//! SIGCHLD can stand for many exits, the post's loop spins while another child is alive, a
//! SIGCHLD does not cut Rust's `std::thread::sleep` short, and the handler stays installed.
//!
//! Run the spec: `cargo test -p lab04`. Read `labs/04-reaping/README.md` first.

use clap::{Parser, Subcommand};
use nix::errno::Errno;
use nix::libc;
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal, sigaction, sigprocmask};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork, pipe, write};
use std::io::Read;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicI32, AtomicI64, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

/// Reap exited children three ways and time how long each one stays a zombie.
#[derive(Parser)]
struct Args {
    #[command(subcommand)]
    method: Method,
}

#[derive(Subcommand)]
enum Method {
    /// Reap from a SIGCHLD handler installed with sigaction (post 002, part 三).
    Handler {
        #[command(flatten)]
        kids: Kids,
        /// Block SIGCHLD while the children exit, pause, then unblock it: N exits, one signal.
        #[arg(long)]
        blocked: bool,
        /// Also fork a long-lived child that runs until released (waitpid then returns 0).
        #[arg(long)]
        survivor: bool,
        /// Use the post's handler loop as written: it stops only when waitpid fails.
        #[arg(long)]
        post_loop: bool,
        /// Install the handler one-shot (SA_RESETHAND), as System V's signal() does: after its
        /// first run the kernel resets SIGCHLD to its default — the "some Unixes" of post 002.
        #[arg(long)]
        reset_hand: bool,
    },
    /// Reap by polling: waitpid(-1, WNOHANG) every --period-ms (post 002, part 四).
    Poll {
        #[command(flatten)]
        kids: Kids,
        /// Milliseconds between two polls.
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=60_000))]
        period_ms: u64,
    },
    /// SIGCHLD = SIG_IGN: the kernel reaps each child as it exits; there is no zombie at all.
    Ignore {
        #[command(flatten)]
        kids: Kids,
    },
    /// Does a SIGCHLD cut the parent's sleep short? std::thread::sleep, nanosleep, sleep.
    ///
    /// Three rounds: a child waits, the parent goes to sleep, the child exits. Run by hand,
    /// press Enter while the parent sleeps to let each child go.
    Sleep {
        /// How long std::thread::sleep asks for, in milliseconds.
        #[arg(long, default_value_t = 400, value_parser = clap::value_parser!(u64).range(1..=60_000))]
        ms: u64,
        /// How long nanosleep and sleep ask for, in seconds (long: the signal cuts them short).
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=3600))]
        long_s: u32,
    },
}

#[derive(clap::Args)]
struct Kids {
    /// How many children to fork.
    #[arg(short = 'n', long = "children", default_value_t = 5,
          value_parser = clap::value_parser!(u16).range(1..=MAX_CHILDREN as i64))]
    n: u16,
    /// The children exit one by one, spread evenly over this many milliseconds (0: at once).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    spread_ms: u64,
}

fn main() {
    let args: Args = labkit::args();
    labkit::role("parent");
    match args.method {
        Method::Handler { kids, blocked, survivor, post_loop, reset_hand } => {
            by_handler(&kids, blocked, survivor, post_loop, reset_hand)
        }
        Method::Poll { kids, period_ms } => by_polling(&kids, Duration::from_millis(period_ms)),
        Method::Ignore { kids } => by_ignoring(&kids),
        Method::Sleep { ms, long_s } => sleeps(Duration::from_millis(ms), long_s),
    }
}

// ----- way 1: a SIGCHLD handler ------------------------------------------------------------

// ANCHOR: handler
/// The SIGCHLD handler. It runs in the middle of whatever the parent was doing, so it does
/// only async-signal-safe things: waitpid, atomics, labkit::note (one write(2)). No println!.
extern "C" fn on_sigchld(_signal: libc::c_int) {
    let saved = Errno::last_raw(); // waitpid may set errno: the interrupted code keeps its own
    HANDLER_RUNS.fetch_add(1, SeqCst);
    // TODO: one SIGCHLD can stand for several exited children (standard signals do not
    // queue). Reaping one child per signal leaves the others as zombies. Loop: call waitpid
    // again until it says no exited child is left — `Ok(WaitStatus::StillAlive)` (children
    // remain, none has exited) or `Err(_)` (ECHILD: no child at all). Do not loop on
    // StillAlive: that is the post's bug (see post_on_sigchld below).
    WAITPID_CALLS.fetch_add(1, SeqCst);
    if let Ok(status) = waitpid(None, Some(WaitPidFlag::WNOHANG)) {
        if let Some(pid) = status.pid() {
            reaped(pid);
        }
    }
    Errno::set_raw(saved);
}
// ANCHOR_END: handler

// ANCHOR: post_loop
/// The post's handler, line by line:
/// `while 1: try: result = os.waitpid(-1, os.WNOHANG) except: break;`
/// `print "Reaped child process %d" % result[0]`.
/// Only an error ends the loop. While another child is still running, waitpid returns
/// (0, 0) — `StillAlive` — and the loop goes round again, and again…
extern "C" fn post_on_sigchld(_signal: libc::c_int) {
    let saved = Errno::last_raw();
    HANDLER_RUNS.fetch_add(1, SeqCst);
    loop {
        let calls = WAITPID_CALLS.fetch_add(1, SeqCst) + 1;
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Err(_) => break,
            // The post prints "Reaped child process 0" here for StillAlive, and loops.
            Ok(status) => {
                if let Some(pid) = status.pid() {
                    reaped(pid);
                }
            }
        }
        if calls & (SPIN_NOTE_EVERY - 1) == 0 {
            labkit::note_num("spinning", calls as i64);
        }
    }
    Errno::set_raw(saved);
}
// ANCHOR_END: post_loop

fn by_handler(kids: &Kids, blocked: bool, survivor: bool, post_loop: bool, reset_hand: bool) {
    // ANCHOR: install
    let handler = if post_loop { post_on_sigchld } else { on_sigchld };
    // sigaction, not signal(): the handler stays installed after it runs (no SA_RESETHAND).
    // SA_NOCLDSTOP: no SIGCHLD when a child is merely stopped or continued. SA_RESTART:
    // interrupted read()/write() resume instead of failing with EINTR.
    let mut flags = SaFlags::SA_RESTART | SaFlags::SA_NOCLDSTOP;
    if reset_hand {
        flags |= SaFlags::SA_RESETHAND; // one-shot: the handler is gone after its first run
    }
    let action = SigAction::new(SigHandler::Handler(handler), flags, SigSet::empty());
    // SAFETY: the handler only calls async-signal-safe functions.
    unsafe { sigaction(Signal::SIGCHLD, &action) }.expect("sigaction");
    // ANCHOR_END: install

    let chld = SigSet::from(Signal::SIGCHLD);
    if blocked {
        // Held back, SIGCHLD stays *pending*: however many children exit, it is pending once.
        sigprocmask(SigmaskHow::SIG_BLOCK, Some(&chld), None).expect("sigprocmask");
    }
    let survivor = survivor.then(fork_survivor);
    let (n, exits) = fork_children(kids);

    if blocked {
        // ANCHOR: unblock
        labkit::pause("children exited while SIGCHLD was blocked");
        // A pending signal that becomes unblocked is delivered before sigprocmask returns.
        sigprocmask(SigmaskHow::SIG_UNBLOCK, Some(&chld), None).expect("sigprocmask");
        let runs = HANDLER_RUNS.load(SeqCst);
        labkit::note_num("handler-runs", runs as i64);
        println!(
            "SIGCHLD unblocked: the handler ran {runs} time(s) and reaped {} of {n} children",
            REAPED.load(SeqCst)
        );
        labkit::pause("SIGCHLD unblocked; the handler has run");
        // ANCHOR_END: unblock
    } else {
        // The parent goes about its business (the post sleeps); the handler reaps each child
        // the moment its SIGCHLD arrives, whatever the parent is doing.
        let all_exited = Duration::from_millis(kids.spread_ms) + Duration::from_secs(1);
        if !sleep_until_reaped(n, Some(all_exited)) {
            println!("gave up waiting: some children were never reaped and are still zombies");
        }
        labkit::note_num("handler-runs", HANDLER_RUNS.load(SeqCst) as i64);
        labkit::note_num("waitpid-calls", WAITPID_CALLS.load(SeqCst) as i64);
        println!(
            "the handler ran {} time(s) and called waitpid {} time(s)",
            HANDLER_RUNS.load(SeqCst),
            WAITPID_CALLS.load(SeqCst)
        );
    }
    if let Some(pid) = survivor {
        sleep_until_reaped(n + 1, None);
        println!("the survivor {pid} has exited and been reaped");
        labkit::note_num("handler-runs-total", HANDLER_RUNS.load(SeqCst) as i64);
        labkit::note_num("waitpid-calls-total", WAITPID_CALLS.load(SeqCst) as i64);
    }
    report(n, exits);
}

/// The parent's own work while the handler reaps: short sleeps until `count` children have
/// been reaped (or `give_up` has passed). Returns whether they all were.
fn sleep_until_reaped(count: usize, give_up: Option<Duration>) -> bool {
    let start = Instant::now();
    while REAPED.load(SeqCst) < count {
        if give_up.is_some_and(|g| start.elapsed() > g) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    true
}

// ----- way 2: polling ----------------------------------------------------------------------

// ANCHOR: poll
fn by_polling(kids: &Kids, period: Duration) {
    // SIGCHLD keeps its default action: nothing happens when a child exits, and the child
    // stays a zombie until the parent's next poll.
    let (n, exits) = fork_children(kids);
    while REAPED.load(SeqCst) < n {
        std::thread::sleep(period); // the post: time.sleep(60)
        reap();
    }
    report(n, exits);
}

/// The post's reap(), with the missing case: stop when waitpid says no child has exited.
fn reap() {
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) => break,
            Ok(status) => {
                if let Some(pid) = status.pid() {
                    reaped(pid);
                }
            }
            Err(_) => break,
        }
    }
}
// ANCHOR_END: poll

// ----- way 3: SIGCHLD = SIG_IGN ------------------------------------------------------------

// ANCHOR: ignore
fn by_ignoring(kids: &Kids) {
    // POSIX.1-2001 and Linux: children of a process that ignores SIGCHLD are not turned into
    // zombies. The kernel discards them at exit (SA_NOCLDWAIT does the same for a handler).
    let ignore = SigAction::new(SigHandler::SigIgn, SaFlags::empty(), SigSet::empty());
    // SAFETY: no handler is involved.
    unsafe { sigaction(Signal::SIGCHLD, &ignore) }.expect("sigaction");
    let (n, _exits) = fork_children(kids);
    labkit::pause("children exited; the parent has not waited");
    // Nothing to collect: wait() blocks until every child has gone, then fails with ECHILD.
    match waitpid(None, None) {
        Err(e) => {
            labkit::note("waitpid", &format!("{e:?}"));
            println!("waitpid(-1): {e} — the kernel already reaped all {n} children");
        }
        Ok(status) => {
            labkit::note("waitpid", &format!("{status:?}"));
            println!("waitpid(-1) returned {status:?}");
        }
    }
    println!("zombie lifetime: none — with SIGCHLD ignored no child became a zombie");
}
// ANCHOR_END: ignore

// ----- does SIGCHLD cut the parent's sleep short? ------------------------------------------

// ANCHOR: sleep
fn sleeps(d: Duration, long: u32) {
    let action = SigAction::new(
        SigHandler::Handler(on_sigchld),
        SaFlags::SA_RESTART | SaFlags::SA_NOCLDSTOP,
        SigSet::empty(),
    );
    // SAFETY: the handler only calls async-signal-safe functions.
    unsafe { sigaction(Signal::SIGCHLD, &action) }.expect("sigaction");
    let ms = d.as_millis() as i64;

    // 1. Rust's sleep: nanosleep, and on EINTR it sleeps again for the time that is left.
    fork_child_that_waits();
    labkit::note("sleeping", "std::thread::sleep");
    let t = Instant::now();
    std::thread::sleep(d);
    let took = t.elapsed().as_millis() as i64;
    labkit::note_num("std-sleep-ms", took);
    println!("std::thread::sleep({ms} ms) returned after {took} ms: the handler ran, the sleep went on");
    // On a loaded machine the child may end just after the sleep: let its SIGCHLD come now,
    // not in the middle of the next sleep (at most 2 s).
    until_handled(1);

    // 2. The system call itself (the post's time.sleep(1000) in Python 2): the handler runs,
    //    then nanosleep fails with EINTR — even with SA_RESTART — and writes the time left.
    fork_child_that_waits();
    labkit::note("sleeping", "nanosleep");
    let req = libc::timespec { tv_sec: long.into(), tv_nsec: 0 };
    let mut rem = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    let t = Instant::now();
    // SAFETY: two valid timespecs.
    let r = unsafe { libc::nanosleep(&req, &mut rem) };
    let err = Errno::last();
    let took = t.elapsed().as_millis() as i64;
    let left = rem.tv_sec * 1000 + rem.tv_nsec / 1_000_000;
    labkit::note("nanosleep", &if r == 0 { "0".to_string() } else { format!("{err:?}") });
    labkit::note_num("nanosleep-ms", took);
    labkit::note_num("nanosleep-left-ms", left);
    println!("nanosleep({long} s) returned {r} ({err:?}) after {took} ms, {left} ms left");
    until_handled(2);

    // 3. nix::unistd::sleep, i.e. sleep(3): returns early with the *whole* seconds left.
    fork_child_that_waits();
    labkit::note("sleeping", "sleep");
    let t = Instant::now();
    let left = nix::unistd::sleep(long);
    let took = t.elapsed().as_millis() as i64;
    labkit::note_num("sleep-ms", took);
    labkit::note_num("sleep-left-s", left);
    println!("sleep({long}) returned {left} after {took} ms");
    println!("the handler ran {} time(s); it was installed once", HANDLER_RUNS.load(SeqCst));
}
// ANCHOR_END: sleep

/// Waits (at most 2 s) until the SIGCHLD handler has run `n` times.
fn until_handled(n: u64) {
    let end = Instant::now() + Duration::from_secs(2);
    while HANDLER_RUNS.load(SeqCst) < n && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// A child that exits when the spec (or Enter, by hand) lets it.
fn fork_child_that_waits() {
    // SAFETY: one thread.
    match unsafe { fork() }.expect("fork") {
        ForkResult::Child => {
            labkit::role("child");
            labkit::pause("the child is ready to exit");
            std::process::exit(0);
        }
        ForkResult::Parent { .. } => {}
    }
}

// ----- the children ------------------------------------------------------------------------

/// Forks `kids.n` children; child i exits (i + ½) · spread / n ms after it starts and writes
/// its exit time into the returned pipe first, so that the parent can time its zombie.
fn fork_children(kids: &Kids) -> (usize, OwnedFd) {
    let n = usize::from(kids.n);
    let (exits_r, exits_w) = pipe().expect("pipe");
    for i in 0..n {
        // SAFETY: one thread; the child sleeps, writes and exits.
        match unsafe { fork() }.expect("fork") {
            ForkResult::Child => {
                labkit::role("child");
                let us = kids.spread_ms * 1000 * (2 * i as u64 + 1) / (2 * n as u64);
                std::thread::sleep(Duration::from_micros(us));
                let t = now_ns();
                let mut record = [0u8; 12];
                record[..4].copy_from_slice(&nix::unistd::getpid().as_raw().to_ne_bytes());
                record[4..].copy_from_slice(&t.to_ne_bytes());
                let _ = write(&exits_w, &record); // 12 bytes < PIPE_BUF: one atomic write
                labkit::note_num("exit-ns", t);
                std::process::exit(0);
            }
            ForkResult::Parent { .. } => {}
        }
    }
    (n, exits_r)
}

/// A child that keeps running until the spec (or Enter, by hand) lets it exit.
fn fork_survivor() -> Pid {
    // SAFETY: one thread.
    match unsafe { fork() }.expect("fork") {
        ForkResult::Child => {
            labkit::role("survivor");
            labkit::pause("the survivor keeps running");
            std::process::exit(0);
        }
        ForkResult::Parent { child } => child,
    }
}

// ----- measuring (plumbing: async-signal-safe, so the handler may use it) ------------------

const MAX_CHILDREN: usize = 1000;
/// The post's loop notes how often it has called waitpid every this many calls (a power of 2).
const SPIN_NOTE_EVERY: u64 = 1 << 14;
static HANDLER_RUNS: AtomicU64 = AtomicU64::new(0);
static WAITPID_CALLS: AtomicU64 = AtomicU64::new(0);
static REAPED: AtomicUsize = AtomicUsize::new(0);
static REAPED_PID: [AtomicI32; MAX_CHILDREN + 1] = [const { AtomicI32::new(0) }; MAX_CHILDREN + 1];
static REAPED_NS: [AtomicI64; MAX_CHILDREN + 1] = [const { AtomicI64::new(0) }; MAX_CHILDREN + 1];

/// CLOCK_MONOTONIC in ns (async-signal-safe; the same clock as the trace's timestamps).
fn now_ns() -> i64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes into `ts`.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec * 1_000_000_000 + ts.tv_nsec
}

/// Records that `pid` was reaped, and when. Async-signal-safe: atomics and one write(2).
fn reaped(pid: Pid) {
    let i = REAPED.fetch_add(1, SeqCst);
    if i < REAPED_PID.len() {
        REAPED_PID[i].store(pid.as_raw(), SeqCst);
        REAPED_NS[i].store(now_ns(), SeqCst);
    }
    labkit::note_num("reaped", pid.as_raw());
}

/// Pairs each child's exit time with the time it was reaped and prints the median.
fn report(n: usize, exits: OwnedFd) {
    let mut bytes = Vec::new();
    // Every child has exited (and closed its end) once it was reaped or gave up waiting.
    let _ = std::fs::File::from(exits).read_to_end(&mut bytes);
    let exited: Vec<(i32, i64)> = bytes
        .chunks_exact(12)
        .map(|r| {
            (i32::from_ne_bytes(r[..4].try_into().unwrap()), i64::from_ne_bytes(r[4..].try_into().unwrap()))
        })
        .collect();
    let count = REAPED.load(SeqCst).min(REAPED_PID.len());
    let mut lifetimes: Vec<i64> = (0..count)
        .filter_map(|i| {
            let pid = REAPED_PID[i].load(SeqCst);
            let at = REAPED_NS[i].load(SeqCst);
            exited.iter().find(|(p, _)| *p == pid).map(|(_, t)| (at - t) / 1000)
        })
        .collect();
    lifetimes.sort_unstable();
    println!("reaped {} of {n} children", lifetimes.len());
    if let (Some(min), Some(max)) = (lifetimes.first(), lifetimes.last()) {
        let median = lifetimes[lifetimes.len() / 2];
        labkit::note_num("median-us", median);
        println!("zombie lifetimes: min {min} µs, max {max} µs");
        println!("median zombie lifetime: {median} µs");
    }
}
