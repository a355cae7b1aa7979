//! Spec of lab 08 — killpg: the whole group, and only the group. Judges labs/08-killpg
//! (`cargo test -p lab08`) and solutions/08-killpg (`cargo test -p sol08`).
//!
//! `--naive` is the post's program (both packages have it); the default is the fixed one
//! (the exercise). `--launcher` starts the program the way a script without job control
//! would: in the launcher's own process group.

use harness::prelude::*;
use rstest::rstest;
use std::collections::BTreeSet;

const CHILDREN: usize = 3;

/// Who gets the `kill -TERM`.
#[derive(Clone, Copy, Debug)]
enum Who {
    Parent,
    Child(usize),
}

/// The processes of one run, once all of them are up and working.
struct Members {
    launcher: Option<i32>,
    parent: i32,
    children: Vec<i32>,
}

impl Members {
    fn all(&self) -> Vec<i32> {
        let mut v = vec![self.parent];
        v.extend(&self.children);
        v
    }
    fn pick(&self, who: Who) -> (i32, String) {
        match who {
            Who::Parent => (self.parent, "the parent".into()),
            Who::Child(i) => (self.children[i], format!("child {i}")),
        }
    }
}

/// Waits until the launcher (if any), the parent and every child have started and every
/// child is in its working loop.
#[track_caller]
fn members(sc: &Scenario, launcher: bool) -> Members {
    let launcher = launcher.then(|| sc.role("launcher"));
    let parent = sc.role("parent");
    let announced = sc.roles("child", CHILDREN);
    sc.note(parent, "started");
    // Children announce themselves in any order: put child i at index i.
    let mut children = vec![0; CHILDREN];
    for &c in &announced {
        sc.note(c, "pgid");
        let i: usize = sc.note(c, "index").parse().unwrap_or(usize::MAX);
        if i >= CHILDREN || children[i] != 0 {
            sc.fail(&format!("child {c} notes an index 0..{CHILDREN} no other child has — it noted {i}"));
        }
        children[i] = c;
    }
    Members { launcher, parent, children }
}

/// The notes under `key`, by pid, once the whole scenario has ended (the trace is complete).
fn notes_by_pid(sc: &Scenario, key: &str) -> Vec<(i32, String)> {
    sc.notes_now(key).into_iter().map(|(p, v, _)| (p, v)).collect()
}

/// Post 000's handler, `killpg(getpgid(getpid()), SIGKILL)`: SIGTERM to the parent or to any
/// child kills the whole group, at once, parent included — and nobody cleans up.
// hint: 1
#[rstest]
#[case::to_the_parent(Who::Parent)]
#[case::to_child_0(Who::Child(0))]
#[case::to_child_1(Who::Child(1))]
#[case::to_child_2(Who::Child(2))]
fn posts_handler_sigkills_the_whole_group_whoever_gets_sigterm(#[case] who: Who) {
    let sc = Scenario::start(lab!(), &["--naive"]);
    let m = members(&sc, false);
    let parent = m.parent;
    sc.step("the post's program: a parent and 3 children, all with the post's SIGTERM handler");
    sc.until(
        "the parent leads the group (the sandbox, like a job-control shell, gave it one) and every child is in it; every member catches SIGTERM",
        |t| m.all().iter().all(|&p| t.pgid(p) == Some(parent) && t.get(p).is_some_and(|x| x.catches(Signal::SIGTERM))),
    );
    let t = sc.snapshot();
    // 000: in the group, parent and children have the same group id: the parent's pid.
    sc.claim_verdict(
        "killpg-group-id",
        Verdict::when(m.all().iter().all(|&p| t.pgid(p) == Some(parent))),
        &format!(
            "started as a group leader (as a job-control shell starts a job), parent {parent} and its children were in group {}",
            t.pgid(parent).map_or("-".to_string(), |g| g.to_string())
        ),
    );
    let (target, name) = m.pick(who);
    sc.step(&format!("kill -TERM {target} ({name}): its handler calls killpg({parent}, SIGKILL)"));
    sc.signal(target, Signal::SIGTERM);
    sc.until(&format!("the whole group {parent} is gone: every member killed and reaped"), |t| {
        t.group(parent).is_empty()
    });
    let parent_died = sc.exit_of(parent);
    // 000: SIGTERM to the main process or to any child kills the group's main process and
    // children, all of them.
    sc.claim_verdict(
        "killpg-any-member",
        Verdict::when(parent_died == Exit::Signal(9, false) && sc.snapshot().group(parent).is_empty()),
        &format!(
            "SIGTERM to {name} ({target}) → every member of group {parent} gone; the parent: {parent_died}"
        ),
    );
    sc.expect_eq(parent_died, Exit::Signal(9, false), "the parent died of SIGKILL (signal 9)");
    sc.until_empty();
    let killpg = notes_by_pid(&sc, "killpg");
    let cleanups = notes_by_pid(&sc, "cleanup");
    // 000: SIGKILL to the group, "to prevent the infinite loop": one handler runs, and SIGKILL
    // has no handler to pass anything on.
    sc.claim_verdict(
        "killpg-no-loop",
        Verdict::when(killpg.len() == 1),
        &format!(
            "SIGTERM to {name}: {} handler run(s) ({killpg:?}: pid, group), then every member was dead — nothing to go round; {} of {} cleanups ran",
            killpg.len(),
            cleanups.len(),
            CHILDREN + 1
        ),
    );
    sc.expect_eq(
        killpg.clone(),
        vec![(target, parent.to_string())],
        "exactly one handler ran — in the process that got SIGTERM — and it killed group = the parent's pid",
    );
    let out = sc.final_stdout();
    sc.expect(
        cleanups.is_empty() && !out.contains("cleanup"),
        &format!("SIGKILL runs no cleanup anywhere: no cleanup note, no \"cleanup\" line — observed notes {cleanups:?}"),
    );
}

/// Started by a launcher without job control (a script, cron, a plain fork), the program is in
/// the launcher's group: the group id is the launcher's pid, and the post's handler SIGKILLs
/// the launcher too.
// hint: 1
#[rstest]
#[case::to_the_parent(Who::Parent)]
#[case::to_child_1(Who::Child(1))]
fn posts_handler_under_a_launcher_without_job_control_kills_the_launcher_too(#[case] who: Who) {
    let sc = Scenario::start(lab!(), &["--launcher", "--naive"]);
    let m = members(&sc, true);
    let launcher = m.launcher.expect("launcher");
    let parent = m.parent;
    sc.step("a launcher forks the post's program without giving it a group of its own");
    sc.until(
        &format!("the group id is the launcher's pid {launcher}, not the parent's {parent}: launcher, parent and children all in it"),
        |t| {
            parent != launcher
                && t.pgid(launcher) == Some(launcher)
                && m.all().iter().all(|&p| t.pgid(p) == Some(launcher))
        },
    );
    let t = sc.snapshot();
    let group = t.pgid(parent);
    let (target, name) = m.pick(who);
    sc.step(&format!("kill -TERM {target} ({name}): its handler calls killpg({launcher}, SIGKILL)"));
    sc.signal(target, Signal::SIGTERM);
    sc.until(&format!("the whole group {launcher} is gone — the launcher with it"), |t| {
        t.group(launcher).is_empty()
    });
    let launcher_died = sc.exit_of(launcher);
    sc.claim_verdict(
        "killpg-group-id",
        Verdict::when(group == Some(parent)),
        &format!(
            "started by a launcher without job control, parent {parent} and its children were in group {}, the launcher's: the post's killpg SIGKILLed the launcher too ({launcher_died})",
            group.map_or("-".to_string(), |g| g.to_string())
        ),
    );
    sc.expect_eq(
        launcher_died,
        Exit::Signal(9, false),
        "the launcher was SIGKILLed by the program it started",
    );
    sc.until_empty();
    sc.expect_eq(
        notes_by_pid(&sc, "killpg"),
        vec![(target, launcher.to_string())],
        "the handler of the process that got SIGTERM killed group = the launcher's pid",
    );
    // The launcher may reap the parent in the instant before its own SIGKILL lands: then the
    // sandbox never sees the parent's status. When it does, it is SIGKILL.
    if let Some(x) = sc.exit_now(parent) {
        sc.expect_eq(x, Exit::Signal(9, false), "the parent died of SIGKILL");
    }
    let out = sc.final_stdout();
    sc.expect(
        sc.notes_now("program-status").is_empty()
            && !out.contains(&format!("launcher {launcher}: the program")),
        "the launcher never reported how its program ended: it was dead before it could",
    );
}

/// The fix: the program leads its own group (setpgid(0, 0) before forking), the handler sends
/// SIGTERM to that group once, every member cleans up, and the launcher lives on, reaps the
/// program and reports how it ended.
// hint: 2
#[rstest]
#[case::to_the_parent(Who::Parent)]
#[case::to_child_0(Who::Child(0))]
#[case::to_child_1(Who::Child(1))]
#[case::to_child_2(Who::Child(2))]
fn the_fix_stops_its_own_group_gracefully_and_spares_the_launcher(#[case] who: Who) {
    let sc = Scenario::start(lab!(), &["--launcher"]);
    let m = members(&sc, true);
    let launcher = m.launcher.expect("launcher");
    let parent = m.parent;
    sc.step(
        "a launcher forks the fixed program; the program calls setpgid(0, 0) before forking its children",
    );
    let t = sc.snapshot();
    let groups: Vec<_> = std::iter::once(launcher).chain(m.all()).map(|p| (p, t.pgid(p))).collect();
    sc.expect(
        t.pgid(launcher) == Some(launcher) && m.all().iter().all(|&p| t.pgid(p) == Some(parent)),
        &format!(
            "the program leads a group of its own: parent and children in group {parent}, the launcher alone in {launcher} — observed (pid, pgid) {groups:?}"
        ),
    );
    sc.show("the launcher and the program's own group");
    let (target, name) = m.pick(who);
    sc.step(&format!("kill -TERM {target} ({name}): its handler sends SIGTERM to group {parent}"));
    sc.signal(target, Signal::SIGTERM);
    let status = sc.note(launcher, "program-status");
    sc.expect_eq(
        status.as_str(),
        "exited 0",
        "the launcher survives, reaps the program and reports how it ended",
    );
    sc.expect_eq(sc.exit_of(launcher), Exit::Code(0), "the launcher ends normally");
    sc.until(&format!("no zombie is left and group {parent} is gone"), |t| {
        t.group(parent).is_empty() && t.zombies().is_empty()
    });
    sc.until_empty();

    let cleaned: BTreeSet<i32> = notes_by_pid(&sc, "cleanup").into_iter().map(|(p, _)| p).collect();
    let everyone: BTreeSet<i32> = m.all().into_iter().collect();
    // 000: SIGTERM can be caught, and the process can clean up.
    sc.claim_verdict(
        "sigterm-cleanup",
        Verdict::when(cleaned == everyone),
        &format!(
            "SIGTERM to {name}, passed on to the group → {} of {} members caught it and cleaned up; launcher {launcher} saw \"{status}\" and exited 0",
            cleaned.len(),
            everyone.len()
        ),
    );
    sc.expect_eq(
        cleaned,
        everyone.clone(),
        "every member of the group ran its cleanup (pids that noted \"cleanup\")",
    );
    let mut reaped: Vec<(i32, String)> = notes_by_pid(&sc, "reaped")
        .into_iter()
        .filter(|(p, _)| *p == parent)
        .map(|(_, v)| {
            let (pid, what) = v.split_once(' ').unwrap_or((&v, ""));
            (pid.parse().unwrap_or(-1), what.to_string())
        })
        .collect();
    reaped.sort();
    let mut expected: Vec<(i32, String)> = m.children.iter().map(|&c| (c, "exited 0".to_string())).collect();
    expected.sort();
    sc.expect_eq(reaped, expected, "the parent reaped every child, each exited 0 after its cleanup");
    let killpg = notes_by_pid(&sc, "killpg");
    let senders: BTreeSet<i32> = killpg.iter().map(|(p, _)| *p).collect();
    sc.expect(
        killpg.first().map(|(p, _)| *p) == Some(target)
            && killpg.iter().all(|(_, g)| *g == parent.to_string())
            && senders.len() == killpg.len()
            && senders == everyone,
        &format!(
            "the first SIGTERM to the group came from {name}; then every member forwarded it exactly once (on its first SIGTERM), all to group {parent}, the launcher never — observed (pid, group) {killpg:?}"
        ),
    );
    sc.expect(
        sc.notes_now("sigkill").is_empty(),
        "nobody needed SIGKILL: every child ended within the grace period",
    );
}

/// `kill -TERM -PGID` from outside (the shell's way to stop a job) does the same: every member
/// gets SIGTERM at once, cleans up and exits. Run both as a job of a shell (a group leader in
/// the shell's session) and as `setsid ./lab08` (the leader of a session of its own): a session
/// leader already leads its group and may not move — `setpgid(0, 0)` fails with EPERM there.
// hint: 4
#[rstest]
fn with_sigterm_to_the_group_from_outside_the_fix_stops_gracefully_too(
    #[values(false, true)] session_leader: bool,
) {
    let sc = Scenario::start_with(lab!(), &[], Setup::default().session_leader(session_leader));
    let m = members(&sc, false);
    let parent = m.parent;
    sc.until("the parent leads the group and its children are in it", |t| {
        m.all().iter().all(|&p| t.pgid(p) == Some(parent))
    });
    sc.step(&format!("kill -TERM -{parent}: SIGTERM to every member of the group"));
    sc.signal_group(parent, Signal::SIGTERM);
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), "the parent exits normally after its cleanup");
    sc.until_empty();
    let cleaned: BTreeSet<i32> = notes_by_pid(&sc, "cleanup").into_iter().map(|(p, _)| p).collect();
    sc.expect_eq(cleaned, m.all().into_iter().collect(), "every member of the group ran its cleanup");
}

/// A child that ignores SIGTERM is SIGKILLed by the parent — only after the grace period, and
/// only that child; the others have cleaned up by then.
// hint: 4
#[test]
fn with_a_stubborn_child_the_fix_sigkills_it_only_after_the_grace_period() {
    const GRACE_MS: i128 = 300;
    let sc = Scenario::start(lab!(), &["--launcher", "--stubborn", "--grace-ms", "300"]);
    let m = members(&sc, true);
    let launcher = m.launcher.expect("launcher");
    let parent = m.parent;
    let stubborn = m.children[0];
    sc.note(stubborn, "stubborn");
    sc.step("a launcher forks the fixed program; its child 0 ignores SIGTERM; grace period 300 ms");
    let t = sc.snapshot();
    sc.expect(
        m.all().iter().all(|&p| t.pgid(p) == Some(parent)) && t.pgid(launcher) == Some(launcher),
        &format!("the program leads a group of its own ({parent}), apart from the launcher ({launcher})"),
    );
    sc.expect(
        t.get(stubborn).is_some_and(|p| p.ignores(Signal::SIGTERM)),
        &format!("child 0 ({stubborn}) ignores SIGTERM (SigIgn in /proc)"),
    );
    sc.show("the program in its own group; child 0 ignores TERM");
    sc.step(&format!("kill -TERM {parent} (the parent); child 0 ignores the group's SIGTERM"));
    sc.signal(parent, Signal::SIGTERM);
    let others: Vec<i32> = m.children[1..].to_vec();
    sc.until("the cooperative children have cleaned up and been reaped; the stubborn one still runs", |t| {
        others.iter().all(|&c| t.gone(c)) && t.alive(stubborn) && t.alive(parent)
    });
    sc.step("the grace period runs out: the parent SIGKILLs the child still alive");
    let status = sc.note(launcher, "program-status");
    sc.expect_eq(status.as_str(), "exited 0", "the launcher survives and reports the program's status");
    sc.until_empty();

    let term_at = sc.notes_now("killpg").iter().find(|(p, _, _)| *p == parent).map(|(_, _, t)| *t);
    let kills = sc.notes_now("sigkill");
    sc.expect(
        kills.len() == 1 && kills[0].0 == parent && kills[0].1 == stubborn.to_string(),
        &format!(
            "the parent SIGKILLed exactly the stubborn child {stubborn} — observed (pid, target, t) {kills:?}"
        ),
    );
    let waited_ms = term_at.map(|t0| (kills[0].2 - t0) / 1_000_000);
    sc.expect(
        waited_ms.is_some_and(|ms| ms >= GRACE_MS),
        &format!("SIGKILL came only after the grace period of {GRACE_MS} ms — observed {waited_ms:?} ms after the parent's SIGTERM to the group"),
    );
    let reaped: Vec<String> =
        sc.notes_now("reaped").into_iter().filter(|(p, _, _)| *p == parent).map(|(_, v, _)| v).collect();
    sc.expect(
        reaped.contains(&format!("{stubborn} killed by SIGKILL"))
            && others.iter().all(|c| reaped.contains(&format!("{c} exited 0"))),
        &format!("the parent reaped the stubborn child killed by SIGKILL and the others exited 0 — observed {reaped:?}"),
    );
    let cleaned: BTreeSet<i32> = notes_by_pid(&sc, "cleanup").into_iter().map(|(p, _)| p).collect();
    let expected: BTreeSet<i32> = m.all().into_iter().filter(|&p| p != stubborn).collect();
    sc.claim_verdict(
        "sigterm-cleanup",
        Verdict::when(cleaned == expected),
        &format!(
            "the {} members that caught SIGTERM cleaned up; a child that ignores it was SIGKILLed {} ms after the group's SIGTERM (grace {GRACE_MS} ms) and could not",
            cleaned.len(),
            waited_ms.unwrap_or(-1)
        ),
    );
    sc.expect_eq(cleaned, expected, "every member but the SIGKILLed one ran its cleanup");
}

/// A handler runs in the middle of whatever the process is doing — even a `println!`. Child 1
/// is held inside its own `println!("args is 1")` when the SIGTERM arrives: the handler must
/// do only async-signal-safe work (an atomic swap, getpgid, killpg). A `println!` in it finds
/// stdout's buffer borrowed and aborts the process, every time.
// hint: 3
#[test]
fn the_fix_a_sigterm_in_the_middle_of_a_println_runs_a_handler_that_does_not_print() {
    let sc = Scenario::start_with(lab!(), &[], Setup::default().hold_println("args is 1"));
    let m = members(&sc, false);
    let child = m.children[1];
    sc.paused("println: args is 1");
    sc.step("child 1 is held inside its println!(\"args is 1\"); kill -TERM child 1 now");
    sc.signal(child, Signal::SIGTERM);
    sc.note(child, "killpg");
    sc.until_proc("the handler has returned: child 1 is back inside its println!, alive", child, |p| {
        p.at_pause()
    });
    sc.release_pid(child);
    sc.expect_eq(sc.exit_of(m.parent), Exit::Code(0), "the parent exits normally after its cleanup");
    sc.until_empty();
    let cleaned: BTreeSet<i32> = notes_by_pid(&sc, "cleanup").into_iter().map(|(p, _)| p).collect();
    sc.expect_eq(cleaned, m.all().into_iter().collect(), "every member of the group ran its cleanup");
}
