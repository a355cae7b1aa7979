//! Spec of lab 07 — the "infinite" terminate loop. Judges labs/07-terminate-loop
//! (`cargo test -p lab07`) and solutions/07-terminate-loop (`cargo test -p sol07`).
//!
//! The lab is post 000's third listing: the SIGTERM handler registered *before* the children
//! are forked. With `--post` the program is the listing as it is; without, the handlers must
//! really stop the processes (the exercise).
//!
//! Signal coalescing makes the number of handler runs vary from run to run: the spec asserts
//! its bounds, never one number (derivation in labs/07-terminate-loop/README.md).

use harness::prelude::*;
use rstest::rstest;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::time::Instant;

/// How long the cascade must have been quiet before the spec calls it settled.
const SETTLE: Duration = Duration::from_millis(100);
/// How long the spec then watches that nothing changes any more ("still alive", "silence").
const WINDOW: Duration = Duration::from_millis(500);
/// How long the fix's survivors are watched after one child stopped: a wrong answer that
/// signals them does so within milliseconds of the SIGTERM.
const SURVIVORS: Duration = Duration::from_millis(250);

#[derive(Clone, Copy, Debug)]
enum Who {
    Parent,
    Child(usize),
}

/// The pids of the scenario: the parent, then the children in fork order.
struct Procs {
    parent: i32,
    kids: Vec<i32>,
}

impl Procs {
    fn pid(&self, who: Who) -> i32 {
        match who {
            Who::Parent => self.parent,
            Who::Child(i) => self.kids[i],
        }
    }
    fn name(&self, pid: i32) -> String {
        match self.kids.iter().position(|&k| k == pid) {
            Some(i) => format!("child {i}"),
            None if pid == self.parent => "parent".into(),
            None => format!("{pid}"),
        }
    }
    fn all(&self) -> Vec<i32> {
        std::iter::once(self.parent).chain(self.kids.iter().copied()).collect()
    }
}

/// The most handler runs each process can have after one SIGTERM to `who`, with `n` children
/// (0 = the signal cannot reach it). A child's list holds the children forked before it, so
/// SIGTERMs only flow to lower indexes. Without coalescing, every SIGTERM sent is one run:
/// target parent: child j gets 1 from the parent + 1 per run of each child above it, so
/// R(n-1) = 1 and R(j) = 1 + R(j+1) + … + R(n-1) = 2^(n-1-j); target child k: R(k) = 1 and
/// R(j) = 2^(k-1-j) for j < k.
fn max_runs(n: usize, who: Who) -> Vec<(Who, usize)> {
    let mut v = vec![(Who::Parent, usize::from(matches!(who, Who::Parent)))];
    for j in 0..n {
        let max = match who {
            Who::Parent => 1 << (n - 1 - j),
            Who::Child(k) if j == k => 1,
            Who::Child(k) if j < k => 1 << (k - 1 - j),
            Who::Child(_) => 0,
        };
        v.push((Who::Child(j), max));
    }
    v
}

/// SIGTERM pending (SigPnd, ShdPnd) or blocked (SigBlk: it is while its handler runs) in `pid`.
fn term_in_flight(t: &Tree, pid: i32) -> bool {
    t.get(pid).is_some_and(|p| p.has_pending(Signal::SIGTERM) || p.blocks(Signal::SIGTERM))
}

/// Handler runs so far, per process.
fn runs(sc: &Scenario) -> BTreeMap<i32, usize> {
    let mut m = BTreeMap::new();
    for (pid, _, _) in sc.notes_now("handler-run") {
        *m.entry(pid).or_insert(0) += 1;
    }
    m
}

/// Starts the lab and waits until every child is running and the parent is blocked in
/// waitpid(child 0). Checks what each child inherited.
fn started(sc: &Scenario, n: usize) -> Procs {
    let parent = sc.role("parent");
    let kids: Vec<i32> = (0..n).map(|i| sc.role(&format!("child {i}"))).collect();
    let lens: Vec<String> = kids.iter().map(|&k| sc.note(k, "list-len")).collect();
    let expected: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    sc.expect_eq(
        lens,
        expected,
        "child i inherited a copy of the list holding the i children forked before it",
    );
    let joining: i32 = sc.note(parent, "joining").parse().unwrap_or(-1);
    sc.expect_eq(joining, kids[0], "the parent joins the children in order: first child 0");
    sc.step(&format!(
        "the parent registered its SIGTERM handler, then forked {n} children, then called waitpid(child 0)"
    ));
    let t = sc.until("the parent is blocked in waitpid(child 0)", |t| t.in_waitpid(parent));
    let procs = Procs { parent, kids };
    for pid in procs.all() {
        sc.expect(
            t.get(pid).is_some_and(|p| p.catches(Signal::SIGTERM)),
            &format!(
                "{} ({pid}) catches SIGTERM: the handler was registered before the forks",
                procs.name(pid)
            ),
        );
    }
    procs
}

/// Waits until the cascade is over: no SIGTERM pending or being handled in any process, and
/// the count of handler runs unchanged, for SETTLE. Returns the runs per process.
fn settle(sc: &Scenario, procs: &Procs) -> BTreeMap<i32, usize> {
    let quiet: Cell<Option<(Instant, usize)>> = Cell::new(None);
    let all = procs.all();
    sc.until(
        &format!(
            "the cascade settles: no SIGTERM pending or being handled anywhere, no new handler run for {} ms",
            SETTLE.as_millis()
        ),
        |t| {
            let count = sc.notes_now("handler-run").len();
            let busy = all.iter().any(|&p| term_in_flight(t, p));
            match quiet.get() {
                _ if busy || count == 0 => {
                    quiet.set(None);
                    false
                }
                Some((since, c)) if c == count => since.elapsed() >= SETTLE,
                _ => {
                    quiet.set(Some((Instant::now(), count)));
                    false
                }
            }
        },
    );
    runs(sc)
}

/// Post 000: "the handler calls terminate() on the children … an infinite loop" (`--post`).
/// The list is copied at each fork, so the SIGTERMs flow down to child 0 and stop: a finite
/// cascade, bounded per process and in total; then silence — and every process is still
/// alive, because every handler swallows SIGTERM.
// hint: 1
#[rstest]
#[case::to_the_parent(3, Who::Parent)]
#[case::to_child_0(3, Who::Child(0))]
#[case::to_child_1(3, Who::Child(1))]
#[case::to_child_2(3, Who::Child(2))]
#[case::to_the_parent_of_1(1, Who::Parent)]
#[case::to_the_parent_of_5(5, Who::Parent)]
fn the_posts_loop_is_a_finite_cascade_and_then_nothing_stops(#[case] n: usize, #[case] who: Who) {
    let n_arg = n.to_string();
    let sc = Scenario::start(lab!(), &["--post", "--children", &n_arg]);
    let procs = started(&sc, n);
    let target = procs.pid(who);
    sc.step(&format!(
        "kill -15 {}: every process has the handler and its own copy of the list",
        procs.name(target)
    ));
    sc.signal(target, Signal::SIGTERM);
    let runs = settle(&sc, &procs);

    // Per process: within [1, max] if the signal can reach it, exactly 0 if not.
    let bounds = max_runs(n, who);
    let mut summary = Vec::new();
    for &(w, max) in &bounds {
        let pid = procs.pid(w);
        let got = runs.get(&pid).copied().unwrap_or(0);
        summary.push(format!("{} ×{got}", procs.name(pid)));
        if max == 1 {
            sc.expect_eq(
                got,
                1,
                &format!(
                    "{} ({pid}) ran its handler exactly once: one SIGTERM only can reach it",
                    procs.name(pid)
                ),
            );
        } else if max == 0 {
            sc.expect_eq(
                got,
                0,
                &format!(
                    "{} ({pid}) never runs its handler: no list it could be reached from holds it",
                    procs.name(pid)
                ),
            );
        } else {
            sc.expect(
                (1..=max).contains(&got),
                &format!(
                    "{} ({pid}) ran its handler between 1 and {max} times (fewer when pending SIGTERMs coalesce): observed {got}",
                    procs.name(pid)
                ),
            );
        }
    }
    let total: usize = runs.values().sum();
    let reached = bounds.iter().filter(|(_, max)| *max > 0).count();
    let most: usize = bounds.iter().map(|(_, max)| max).sum();
    sc.expect(
        (reached..=most).contains(&total),
        &format!(
            "handler runs in all: at least {reached} (one per process reached), at most {most} (2^{}): observed {total} ({})",
            match who {
                Who::Parent => n,
                Who::Child(k) => k,
            },
            summary.join(", ")
        ),
    );
    // Each run terminated the list the process held: child j holds j pids, the parent n.
    let wrong: Vec<String> = sc
        .notes_now("handler-run")
        .into_iter()
        .filter(|(pid, len, _)| {
            let holds = if *pid == procs.parent { Some(n) } else { procs.kids.iter().position(|k| k == pid) };
            len.parse::<usize>().ok() != holds
        })
        .map(|(pid, len, _)| format!("{} terminated a list of {len}", procs.name(pid)))
        .collect();
    // 000: because of the start order, the global list is "not shared well" with the children.
    sc.claim_verdict(
        "list-copied-at-fork",
        Verdict::when(wrong.is_empty()),
        &format!(
            "each of {total} handler runs terminated its own process's copy of the list: the parent's held {n} pids, child j's the j started before it{}",
            if wrong.is_empty() { String::new() } else { format!(" — except {wrong:?}") }
        ),
    );
    sc.expect(
        wrong.is_empty(),
        &format!("every handler run terminated its own copy of the list: the parent's {n} pids, child j's j pids — observed {wrong:?}"),
    );

    sc.step("the cascade is over: is anything still going on?");
    let all = procs.all();
    sc.stays("every process is still alive: each handler swallowed its SIGTERM", WINDOW, |t| {
        all.iter().all(|&p| t.alive(p))
    });
    let later: usize = sc.notes_now("handler-run").len();
    let t = sc.snapshot();
    let alive = all.iter().filter(|&&p| t.alive(p)).count();
    // 000: each handler calls terminate() again: an infinite loop.
    sc.claim_verdict(
        "infinite-loop",
        Verdict::when(later > total),
        &format!(
            "SIGTERM to {}: {total} handler runs ({}; bound {reached}..={most}), then {} more in {} ms",
            procs.name(target),
            summary.join(", "),
            later - total,
            WINDOW.as_millis()
        ),
    );
    // 000: the process receives the signal, but the program keeps running.
    sc.claim_verdict(
        "program-runs-on",
        Verdict::when(alive == all.len()),
        &format!(
            "{alive} of {} processes alive {} ms after the cascade settled",
            all.len(),
            WINDOW.as_millis()
        ),
    );
    let inherited = all.iter().filter(|&&p| t.get(p).is_some_and(|q| q.catches(Signal::SIGTERM))).count();
    // 000: a child inherits its parent's handlers (registered before the children start).
    sc.claim_verdict(
        "children-inherit-handler",
        Verdict::when(inherited == all.len()),
        &format!(
            "{inherited} of {} processes (the parent and its {n} children) had TERM in SigCgt",
            all.len()
        ),
    );
    if matches!(who, Who::Parent) {
        // 000: signalling the main process ends it and its children — not with this listing.
        sc.claim_verdict(
            "sigterm-parent-ends-all",
            Verdict::when(alive == 0),
            &format!(
                "with the post's listing, SIGTERM to the parent ended {} of the {} processes",
                all.len() - alive,
                all.len()
            ),
        );
    }
    sc.expect_eq(
        later,
        total,
        &format!("no handler ran during those {} ms: silence, not a loop", WINDOW.as_millis()),
    );
    if matches!(who, Who::Parent) {
        sc.until("the parent is still blocked in waitpid(child 0), forever", |t| t.in_waitpid(procs.parent));
    }
}

/// The exercise: one SIGTERM to the parent ends the whole tree — every child stops by itself
/// (exit status 0), the parent reaps them all and exits 0.
// hint: 2
#[rstest]
#[case::three_children(3)]
#[case::six_children(6)]
fn the_fix_one_sigterm_to_the_parent_ends_the_whole_tree(#[case] n: usize) {
    let n_arg = n.to_string();
    let sc = Scenario::start(lab!(), &["--children", &n_arg]);
    let procs = started(&sc, n);
    sc.step("kill -15 the parent");
    sc.signal(procs.parent, Signal::SIGTERM);
    let all = procs.all();
    sc.until("every process has ended: the children stopped, the parent reaped them and exited", |t| {
        all.iter().all(|&p| t.gone(p))
    });
    sc.expect_eq(sc.exit_of(procs.parent), Exit::Code(0), "the parent exits normally");
    let reaped: Vec<String> = sc
        .notes_now("reaped")
        .into_iter()
        .filter(|(p, _, _)| *p == procs.parent)
        .map(|(_, v, _)| v)
        .collect();
    let expected: Vec<String> = procs.kids.iter().map(|k| format!("{k} exited with status 0")).collect();
    sc.claim_verdict(
        "sigterm-parent-ends-all",
        Verdict::when(reaped == expected),
        &format!(
            "with the fix (handlers that set a flag, children that stop, a parent that reaps), one SIGTERM to the parent: it reaped {reaped:?} and exited 0"
        ),
    );
    sc.expect_eq(reaped, expected, "the parent reaped every child, each stopped by itself with status 0");
    sc.until_empty();
}

/// The exercise, other side: a child's copy of the list names the parent's children, not its
/// own. A child that gets SIGTERM stops itself, and only itself; the parent and the other
/// children keep running (stopping everyone from any member is lab 08's killpg).
// hint: 3
#[rstest]
#[case::child_0(0)]
#[case::child_1(1)]
#[case::child_2(2)]
fn the_fix_sigterm_to_a_child_stops_that_child_only(#[case] k: usize) {
    let sc = Scenario::start(lab!(), &[]);
    let procs = started(&sc, 3);
    let victim = procs.kids[k];
    sc.step(&format!("kill -15 child {k}"));
    sc.signal(victim, Signal::SIGTERM);
    let runs = settle(&sc, &procs);
    let ran: Vec<String> = runs.keys().map(|&p| procs.name(p)).collect();
    sc.expect_eq(
        ran,
        vec![format!("child {k}")],
        &format!("only child {k} ran its handler: it signalled no one"),
    );
    sc.until(
        &format!("child {k} stops by itself: its main code notes \"stopped\" and exits (zombie or reaped)"),
        |t| !t.alive(victim) && sc.notes_now("stopped").iter().any(|(p, v, _)| *p == victim && v == "clean"),
    );
    let others: Vec<i32> = procs.all().into_iter().filter(|&p| p != victim).collect();
    sc.stays("the parent and the other children keep running", SURVIVORS, |t| {
        others.iter().all(|&p| t.alive(p))
    });
}

/// A handler runs in the middle of whatever the process is doing — even a `println!`. Child 1
/// is held inside its own `println!("args is 1")` when the SIGTERM arrives: the handler must
/// do only async-signal-safe work (an atomic store, write(2), kill). A `println!` in it finds
/// stdout's buffer borrowed and aborts the process, every time.
// hint: 2
#[test]
fn the_fix_a_sigterm_in_the_middle_of_a_println_runs_a_handler_that_does_not_print() {
    let sc = Scenario::start_with(lab!(), &[], Setup::default().hold_println("args is 1"));
    let procs = started(&sc, 3);
    let victim = procs.kids[1];
    sc.paused("println: args is 1");
    sc.step("child 1 is held inside its println!(\"args is 1\"); kill -15 child 1 now");
    sc.signal(victim, Signal::SIGTERM);
    sc.note(victim, "handler-run");
    sc.until_proc("the handler has returned: child 1 is back inside its println!, alive", victim, |p| {
        p.at_pause()
    });
    sc.until_stdout("the handler's own line arrives, written with write(2) while the println! waits", |o| {
        o.contains("SIGTERM caught: terminating every process in my list")
    });
    sc.release_pid(victim);
    sc.until("child 1 finishes its println!, sees the flag and stops by itself (notes \"stopped\")", |t| {
        !t.alive(victim) && sc.notes_now("stopped").iter().any(|(p, v, _)| *p == victim && v == "clean")
    });
    let others: Vec<i32> = procs.all().into_iter().filter(|&p| p != victim).collect();
    sc.until("the parent and the other children keep running", |t| others.iter().all(|&p| t.alive(p)));
}
