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
//! Chaos: `PROCLAB_CHAOS_SECS` (default 1.5) sets how long workers are killed at random,
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
            _ => sc.fail(&format!(
                "worker {pid} is ready in a slot 0..{N} no other worker has — it says {slot:?}"
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
            *broken.borrow_mut() = Some(format!("{why}\n  in this sample:\n{}", t.render()));
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
    sc.show("the supervisor and its three workers");
    sc.step(&format!("worker 1 ({victim}) gets {sig}"));
    let killed = sc.signal_at(victim, sig);
    let t = sc.until(
        &format!("worker {victim} is reaped and a new worker serves in its place: {N} workers alive"),
        |t| t.gone(victim) && alive_workers(t, sup).len() == N,
    );
    sc.show("after the death: the dead worker is gone, a new one is in its slot");
    let new = alive_workers(&t, sup).into_iter().find(|p| !workers.contains(p)).unwrap_or(0);
    sc.expect_eq(sc.note(new, "ready"), "1".to_string(), &format!("the new worker {new} serves in slot 1"));
    sc.notes("reaped", 1);
    let reaped = reaped_by_supervisor(&sc);
    let (said, at) = reaped.get(&victim).cloned().unwrap_or_default();
    sc.expect_eq(said.as_str(), how, &format!("the supervisor saw how worker {victim} ended"));
    sc.expect(sc.exit_now(victim).is_none(), "the supervisor reaped it itself (the sandbox did not have to)");
    let ready = sc.notes_now("ready").into_iter().find(|n| n.0 == new).map(|n| n.2).unwrap_or(0);
    let figures = format!(
        "{sig}: reaped {:.2} ms after the signal was sent, the replacement served {:.2} ms after it",
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
            &format!(
                "worker {victim} SIGKILLed: the supervisor's main loop read SIGCHLD from its signalfd and reaped it {:.2} ms later; worker {new} serves in its slot",
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
    sc.show("the supervisor is busy (held at a pause)");
    sc.step(&format!("workers 0 and 2 ({victims:?}) are SIGKILLed while the supervisor is busy"));
    for v in victims {
        sc.signal(v, Signal::SIGKILL);
    }
    let t = sc.until("both killed workers have died", |t| victims.iter().all(|&v| !t.alive(v)));
    sc.expect(
        victims.iter().all(|&v| t.zombie(v)),
        &format!("both {victims:?} are zombies: the supervisor is busy, so nobody may have reaped them — not a handler behind its back"),
    );
    let t = sc.stays("they stay zombies while the supervisor is busy", Duration::from_millis(20), |t| {
        victims.iter().all(|&v| t.zombie(v))
    });
    sc.show("two zombies, and the supervisor's SIGCHLD pending: one pending signal for two deaths");
    let pending = t.get(sup).is_some_and(|p| p.has_pending(Signal::SIGCHLD));
    sc.step("the supervisor is free again");
    sc.release();
    let t =
        sc.until("the supervisor is idle again: asleep, nothing pending", |t| t.get(sup).is_some_and(idle));
    // Both collected (part true) — but one pending SIGCHLD stood for two deaths (part false).
    sc.claim_verdict(
        "sigchld-reaps",
        Verdict::of(&[victims.iter().all(|&v| t.gone(v)), !pending]),
        &format!(
            "2 workers killed while the supervisor was busy: 2 zombies, SIGCHLD {} once for both; {} once it read its signalfd and looped on waitpid",
            if pending { "pending" } else { "not pending" },
            if victims.iter().all(|&v| t.gone(v)) { "both reaped" } else { "not both reaped" }
        ),
    );
    sc.expect(
        victims.iter().all(|&v| t.gone(v)) && t.zombies().is_empty(),
        &format!(
            "by the time the supervisor sleeps again it has reaped both {victims:?} — one SIGCHLD stood for two deaths, so one waitpid per SIGCHLD is not enough"
        ),
    );
    sc.until(&format!("{N} workers serve again"), |t| alive_workers(t, sup).len() == N);
    sc.show("both replaced");
}

/// SIGTERM: every worker is asked to stop, finishes the request in hand and exits 0; nothing
/// is replaced; the supervisor reaps them all and exits 0, well within the grace period.
#[test]
fn sigterm_stops_every_worker_gracefully_and_replaces_none() {
    let Run { sc, sup, workers } = started(Scenario::start(lab!(), &["--grace-ms", "2000"]));
    sc.show("the supervisor and its three workers");
    sc.step("SIGTERM to the supervisor");
    let sent = sc.signal_at(sup, Signal::SIGTERM);
    sc.until("the supervisor stops its workers, reaps them and exits", |t| t.gone(sup));
    sc.expect_eq(sc.exit_of(sup), Exit::Code(0), "the supervisor exits 0");
    sc.until_empty();
    let took = sc.reaped_at(sup).unwrap_or(sent) - sent;
    let reaped = reaped_by_supervisor(&sc);
    for (i, &w) in workers.iter().enumerate() {
        let how = reaped.get(&w).map(|r| r.0.as_str()).unwrap_or("never reaped by the supervisor");
        sc.expect(
            how == "exited 0" && sc.notes_now("stopped").iter().any(|n| n.0 == w),
            &format!("worker {i} ({w}) finished its request, ran its own stop path and exited 0 — the supervisor saw: {how}"),
        );
    }
    sc.expect_eq(
        sorted(workers_ever(&sc)),
        sorted(workers.clone()),
        "no worker was started after the SIGTERM",
    );
    sc.expect(sc.notes_now("grace-over").is_empty(), "nobody needed SIGKILL");
    // Only the supervisor's SIGTERM reached the workers: each handler says so, and no other.
    let asked: Vec<(i32, String)> = sc.notes_now("asked").into_iter().map(|n| (n.0, n.1)).collect();
    for (i, &w) in workers.iter().enumerate() {
        let said: Vec<&str> = asked.iter().filter(|a| a.0 == w).map(|a| a.1.as_str()).collect();
        sc.expect(
            !said.is_empty() && said.iter().all(|&s| s == "SIGTERM"),
            &format!("worker {i} ({w}) was asked to stop by the supervisor's SIGTERM, by nothing else — its handler saw {said:?}"),
        );
    }
    sc.expect(
        ms(took) < 2000.0,
        &format!("all stopped within the grace period of 2000 ms: {:.1} ms", ms(took)),
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
        &format!("worker 1 ({stubborn}) ignores SIGTERM"),
    );
    sc.show("worker 1 ignores SIGTERM: stuck in a request");
    sc.step("SIGTERM to the supervisor");
    let sent = sc.signal_at(sup, Signal::SIGTERM);
    sc.until("the supervisor stops its workers, reaps them and exits", |t| t.gone(sup));
    sc.expect_eq(sc.exit_of(sup), Exit::Code(0), "the supervisor exits 0 once every worker is reaped");
    let reaped = reaped_by_supervisor(&sc);
    let (how, at) = reaped.get(&stubborn).cloned().unwrap_or_default();
    sc.expect_eq(
        how.as_str(),
        "killed by SIGKILL",
        &format!("the stubborn worker {stubborn} ended by SIGKILL"),
    );
    let after = at - sent;
    println!(
        "grace: the stubborn worker was reaped {:.2} ms after the SIGTERM (grace {GRACE_MS} ms)",
        ms(after)
    );
    sc.expect(
        (GRACE_MS * 1_000_000..=(GRACE_MS + LATE_MS) * 1_000_000).contains(&after),
        &format!(
            "it was killed when the grace period of {GRACE_MS} ms ended — not before, and at most {LATE_MS} ms after: reaped {:.1} ms after the SIGTERM",
            ms(after)
        ),
    );
    for i in [0, 2] {
        let w = workers[i];
        let (how, at) = reaped.get(&w).cloned().unwrap_or_default();
        sc.expect(
            how == "exited 0" && at - sent < GRACE_MS * 1_000_000,
            &format!(
                "worker {i} ({w}) stopped by itself within the grace period: {how}, {:.1} ms",
                ms(at - sent)
            ),
        );
    }
    let killed: Vec<String> = sc.notes_now("grace-over").into_iter().map(|n| n.1).collect();
    let stubborn_end = reaped_by_supervisor(&sc).get(&stubborn).map(|r| r.0.clone()).unwrap_or_default();
    sc.expect_eq(
        killed.clone(),
        vec![stubborn.to_string()],
        "the supervisor SIGKILLed the stubborn worker only",
    );
    // 001: because SIGKILL cannot be caught, a process can always be killed.
    sc.claim_verdict(
        "sigkill-guarantees",
        Verdict::when(killed == vec![stubborn.to_string()] && sc.snapshot().gone(stubborn)),
        &format!(
            "worker {stubborn} ignored SIGTERM; {:.0} ms after it the grace period of {GRACE_MS} ms was over and SIGKILL ended it ({stubborn_end}); the two others had exited 0",
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
    sc.expect_eq(sc.snapshot().pgid(sup), Some(fg), "the supervisor leads the terminal's foreground group");
    sc.show("the supervisor in the terminal's foreground group");
    sc.step("Ctrl-C on the terminal");
    sc.type_keys(b"\x03");
    sc.until_terminal("the terminal echoes ^C", |s| s.contains("^C"));
    sc.until("the supervisor stops its workers, reaps them and exits", |t| t.gone(sup));
    sc.expect_eq(sc.exit_of(sup), Exit::Code(0), "the supervisor exits 0");
    sc.until_empty();
    let stops: Vec<String> = sc.notes_now("stopping").into_iter().map(|n| n.1).collect();
    sc.expect_eq(stops, vec!["SIGINT".to_string()], "the supervisor stopped once, on the SIGINT");
    // The terminal's SIGINT reached each worker itself (the foreground group), not only the
    // supervisor's SIGTERM after it.
    let asked = sc.notes_now("asked");
    for (i, &w) in workers.iter().enumerate() {
        let said: Vec<&str> = asked.iter().filter(|a| a.0 == w).map(|a| a.1.as_str()).collect();
        sc.expect(
            said.contains(&"SIGINT"),
            &format!("worker {i} ({w}) got the terminal's SIGINT itself, in the foreground group — its handler saw {said:?}"),
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
        &format!(
            "one ^C: the supervisor stopped once and exited 0; {graceful} of its {N} workers (stop requests between them: {}) each finished its request and exited 0 once; nothing restarted",
            sc.notes_now("asked").len()
        ),
    );
    for (i, &w) in workers.iter().enumerate() {
        let runs = stopped.iter().filter(|n| n.0 == w).count();
        let how = reaped.get(&w).map(|r| r.0.as_str()).unwrap_or("never reaped by the supervisor");
        sc.expect(
            runs == 1 && how == "exited 0",
            &format!("worker {i} ({w}) ran its stop path exactly once ({runs}) and the supervisor saw it exit 0 ({how})"),
        );
    }
    sc.expect_eq(
        sorted(workers_ever(&sc)),
        sorted(workers.clone()),
        "no worker was started after the Ctrl-C",
    );
    sc.expect(sc.notes_now("grace-over").is_empty(), "nobody needed SIGKILL");
}

/// SIGHUP: every worker is replaced, one at a time. Each old worker lingers (a pause) in its
/// last request; at that moment, once the supervisor and every worker are idle — so every
/// SIGTERM the supervisor meant to send has arrived — at least N−1 workers still serve. On
/// every tree sampled in between, too.
#[test]
fn sighup_replaces_the_workers_one_by_one_never_fewer_than_n_minus_1_serving() {
    let Run { sc, sup, workers } = started(Scenario::start(lab!(), &["--linger"]));
    sc.show("the first generation of workers");
    sc.step("SIGHUP to the supervisor: replace every worker, never more than one missing");
    sc.signal(sup, Signal::SIGHUP);
    let at_least = |t: &Tree| {
        let s = serving(&sc, t, sup);
        (s.len() < N - 1).then(|| format!("at least {} workers serve at every moment — only {s:?} do", N - 1))
    };
    let mut fewest = N;
    for k in 0..N {
        until_always(
            &sc,
            &format!("old worker {} of {N} lingers in its last request", k + 1),
            |_| sc.events().iter().filter(|e| e.kind == Kind::Pause(LINGER.into())).count() > k,
            at_least,
        );
        let old = sc.paused(LINGER);
        sc.expect(
            workers.contains(&old),
            &format!("the worker lingering, {old}, is one of the first generation"),
        );
        sc.until("the supervisor and every worker are idle: every signal sent has been handled", |t| {
            std::iter::once(sup)
                .chain(t.children(sup))
                .all(|p| t.get(p).is_some_and(|p| idle(p) || p.at_pause()))
        });
        // A sample begun after that one: every "asked" note written so far is older than it.
        let t = sc.snapshot();
        let s = serving(&sc, &t, sup);
        fewest = fewest.min(s.len());
        sc.expect(
            s.len() >= N - 1,
            &format!(
                "while worker {old} finishes, at least {} others serve — serving {s:?} of the workers alive {:?}",
                N - 1,
                alive_workers(&t, sup)
            ),
        );
        sc.release();
    }
    let t = until_always(
        &sc,
        &format!("every first-generation worker is replaced: {N} new workers serve"),
        |t| workers.iter().all(|&w| t.gone(w)) && serving(&sc, t, sup).len() == N,
        at_least,
    );
    sc.show("the second generation");
    sc.notes("reaped", N);
    let reaped = reaped_by_supervisor(&sc);
    for &w in &workers {
        let how = reaped.get(&w).map(|r| r.0.as_str()).unwrap_or("never reaped by the supervisor");
        sc.expect_eq(how, "exited 0", &format!("old worker {w} finished its last request and exited 0"));
    }
    for w in serving(&sc, &t, sup) {
        sc.expect_eq(
            sc.note(w, "generation"),
            "1".to_string(),
            &format!("worker {w} is of the new generation"),
        );
    }
    sc.step(&format!("never fewer than {fewest} of {N} workers serving"));
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
    sc.show(if late {
        "every worker held before it arms its guard"
    } else {
        "the supervisor and its workers"
    });
    sc.step("SIGKILL to the supervisor");
    sc.signal(sup, Signal::SIGKILL);
    sc.expect_eq(sc.exit_of(sup), Exit::Signal(9, false), "the supervisor dies of SIGKILL");
    let died = sc.reaped_at(sup).unwrap_or_else(|| sc.fail("the sandbox has reaped the supervisor"));
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
            &format!(
                "supervisor SIGKILLed before its workers armed their guard: {alive} of {N} kept running, orphans of the sandbox {} — until each armed its guard and checked getppid()",
                sc.sandbox_pid()
            ),
        );
        sc.expect(
            workers.iter().all(|&w| t.alive(w) && t.ppid(w) == Some(sc.sandbox_pid())),
            &format!("every worker {workers:?} is alive, already adopted by the sandbox"),
        );
        sc.show("the workers are orphans and have not armed their guard");
        sc.step("the workers go on and arm their guard, after the supervisor's death");
        for since in from.iter_mut() {
            *since = now_ns();
            sc.release();
        }
    }
    sc.until(&format!("every worker {workers:?} has ended and the sandbox has reaped it"), |t| {
        workers.iter().all(|&w| t.gone(w))
    });
    let mut lags = Vec::new();
    for (&w, since) in workers.iter().zip(from) {
        let how = sc.exit_of(w);
        sc.expect(
            !matches!(how, Exit::Code(101) | Exit::Signal(_, true)),
            &format!("worker {w} ended cleanly: {how} (no panic, no crash)"),
        );
        lags.push(sc.reaped_at(w).unwrap_or(0) - since);
    }
    let worst = lags.iter().copied().max().unwrap_or(0);
    println!(
        "orphans{}: workers reaped {:?} ms after {}",
        if late { " (guard armed late)" } else { "" },
        lags.iter().map(|&l| (ms(l) * 100.0).round() / 100.0).collect::<Vec<_>>(),
        if late { "each went on" } else { "the supervisor's death" }
    );
    if !late {
        sc.expect(
            worst <= ORPHAN_BOUND_MS * 1_000_000,
            &format!(
                "every worker ended within {ORPHAN_BOUND_MS} ms of the supervisor's death (the sandbox's reaping times): the last one {:.1} ms after",
                ms(worst)
            ),
        );
        sc.claim_verdict(
            "killed-main-leaves-children",
            Verdict::when(worst > ORPHAN_BOUND_MS * 1_000_000),
            &format!(
                "supervisor SIGKILLed: all {N} guarded workers (PR_SET_PDEATHSIG) ended by themselves, the last {:.1} ms after it — nothing to kill by hand",
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
    let secs = env::<f64>("PROCLAB_CHAOS_SECS").unwrap_or(1.5);
    /// The longest pause between two kills.
    const MAX_GAP_MS: u64 = 40;
    /// The pause after a burst of two kills: longer than ZOMBIE_BOUND_MS, so that a zombie left
    /// behind (one SIGCHLD for two deaths, one waitpid) is seen too old.
    const QUIET_MS: i128 = ZOMBIE_BOUND_MS + 50;
    println!("chaos: seed {seed}, {secs} s (replay: PROCLAB_CHAOS_SEED={seed} cargo test -p sol16 chaos)");
    let mut rng = Rng(seed);
    let Run { sc, sup, .. } = started(Scenario::start(lab!(), &[]));
    sc.step(&format!(
        "for {secs} s, workers are killed at random (SIGKILL or SIGUSR1; one at a time 0–{MAX_GAP_MS} ms apart, or two at once followed by {QUIET_MS} ms of quiet; seed {seed}) while the tree is sampled"
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
            sc.fail(&format!("the supervisor stays alive through the chaos (seed {seed})"));
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
                sc.fail(&format!(
                    "no zombie older than {ZOMBIE_BOUND_MS} ms in any sample — {z} has been one for at least {:.1} ms ({}; seed {seed}, sample {samples}, kill {})",
                    ms(age),
                    if since.is_some() { "counted since its kill" } else { "not killed by the spec: counted since first seen" },
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
        &format!(
            "after the chaos: {N} workers serve, every killed worker is reaped, no zombie (seed {seed})"
        ),
        |t| alive_workers(t, sup).len() == N && killed.iter().all(|&k| t.gone(k)) && t.zombies().is_empty(),
    );
    sc.show("after the chaos");
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
            &format!("the supervisor reaped worker {} and saw its signal (seed {seed})", k.pid),
        );
        sc.expect(
            sc.exit_now(k.pid).is_none(),
            &format!("the supervisor, not the sandbox, reaped {}", k.pid),
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
    let figures = format!(
        "{} kills in {secs} s (seed {seed}); {samples} samples, {zombie_sightings} zombie sightings, the oldest {:.2} ms after its kill (bound {ZOMBIE_BOUND_MS} ms); fewest workers alive in a sample {fewest} of {N}; reap latency p50 {:.2} ms p99 {:.2} ms; restart latency (kill → replacement serving) p50 {:.2} ms p99 {:.2} ms",
        kills.len(),
        ms(oldest),
        percentile(&reap_ns, 50.0),
        percentile(&reap_ns, 99.0),
        percentile(&restart_ns, 50.0),
        percentile(&restart_ns, 99.0),
    );
    println!("chaos: {figures}");
    sc.step(&figures);
    sc.step("SIGTERM to the supervisor: a clean final shutdown");
    let survivors = alive_workers(&sc.snapshot(), sup);
    sc.signal(sup, Signal::SIGTERM);
    sc.until(&format!("the supervisor stops its workers, reaps them and exits (seed {seed})"), |t| {
        t.gone(sup)
    });
    sc.expect_eq(
        sc.exit_of(sup),
        Exit::Code(0),
        &format!("the supervisor exits 0 after the chaos (seed {seed})"),
    );
    sc.until_empty();
    let reaped = reaped_by_supervisor(&sc);
    for w in survivors {
        let how = reaped.get(&w).map(|r| r.0.as_str()).unwrap_or("never reaped by the supervisor");
        sc.expect_eq(
            how,
            "exited 0",
            &format!("worker {w}, alive at the end, stopped and exited 0 (seed {seed})"),
        );
    }
    sc.claim_verdict(
        "sigchld-reaps",
        Verdict::when(ms(oldest) <= ZOMBIE_BOUND_MS as f64),
        &format!("chaos, every death collected on its SIGCHLD: {figures}"),
    );
}
