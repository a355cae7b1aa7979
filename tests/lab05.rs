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
    sc.show(&say!("the parent at work, its workers printing", "父进程在工作，它的工作进程在打印"));
    sc.step(&say!(
        "the parent's work is done: its exit path SIGTERMs every worker and waits for it",
        "父进程的工作做完了：它的退出路径向每个工作进程发送 SIGTERM，并等待它结束"
    ));
    sc.release();
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), &say!("the parent exits normally", "父进程正常退出"));
    let t = sc.snapshot();
    let out = sc
        .until_stdout(&say!("the parent prints that it is exiting", "父进程打印它正在退出"), |o| {
            o.contains("parent: all workers stopped, exiting")
        });
    sc.show(&say!("after the parent's exit", "父进程退出之后"));
    let all_gone = workers.iter().all(|&w| t.gone(w));
    let by_parent = workers
        .iter()
        .all(|&w| out.contains(&format!("parent: worker {w} stopped: Signaled(Pid({w}), SIGTERM, false)")));
    if args == ["--daemon-only"] {
        // The post's program (daemon=True, no guard). 000: on a normal run the children exit
        // along with the main process; 003: a daemon child ends when its parent does.
        let gone = if all_gone { say!("all", "全都") } else { say!("not all", "并非全都") };
        let seen = say!(
            "the parent {parent} ended normally; its exit path SIGTERMed its workers {workers:?} and reaped them: {gone} gone when it had exited",
            "父进程 {parent} 正常结束；它的退出路径向工作进程 {workers:?} 发送 SIGTERM 并回收了它们：父进程退出时，它们{gone}已消失"
        );
        sc.claim_verdict("daemon-normal-exit", Verdict::when(all_gone && by_parent), &seen);
        sc.claim_verdict("daemon-dies-with-parent", Verdict::when(all_gone), &seen);
    }
    sc.expect(
        all_gone,
        &say!(
            "every worker {workers:?} is gone when the parent has exited",
            "父进程退出时，每个工作进程 {workers:?} 都已消失"
        ),
    );
    let reaped_by_sandbox: Vec<i32> = workers.iter().copied().filter(|&w| sc.exit_now(w).is_some()).collect();
    sc.expect(
        reaped_by_sandbox.is_empty(),
        &say!(
            "the parent reaped its workers itself (the sandbox reaped {reaped_by_sandbox:?})",
            "父进程自己回收了它的工作进程（由沙箱回收的：{reaped_by_sandbox:?}）"
        ),
    );
    for &w in &workers {
        sc.expect(
            out.contains(&format!("parent: worker {w} stopped: Signaled(Pid({w}), SIGTERM, false)")),
            &say!(
                "the parent reports worker {w} stopped by its SIGTERM",
                "父进程报告工作进程 {w} 被它发出的 SIGTERM 终止"
            ),
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
    sc.show(&say!("the parent at work, its workers printing", "父进程在工作，它的工作进程在打印"));
    sc.step(&say!(
        "the parent is killed with {sig} while it works: its exit path never runs",
        "父进程在工作时被 {sig} 杀死：它的退出路径根本不会执行"
    ));
    sc.signal(parent, sig);
    sc.expect_eq(
        sc.exit_of(parent),
        Exit::Signal(sig as i32, false),
        &say!("the parent dies of the signal", "父进程死于这个信号"),
    );
    let died = sc
        .reaped_at(parent)
        .unwrap_or_else(|| sc.fail(&say!("the sandbox has reaped the parent", "沙箱已回收父进程")));
    sc.show(&say!("after the parent's death", "父进程死后"));
    let t = sc.snapshot();
    let alive: Vec<i32> = workers.iter().copied().filter(|&w| t.alive(w)).collect();
    let how = if sig == Signal::SIGKILL {
        say!("kill -9", "被 kill -9 杀死")
    } else {
        say!("an unhandled SIGTERM", "死于一个它没有处理的 SIGTERM")
    };
    let (alive_n, adopter) =
        (alive.len(), t.ppid(workers[0]).map_or("-".to_string(), |p| say!("the sandbox {p}", "沙箱 {p}")));
    // 003: a daemon child ends when its parent ends.
    sc.claim_verdict(
        "daemon-dies-with-parent",
        Verdict::when(alive.is_empty()),
        &say!(
            "after {how} of parent {parent}, {alive_n} of its daemon workers {workers:?} were still alive, adopted by {adopter}",
            "父进程 {parent} {how}，此后它的 daemon 工作进程 {workers:?} 中仍有 {alive_n} 个活着，收养它们的是{adopter}"
        ),
    );
    sc.expect(
        workers.iter().all(|&w| t.alive(w) && t.ppid(w) == Some(sandbox)),
        &say!(
            "every worker {workers:?} is alive, an orphan adopted by the sandbox {sandbox}",
            "每个工作进程 {workers:?} 都活着，是被沙箱 {sandbox} 收养的孤儿进程"
        ),
    );
    sc.step(&say!(
        "the orphans keep working: each prints again after the parent died",
        "孤儿进程继续工作：父进程死后，每个都又打印了"
    ));
    let again: Vec<(i32, String)> = workers.iter().map(|&w| (w, sc.note_after(w, "printed", died))).collect();
    sc.show(&say!("the orphans, still at work", "仍在工作的孤儿进程"));
    let printing = again.iter().filter(|(_, n)| n.parse::<u64>().is_ok_and(|n| n >= 2)).count();
    if sig == Signal::SIGKILL {
        let total = workers.len();
        // 000: after kill -9 of the main process the other children go on running.
        sc.claim_verdict(
            "kill9-orphans",
            Verdict::when(alive.len() == workers.len() && printing == workers.len()),
            &say!(
                "after kill -9 of parent {parent}, {alive_n} of {total} workers were alive, orphans adopted by the sandbox {sandbox}, and {printing} printed again",
                "父进程 {parent} 被 kill -9 杀死之后，{total} 个工作进程中有 {alive_n} 个活着，是被沙箱 {sandbox} 收养的孤儿进程，其中 {printing} 个又打印了"
            ),
        );
    }
    for (w, n) in again {
        sc.expect(
            n.parse::<u64>().is_ok_and(|n| n >= 2),
            &say!(
                "worker {w} printed again (its line {n}) after the parent had been reaped",
                "父进程被回收之后，工作进程 {w} 又打印了（它的第 {n} 行）"
            ),
        );
    }
    sc.expect(
        !parent_ran_its_exit_path(&sc),
        &say!("the parent's exit path never ran", "父进程的退出路径从未执行"),
    );
}

/// The exercise: guarded workers end when their parent is killed, and the sandbox (their new
/// parent) reaps them.
// hint: 2
#[rstest]
#[case::sigkill(Signal::SIGKILL)]
#[case::sigterm_unhandled(Signal::SIGTERM)]
fn guarded_workers_die_with_a_killed_parent(#[case] sig: Signal) {
    let (sc, parent, workers) = started(&[]);
    sc.show(&say!(
        "the parent at work, its guarded workers printing",
        "父进程在工作，它带防护的工作进程在打印"
    ));
    sc.step(&say!(
        "the parent is killed with {sig}: its exit path never runs",
        "父进程被 {sig} 杀死：它的退出路径根本不会执行"
    ));
    sc.signal(parent, sig);
    sc.expect_eq(
        sc.exit_of(parent),
        Exit::Signal(sig as i32, false),
        &say!("the parent dies of the signal", "父进程死于这个信号"),
    );
    sc.step(&say!(
        "every worker must end by itself, and the sandbox, its new parent, reaps it",
        "每个工作进程都必须自己结束，再由它的新父进程——沙箱——回收"
    ));
    sc.until(
        &say!(
            "every worker {workers:?} has ended after its parent's death and been reaped",
            "父进程死后，每个工作进程 {workers:?} 都已结束并被回收"
        ),
        |t| workers.iter().all(|&w| t.gone(w)),
    );
    for &w in &workers {
        let how = sc.exit_of(w);
        sc.expect(
            ended_cleanly(how),
            &say!(
                "the sandbox reaped worker {w}: {how} (no panic, no crash)",
                "沙箱回收了工作进程 {w}：{how}（没有 panic，也没有崩溃）"
            ),
        );
    }
    let last = workers.iter().filter_map(|&w| sc.reaped_at(w)).max().unwrap_or(0);
    let lag_ms = (last - sc.reaped_at(parent).unwrap_or(last)) / 1_000_000;
    sc.expect(
        lag_ms < sc.deadline().as_millis() as i128,
        &say!(
            "the last worker was reaped {lag_ms} ms after the parent",
            "最后一个工作进程在父进程之后 {lag_ms} 毫秒被回收"
        ),
    );
    sc.expect(
        !parent_ran_its_exit_path(&sc),
        &say!(
            "the parent's exit path never ran (the workers ended on their own)",
            "父进程的退出路径从未执行（工作进程是自己结束的）"
        ),
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
    sc.show(&say!("every worker is held before it arms its guard", "每个工作进程都在设置防护之前被暂停"));
    sc.step(&say!(
        "the parent is killed with SIGKILL before any worker has armed its guard",
        "在任何工作进程设置好防护之前，父进程被 SIGKILL 杀死"
    ));
    sc.signal(parent, Signal::SIGKILL);
    sc.expect_eq(
        sc.exit_of(parent),
        Exit::Signal(9, false),
        &say!("the parent dies of SIGKILL", "父进程死于 SIGKILL"),
    );
    let t = sc.snapshot();
    sc.expect(
        workers.iter().all(|&w| t.alive(w) && t.ppid(w) == Some(sandbox)),
        &say!(
            "every worker {workers:?} is alive and already adopted by the sandbox {sandbox}",
            "每个工作进程 {workers:?} 都活着，并且已被沙箱 {sandbox} 收养"
        ),
    );
    sc.step(&say!(
        "the workers go on and arm their guard, after their parent's death",
        "工作进程继续执行，在父进程死后才设置防护"
    ));
    for _ in 0..WORKERS {
        sc.release();
    }
    sc.until(
        &say!(
            "every worker {workers:?} notices its parent is already gone, ends, and is reaped",
            "每个工作进程 {workers:?} 都发现父进程早已不在，于是结束并被回收"
        ),
        |t| workers.iter().all(|&w| t.gone(w)),
    );
    for &w in &workers {
        let how = sc.exit_of(w);
        sc.expect(
            ended_cleanly(how),
            &say!(
                "the sandbox reaped worker {w}: {how} (no panic, no crash)",
                "沙箱回收了工作进程 {w}：{how}（没有 panic，也没有崩溃）"
            ),
        );
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
    sc.when_stuck(
        Where::Asleep,
        &say!(
            "does the worker arm PR_SET_PDEATHSIG first and check getppid() after?",
            "工作进程是否先设置 PR_SET_PDEATHSIG，之后再检查 getppid()？"
        ),
    );
    let parent = sc.role("parent");
    let workers = sc.roles("worker", WORKERS);
    let gated = |pid: i32| sc.events().iter().any(|e| e.pid == pid && e.kind == Kind::Pause(GATE.into()));
    sc.until(
        &say!(
            "every worker is stopped at its prctl(PR_SET_PDEATHSIG), or at work without one",
            "每个工作进程都停在它的 prctl(PR_SET_PDEATHSIG) 处，或者根本没有这一调用、已在工作"
        ),
        |t| {
            workers.iter().all(|&w| {
                (gated(w) && t.get(w).is_some_and(|p| p.at_pause()))
                    || sc.notes_now("printed").iter().any(|(p, _, _)| *p == w)
            })
        },
    );
    sc.paused(WORKING);
    sc.step(&say!(
        "every worker is held just before prctl(PR_SET_PDEATHSIG); the parent is killed with SIGKILL",
        "每个工作进程都被暂停在 prctl(PR_SET_PDEATHSIG) 之前；父进程被 SIGKILL 杀死"
    ));
    sc.signal(parent, Signal::SIGKILL);
    sc.expect_eq(
        sc.exit_of(parent),
        Exit::Signal(9, false),
        &say!("the parent dies of SIGKILL", "父进程死于 SIGKILL"),
    );
    sc.step(&say!(
        "the workers arm PR_SET_PDEATHSIG now — too late for it — and go on",
        "工作进程现在才设置 PR_SET_PDEATHSIG——为时已晚——然后继续执行"
    ));
    for &w in &workers {
        if gated(w) {
            sc.release_pid(w);
        }
    }
    sc.until(
        &say!(
            "every worker {workers:?} notices its parent is gone, ends, and is reaped",
            "每个工作进程 {workers:?} 都发现父进程已不在，于是结束并被回收"
        ),
        |t| workers.iter().all(|&w| t.gone(w)),
    );
    for &w in &workers {
        let how = sc.exit_of(w);
        sc.expect(
            ended_cleanly(how),
            &say!(
                "the sandbox reaped worker {w}: {how} (no panic, no crash)",
                "沙箱回收了工作进程 {w}：{how}（没有 panic，也没有崩溃）"
            ),
        );
    }
    sc.until_empty();
}
