//! Spec of lab 16 — the capstone: a pre-fork supervisor. Judges labs/16-supervisor
//! (`cargo test -p lab16`) and solutions/16-supervisor (`cargo test -p sol16`).
//!
//! The supervisor keeps N = 3 workers. The spec kills workers (one, two while the supervisor is
//! busy, many at random in the chaos test), stops the supervisor with SIGTERM, with a Ctrl-C on a
//! real terminal, rotates its workers with SIGHUP, and kills it with SIGKILL. It judges by the
//! process tree (who is alive, who is a zombie, whose child), by the sandbox's own reaping
//! (times and statuses it saw itself), and by the lab's notes, each stamped with the time it was
//! written (the same clock as `harness::trace::now_ns`).
//!
//! Chaos: `PROCLAB_CHAOS_SECS` (default 1) sets how long workers are killed at random,
//! `PROCLAB_CHAOS_SEED` replays a run (the seed is printed), `PROCLAB_CHAOS_ROUNDS` runs several
//! rounds in a row, each with its own scenario and seed.

use harness::prelude::*;
use harness::trace::now_ns;
use harness::{Kind, Proc};
use rstest::rstest;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

/// Workers the supervisor keeps (its default).
const N: usize = 3;
const BUSY: &str = "the supervisor is busy";
const LINGER: &str = "a stopping worker finishes its last request";
const NOT_ARMED: &str = "the worker has not armed its guard yet";
/// The oldest a zombie may be when the spec sees it, counted from the moment the spec sent the
/// kill. A worker is a zombie from its death until the supervisor is scheduled, reads its
/// SIGCHLD and calls waitpid: half a millisecond typically, a few milliseconds with both cores
/// busy, tens of milliseconds at worst on a heavily loaded machine (the figures are in the
/// book's chapter). A zombie that nobody will reap until something else happens grows older
/// without bound: the chaos test waits quietly for longer than this after every burst of kills.
const ZOMBIE_BOUND_MS: i128 = 100;
/// If the supervisor is SIGKILLed, no worker may outlive it by more than this.
const ORPHAN_BOUND_MS: i128 = 100;

/// The supervisor and its first workers, by slot.
struct Run {
    sc: Scenario,
    sup: i32,
    workers: Vec<i32>,
}

/// Waits until the supervisor has started N workers and each is serving; `workers[i]` is the
/// worker of slot i.
fn started(sc: Scenario) -> Run {
    let sup = sc.role("supervisor");
    let mut workers = vec![0; N];
    for (pid, slot, _) in sc.notes("ready", N) {
        match slot.parse::<usize>() {
            Ok(i) if i < N && workers[i] == 0 => workers[i] = pid,
            _ => sc.fail(&say!(
                "worker {pid} is ready in a slot 0..{N} no other worker has — it says {slot:?}",
                "工作进程 {pid} 应在 0..{N} 中一个没有别的工作进程占用的槽位上就绪——它报告的是 {slot:?}"
            )),
        }
    }
    Run { sc, sup, workers }
}

/// The supervisor's living children: its workers (a worker just forked counts too).
fn alive_workers(t: &Tree, sup: i32) -> Vec<i32> {
    t.children(sup).into_iter().filter(|&p| t.alive(p)).collect()
}

/// Every process that announced itself as a worker so far, in order.
fn workers_ever(sc: &Scenario) -> Vec<i32> {
    let worker = Kind::Role("worker".into());
    sc.events().iter().filter(|e| e.kind == worker).map(|e| e.pid).collect()
}

fn sorted(mut v: Vec<i32>) -> Vec<i32> {
    v.sort_unstable();
    v
}

/// What the supervisor says it reaped: pid → (how it ended, when the supervisor noted it).
fn reaped_by_supervisor(sc: &Scenario) -> HashMap<i32, (String, i128)> {
    sc.notes_now("reaped")
        .into_iter()
        .filter_map(|(_, v, t)| {
            let (pid, how) = v.split_once(' ')?;
            Some((pid.parse().ok()?, (how.to_string(), t)))
        })
        .collect()
}

/// Workers alive in `t` that had not been asked to stop when `t` was sampled (their handler
/// notes "asked"; a note written while the sample was being read does not count yet).
fn serving(sc: &Scenario, t: &Tree, sup: i32) -> Vec<i32> {
    let asked: HashSet<i32> =
        sc.notes_now("asked").into_iter().filter(|n| n.2 < t.taken_ns).map(|(p, _, _)| p).collect();
    alive_workers(t, sup).into_iter().filter(|p| !asked.contains(p)).collect()
}

/// Asleep, not at a pause, nothing pending: whatever was sent to it has been acted on.
fn idle(p: &Proc) -> bool {
    p.state == 'S' && p.pending == 0 && !p.at_pause()
}

/// Like `sc.until(expected, done)`, and `invariant` must hold on every tree sampled meanwhile:
/// the spec fails at the first sample where it does not, showing that sample.
#[track_caller]
fn until_always(
    sc: &Scenario,
    expected: &str,
    done: impl Fn(&Tree) -> bool,
    invariant: impl Fn(&Tree) -> Option<String>,
) -> Tree {
    let broken = RefCell::new(None);
    let t = sc.until(expected, |t| match invariant(t) {
        Some(why) => {
            *broken.borrow_mut() =
                Some(say!("{why}\n  in this sample:\n{}", "{why}\n  在这次采样中：\n{}", t.render()));
            true
        }
        None => done(t),
    });
    if let Some(why) = broken.take() {
        sc.fail(&why);
    }
    t
}

fn ms(ns: i128) -> f64 {
    ns as f64 / 1e6
}

/// The p-th percentile of `v` (nearest rank), in ms.
fn percentile(v: &[i128], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_unstable();
    let rank = ((p / 100.0) * s.len() as f64).ceil().max(1.0) as usize;
    ms(s[rank.min(s.len()) - 1])
}

/// A crash, a kill, a stray signal: the worker dies and the supervisor must notice and replace
/// it in the same slot. The supervisor reaps it itself (the sandbox never has to), sees how it
/// ended, and the new worker is its child, serving.
#[rstest]
#[case::sigkill(Signal::SIGKILL, "killed by SIGKILL")]
#[case::sigabrt(Signal::SIGABRT, "killed by SIGABRT")]
#[case::sigterm(Signal::SIGTERM, "exited 0")]
fn a_worker_that_dies_is_reaped_and_replaced_in_its_slot(#[case] sig: Signal, #[case] how: &str) {
    let Run { sc, sup, workers } = started(Scenario::start(lab!(), &[]));
    let victim = workers[1];
    sc.show(&say!("the supervisor and its three workers", "监管进程和它的三个工作进程"));
    sc.step(&say!("worker 1 ({victim}) gets {sig}", "工作进程 1（{victim}）收到 {sig}"));
    let killed = sc.signal_at(victim, sig);
    let t = sc.until(
        &say!(
            "worker {victim} is reaped and a new worker serves in its place: {N} workers alive",
            "工作进程 {victim} 被回收，一个新的工作进程接替它服务：{N} 个工作进程活着"
        ),
        |t| t.gone(victim) && alive_workers(t, sup).len() == N,
    );
    sc.show(&say!(
        "after the death: the dead worker is gone, a new one is in its slot",
        "死亡之后：死去的工作进程已经消失，它的槽位上有了一个新的"
    ));
    let new = alive_workers(&t, sup).into_iter().find(|p| !workers.contains(p)).unwrap_or(0);
    sc.expect_eq(
        sc.note(new, "ready"),
        "1".to_string(),
        &say!("the new worker {new} serves in slot 1", "新的工作进程 {new} 在槽位 1 上服务"),
    );
    sc.notes("reaped", 1);
    let reaped = reaped_by_supervisor(&sc);
    let (said, at) = reaped.get(&victim).cloned().unwrap_or_default();
    sc.expect_eq(
        said.as_str(),
        how,
        &say!("the supervisor saw how worker {victim} ended", "监管进程看到了工作进程 {victim} 是怎样结束的"),
    );
    sc.expect(
        sc.exit_now(victim).is_none(),
        &say!(
            "the supervisor reaped it itself (the sandbox did not have to)",
            "监管进程亲自回收了它（不必由沙箱回收）"
        ),
    );
    let ready = sc.notes_now("ready").into_iter().find(|n| n.0 == new).map(|n| n.2).unwrap_or(0);
    let figures = say!(
        "{sig}: reaped {:.2} ms after the signal was sent, the replacement served {:.2} ms after it",
        "{sig}：信号发出后 {:.2} 毫秒被回收，替代者在信号发出后 {:.2} 毫秒开始服务",
        ms(at - killed),
        ms(ready - killed)
    );
    println!("restart: {figures}");
    sc.step(&figures);
    if sig == Signal::SIGKILL {
        // 002: a child that ends sends SIGCHLD; catching it, the parent can collect the child.
        sc.claim_verdict(
            "sigchld-reaps",
            Verdict::when(said == how && sc.exit_now(victim).is_none()),
            &say!(
                "worker {victim} SIGKILLed: the supervisor's main loop read SIGCHLD from its signalfd and reaped it {:.2} ms later; worker {new} serves in its slot",
                "工作进程 {victim} 被 SIGKILL：监管进程的主循环从它的 signalfd 读到 SIGCHLD，{:.2} 毫秒后回收了它；工作进程 {new} 在它的槽位上服务",
                ms(at - killed)
            ),
        );
    }
}

/// No work in a handler: while the supervisor is busy, nobody may reap behind its back — the
/// dead workers stay zombies, and SIGCHLD waits, pending. Two deaths, one pending SIGCHLD:
/// when the supervisor is free again it must reap both, not one per SIGCHLD.
#[test]
fn workers_that_die_while_the_supervisor_is_busy_stay_zombies_then_are_all_reaped() {
    let Run { sc, sup, workers } = started(Scenario::start(lab!(), &["--busy"]));
    sc.paused(BUSY);
    let victims = [workers[0], workers[2]];
    sc.show(&say!("the supervisor is busy (held at a pause)", "监管进程正忙（停在暂停点）"));
    sc.step(&say!(
        "workers 0 and 2 ({victims:?}) are SIGKILLed while the supervisor is busy",
        "监管进程正忙时，工作进程 0 和 2（{victims:?}）被 SIGKILL"
    ));
    for v in victims {
        sc.signal(v, Signal::SIGKILL);
    }
    let t = sc
        .until(&say!("both killed workers have died", "两个被杀的工作进程都已死去"), |t| {
            victims.iter().all(|&v| !t.alive(v))
        });
    sc.expect(
        victims.iter().all(|&v| t.zombie(v)),
        &say!(
            "both {victims:?} are zombies: the supervisor is busy, so nobody may have reaped them — not a handler behind its back",
            "{victims:?} 两个都是僵尸进程：监管进程正忙，所以谁都不应回收它们——也不能由信号处理函数背着它回收"
        ),
    );
    let t = sc.stays(
        &say!("they stay zombies while the supervisor is busy", "监管进程忙碌期间，它们一直是僵尸进程"),
        Duration::from_millis(20),
        |t| victims.iter().all(|&v| t.zombie(v)),
    );
    sc.show(&say!(
        "two zombies, and the supervisor's SIGCHLD pending: one pending signal for two deaths",
        "两个僵尸进程，监管进程的 SIGCHLD 未决：两次死亡，只有一个未决信号"
    ));
    let pending = t.get(sup).is_some_and(|p| p.has_pending(Signal::SIGCHLD));
    sc.step(&say!("the supervisor is free again", "监管进程又空闲了"));
    sc.release();
    let t = sc.until(
        &say!(
            "the supervisor is idle again: asleep, nothing pending",
            "监管进程再次空闲：在睡眠，没有未决信号"
        ),
        |t| t.get(sup).is_some_and(idle),
    );
    // Both collected (part true) — but one pending SIGCHLD stood for two deaths (part false).
    sc.claim_verdict(
        "sigchld-reaps",
        Verdict::of(&[victims.iter().all(|&v| t.gone(v)), !pending]),
        &say!(
            "2 workers killed while the supervisor was busy: 2 zombies, SIGCHLD {} once for both; {} once it read its signalfd and looped on waitpid",
            "监管进程忙碌时杀死了 2 个工作进程：2 个僵尸进程，两次死亡共用一个 SIGCHLD，它{}；监管进程读取 signalfd 并循环调用 waitpid 之后，{}",
            if pending { say!("pending", "处于未决状态") } else { say!("not pending", "没有处于未决状态") },
            if victims.iter().all(|&v| t.gone(v)) {
                say!("both reaped", "两个都被回收了")
            } else {
                say!("not both reaped", "没有两个都被回收")
            }
        ),
    );
    sc.expect(
        victims.iter().all(|&v| t.gone(v)) && t.zombies().is_empty(),
        &say!(
            "by the time the supervisor sleeps again it has reaped both {victims:?} — one SIGCHLD stood for two deaths, so one waitpid per SIGCHLD is not enough",
            "监管进程再次睡眠时，它已经回收了 {victims:?} 两个——一个 SIGCHLD 代表了两次死亡，所以每个 SIGCHLD 只调用一次 waitpid 是不够的"
        ),
    );
    sc.until(&say!("{N} workers serve again", "{N} 个工作进程重新开始服务"), |t| {
        alive_workers(t, sup).len() == N
    });
    sc.show(&say!("both replaced", "两个都被替换了"));
}

/// SIGTERM: every worker is asked to stop, finishes the request in hand and exits 0; nothing
/// is replaced; the supervisor reaps them all and exits 0, well within the grace period.
#[test]
fn sigterm_stops_every_worker_gracefully_and_replaces_none() {
    let Run { sc, sup, workers } = started(Scenario::start(lab!(), &["--grace-ms", "2000"]));
    sc.show(&say!("the supervisor and its three workers", "监管进程和它的三个工作进程"));
    sc.step(&say!("SIGTERM to the supervisor", "向监管进程发送 SIGTERM"));
    let sent = sc.signal_at(sup, Signal::SIGTERM);
    sc.until(
        &say!(
            "the supervisor stops its workers, reaps them and exits",
            "监管进程停止它的工作进程，回收它们，然后退出"
        ),
        |t| t.gone(sup),
    );
    sc.expect_eq(sc.exit_of(sup), Exit::Code(0), &say!("the supervisor exits 0", "监管进程以 0 退出"));
    sc.until_empty();
    let took = sc.reaped_at(sup).unwrap_or(sent) - sent;
    let reaped = reaped_by_supervisor(&sc);
    let never = say!("never reaped by the supervisor", "从未被监管进程回收");
    for (i, &w) in workers.iter().enumerate() {
        let how = reaped.get(&w).map(|r| r.0.as_str()).unwrap_or(&never);
        sc.expect(
            how == "exited 0" && sc.notes_now("stopped").iter().any(|n| n.0 == w),
            &say!(
                "worker {i} ({w}) finished its request, ran its own stop path and exited 0 — the supervisor saw: {how}",
                "工作进程 {i}（{w}）处理完手头的请求，走完自己的停止流程并以 0 退出——监管进程看到的是：{how}"
            ),
        );
    }
    sc.expect_eq(
        sorted(workers_ever(&sc)),
        sorted(workers.clone()),
        &say!("no worker was started after the SIGTERM", "SIGTERM 之后没有启动任何工作进程"),
    );
    sc.expect(sc.notes_now("grace-over").is_empty(), &say!("nobody needed SIGKILL", "谁都不需要 SIGKILL"));
    // Only the supervisor's SIGTERM reached the workers: each handler says so, and no other.
    let asked: Vec<(i32, String)> = sc.notes_now("asked").into_iter().map(|n| (n.0, n.1)).collect();
    for (i, &w) in workers.iter().enumerate() {
        let said: Vec<&str> = asked.iter().filter(|a| a.0 == w).map(|a| a.1.as_str()).collect();
        sc.expect(
            !said.is_empty() && said.iter().all(|&s| s == "SIGTERM"),
            &say!(
                "worker {i} ({w}) was asked to stop by the supervisor's SIGTERM, by nothing else — its handler saw {said:?}",
                "要求工作进程 {i}（{w}）停止的是监管进程的 SIGTERM，而不是别的——它的信号处理函数看到的是 {said:?}"
            ),
        );
    }
    sc.expect(
        ms(took) < 2000.0,
        &say!(
            "all stopped within the grace period of 2000 ms: {:.1} ms",
            "全部在 2000 毫秒的宽限期内停止：{:.1} 毫秒",
            ms(took)
        ),
    );
}

/// A worker that ignores SIGTERM (stuck in a request) is SIGKILLed when the grace period ends,
/// not before; the others finish and exit 0 on their own.
#[test]
fn a_worker_that_ignores_sigterm_is_killed_when_the_grace_period_ends() {
    const GRACE_MS: i128 = 300;
    /// How late after the grace period the SIGKILL may come (scheduling, under load).
    const LATE_MS: i128 = 200;
    let Run { sc, sup, workers } =
        started(Scenario::start(lab!(), &["--grace-ms", &GRACE_MS.to_string(), "--stubborn", "1"]));
    let stubborn = workers[1];
    let t = sc.snapshot();
    sc.expect(
        t.get(stubborn).is_some_and(|p| p.ignores(Signal::SIGTERM)),
        &say!("worker 1 ({stubborn}) ignores SIGTERM", "工作进程 1（{stubborn}）忽略 SIGTERM"),
    );
    sc.show(&say!("worker 1 ignores SIGTERM: stuck in a request", "工作进程 1 忽略 SIGTERM：卡在一个请求中"));
    sc.step(&say!("SIGTERM to the supervisor", "向监管进程发送 SIGTERM"));
    let sent = sc.signal_at(sup, Signal::SIGTERM);
    sc.until(
        &say!(
            "the supervisor stops its workers, reaps them and exits",
            "监管进程停止它的工作进程，回收它们，然后退出"
        ),
        |t| t.gone(sup),
    );
    sc.expect_eq(
        sc.exit_of(sup),
        Exit::Code(0),
        &say!(
            "the supervisor exits 0 once every worker is reaped",
            "每个工作进程都被回收后，监管进程以 0 退出"
        ),
    );
    let reaped = reaped_by_supervisor(&sc);
    let (how, at) = reaped.get(&stubborn).cloned().unwrap_or_default();
    sc.expect_eq(
        how.as_str(),
        "killed by SIGKILL",
        &say!("the stubborn worker {stubborn} ended by SIGKILL", "顽固的工作进程 {stubborn} 由 SIGKILL 结束"),
    );
    let after = at - sent;
    println!(
        "{}",
        say!(
            "grace: the stubborn worker was reaped {:.2} ms after the SIGTERM (grace {GRACE_MS} ms)",
            "grace: 顽固的工作进程在 SIGTERM 之后 {:.2} 毫秒被回收（宽限期 {GRACE_MS} 毫秒）",
            ms(after)
        )
    );
    sc.expect(
        (GRACE_MS * 1_000_000..=(GRACE_MS + LATE_MS) * 1_000_000).contains(&after),
        &say!(
            "it was killed when the grace period of {GRACE_MS} ms ended — not before, and at most {LATE_MS} ms after: reaped {:.1} ms after the SIGTERM",
            "它在 {GRACE_MS} 毫秒的宽限期结束时被杀死——不早于此，最多晚 {LATE_MS} 毫秒：在 SIGTERM 之后 {:.1} 毫秒被回收",
            ms(after)
        ),
    );
    for i in [0, 2] {
        let w = workers[i];
        let (how, at) = reaped.get(&w).cloned().unwrap_or_default();
        sc.expect(
            how == "exited 0" && at - sent < GRACE_MS * 1_000_000,
            &say!(
                "worker {i} ({w}) stopped by itself within the grace period: {how}, {:.1} ms",
                "工作进程 {i}（{w}）在宽限期内自行停止：{how}，{:.1} 毫秒",
                ms(at - sent)
            ),
        );
    }
    let killed: Vec<String> = sc.notes_now("grace-over").into_iter().map(|n| n.1).collect();
    let stubborn_end = reaped_by_supervisor(&sc).get(&stubborn).map(|r| r.0.clone()).unwrap_or_default();
    sc.expect_eq(
        killed.clone(),
        vec![stubborn.to_string()],
        &say!(
            "the supervisor SIGKILLed the stubborn worker only",
            "监管进程只对顽固的工作进程发送了 SIGKILL"
        ),
    );
    // 001: because SIGKILL cannot be caught, a process can always be killed.
    sc.claim_verdict(
        "sigkill-guarantees",
        Verdict::when(killed == vec![stubborn.to_string()] && sc.snapshot().gone(stubborn)),
        &say!(
            "worker {stubborn} ignored SIGTERM; {:.0} ms after it the grace period of {GRACE_MS} ms was over and SIGKILL ended it ({stubborn_end}); the two others had exited 0",
            "工作进程 {stubborn} 忽略了 SIGTERM；在 SIGTERM 之后 {:.0} 毫秒，{GRACE_MS} 毫秒的宽限期结束，SIGKILL 结束了它（{stubborn_end}）；另外两个已经以 0 退出",
            ms(after)
        ),
    );
}

/// One Ctrl-C on a real terminal: the kernel sends SIGINT to the supervisor and its workers at
/// once (they share the foreground group), and the supervisor adds its own SIGTERM. Everything
/// still stops exactly once: one stop in the supervisor, one stop path per worker, no worker
/// started in the middle of the stop, the supervisor last, status 0.
#[test]
fn ctrl_c_on_the_terminal_stops_everything_exactly_once() {
    let Run { sc, sup, workers } = started(Scenario::start_with_terminal(lab!(), &[]));
    let fg = sc.foreground_group();
    sc.expect_eq(
        sc.snapshot().pgid(sup),
        Some(fg),
        &say!("the supervisor leads the terminal's foreground group", "监管进程是终端前台进程组的组长"),
    );
    sc.show(&say!("the supervisor in the terminal's foreground group", "终端前台进程组中的监管进程"));
    sc.step(&say!("Ctrl-C on the terminal", "在终端上按 Ctrl-C"));
    sc.type_keys(b"\x03");
    sc.until_terminal(&say!("the terminal echoes ^C", "终端回显 ^C"), |s| s.contains("^C"));
    sc.until(
        &say!(
            "the supervisor stops its workers, reaps them and exits",
            "监管进程停止它的工作进程，回收它们，然后退出"
        ),
        |t| t.gone(sup),
    );
    sc.expect_eq(sc.exit_of(sup), Exit::Code(0), &say!("the supervisor exits 0", "监管进程以 0 退出"));
    sc.until_empty();
    let stops: Vec<String> = sc.notes_now("stopping").into_iter().map(|n| n.1).collect();
    sc.expect_eq(
        stops,
        vec!["SIGINT".to_string()],
        &say!("the supervisor stopped once, on the SIGINT", "监管进程收到 SIGINT 时停止，只停止了一次"),
    );
    // The terminal's SIGINT reached each worker itself (the foreground group), not only the
    // supervisor's SIGTERM after it.
    let asked = sc.notes_now("asked");
    for (i, &w) in workers.iter().enumerate() {
        let said: Vec<&str> = asked.iter().filter(|a| a.0 == w).map(|a| a.1.as_str()).collect();
        sc.expect(
            said.contains(&"SIGINT"),
            &say!(
                "worker {i} ({w}) got the terminal's SIGINT itself, in the foreground group — its handler saw {said:?}",
                "工作进程 {i}（{w}）作为前台进程组的成员，自己收到了终端的 SIGINT——它的信号处理函数看到的是 {said:?}"
            ),
        );
    }
    let reaped = reaped_by_supervisor(&sc);
    let stopped = sc.notes_now("stopped");
    let graceful = workers.iter().filter(|&&w| {
        stopped.iter().filter(|n| n.0 == w).count() == 1 && reaped.get(&w).is_some_and(|r| r.0 == "exited 0")
    });
    let graceful = graceful.count();
    // 001: with Ctrl-C every process exits fairly gracefully.
    sc.claim_verdict(
        "ctrl-c-graceful",
        Verdict::when(graceful == N && sc.exit_of(sup) == Exit::Code(0)),
        &say!(
            "one ^C: the supervisor stopped once and exited 0; {graceful} of its {N} workers (stop requests between them: {}) each finished its request and exited 0 once; nothing restarted",
            "一次 ^C：监管进程停止了一次并以 0 退出；它的 {N} 个工作进程中有 {graceful} 个（它们共收到 {} 次停止请求）各自处理完请求，并以 0 退出了一次；没有任何进程被重启",
            sc.notes_now("asked").len()
        ),
    );
    let never = say!("never reaped by the supervisor", "从未被监管进程回收");
    for (i, &w) in workers.iter().enumerate() {
        let runs = stopped.iter().filter(|n| n.0 == w).count();
        let how = reaped.get(&w).map(|r| r.0.as_str()).unwrap_or(&never);
        sc.expect(
            runs == 1 && how == "exited 0",
            &say!(
                "worker {i} ({w}) ran its stop path exactly once ({runs}) and the supervisor saw it exit 0 ({how})",
                "工作进程 {i}（{w}）恰好走了一次停止流程（{runs}），监管进程看到它以 0 退出（{how}）"
            ),
        );
    }
    sc.expect_eq(
        sorted(workers_ever(&sc)),
        sorted(workers.clone()),
        &say!("no worker was started after the Ctrl-C", "Ctrl-C 之后没有启动任何工作进程"),
    );
    sc.expect(sc.notes_now("grace-over").is_empty(), &say!("nobody needed SIGKILL", "谁都不需要 SIGKILL"));
}

/// SIGHUP: every worker is replaced, one at a time. Each old worker lingers (a pause) in its
/// last request; at that moment, once the supervisor and every worker are idle — so every
/// SIGTERM the supervisor meant to send has arrived — at least N−1 workers still serve. On
/// every tree sampled in between, too.
#[test]
fn sighup_replaces_the_workers_one_by_one_never_fewer_than_n_minus_1_serving() {
    let Run { sc, sup, workers } = started(Scenario::start(lab!(), &["--linger"]));
    sc.show(&say!("the first generation of workers", "第一代工作进程"));
    sc.step(&say!(
        "SIGHUP to the supervisor: replace every worker, never more than one missing",
        "向监管进程发送 SIGHUP：替换每一个工作进程，任何时候最多缺一个"
    ));
    sc.signal(sup, Signal::SIGHUP);
    let at_least = |t: &Tree| {
        let s = serving(&sc, t, sup);
        (s.len() < N - 1).then(|| {
            say!(
                "at least {} workers serve at every moment — only {s:?} do",
                "每时每刻都至少有 {} 个工作进程在服务——实际在服务的只有 {s:?}",
                N - 1
            )
        })
    };
    let mut fewest = N;
    for k in 0..N {
        until_always(
            &sc,
            &say!(
                "old worker {} of {N} lingers in its last request",
                "第 {} 个旧工作进程（共 {N} 个）停留在它的最后一个请求中",
                k + 1
            ),
            |_| sc.events().iter().filter(|e| e.kind == Kind::Pause(LINGER.into())).count() > k,
            at_least,
        );
        let old = sc.paused(LINGER);
        sc.expect(
            workers.contains(&old),
            &say!(
                "the worker lingering, {old}, is one of the first generation",
                "停留着的工作进程 {old} 属于第一代"
            ),
        );
        sc.until(
            &say!(
                "the supervisor and every worker are idle: every signal sent has been handled",
                "监管进程和每个工作进程都空闲了：发出的每个信号都已处理"
            ),
            |t| {
                std::iter::once(sup)
                    .chain(t.children(sup))
                    .all(|p| t.get(p).is_some_and(|p| idle(p) || p.at_pause()))
            },
        );
        // A sample begun after that one: every "asked" note written so far is older than it.
        let t = sc.snapshot();
        let s = serving(&sc, &t, sup);
        fewest = fewest.min(s.len());
        sc.expect(
            s.len() >= N - 1,
            &say!(
                "while worker {old} finishes, at least {} others serve — serving {s:?} of the workers alive {:?}",
                "工作进程 {old} 收尾期间，至少有 {} 个其他工作进程在服务——活着的工作进程 {:?} 中，在服务的是 {s:?}",
                N - 1,
                alive_workers(&t, sup)
            ),
        );
        sc.release();
    }
    let t = until_always(
        &sc,
        &say!(
            "every first-generation worker is replaced: {N} new workers serve",
            "第一代工作进程都已被替换：{N} 个新工作进程在服务"
        ),
        |t| workers.iter().all(|&w| t.gone(w)) && serving(&sc, t, sup).len() == N,
        at_least,
    );
    sc.show(&say!("the second generation", "第二代工作进程"));
    sc.notes("reaped", N);
    let reaped = reaped_by_supervisor(&sc);
    let never = say!("never reaped by the supervisor", "从未被监管进程回收");
    for &w in &workers {
        let how = reaped.get(&w).map(|r| r.0.as_str()).unwrap_or(&never);
        sc.expect_eq(
            how,
            "exited 0",
            &say!(
                "old worker {w} finished its last request and exited 0",
                "旧工作进程 {w} 处理完最后一个请求并以 0 退出"
            ),
        );
    }
    for w in serving(&sc, &t, sup) {
        sc.expect_eq(
            sc.note(w, "generation"),
            "1".to_string(),
            &say!("worker {w} is of the new generation", "工作进程 {w} 属于新一代"),
        );
    }
    sc.step(&say!(
        "never fewer than {fewest} of {N} workers serving",
        "在服务的工作进程从未少于 {fewest} 个（共 {N} 个）"
    ));
}

/// The supervisor is SIGKILLed: it runs no code, and its workers must end by themselves, each
/// within 100 ms of its death (the sandbox's reaping times). Also when the supervisor dies
/// before the workers armed their guard: then each must end as soon as it goes on (within the
/// deadline; the time from the spec's release is printed, not bounded: it is the harness's
/// wake-up as much as the worker's).
#[rstest]
#[case::at_work(false)]
#[case::before_the_workers_armed_their_guard(true)]
fn no_worker_outlives_a_sigkilled_supervisor_by_more_than_100_ms(#[case] late: bool) {
    let args: &[&str] = if late { &["--arm-late"] } else { &[] };
    let sc = Scenario::start(lab!(), args);
    let sup = sc.role("supervisor");
    let workers: Vec<i32> = if late {
        (0..N).map(|_| sc.paused(NOT_ARMED)).collect()
    } else {
        sc.notes("ready", N).into_iter().map(|n| n.0).collect()
    };
    sc.show(&if late {
        say!("every worker held before it arms its guard", "每个工作进程都停在设好保护之前")
    } else {
        say!("the supervisor and its workers", "监管进程和它的工作进程")
    });
    sc.step(&say!("SIGKILL to the supervisor", "向监管进程发送 SIGKILL"));
    sc.signal(sup, Signal::SIGKILL);
    sc.expect_eq(
        sc.exit_of(sup),
        Exit::Signal(9, false),
        &say!("the supervisor dies of SIGKILL", "监管进程死于 SIGKILL"),
    );
    let died = sc
        .reaped_at(sup)
        .unwrap_or_else(|| sc.fail(&say!("the sandbox has reaped the supervisor", "沙箱已经回收了监管进程")));
    // Each worker's lag is counted from the supervisor's death — or, when held, from its release.
    let mut from = vec![died; N];
    if late {
        let t = sc.snapshot();
        let alive = workers.iter().filter(|&&w| t.alive(w)).count();
        // 000: after the main process is killed the children keep running. Workers that have
        // not armed their guard yet are plain children: they do.
        sc.claim_verdict(
            "killed-main-leaves-children",
            Verdict::when(alive == N),
            &say!(
                "supervisor SIGKILLed before its workers armed their guard: {alive} of {N} kept running, orphans of the sandbox {} — until each armed its guard and checked getppid()",
                "监管进程在它的工作进程设好保护之前被 SIGKILL：{N} 个中有 {alive} 个继续运行，成了孤儿进程，由沙箱 {} 收养——直到各自设好保护并检查 getppid()",
                sc.sandbox_pid()
            ),
        );
        sc.expect(
            workers.iter().all(|&w| t.alive(w) && t.ppid(w) == Some(sc.sandbox_pid())),
            &say!(
                "every worker {workers:?} is alive, already adopted by the sandbox",
                "每个工作进程 {workers:?} 都活着，已被沙箱收养"
            ),
        );
        sc.show(&say!(
            "the workers are orphans and have not armed their guard",
            "工作进程成了孤儿进程，还没有设好保护"
        ));
        sc.step(&say!(
            "the workers go on and arm their guard, after the supervisor's death",
            "监管进程死后，工作进程继续运行，设好它们的保护"
        ));
        for since in from.iter_mut() {
            *since = now_ns();
            sc.release();
        }
    }
    sc.until(
        &say!(
            "every worker {workers:?} has ended and the sandbox has reaped it",
            "每个工作进程 {workers:?} 都已结束并被沙箱回收"
        ),
        |t| workers.iter().all(|&w| t.gone(w)),
    );
    let mut lags = Vec::new();
    for (&w, since) in workers.iter().zip(from) {
        let how = sc.exit_of(w);
        sc.expect(
            !matches!(how, Exit::Code(101) | Exit::Signal(_, true)),
            &say!(
                "worker {w} ended cleanly: {how} (no panic, no crash)",
                "工作进程 {w} 干净地结束了：{how}（没有 panic，没有崩溃）"
            ),
        );
        lags.push(sc.reaped_at(w).unwrap_or(0) - since);
    }
    let worst = lags.iter().copied().max().unwrap_or(0);
    let armed_late = say!(" (guard armed late)", "（保护设得晚）");
    println!(
        "{}",
        say!(
            "orphans{}: workers reaped {:?} ms after {}",
            "orphans{0}: 工作进程在{2}之后 {1:?} 毫秒被回收",
            if late { armed_late.as_str() } else { "" },
            lags.iter().map(|&l| (ms(l) * 100.0).round() / 100.0).collect::<Vec<_>>(),
            if late {
                say!("each went on", "各自继续运行")
            } else {
                say!("the supervisor's death", "监管进程死亡")
            }
        )
    );
    if !late {
        sc.expect(
            worst <= ORPHAN_BOUND_MS * 1_000_000,
            &say!(
                "every worker ended within {ORPHAN_BOUND_MS} ms of the supervisor's death (the sandbox's reaping times): the last one {:.1} ms after",
                "每个工作进程都在监管进程死后 {ORPHAN_BOUND_MS} 毫秒内结束（以沙箱的回收时间为准）：最后一个在其后 {:.1} 毫秒",
                ms(worst)
            ),
        );
        sc.claim_verdict(
            "killed-main-leaves-children",
            Verdict::when(worst > ORPHAN_BOUND_MS * 1_000_000),
            &say!(
                "supervisor SIGKILLed: all {N} guarded workers (PR_SET_PDEATHSIG) ended by themselves, the last {:.1} ms after it — nothing to kill by hand",
                "监管进程被 SIGKILL：全部 {N} 个设了保护（PR_SET_PDEATHSIG）的工作进程都自行结束，最后一个在它之后 {:.1} 毫秒——没有什么需要人工杀死",
                ms(worst)
            ),
        );
    }
}

/// xorshift64*: the spec's random numbers, the same for the same seed.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

fn env<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// One kill of the chaos: who, with what, and when (just before the system call that sent it).
struct Kill {
    pid: i32,
    sig: Signal,
    at: i128,
}

/// Chaos: for a bounded time, workers are killed at random moments (one, sometimes two at
/// once), and the tree is sampled as fast as the spec can read /proc. No zombie may be older
/// than ZOMBIE_BOUND_MS in any sample; afterwards N workers serve again, every killed worker was
/// reaped by the supervisor with the status it died of; then SIGTERM stops everything cleanly.
/// Reap and restart latencies are measured and printed.
#[test]
fn chaos_workers_killed_at_random_are_replaced_and_never_left_as_zombies() {
    let rounds = env::<u32>("PROCLAB_CHAOS_ROUNDS").unwrap_or(1).max(1);
    let first = env::<u64>("PROCLAB_CHAOS_SEED").unwrap_or_else(|| {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        t.as_nanos() as u64
    });
    for round in 0..u64::from(rounds) {
        // xorshift needs a state other than 0.
        chaos_round(first.wrapping_add(round * 0x9e37_79b9_7f4a_7c15).max(1));
    }
}

fn chaos_round(seed: u64) {
    let secs = env::<f64>("PROCLAB_CHAOS_SECS").unwrap_or(1.0);
    /// The longest pause between two kills.
    const MAX_GAP_MS: u64 = 40;
    /// The pause after a burst of two kills: longer than ZOMBIE_BOUND_MS, so that a zombie left
    /// behind (one SIGCHLD for two deaths, one waitpid) is seen too old.
    const QUIET_MS: i128 = ZOMBIE_BOUND_MS + 50;
    println!(
        "{}",
        say!(
            "chaos: seed {seed}, {secs} s (replay: PROCLAB_CHAOS_SEED={seed} cargo test -p sol16 chaos)",
            "chaos: 种子 {seed}，{secs} 秒；重放：PROCLAB_CHAOS_SEED={seed} cargo test -p sol16 chaos"
        )
    );
    let mut rng = Rng(seed);
    let Run { sc, sup, .. } = started(Scenario::start(lab!(), &[]));
    sc.step(&say!(
        "for {secs} s, workers are killed at random (SIGKILL or SIGUSR1; one at a time 0–{MAX_GAP_MS} ms apart, or two at once followed by {QUIET_MS} ms of quiet; seed {seed}) while the tree is sampled",
        "在 {secs} 秒内随机杀死工作进程（SIGKILL 或 SIGUSR1；每次一个，间隔 0–{MAX_GAP_MS} 毫秒，或者一次两个，随后安静 {QUIET_MS} 毫秒；种子 {seed}），同时对进程树采样"
    ));
    let mut kills: Vec<Kill> = Vec::new();
    let mut first_seen: HashMap<i32, i128> = HashMap::new();
    let (mut samples, mut zombie_sightings, mut oldest, mut fewest) = (0u64, 0u64, 0i128, N);
    let start = now_ns();
    let end = start + (secs * 1e9) as i128;
    let mut next = start;
    loop {
        let t = sc.snapshot();
        // A zombie in this sample was one at some moment between the sample's start and now:
        // its age is counted at the start, so a slow sample never makes it look older.
        let (began, seen) = (t.taken_ns, now_ns());
        samples += 1;
        if !t.alive(sup) {
            sc.fail(&say!(
                "the supervisor stays alive through the chaos (seed {seed})",
                "监管进程在整个混沌过程中一直活着（种子 {seed}）"
            ));
        }
        let alive = alive_workers(&t, sup);
        fewest = fewest.min(alive.len());
        for z in t.zombies() {
            zombie_sightings += 1;
            let since = kills.iter().rev().find(|k| k.pid == z).map(|k| k.at);
            let born = *first_seen.entry(z).or_insert(since.unwrap_or(seen));
            let age = began - born;
            oldest = oldest.max(age);
            if age > ZOMBIE_BOUND_MS * 1_000_000 {
                sc.fail(&say!(
                    "no zombie older than {ZOMBIE_BOUND_MS} ms in any sample — {z} has been one for at least {:.1} ms ({}; seed {seed}, sample {samples}, kill {})",
                    "任何一次采样中都没有存在超过 {ZOMBIE_BOUND_MS} 毫秒的僵尸进程——但 {z} 成为僵尸进程已至少 {:.1} 毫秒（{}；种子 {seed}，第 {samples} 次采样，第 {} 次杀死）",
                    ms(age),
                    if since.is_some() {
                        say!("counted since its kill", "从它被杀死时算起")
                    } else {
                        say!("not killed by the spec: counted since first seen", "不是规约杀死的：从第一次看到它时算起")
                    },
                    kills.len()
                ));
            }
        }
        if seen >= end {
            break;
        }
        // A worker killed a moment ago may still look alive: never pick it twice.
        let mut pool: Vec<i32> = alive.into_iter().filter(|p| kills.iter().all(|k| k.pid != *p)).collect();
        if seen >= next && !pool.is_empty() {
            let burst = pool.len() >= 2 && rng.below(4) == 0;
            let mut victims = vec![pool.swap_remove(rng.below(pool.len() as u64) as usize)];
            if burst {
                victims.push(pool.swap_remove(rng.below(pool.len() as u64) as usize));
            }
            let sig = if rng.below(4) == 0 { Signal::SIGUSR1 } else { Signal::SIGKILL };
            for (pid, at) in victims.iter().zip(sc.signal_all_at(&victims, sig)) {
                kills.push(Kill { pid: *pid, sig, at });
            }
            let gap = if burst { QUIET_MS } else { i128::from(rng.below(MAX_GAP_MS + 1)) };
            next = now_ns() + gap * 1_000_000;
        }
        // `until`'s pace: between two samples the CPU is the supervisor's.
        std::thread::sleep(Duration::from_millis(2));
    }
    let killed: Vec<i32> = kills.iter().map(|k| k.pid).collect();
    sc.until(
        &say!(
            "after the chaos: {N} workers serve, every killed worker is reaped, no zombie (seed {seed})",
            "混沌之后：{N} 个工作进程在服务，每个被杀死的工作进程都已被回收，没有僵尸进程（种子 {seed}）"
        ),
        |t| alive_workers(t, sup).len() == N && killed.iter().all(|&k| t.gone(k)) && t.zombies().is_empty(),
    );
    sc.show(&say!("after the chaos", "混沌之后"));
    sc.notes("reaped", kills.len());
    let reaped = reaped_by_supervisor(&sc);
    let mut reap_ns = Vec::new();
    let mut restart_ns = Vec::new();
    // (pid, slot, when) of every worker the supervisor started.
    let spawned: Vec<(i32, String, i128)> = sc
        .notes_now("spawned")
        .into_iter()
        .filter_map(|(_, v, t)| {
            let (pid, slot) = v.split_once(' ')?;
            Some((pid.parse().ok()?, slot.to_string(), t))
        })
        .collect();
    let ready = sc.notes_now("ready");
    for k in &kills {
        let expected = format!("killed by {}", k.sig);
        let (how, at) = reaped.get(&k.pid).cloned().unwrap_or_default();
        sc.expect_eq(
            how,
            expected,
            &say!(
                "the supervisor reaped worker {} and saw its signal (seed {seed})",
                "监管进程回收了工作进程 {}，并看到了它的信号（种子 {seed}）",
                k.pid
            ),
        );
        sc.expect(
            sc.exit_now(k.pid).is_none(),
            &say!("the supervisor, not the sandbox, reaped {}", "回收 {} 的是监管进程，而不是沙箱", k.pid),
        );
        reap_ns.push(at - k.at);
        // Its replacement: the next worker started in its slot once it was reaped. If that one
        // was killed too before it served, this kill has no restart time.
        let slot = spawned.iter().find(|s| s.0 == k.pid).map(|s| s.1.clone());
        let next = spawned.iter().find(|s| Some(&s.1) == slot.as_ref() && s.2 >= at).map(|s| s.0);
        if let Some(r) = ready.iter().find(|r| Some(r.0) == next) {
            restart_ns.push(r.2 - k.at);
        }
    }
    let figures = say!(
        "{} kills in {secs} s (seed {seed}); {samples} samples, {zombie_sightings} zombie sightings, the oldest {:.2} ms after its kill (bound {ZOMBIE_BOUND_MS} ms); fewest workers alive in a sample {fewest} of {N}; reap latency p50 {:.2} ms p99 {:.2} ms; restart latency (kill → replacement serving) p50 {:.2} ms p99 {:.2} ms",
        "{secs} 秒内杀死 {} 次（种子 {seed}）；采样 {samples} 次，看到僵尸进程 {zombie_sightings} 次，最老的一个在被杀死后 {:.2} 毫秒（上限 {ZOMBIE_BOUND_MS} 毫秒）；单次采样中活着的工作进程最少 {fewest} 个（共 {N} 个）；回收延迟 p50 {:.2} 毫秒，p99 {:.2} 毫秒；重启延迟（杀死 → 替代者开始服务）p50 {:.2} 毫秒，p99 {:.2} 毫秒",
        kills.len(),
        ms(oldest),
        percentile(&reap_ns, 50.0),
        percentile(&reap_ns, 99.0),
        percentile(&restart_ns, 50.0),
        percentile(&restart_ns, 99.0),
    );
    println!("chaos: {figures}");
    sc.step(&figures);
    sc.step(&say!(
        "SIGTERM to the supervisor: a clean final shutdown",
        "向监管进程发送 SIGTERM：干净地最终关闭"
    ));
    let survivors = alive_workers(&sc.snapshot(), sup);
    sc.signal(sup, Signal::SIGTERM);
    sc.until(
        &say!(
            "the supervisor stops its workers, reaps them and exits (seed {seed})",
            "监管进程停止它的工作进程，回收它们，然后退出（种子 {seed}）"
        ),
        |t| t.gone(sup),
    );
    sc.expect_eq(
        sc.exit_of(sup),
        Exit::Code(0),
        &say!(
            "the supervisor exits 0 after the chaos (seed {seed})",
            "混沌之后监管进程以 0 退出（种子 {seed}）"
        ),
    );
    sc.until_empty();
    let reaped = reaped_by_supervisor(&sc);
    let never = say!("never reaped by the supervisor", "从未被监管进程回收");
    for w in survivors {
        let how = reaped.get(&w).map(|r| r.0.as_str()).unwrap_or(&never);
        sc.expect_eq(
            how,
            "exited 0",
            &say!(
                "worker {w}, alive at the end, stopped and exited 0 (seed {seed})",
                "工作进程 {w} 到最后仍活着，它停止并以 0 退出（种子 {seed}）"
            ),
        );
    }
    sc.claim_verdict(
        "sigchld-reaps",
        Verdict::when(ms(oldest) <= ZOMBIE_BOUND_MS as f64),
        &say!(
            "chaos, every death collected on its SIGCHLD: {figures}",
            "混沌测试，每次死亡都在它的 SIGCHLD 到来时被回收：{figures}"
        ),
    );
}
