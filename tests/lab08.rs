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
            Who::Parent => (self.parent, say!("the parent", "父进程")),
            Who::Child(i) => (self.children[i], say!("child {i}", "子进程 {i}")),
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
            sc.fail(&say!(
                "child {c} notes an index 0..{CHILDREN} no other child has — it noted {i}",
                "子进程 {c} 应当记下一个 0..{CHILDREN} 之间、别的子进程都没有的序号——它记下的是 {i}"
            ));
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
    sc.step(&say!(
        "the post's program: a parent and 3 children, all with the post's SIGTERM handler",
        "博文的程序：一个父进程和 3 个子进程，都装有博文中的 SIGTERM 处理函数"
    ));
    sc.until(
        &say!(
            "the parent leads the group (the sandbox, like a job-control shell, gave it one) and every child is in it; every member catches SIGTERM",
            "父进程是进程组组长（沙箱像支持作业控制的 shell 一样给了它一个进程组），每个子进程都在组里；每个成员都捕获 SIGTERM"
        ),
        |t| m.all().iter().all(|&p| t.pgid(p) == Some(parent) && t.get(p).is_some_and(|x| x.catches(Signal::SIGTERM))),
    );
    let t = sc.snapshot();
    let group = t.pgid(parent).map_or("-".to_string(), |g| g.to_string());
    // 000: in the group, parent and children have the same group id: the parent's pid.
    sc.claim_verdict(
        "killpg-group-id",
        Verdict::when(m.all().iter().all(|&p| t.pgid(p) == Some(parent))),
        &say!(
            "started as a group leader (as a job-control shell starts a job), parent {parent} and its children were in group {group}",
            "以进程组组长的身份启动（就像支持作业控制的 shell 启动一个作业），父进程 {parent} 和它的子进程都在进程组 {group} 中"
        ),
    );
    let (target, name) = m.pick(who);
    sc.step(&say!(
        "kill -TERM {target} ({name}): its handler calls killpg({parent}, SIGKILL)",
        "kill -TERM {target}（{name}）：它的处理函数调用 killpg({parent}, SIGKILL)"
    ));
    sc.signal(target, Signal::SIGTERM);
    sc.until(
        &say!(
            "the whole group {parent} is gone: every member killed and reaped",
            "整个进程组 {parent} 都没了：每个成员都被杀死并被回收"
        ),
        |t| t.group(parent).is_empty(),
    );
    let parent_died = sc.exit_of(parent);
    // 000: SIGTERM to the main process or to any child kills the group's main process and
    // children, all of them.
    sc.claim_verdict(
        "killpg-any-member",
        Verdict::when(parent_died == Exit::Signal(9, false) && sc.snapshot().group(parent).is_empty()),
        &say!(
            "SIGTERM to {name} ({target}) → every member of group {parent} gone; the parent: {parent_died}",
            "SIGTERM 发给{name}（{target}）→ 进程组 {parent} 的每个成员都没了；父进程：{parent_died}"
        ),
    );
    sc.expect_eq(
        parent_died,
        Exit::Signal(9, false),
        &say!("the parent died of SIGKILL (signal 9)", "父进程死于 SIGKILL（信号 9）"),
    );
    sc.until_empty();
    let killpg = notes_by_pid(&sc, "killpg");
    let cleanups = notes_by_pid(&sc, "cleanup");
    let (runs, cleaned, members) = (killpg.len(), cleanups.len(), CHILDREN + 1);
    // 000: SIGKILL to the group, "to prevent the infinite loop": one handler runs, and SIGKILL
    // has no handler to pass anything on.
    sc.claim_verdict(
        "killpg-no-loop",
        Verdict::when(killpg.len() == 1),
        &say!(
            "SIGTERM to {name}: {runs} handler run(s) ({killpg:?}: pid, group), then every member was dead — nothing to go round; {cleaned} of {members} cleanups ran",
            "SIGTERM 发给{name}：处理函数运行了 {runs} 次（{killpg:?}：pid，进程组），随后每个成员都已死去——没有什么能再传下去；{members} 次清理中运行了 {cleaned} 次"
        ),
    );
    sc.expect_eq(
        killpg.clone(),
        vec![(target, parent.to_string())],
        &say!(
            "exactly one handler ran — in the process that got SIGTERM — and it killed group = the parent's pid",
            "恰好运行了一个处理函数——在收到 SIGTERM 的那个进程中——它杀死的进程组 = 父进程的 pid"
        ),
    );
    let out = sc.final_stdout();
    sc.expect(
        cleanups.is_empty() && !out.contains("cleanup"),
        &say!(
            "SIGKILL runs no cleanup anywhere: no cleanup note, no \"cleanup\" line — observed notes {cleanups:?}",
            "SIGKILL 不会让任何进程运行清理：没有 cleanup 记录，也没有“cleanup”这行输出——实际记录为 {cleanups:?}"
        ),
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
    sc.step(&say!(
        "a launcher forks the post's program without giving it a group of its own",
        "一个启动器 fork 出博文的程序，但没有给它一个自己的进程组"
    ));
    sc.until(
        &say!(
            "the group id is the launcher's pid {launcher}, not the parent's {parent}: launcher, parent and children all in it",
            "进程组 ID 是启动器的 pid {launcher}，而不是父进程的 {parent}：启动器、父进程和子进程都在这个组里"
        ),
        |t| {
            parent != launcher
                && t.pgid(launcher) == Some(launcher)
                && m.all().iter().all(|&p| t.pgid(p) == Some(launcher))
        },
    );
    let t = sc.snapshot();
    let group = t.pgid(parent);
    let (target, name) = m.pick(who);
    sc.step(&say!(
        "kill -TERM {target} ({name}): its handler calls killpg({launcher}, SIGKILL)",
        "kill -TERM {target}（{name}）：它的处理函数调用 killpg({launcher}, SIGKILL)"
    ));
    sc.signal(target, Signal::SIGTERM);
    sc.until(
        &say!(
            "the whole group {launcher} is gone — the launcher with it",
            "整个进程组 {launcher} 都没了——启动器也一起没了"
        ),
        |t| t.group(launcher).is_empty(),
    );
    let launcher_died = sc.exit_of(launcher);
    let group_id = group.map_or("-".to_string(), |g| g.to_string());
    sc.claim_verdict(
        "killpg-group-id",
        Verdict::when(group == Some(parent)),
        &say!(
            "started by a launcher without job control, parent {parent} and its children were in group {group_id}, the launcher's: the post's killpg SIGKILLed the launcher too ({launcher_died})",
            "由没有作业控制的启动器启动，父进程 {parent} 和它的子进程都在进程组 {group_id} 中，也就是启动器的组：博文的 killpg 把启动器也 SIGKILL 了（{launcher_died}）"
        ),
    );
    sc.expect_eq(
        launcher_died,
        Exit::Signal(9, false),
        &say!("the launcher was SIGKILLed by the program it started", "启动器被它自己启动的程序 SIGKILL 了"),
    );
    sc.until_empty();
    sc.expect_eq(
        notes_by_pid(&sc, "killpg"),
        vec![(target, launcher.to_string())],
        &say!(
            "the handler of the process that got SIGTERM killed group = the launcher's pid",
            "收到 SIGTERM 的进程的处理函数杀死的进程组 = 启动器的 pid"
        ),
    );
    // The launcher may reap the parent in the instant before its own SIGKILL lands: then the
    // sandbox never sees the parent's status. When it does, it is SIGKILL.
    if let Some(x) = sc.exit_now(parent) {
        sc.expect_eq(x, Exit::Signal(9, false), &say!("the parent died of SIGKILL", "父进程死于 SIGKILL"));
    }
    let out = sc.final_stdout();
    sc.expect(
        sc.notes_now("program-status").is_empty()
            && !out.contains(&format!("launcher {launcher}: the program")),
        &say!(
            "the launcher never reported how its program ended: it was dead before it could",
            "启动器始终没有报告它的程序是怎样结束的：它还没来得及报告就死了"
        ),
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
    sc.step(&say!(
        "a launcher forks the fixed program; the program calls setpgid(0, 0) before forking its children",
        "一个启动器 fork 出修正后的程序；程序在 fork 子进程之前调用 setpgid(0, 0)"
    ));
    let t = sc.snapshot();
    let groups: Vec<_> = std::iter::once(launcher).chain(m.all()).map(|p| (p, t.pgid(p))).collect();
    sc.expect(
        t.pgid(launcher) == Some(launcher) && m.all().iter().all(|&p| t.pgid(p) == Some(parent)),
        &say!(
            "the program leads a group of its own: parent and children in group {parent}, the launcher alone in {launcher} — observed (pid, pgid) {groups:?}",
            "程序领导一个自己的进程组：父进程和子进程都在进程组 {parent} 中，启动器独自在 {launcher} 中——实际为 (pid, pgid) {groups:?}"
        ),
    );
    sc.show(&say!("the launcher and the program's own group", "启动器，以及程序自己的进程组"));
    let (target, name) = m.pick(who);
    sc.step(&say!(
        "kill -TERM {target} ({name}): its handler sends SIGTERM to group {parent}",
        "kill -TERM {target}（{name}）：它的处理函数向进程组 {parent} 发送 SIGTERM"
    ));
    sc.signal(target, Signal::SIGTERM);
    let status = sc.note(launcher, "program-status");
    sc.expect_eq(
        status.as_str(),
        "exited 0",
        &say!(
            "the launcher survives, reaps the program and reports how it ended",
            "启动器活了下来，回收了程序，并报告程序是怎样结束的"
        ),
    );
    sc.expect_eq(sc.exit_of(launcher), Exit::Code(0), &say!("the launcher ends normally", "启动器正常结束"));
    sc.until(
        &say!("no zombie is left and group {parent} is gone", "没有留下僵尸进程，进程组 {parent} 也没了"),
        |t| t.group(parent).is_empty() && t.zombies().is_empty(),
    );
    sc.until_empty();

    let cleaned: BTreeSet<i32> = notes_by_pid(&sc, "cleanup").into_iter().map(|(p, _)| p).collect();
    let everyone: BTreeSet<i32> = m.all().into_iter().collect();
    let (n_cleaned, n_members) = (cleaned.len(), everyone.len());
    // 000: SIGTERM can be caught, and the process can clean up.
    sc.claim_verdict(
        "sigterm-cleanup",
        Verdict::when(cleaned == everyone),
        &say!(
            "SIGTERM to {name}, passed on to the group → {n_cleaned} of {n_members} members caught it and cleaned up; launcher {launcher} saw \"{status}\" and exited 0",
            "SIGTERM 发给{name}，再转发给整个进程组 → {n_members} 个成员中有 {n_cleaned} 个捕获了它并完成清理；启动器 {launcher} 看到“{status}”，然后以 0 退出"
        ),
    );
    sc.expect_eq(
        cleaned,
        everyone.clone(),
        &say!(
            "every member of the group ran its cleanup (pids that noted \"cleanup\")",
            "进程组的每个成员都运行了清理（记下“cleanup”的 pid）"
        ),
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
    sc.expect_eq(
        reaped,
        expected,
        &say!(
            "the parent reaped every child, each exited 0 after its cleanup",
            "父进程回收了每个子进程，每个都在清理之后以 0 退出"
        ),
    );
    let killpg = notes_by_pid(&sc, "killpg");
    let senders: BTreeSet<i32> = killpg.iter().map(|(p, _)| *p).collect();
    sc.expect(
        killpg.first().map(|(p, _)| *p) == Some(target)
            && killpg.iter().all(|(_, g)| *g == parent.to_string())
            && senders.len() == killpg.len()
            && senders == everyone,
        &say!(
            "the first SIGTERM to the group came from {name}; then every member forwarded it exactly once (on its first SIGTERM), all to group {parent}, the launcher never — observed (pid, group) {killpg:?}",
            "发给进程组的第一个 SIGTERM 来自{name}；之后每个成员都恰好转发了一次（在收到第一个 SIGTERM 时），全都发给进程组 {parent}，启动器一次也没有——实际为 (pid, 进程组) {killpg:?}"
        ),
    );
    sc.expect(
        sc.notes_now("sigkill").is_empty(),
        &say!(
            "nobody needed SIGKILL: every child ended within the grace period",
            "谁也不需要 SIGKILL：每个子进程都在宽限期内结束了"
        ),
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
    sc.until(
        &say!(
            "the parent leads the group and its children are in it",
            "父进程是进程组组长，它的子进程都在组里"
        ),
        |t| m.all().iter().all(|&p| t.pgid(p) == Some(parent)),
    );
    sc.step(&say!(
        "kill -TERM -{parent}: SIGTERM to every member of the group",
        "kill -TERM -{parent}：向进程组的每个成员发送 SIGTERM"
    ));
    sc.signal_group(parent, Signal::SIGTERM);
    sc.expect_eq(
        sc.exit_of(parent),
        Exit::Code(0),
        &say!("the parent exits normally after its cleanup", "父进程清理之后正常退出"),
    );
    sc.until_empty();
    let cleaned: BTreeSet<i32> = notes_by_pid(&sc, "cleanup").into_iter().map(|(p, _)| p).collect();
    sc.expect_eq(
        cleaned,
        m.all().into_iter().collect(),
        &say!("every member of the group ran its cleanup", "进程组的每个成员都运行了清理"),
    );
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
    sc.step(&say!(
        "a launcher forks the fixed program; its child 0 ignores SIGTERM; grace period 300 ms",
        "一个启动器 fork 出修正后的程序；程序的子进程 0 忽略 SIGTERM；宽限期 300 毫秒"
    ));
    let t = sc.snapshot();
    sc.expect(
        m.all().iter().all(|&p| t.pgid(p) == Some(parent)) && t.pgid(launcher) == Some(launcher),
        &say!(
            "the program leads a group of its own ({parent}), apart from the launcher ({launcher})",
            "程序领导一个自己的进程组（{parent}），与启动器（{launcher}）分开"
        ),
    );
    sc.expect(
        t.get(stubborn).is_some_and(|p| p.ignores(Signal::SIGTERM)),
        &say!(
            "child 0 ({stubborn}) ignores SIGTERM (SigIgn in /proc)",
            "子进程 0（{stubborn}）忽略 SIGTERM（/proc 中的 SigIgn）"
        ),
    );
    sc.show(&say!(
        "the program in its own group; child 0 ignores TERM",
        "程序在它自己的进程组中；子进程 0 忽略 TERM"
    ));
    sc.step(&say!(
        "kill -TERM {parent} (the parent); child 0 ignores the group's SIGTERM",
        "kill -TERM {parent}（父进程）；子进程 0 忽略发给进程组的 SIGTERM"
    ));
    sc.signal(parent, Signal::SIGTERM);
    let others: Vec<i32> = m.children[1..].to_vec();
    sc.until(
        &say!(
            "the cooperative children have cleaned up and been reaped; the stubborn one still runs",
            "配合的子进程都已清理完毕并被回收；顽固的那个仍在运行"
        ),
        |t| others.iter().all(|&c| t.gone(c)) && t.alive(stubborn) && t.alive(parent),
    );
    sc.step(&say!(
        "the grace period runs out: the parent SIGKILLs the child still alive",
        "宽限期到了：父进程用 SIGKILL 杀死仍然活着的那个子进程"
    ));
    let status = sc.note(launcher, "program-status");
    sc.expect_eq(
        status.as_str(),
        "exited 0",
        &say!(
            "the launcher survives and reports the program's status",
            "启动器活了下来，并报告了程序的退出状态"
        ),
    );
    sc.until_empty();

    let term_at = sc.notes_now("killpg").iter().find(|(p, _, _)| *p == parent).map(|(_, _, t)| *t);
    let kills = sc.notes_now("sigkill");
    sc.expect(
        kills.len() == 1 && kills[0].0 == parent && kills[0].1 == stubborn.to_string(),
        &say!(
            "the parent SIGKILLed exactly the stubborn child {stubborn} — observed (pid, target, t) {kills:?}",
            "父进程 SIGKILL 的恰好是顽固的子进程 {stubborn}——实际为 (pid, 目标, t) {kills:?}"
        ),
    );
    let waited_ms = term_at.map(|t0| (kills[0].2 - t0) / 1_000_000);
    sc.expect(
        waited_ms.is_some_and(|ms| ms >= GRACE_MS),
        &say!(
            "SIGKILL came only after the grace period of {GRACE_MS} ms — observed {waited_ms:?} ms after the parent's SIGTERM to the group",
            "SIGKILL 只在 {GRACE_MS} 毫秒的宽限期过后才到来——实际为父进程向进程组发送 SIGTERM 之后 {waited_ms:?} 毫秒"
        ),
    );
    let reaped: Vec<String> =
        sc.notes_now("reaped").into_iter().filter(|(p, _, _)| *p == parent).map(|(_, v, _)| v).collect();
    sc.expect(
        reaped.contains(&format!("{stubborn} killed by SIGKILL"))
            && others.iter().all(|c| reaped.contains(&format!("{c} exited 0"))),
        &say!(
            "the parent reaped the stubborn child killed by SIGKILL and the others exited 0 — observed {reaped:?}",
            "父进程回收了被 SIGKILL 杀死的顽固子进程，其余子进程都以 0 退出——实际为 {reaped:?}"
        ),
    );
    let cleaned: BTreeSet<i32> = notes_by_pid(&sc, "cleanup").into_iter().map(|(p, _)| p).collect();
    let expected: BTreeSet<i32> = m.all().into_iter().filter(|&p| p != stubborn).collect();
    let (n_cleaned, waited) = (cleaned.len(), waited_ms.unwrap_or(-1));
    sc.claim_verdict(
        "sigterm-cleanup",
        Verdict::when(cleaned == expected),
        &say!(
            "the {n_cleaned} members that caught SIGTERM cleaned up; a child that ignores it was SIGKILLed {waited} ms after the group's SIGTERM (grace {GRACE_MS} ms) and could not",
            "捕获了 SIGTERM 的 {n_cleaned} 个成员都完成了清理；忽略它的子进程在发给进程组的 SIGTERM 之后 {waited} 毫秒被 SIGKILL（宽限期 {GRACE_MS} 毫秒），没能清理"
        ),
    );
    sc.expect_eq(
        cleaned,
        expected,
        &say!(
            "every member but the SIGKILLed one ran its cleanup",
            "除了被 SIGKILL 的那个，每个成员都运行了清理"
        ),
    );
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
    sc.step(&say!(
        "child 1 is held inside its println!(\"args is 1\"); kill -TERM child 1 now",
        "子进程 1 停在它的 println!(\"args is 1\") 之中；现在 kill -TERM 子进程 1"
    ));
    sc.signal(child, Signal::SIGTERM);
    sc.note(child, "killpg");
    sc.until_proc(
        &say!(
            "the handler has returned: child 1 is back inside its println!, alive",
            "处理函数已经返回：子进程 1 回到了它的 println! 之中，仍然活着"
        ),
        child,
        |p| p.at_pause(),
    );
    sc.release_pid(child);
    sc.expect_eq(
        sc.exit_of(m.parent),
        Exit::Code(0),
        &say!("the parent exits normally after its cleanup", "父进程清理之后正常退出"),
    );
    sc.until_empty();
    let cleaned: BTreeSet<i32> = notes_by_pid(&sc, "cleanup").into_iter().map(|(p, _)| p).collect();
    sc.expect_eq(
        cleaned,
        m.all().into_iter().collect(),
        &say!("every member of the group ran its cleanup", "进程组的每个成员都运行了清理"),
    );
}
