// right: PR_SET_PDEATHSIG with SIGKILL instead of SIGTERM (no cleanup, but the worker surely ends), then the same check
//! Lab 05 — daemon children: who dies with the parent.
//!
//! Post 000 starts four `multiprocessing.Process(target=fun, daemon=True)` children that print
//! `args is i` in a loop, and finds that they "exit along with the main process" — yet after
//! `kill -9` of the main process they keep running. Post 003 says a daemon child "terminates
//! when its parent terminates". Python's daemon flag is no kernel feature: it is an atexit hook
//! in the parent (multiprocessing terminates its daemonic children when the interpreter exits
//! normally). Rust has no daemon flag at all, so this program does by hand what Python does:
//! the parent's normal exit path stops its workers (SIGTERM, then waitpid). Kill the parent
//! with SIGKILL, or with a SIGTERM it does not handle, and that path never runs.
//!
//! The exercise: workers that die with their parent however it dies.

use clap::Parser;
use nix::sys::prctl;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, Pid, fork, getpid, getppid};
use std::io::Write;
use std::time::Duration;

/// Start workers like Python's daemon=True children, stop them on the parent's normal exit
/// path, and see who survives when the parent is killed instead.
#[derive(Parser)]
struct Args {
    /// How many workers the parent starts.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=8))]
    workers: u32,
    /// Workers do nothing to die with their parent: only the parent's normal exit path stops
    /// them, exactly like Python's daemon=True.
    #[arg(long)]
    daemon_only: bool,
    /// Each worker stops (a pause) before it arms its guard, so that the parent can die first.
    #[arg(long, conflicts_with = "daemon_only")]
    arm_late: bool,
}

// ANCHOR: guard
/// Makes this worker end when its parent ends, however the parent ends.
fn die_with_parent(parent: Pid) {
    // Ask the kernel: when my parent dies, send me SIGTERM. (Strictly: when the *thread* that
    // forked me exits. This program has one thread.)
    prctl::set_pdeathsig(Signal::SIGKILL).expect("prctl(PR_SET_PDEATHSIG)");
    // If the parent died before that call, the signal will never come: I have already been
    // adopted by someone else. Check, and go now.
    if getppid() != parent {
        println!("worker {}: my parent {parent} is already gone, exiting", getpid());
        std::process::exit(0);
    }
}
// ANCHOR_END: guard

// ANCHOR: worker
/// The post's `fun(args)`: print `args is i` forever, with a short sleep.
fn worker(i: u32, parent: Pid, args: &Args) -> ! {
    labkit::role("worker");
    if args.arm_late {
        labkit::pause("the worker has not armed its guard yet");
    }
    if !args.daemon_only {
        die_with_parent(parent);
    }
    println!("current sub-process pid is {}", getpid());
    let mut printed = 0;
    loop {
        println!("args is {i}");
        printed += 1;
        labkit::note_num("printed", printed);
        std::thread::sleep(Duration::from_millis(100));
    }
}
// ANCHOR_END: worker

fn main() {
    let args: Args = labkit::args();
    labkit::role("parent");
    let parent = getpid();
    println!("current pid is {parent}");

    // ANCHOR: start
    let mut workers = Vec::new();
    for i in 0..args.workers {
        std::io::stdout().flush().expect("flush stdout");
        // SAFETY: one thread; the child runs only the worker loop and never returns here.
        match unsafe { fork() }.expect("fork") {
            ForkResult::Child => worker(i, parent, &args),
            ForkResult::Parent { child } => workers.push(child),
        }
    }
    // ANCHOR_END: start

    // The post joins its children here. This parent has work of its own; the pause stands for
    // it (run by hand: press Enter, or `kill -9` the parent from another terminal).
    labkit::pause("the parent works; its workers print");

    // ANCHOR: exit_path
    // The normal exit path: what multiprocessing's atexit hook does for daemon=True children.
    // SIGKILL skips it; so does a SIGTERM this process does not handle.
    for &w in &workers {
        kill(w, Signal::SIGTERM).expect("kill");
    }
    for &w in &workers {
        let status = waitpid(w, None).expect("waitpid");
        println!("parent: worker {w} stopped: {status:?}");
    }
    println!("parent: all workers stopped, exiting");
    // ANCHOR_END: exit_path
}
