//! Spec of lab 05 — daemon children. Judges labs/05-daemon (`cargo test -p lab05`) and
//! solutions/05-daemon (`cargo test -p sol05`).
//!
//! Python's `daemon=True` is an atexit hook in the parent, not a kernel feature. The parent's
//! normal exit path stops its workers; SIGKILL, or a SIGTERM the parent does not handle, skips
//! that path and leaves the workers running as orphans. The exercise makes the workers die
//! with the parent however it dies.

use harness::Kind;
use harness::prelude::*;
use rstest::rstest;

const WORKERS: usize = 3;
const WORKING: &str = "the parent works; its workers print";
const NOT_ARMED: &str = "the worker has not armed its guard yet";

/// When the sandbox reaped `pid` (CLOCK_MONOTONIC ns, the clock of labkit's notes): the
/// process was certainly dead by then. Call after `exit_of(pid)`.
/// Starts the lab and waits until the parent is at work and every worker has printed at least
/// once (a worker prints only after it has armed its guard, if it has one).
fn started(args: &[&str]) -> (Scenario, i32, Vec<i32>) {
    let sc = Scenario::start(lab!(), args);
    let parent = sc.role("parent");
    let workers = sc.roles("worker", WORKERS);
    for &w in &workers {
        sc.note_after(w, "printed", 0);
    }
    sc.paused(WORKING);
    (sc, parent, workers)
}

/// A worker that ends because its guard worked: a signal or an exit — not a panic (status 101)
/// and not a crash (a core dump).
fn ended_cleanly(how: Exit) -> bool {
    !matches!(how, Exit::Code(101) | Exit::Signal(_, true))
}

fn parent_ran_its_exit_path(sc: &Scenario) -> bool {
    sc.stdout().contains("parent: all workers stopped")
}

/// Post 000 and 003 hold on this path: when the parent ends normally its exit path stops every
/// worker — Python's atexit hook for daemon=True, done by hand in Rust.
// hint: 1
#[rstest]
#[case::daemon_only(&["--daemon-only"])]
#[case::guarded(&[])]
fn the_normal_exit_path_stops_every_worker(#[case] args: &[&str]) {
    let (sc, parent, workers) = started(args);
    sc.show("the parent at work, its workers printing");
    sc.step("the parent's work is done: its exit path SIGTERMs every worker and waits for it");
    sc.release();
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), "the parent exits normally");
    let t = sc.snapshot();
    let out = sc.until_stdout("the parent prints that it is exiting", |o| {
        o.contains("parent: all workers stopped, exiting")
    });
    sc.show("after the parent's exit");
    let all_gone = workers.iter().all(|&w| t.gone(w));
    let by_parent = workers
        .iter()
        .all(|&w| out.contains(&format!("parent: worker {w} stopped: Signaled(Pid({w}), SIGTERM, false)")));
    if args == ["--daemon-only"] {
        // The post's program (daemon=True, no guard). 000: on a normal run the children exit
        // along with the main process; 003: a daemon child ends when its parent does.
        let seen = format!(
            "the parent {parent} ended normally; its exit path SIGTERMed its workers {workers:?} and reaped them: {} gone when it had exited",
            if all_gone { "all" } else { "not all" }
        );
        sc.claim_verdict("daemon-normal-exit", Verdict::when(all_gone && by_parent), &seen);
        sc.claim_verdict("daemon-dies-with-parent", Verdict::when(all_gone), &seen);
    }
    sc.expect(all_gone, &format!("every worker {workers:?} is gone when the parent has exited"));
    let reaped_by_sandbox: Vec<i32> = workers.iter().copied().filter(|&w| sc.exit_now(w).is_some()).collect();
    sc.expect(
        reaped_by_sandbox.is_empty(),
        &format!("the parent reaped its workers itself (the sandbox reaped {reaped_by_sandbox:?})"),
    );
    for &w in &workers {
        sc.expect(
            out.contains(&format!("parent: worker {w} stopped: Signaled(Pid({w}), SIGTERM, false)")),
            &format!("the parent reports worker {w} stopped by its SIGTERM"),
        );
    }
    sc.until_empty();
}

/// Post 000 holds: after `kill -9` of the parent the children keep running. So they do after
/// a SIGTERM the parent does not handle. Post 003 ("a daemon child terminates when its parent
/// terminates") fails: nothing in the kernel ties them to the parent.
// hint: 1
#[rstest]
#[case::sigkill(Signal::SIGKILL)]
#[case::sigterm_unhandled(Signal::SIGTERM)]
fn daemon_workers_outlive_a_killed_parent(#[case] sig: Signal) {
    let (sc, parent, workers) = started(&["--daemon-only"]);
    let sandbox = sc.sandbox_pid();
    sc.show("the parent at work, its workers printing");
    sc.step(&format!("the parent is killed with {sig} while it works: its exit path never runs"));
    sc.signal(parent, sig);
    sc.expect_eq(sc.exit_of(parent), Exit::Signal(sig as i32, false), "the parent dies of the signal");
    let died = sc.reaped_at(parent).unwrap_or_else(|| sc.fail("the sandbox has reaped the parent"));
    sc.show("after the parent's death");
    let t = sc.snapshot();
    let alive: Vec<i32> = workers.iter().copied().filter(|&w| t.alive(w)).collect();
    let how = if sig == Signal::SIGKILL { "kill -9" } else { "an unhandled SIGTERM" };
    // 003: a daemon child ends when its parent ends.
    sc.claim_verdict(
        "daemon-dies-with-parent",
        Verdict::when(alive.is_empty()),
        &format!(
            "after {how} of parent {parent}, {} of its daemon workers {workers:?} were still alive, adopted by {}",
            alive.len(),
            t.ppid(workers[0]).map_or("-".to_string(), |p| format!("the sandbox {p}"))
        ),
    );
    sc.expect(
        workers.iter().all(|&w| t.alive(w) && t.ppid(w) == Some(sandbox)),
        &format!("every worker {workers:?} is alive, an orphan adopted by the sandbox {sandbox}"),
    );
    sc.step("the orphans keep working: each prints again after the parent died");
    let again: Vec<(i32, String)> = workers.iter().map(|&w| (w, sc.note_after(w, "printed", died))).collect();
    sc.show("the orphans, still at work");
    let printing = again.iter().filter(|(_, n)| n.parse::<u64>().is_ok_and(|n| n >= 2)).count();
    if sig == Signal::SIGKILL {
        // 000: after kill -9 of the main process the other children go on running.
        sc.claim_verdict(
            "kill9-orphans",
            Verdict::when(alive.len() == workers.len() && printing == workers.len()),
            &format!(
                "after kill -9 of parent {parent}, {} of {} workers were alive, orphans adopted by the sandbox {sandbox}, and {printing} printed again",
                alive.len(),
                workers.len()
            ),
        );
    }
    for (w, n) in again {
        sc.expect(
            n.parse::<u64>().is_ok_and(|n| n >= 2),
            &format!("worker {w} printed again (its line {n}) after the parent had been reaped"),
        );
    }
    sc.expect(!parent_ran_its_exit_path(&sc), "the parent's exit path never ran");
}

/// The exercise: guarded workers end when their parent is killed, and the sandbox (their new
/// parent) reaps them.
// hint: 2
#[rstest]
#[case::sigkill(Signal::SIGKILL)]
#[case::sigterm_unhandled(Signal::SIGTERM)]
fn guarded_workers_die_with_a_killed_parent(#[case] sig: Signal) {
    let (sc, parent, workers) = started(&[]);
    sc.show("the parent at work, its guarded workers printing");
    sc.step(&format!("the parent is killed with {sig}: its exit path never runs"));
    sc.signal(parent, sig);
    sc.expect_eq(sc.exit_of(parent), Exit::Signal(sig as i32, false), "the parent dies of the signal");
    sc.step("every worker must end by itself, and the sandbox, its new parent, reaps it");
    sc.until(&format!("every worker {workers:?} has ended after its parent's death and been reaped"), |t| {
        workers.iter().all(|&w| t.gone(w))
    });
    for &w in &workers {
        let how = sc.exit_of(w);
        sc.expect(ended_cleanly(how), &format!("the sandbox reaped worker {w}: {how} (no panic, no crash)"));
    }
    let last = workers.iter().filter_map(|&w| sc.reaped_at(w)).max().unwrap_or(0);
    let lag_ms = (last - sc.reaped_at(parent).unwrap_or(last)) / 1_000_000;
    sc.expect(
        lag_ms < sc.deadline().as_millis() as i128,
        &format!("the last worker was reaped {lag_ms} ms after the parent"),
    );
    sc.expect(
        !parent_ran_its_exit_path(&sc),
        "the parent's exit path never ran (the workers ended on their own)",
    );
    sc.until_empty();
}

/// The race in the exercise, made certain with a handshake: every worker is held before it
/// arms its guard, the parent is killed, then the workers go on. PR_SET_PDEATHSIG armed now is
/// lost (the parent is already gone); a guard that checks getppid() still ends the worker.
/// Also run without a PID namespace, where the worker's new parent (the sandbox) is not pid 1:
/// a guard that waits for "getppid() == 1" does not see its parent's death there.
// hint: 3
#[rstest]
fn a_worker_whose_parent_died_before_it_armed_its_guard_still_ends(#[values(false, true)] no_pidns: bool) {
    let setup = if no_pidns { Setup::default().without_pid_namespace() } else { Setup::default() };
    let sc = Scenario::start_with(lab!(), &["--arm-late"], setup);
    let sandbox = sc.sandbox_pid();
    let parent = sc.role("parent");
    let workers = sc.roles("worker", WORKERS);
    for _ in 0..WORKERS {
        sc.paused(NOT_ARMED);
    }
    sc.paused(WORKING);
    sc.show("every worker is held before it arms its guard");
    sc.step("the parent is killed with SIGKILL before any worker has armed its guard");
    sc.signal(parent, Signal::SIGKILL);
    sc.expect_eq(sc.exit_of(parent), Exit::Signal(9, false), "the parent dies of SIGKILL");
    let t = sc.snapshot();
    sc.expect(
        workers.iter().all(|&w| t.alive(w) && t.ppid(w) == Some(sandbox)),
        &format!("every worker {workers:?} is alive and already adopted by the sandbox {sandbox}"),
    );
    sc.step("the workers go on and arm their guard, after their parent's death");
    for _ in 0..WORKERS {
        sc.release();
    }
    sc.until(
        &format!("every worker {workers:?} notices its parent is already gone, ends, and is reaped"),
        |t| workers.iter().all(|&w| t.gone(w)),
    );
    for &w in &workers {
        let how = sc.exit_of(w);
        sc.expect(ended_cleanly(how), &format!("the sandbox reaped worker {w}: {how} (no panic, no crash)"));
    }
    sc.until_empty();
}

/// The race *inside* the guard, made certain by a gate of the harness: each worker is stopped
/// just before its prctl(PR_SET_PDEATHSIG) reaches the kernel, the parent is killed, then the
/// workers go on. A guard that checked getppid() *before* arming saw its parent alive — and
/// the signal it arms now will never come. Arm first, then check: the check sees the death.
/// (A guard without prctl never reaches the gate; its worker is let go at work.)
// hint: 3
#[test]
fn a_parent_that_dies_between_the_check_and_the_arming_still_ends_its_workers() {
    const GATE: &str = "prctl(PR_SET_PDEATHSIG)";
    let sc = Scenario::start_with(lab!(), &[], Setup::default().gate_pdeathsig());
    sc.when_stuck(Where::Asleep, "does the worker arm PR_SET_PDEATHSIG first and check getppid() after?");
    let parent = sc.role("parent");
    let workers = sc.roles("worker", WORKERS);
    let gated = |pid: i32| sc.events().iter().any(|e| e.pid == pid && e.kind == Kind::Pause(GATE.into()));
    sc.until("every worker is stopped at its prctl(PR_SET_PDEATHSIG), or at work without one", |t| {
        workers.iter().all(|&w| {
            (gated(w) && t.get(w).is_some_and(|p| p.at_pause()))
                || sc.notes_now("printed").iter().any(|(p, _, _)| *p == w)
        })
    });
    sc.paused(WORKING);
    sc.step("every worker is held just before prctl(PR_SET_PDEATHSIG); the parent is killed with SIGKILL");
    sc.signal(parent, Signal::SIGKILL);
    sc.expect_eq(sc.exit_of(parent), Exit::Signal(9, false), "the parent dies of SIGKILL");
    sc.step("the workers arm PR_SET_PDEATHSIG now — too late for it — and go on");
    for &w in &workers {
        if gated(w) {
            sc.release_pid(w);
        }
    }
    sc.until(&format!("every worker {workers:?} notices its parent is gone, ends, and is reaped"), |t| {
        workers.iter().all(|&w| t.gone(w))
    });
    for &w in &workers {
        let how = sc.exit_of(w);
        sc.expect(ended_cleanly(how), &format!("the sandbox reaped worker {w}: {how} (no panic, no crash)"));
    }
    sc.until_empty();
}
