// right: a self-pipe instead of a signalfd — one handler for all four signals writes the signal's number into a non-blocking pipe and does nothing else; the main loop drains the pipe, then acts: stop requests before deaths (the bytes' order is not the signals'), and the signals stay blocked across each fork until the worker has its own handlers
//! Lab 16 — the capstone: a pre-fork supervisor.
//!
//! Everything from the earlier labs in one program, the way gunicorn's arbiter or tini does it:
//! the supervisor forks N workers and keeps N running. A worker that crashes is reaped and
//! replaced; SIGTERM (or a Ctrl-C) stops every worker gracefully, with a grace period and then
//! SIGKILL; SIGHUP replaces the workers one at a time; and if the supervisor itself is killed
//! with SIGKILL, no worker outlives it.
//!
//! The supervisor runs no signal handler at all. It blocks the signals it acts on and reads
//! them from a signalfd in its main loop: SIGCHLD, SIGTERM, SIGINT and SIGHUP arrive as data,
//! between two pieces of its own work, never in the middle of one.

use clap::Parser;
use nix::errno::Errno;
use nix::libc::{self, c_int};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::prctl;
use nix::sys::signal::{
    SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal, kill, sigaction, sigprocmask,
};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork, getpid, getppid};
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::{Duration, Instant};

/// A pre-fork supervisor: keeps N workers running, replaces the ones that die, stops them
/// gracefully on SIGTERM or Ctrl-C, replaces them one by one on SIGHUP.
#[derive(Parser)]
struct Args {
    /// How many workers to keep running.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=16))]
    workers: u32,
    /// How long the workers may take to finish after SIGTERM before they are SIGKILLed, in ms.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    grace_ms: u64,
    /// The worker in this slot is stuck: it ignores SIGTERM and SIGINT.
    #[arg(long)]
    stubborn: Option<usize>,
    /// Once its workers are started, the supervisor is busy for a while (a pause) before it
    /// looks at its signals.
    #[arg(long)]
    busy: bool,
    /// A worker told to stop waits at a pause before it finishes its last request.
    #[arg(long)]
    linger: bool,
    /// Each worker waits at a pause before it arms its guard (so the supervisor can die first).
    #[arg(long)]
    arm_late: bool,
}

const REQUEST: Duration = Duration::from_millis(10);

/// A worker the supervisor has started and not reaped yet.
#[derive(Clone, Copy)]
struct Worker {
    pid: Pid,
    /// Bumped by every SIGHUP: a worker of an older generation is due for replacement.
    generation: u32,
}

/// The supervisor's whole state. Only the main loop touches it: no handler can run in the
/// middle of a change.
struct Supervisor {
    args: Args,
    me: Pid,
    /// The self-pipe: the handler writes into `wake_w`, the main loop reads `wake`.
    wake: OwnedFd,
    wake_w: OwnedFd,
    /// One entry per slot: the worker running there, or None between a death and its
    /// replacement.
    slots: Vec<Option<Worker>>,
    generation: u32,
    /// SIGHUP: the old worker being replaced right now.
    retiring: Option<Pid>,
    /// Set once a stop has begun: when the grace period ends.
    stop_deadline: Option<Instant>,
    /// The grace period is over and the rest have been SIGKILLed.
    grace_over: bool,
}

fn main() {
    let args: Args = labkit::args();
    labkit::role("supervisor");
    let me = getpid();
    println!("supervisor {me}: starting {} workers", args.workers);

    // ANCHOR: signals
    // The self-pipe: the only thing a handler does is write a byte into it.
    let flags = nix::fcntl::OFlag::O_NONBLOCK | nix::fcntl::OFlag::O_CLOEXEC;
    let (wake, wake_w) = nix::unistd::pipe2(flags).expect("pipe");
    WAKE.store(wake_w.as_raw_fd(), Ordering::SeqCst);
    let on = SigAction::new(SigHandler::Handler(on_signal), SaFlags::SA_RESTART, SigSet::empty());
    for sig in [Signal::SIGCHLD, Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
        // SAFETY: the handler only calls write(2) and saves errno.
        unsafe { sigaction(sig, &on) }.expect("sigaction");
    }
    // ANCHOR_END: signals

    let mut sup = Supervisor {
        slots: vec![None; args.workers as usize],
        args,
        me,
        wake,
        wake_w,
        generation: 0,
        retiring: None,
        stop_deadline: None,
        grace_over: false,
    };
    for slot in 0..sup.slots.len() {
        sup.spawn(slot);
    }
    labkit::note_num("started", sup.slots.len() as i64);
    if sup.args.busy {
        labkit::pause("the supervisor is busy");
    }
    sup.run();
    println!("supervisor: every worker has stopped; exiting");
    labkit::note("exiting", "every worker has stopped");
}

impl Supervisor {
    // ANCHOR: run
    /// The main loop: sleep until a signal is pending (or the grace period ends), then act on
    /// every pending signal, one after the other.
    fn run(&mut self) {
        while !(self.stop_deadline.is_some() && self.live().is_empty()) {
            let mut fds = [PollFd::new(self.wake.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, self.timeout()) {
                Ok(_) | Err(Errno::EINTR) => {}
                Err(e) => panic!("poll: {e}"),
            }
            // Drain the pipe first: the bytes come in the order the handlers ran, and a
            // handler can interrupt another (a SIGCHLD's byte can land before the SIGINT's
            // that caused the death). Then act in a fixed order: stop, SIGHUP, deaths.
            let mut got: Vec<Signal> = Vec::new();
            let mut buf = [0u8; 64];
            loop {
                let n = match nix::unistd::read(&self.wake, &mut buf) {
                    Ok(0) | Err(Errno::EAGAIN) => break,
                    Ok(n) => n,
                    Err(Errno::EINTR) => continue,
                    Err(e) => panic!("read the self-pipe: {e}"),
                };
                got.extend(buf[..n].iter().filter_map(|&b| Signal::try_from(c_int::from(b)).ok()));
            }
            if let Some(&sig) = got.iter().find(|s| matches!(s, Signal::SIGTERM | Signal::SIGINT)) {
                self.stop(sig, 0);
            }
            if got.contains(&Signal::SIGHUP) {
                self.rotate();
            }
            if got.contains(&Signal::SIGCHLD) {
                self.reap();
            }
            if self.stop_deadline.is_some_and(|d| Instant::now() >= d) && !self.grace_over {
                self.grace_is_over();
            }
        }
    }

    /// How long poll may sleep: until the grace period ends, if a stop is under way.
    fn timeout(&self) -> PollTimeout {
        match self.stop_deadline {
            Some(deadline) if !self.grace_over => {
                let left = deadline.saturating_duration_since(Instant::now());
                // Rounded up: waking a little early would only spin until the deadline.
                PollTimeout::try_from(left.as_millis() + 1).unwrap_or(PollTimeout::MAX)
            }
            _ => PollTimeout::NONE,
        }
    }
    // ANCHOR_END: run

    // ANCHOR: reap
    /// SIGCHLD: reap every worker that has ended and start a new one in its slot — unless the
    /// supervisor is stopping.
    fn reap(&mut self) {
        // One SIGCHLD can stand for several ended workers (a pending signal is pending once,
        // however many times it was sent): reap until none is left.
        loop {
            let status = match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                // Workers remain, none has ended (StillAlive), or no child at all (ECHILD).
                Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => return,
                Ok(status) => status,
                Err(e) => panic!("waitpid: {e}"),
            };
            let Some(pid) = status.pid() else { continue };
            let Some((slot, gone)) = self.take(pid) else { continue };
            println!(
                "supervisor: worker {pid} (slot {slot}, generation {}) {}",
                gone.generation,
                describe(status)
            );
            labkit::note("reaped", &format!("{pid} {}", describe(status)));
            if self.stop_deadline.is_some() {
                continue; // stopping: nothing is replaced
            }
            self.spawn(slot);
            if self.retiring == Some(pid) {
                self.retiring = None;
                self.retire_next();
            }
        }
    }
    // ANCHOR_END: reap

    // ANCHOR: stop
    /// SIGTERM or SIGINT: ask every worker to stop (SIGTERM), and give them the grace period
    /// to finish. Only the first such signal counts.
    fn stop(&mut self, sig: Signal, code: i32) {
        if self.stop_deadline.is_some() {
            return;
        }
        let from = if code == libc::SI_KERNEL { " from the terminal" } else { "" };
        let grace = Duration::from_millis(self.args.grace_ms);
        self.stop_deadline = Some(Instant::now() + grace);
        println!(
            "supervisor: {sig}{from}: stopping {} workers, grace {} ms",
            self.live().len(),
            grace.as_millis()
        );
        labkit::note("stopping", sig.as_str());
        for w in self.live() {
            kill(w.pid, Signal::SIGTERM).expect("kill");
        }
    }

    /// The grace period is over: SIGKILL whoever is still there. The loop goes on until each
    /// one has been reaped.
    fn grace_is_over(&mut self) {
        self.grace_over = true;
        for w in self.live() {
            println!("supervisor: worker {} did not stop within the grace period: SIGKILL", w.pid);
            labkit::note_num("grace-over", w.pid.as_raw());
            kill(w.pid, Signal::SIGKILL).expect("kill");
        }
    }
    // ANCHOR_END: stop

    // ANCHOR: rotate
    /// SIGHUP: replace every worker, one at a time, so that no more than one is missing at
    /// any moment. Workers started from now on belong to the new generation.
    fn rotate(&mut self) {
        if self.stop_deadline.is_some() {
            return;
        }
        self.generation += 1;
        println!("supervisor: SIGHUP: replacing the workers, one by one (generation {})", self.generation);
        labkit::note_num("generation", self.generation);
        if self.retiring.is_none() {
            self.retire_next();
        }
    }

    /// Asks the next worker of an older generation to stop. `reap` starts its replacement
    /// when it has ended, and calls this again.
    fn retire_next(&mut self) {
        if let Some(old) = self.live().into_iter().find(|w| w.generation < self.generation) {
            self.retiring = Some(old.pid);
            kill(old.pid, Signal::SIGTERM).expect("kill");
        }
    }
    // ANCHOR_END: rotate

    // ANCHOR: spawn
    /// Forks a worker into `slot`.
    fn spawn(&mut self, slot: usize) {
        std::io::stdout().flush().expect("flush stdout");
        // Until the worker has its own handlers it has the supervisor's: a SIGTERM meant for
        // it would only write a byte into a pipe. Blocked across the fork, it waits instead;
        // the worker unblocks once its handlers are in place.
        let mut mask = SigSet::empty();
        for sig in [Signal::SIGCHLD, Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
            mask.add(sig);
        }
        let mut before = SigSet::empty();
        sigprocmask(SigmaskHow::SIG_BLOCK, Some(&mask), Some(&mut before)).expect("sigprocmask");
        // SAFETY: one thread; the child runs only the worker and never returns here.
        match unsafe { fork() }.expect("fork") {
            ForkResult::Child => {
                // The self-pipe and its handler are the supervisor's, not the worker's: a
                // worker's SIGHUP must not write into a pipe it does not have any more.
                let _ = nix::unistd::close(self.wake.as_raw_fd());
                let _ = nix::unistd::close(self.wake_w.as_raw_fd());
                let default = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
                for sig in [Signal::SIGCHLD, Signal::SIGHUP] {
                    // SAFETY: restoring the default action.
                    unsafe { sigaction(sig, &default) }.expect("sigaction");
                }
                worker(slot, self.generation, self.me, &self.args)
            }
            ForkResult::Parent { child } => {
                self.slots[slot] = Some(Worker { pid: child, generation: self.generation });
                labkit::note("spawned", &format!("{child} {slot}"));
                sigprocmask(SigmaskHow::SIG_SETMASK, Some(&before), None).expect("sigprocmask");
            }
        }
    }
    // ANCHOR_END: spawn

    /// The workers not reaped yet (alive, or ended and waiting to be reaped).
    fn live(&self) -> Vec<Worker> {
        self.slots.iter().flatten().copied().collect()
    }

    /// Frees the slot of worker `pid` (reaped): which slot it was, and the worker.
    fn take(&mut self, pid: Pid) -> Option<(usize, Worker)> {
        let slot = self.slots.iter().position(|w| w.is_some_and(|w| w.pid == pid))?;
        Some((slot, self.slots[slot].take()?))
    }
}

/// The write end of the self-pipe, for the handler.
static WAKE: AtomicI32 = AtomicI32::new(-1);

/// The supervisor's handler for SIGCHLD, SIGTERM, SIGINT and SIGHUP: one byte, the signal's
/// number, into the self-pipe. A full pipe (EAGAIN) already holds a wake-up.
extern "C" fn on_signal(sig: c_int) {
    let saved = Errno::last_raw();
    let byte = sig as u8;
    // SAFETY: write(2) is async-signal-safe; `byte` lives through the call.
    unsafe { libc::write(WAKE.load(Ordering::Relaxed), (&raw const byte).cast(), 1) };
    Errno::set_raw(saved);
}

/// Set by the worker's handler: finish the request in hand, then stop.
static STOP: AtomicBool = AtomicBool::new(false);

/// The worker's SIGTERM/SIGINT handler: async-signal-safe only (an atomic, one write(2)).
extern "C" fn on_stop(sig: c_int) {
    STOP.store(true, Ordering::SeqCst);
    labkit::note("asked", if sig == libc::SIGINT { "SIGINT" } else { "SIGTERM" });
}

// ANCHOR: guard
/// Makes this worker end when the supervisor ends, however it ends — SIGKILL included.
fn die_with_supervisor(supervisor: Pid) {
    // The kernel sends SIGKILL to this process when the thread that forked it (the
    // supervisor's only thread) ends. Lost if the supervisor died before this call: then it
    // has already been adopted by someone else.
    prctl::set_pdeathsig(Signal::SIGKILL).expect("prctl(PR_SET_PDEATHSIG)");
    if getppid() != supervisor {
        std::process::exit(0);
    }
}
// ANCHOR_END: guard

// ANCHOR: worker
/// One worker: serve requests of 10 ms until asked to stop, then finish the request in hand
/// and exit.
fn worker(slot: usize, generation: u32, supervisor: Pid, args: &Args) -> ! {
    labkit::role("worker");
    // Dispositions and the signal mask are inherited through fork: SIGTERM and SIGINT are
    // still blocked here, as in the supervisor. Install the handler first, then unblock, so a
    // SIGTERM sent before this point is handled, not lost and not fatal.
    let stop = if args.stubborn == Some(slot) {
        SigHandler::SigIgn // a worker stuck in a request: it never answers
    } else {
        SigHandler::Handler(on_stop)
    };
    let action = SigAction::new(stop, SaFlags::SA_RESTART, SigSet::empty());
    for sig in [Signal::SIGTERM, Signal::SIGINT] {
        // SAFETY: the handler only does async-signal-safe things.
        unsafe { sigaction(sig, &action) }.expect("sigaction");
    }
    sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None).expect("sigprocmask");
    if args.arm_late {
        labkit::pause("the worker has not armed its guard yet");
    }
    die_with_supervisor(supervisor);
    labkit::note_num("slot", slot as i64);
    labkit::note_num("generation", generation);
    println!("worker {slot} ({}, generation {generation}): serving", getpid());
    labkit::note_num("ready", slot as i64);
    let mut served: u64 = 0;
    while !STOP.load(Ordering::SeqCst) {
        std::thread::sleep(REQUEST); // one request; a handler does not cut it short
        served += 1;
        if served % 10 == 1 {
            labkit::note_num("served", served as i64);
        }
    }
    if args.linger {
        labkit::pause("a stopping worker finishes its last request");
    }
    println!("worker {slot}: stopped after {served} requests");
    labkit::note_num("stopped", served as i64);
    std::process::exit(0);
}
// ANCHOR_END: worker

fn describe(status: WaitStatus) -> String {
    match status {
        WaitStatus::Exited(_, code) => format!("exited {code}"),
        WaitStatus::Signaled(_, sig, _) => format!("killed by {sig}"),
        other => format!("{other:?}"),
    }
}
