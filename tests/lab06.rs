//! Spec of lab 06 — late handler. Judges labs/06-late-handler (`cargo test -p lab06`) and
//! solutions/06-late-handler (`cargo test -p sol06`).
//!
//! The lab is post 000's second listing: three children forked, *then* a SIGTERM handler
//! registered in the parent, then the children joined in order.

use harness::prelude::*;
use rstest::rstest;

const N: usize = 3;

/// How long the spec watches a state that should persist ("still alive", "still a zombie").
const WINDOW: Duration = Duration::from_millis(300);

/// Starts the lab and waits until the parent has registered its handler and is blocked in
/// waitpid() for child 0. Returns (parent, children in fork order).
fn started(sc: &Scenario) -> (i32, Vec<i32>) {
    let parent = sc.role("parent");
    let kids: Vec<i32> = (0..N).map(|i| sc.role(&format!("child {i}"))).collect();
    let joining: i32 = sc.note(parent, "joining").parse().unwrap_or(-1);
    sc.expect_eq(
        joining,
        kids[0],
        &say!(
            "the parent joins the children in order: first child 0",
            "父进程按顺序 join 子进程：先是子进程 0"
        ),
    );
    sc.step(&say!(
        "the parent forked 3 children, then registered its SIGTERM handler, then called waitpid(child 0)",
        "父进程 fork 出 3 个子进程，然后注册它的 SIGTERM 处理函数，再调用 waitpid(child 0)"
    ));
    sc.until(
        &say!(
            "the parent is blocked in waitpid() (state S, kernel function do_wait)",
            "父进程阻塞在 waitpid() 中（状态 S，内核函数 do_wait）"
        ),
        |t| t.in_waitpid(parent),
    );
    (parent, kids)
}

/// What the parent reported with `labkit::note("reaped", "<pid> <how>")`.
fn reaped_by_parent(sc: &Scenario, parent: i32) -> Vec<String> {
    sc.notes_now("reaped").into_iter().filter(|(p, _, _)| *p == parent).map(|(_, v, _)| v).collect()
}

/// The handler was registered after the forks: it is in the parent's table of dispositions
/// (SigCgt has TERM), not in the children's — they still have the default action.
// hint: 1
#[rstest]
#[case::parent(None)]
#[case::child_0(Some(0))]
#[case::child_1(Some(1))]
#[case::child_2(Some(2))]
fn a_handler_registered_after_fork_is_in_the_parent_only(#[case] child: Option<usize>) {
    let sc = Scenario::start(lab!(), &[]);
    let (parent, kids) = started(&sc);
    let (pid, who, expected) = match child {
        None => (parent, say!("the parent", "父进程"), true),
        Some(i) => (kids[i], say!("child {i}", "子进程 {i}"), false),
    };
    let t = sc.snapshot();
    let Some(p) = t.get(pid) else { sc.fail(&say!("{who} ({pid}) is alive", "{who}（{pid}）活着")) };
    if child.is_some() {
        // 000: the handler was registered after the children started: they have none.
        let parent_has = t.get(parent).is_some_and(|q| q.catches(Signal::SIGTERM));
        let parent_does =
            if parent_has { say!("catches", "捕获") } else { say!("does not catch", "不捕获") };
        let child_does = if p.catches(Signal::SIGTERM) {
            say!("catches it too", "也捕获它")
        } else {
            say!("does not (default action)", "不捕获（采用默认动作）")
        };
        sc.claim_verdict(
            "late-handler-parent-only",
            Verdict::when(parent_has && !p.catches(Signal::SIGTERM)),
            &say!(
                "SigCgt: parent {parent} {parent_does} TERM, {who} ({pid}) {child_does}",
                "SigCgt：父进程 {parent} {parent_does} TERM，{who}（{pid}）{child_does}"
            ),
        );
    }
    sc.expect_eq(
        p.catches(Signal::SIGTERM),
        expected,
        &say!(
            "{who} ({pid}) catches SIGTERM (/proc/{pid}/status SigCgt has TERM)",
            "{who}（{pid}）捕获 SIGTERM（/proc/{pid}/status 的 SigCgt 中有 TERM）"
        ),
    );
    sc.expect(
        !p.ignores(Signal::SIGTERM),
        &say!("{who} does not ignore SIGTERM", "{who}（{pid}）不忽略 SIGTERM"),
    );
}

/// `kill -15 <child>`: the child has no handler, so the default action kills it — it alone.
/// The parent and the other children go on. The parent joins in order: a child other than
/// child 0 stays a zombie, because the parent is blocked in waitpid() for child 0.
// hint: 1
#[rstest]
#[case::child_0(0)]
#[case::child_1(1)]
#[case::child_2(2)]
fn sigterm_to_a_child_kills_only_that_child(#[case] k: usize) {
    let sc = Scenario::start(lab!(), &[]);
    let (parent, kids) = started(&sc);
    let victim = kids[k];
    let others: Vec<i32> = kids.iter().copied().filter(|&c| c != victim).collect();
    sc.step(&say!(
        "kill -15 child {k}: it has no handler of its own",
        "对子进程 {k} 执行 kill -15：它自己没有处理函数"
    ));
    sc.signal(victim, Signal::SIGTERM);
    if k == 0 {
        sc.step(&say!(
            "the parent was waiting for exactly this child: waitpid returns, the parent joins child 1",
            "父进程等待的正是这个子进程：waitpid 返回，父进程接着 join 子进程 1"
        ));
        let how = sc.note(parent, "reaped");
        sc.expect_eq(
            how.clone(),
            format!("{victim} killed by SIGTERM"),
            &say!("the parent reaps child 0, killed by SIGTERM", "父进程回收了被 SIGTERM 杀死的子进程 0"),
        );
        sc.until(
            &say!(
                "child 0 is gone (reaped) and the parent is blocked in waitpid() again",
                "子进程 0 已消失（已被回收），父进程又阻塞在 waitpid() 中"
            ),
            |t| t.gone(victim) && t.in_waitpid(parent),
        );
        // 000: ps shows the child "exited by itself". The child the parent was joining is
        // dead and gone from ps at once.
        sc.claim_verdict(
            "killed-child-zombie",
            Verdict::when(how == format!("{victim} killed by SIGTERM")),
            &say!(
                "child 0 ({victim}), the one the parent was joining, died of SIGTERM ({how}) and left ps at once",
                "子进程 0（{victim}），即父进程正在 join 的那个，死于 SIGTERM（{how}），并立即从 ps 中消失"
            ),
        );
        sc.stays(
            &say!("the parent and the other children keep running", "父进程和其他子进程继续运行"),
            WINDOW,
            |t| t.alive(parent) && others.iter().all(|&c| t.alive(c)),
        );
    } else {
        sc.until(
            &say!(
                "child {k} is a zombie of the parent, which is blocked in waitpid() again",
                "子进程 {k} 成了父进程的僵尸进程，而父进程又阻塞在 waitpid() 中"
            ),
            |t| t.zombie(victim) && t.ppid(victim) == Some(parent) && t.in_waitpid(parent),
        );
        sc.step(&say!(
            "the parent is still blocked in waitpid(child 0): nobody reaps the dead child",
            "父进程仍阻塞在 waitpid(child 0) 中：没有谁回收这个死去的子进程"
        ));
        sc.stays(
            &say!(
                "child {k} stays a zombie; the parent and the other children keep running",
                "子进程 {k} 一直是僵尸进程；父进程和其他子进程继续运行"
            ),
            WINDOW,
            |t| {
                t.zombie(victim)
                    && t.ppid(victim) == Some(parent)
                    && t.alive(parent)
                    && others.iter().all(|&c| t.alive(c))
            },
        );
        let joining: Vec<String> = sc.notes_now("joining").into_iter().map(|(_, v, _)| v).collect();
        sc.expect_eq(
            joining,
            vec![kids[0].to_string()],
            &say!("all along, the parent has been joining child 0 only", "父进程自始至终只在 join 子进程 0"),
        );
        sc.until(
            &say!("the parent is still blocked in waitpid(child 0)", "父进程仍阻塞在 waitpid(child 0) 中"),
            |t| t.in_waitpid(parent),
        );
        // Dead (part true), but not gone: ps shows it <defunct> while the parent joins child 0.
        let t = sc.snapshot();
        let shown = if t.zombie(victim) { "Z <defunct>".to_string() } else { say!("gone", "已消失") };
        let ms = WINDOW.as_millis();
        sc.claim_verdict(
            "killed-child-zombie",
            Verdict::of(&[t.zombie(victim) || t.gone(victim), t.gone(victim)]),
            &say!(
                "child {k} ({victim}) died of SIGTERM but ps showed it {shown} for {ms} ms while the parent waited for child 0",
                "子进程 {k}（{victim}）死于 SIGTERM，但在父进程等待子进程 0 的 {ms} 毫秒里，它在 ps 中的状态是：{shown}"
            ),
        );
    }
    let handlers = sc.notes_now("handler").len();
    let t = sc.snapshot();
    let ran_on = t.alive(parent) && others.iter().all(|&c| t.alive(c));
    let went = if ran_on {
        say!("ran on", "继续运行")
    } else {
        say!("did not all run on", "并未全都继续运行")
    };
    // 000: term is not entered; the main process and the other children are unaffected.
    sc.claim_verdict(
        "child-sigterm-kills-only-child",
        Verdict::when(handlers == 0 && ran_on && !t.alive(victim)),
        &say!(
            "SIGTERM to child {k} ({victim}): {handlers} handler run(s); it died; parent {parent} and siblings {others:?} {went}",
            "发给子进程 {k}（{victim}）的 SIGTERM：处理函数运行了 {handlers} 次；子进程死了；父进程 {parent} 和兄弟进程 {others:?} {went}"
        ),
    );
    sc.expect(
        handlers == 0,
        &say!(
            "no handler ran anywhere: SIGTERM to a child does not reach the parent",
            "哪里都没有运行处理函数：发给子进程的 SIGTERM 不会到达父进程"
        ),
    );
}

/// `kill -15 <parent>`: the handler runs and SIGTERMs the three children; the parent must then
/// still join (reap) all three and exit 0. Without SA_RESTART (what Python's signal.signal
/// does too) the waitpid the handler interrupted fails with EINTR — the post's "Interrupted
/// system call"; with SA_RESTART the kernel restarts it and nothing is seen.
// hint: 2
#[rstest]
#[case::without_sa_restart(&[], true)]
#[case::with_sa_restart(&["--restart"], false)]
fn sigterm_to_the_parent_terminates_the_children_then_the_parent_exits(
    #[case] args: &[&str],
    #[case] eintr: bool,
) {
    let sc = Scenario::start(lab!(), args);
    let (parent, kids) = started(&sc);
    sc.step(&say!(
        "kill -15 the parent while it is blocked in waitpid(child 0)",
        "趁父进程阻塞在 waitpid(child 0) 中，对它执行 kill -15"
    ));
    sc.signal(parent, Signal::SIGTERM);
    sc.note(parent, "handler");
    let terminated: Vec<i32> =
        sc.notes("terminate", N).iter().map(|(_, v, _)| v.parse().unwrap_or(-1)).collect();
    sc.expect_eq(
        terminated,
        kids.clone(),
        &say!(
            "the parent's handler terminates the children in its list, in order",
            "父进程的处理函数按顺序终止它列表中的子进程"
        ),
    );
    sc.expect_eq(
        sc.exit_of(parent),
        Exit::Code(0),
        &say!("the parent exits normally after its handler ran", "处理函数运行之后，父进程正常退出"),
    );
    sc.final_stdout();
    sc.step(&say!(
        "the parent has exited: what did its join see, and who reaped the children?",
        "父进程已退出：它的 join 看到了什么？子进程又是谁回收的？"
    ));
    let errors: Vec<String> = sc.notes_now("join-error").into_iter().map(|(_, v, _)| v).collect();
    // 000: join() fails with "Interrupted system call" when the signal arrives.
    let interrupted = errors.first().map(String::as_str) == Some("EINTR: Interrupted system call");
    let how = if eintr {
        say!(
            "without SA_RESTART (as Python's signal.signal installs it)",
            "不带 SA_RESTART（Python 的 signal.signal 就是这样安装处理函数的）"
        )
    } else {
        say!("with SA_RESTART", "带 SA_RESTART")
    };
    let then = match errors.first() {
        Some(e) => say!("returned {e}", "返回了 {e}"),
        None => say!("was restarted by the kernel: no error", "被内核重启了：没有错误"),
    };
    sc.claim_verdict(
        "join-eintr",
        Verdict::when(interrupted),
        &say!(
            "{how}: the waitpid the handler interrupted in parent {parent} {then}",
            "{how}：父进程 {parent} 中被处理函数打断的 waitpid {then}"
        ),
    );
    if eintr {
        sc.expect_eq(
            errors.first().map(String::as_str),
            Some("EINTR: Interrupted system call"),
            &say!(
                "without SA_RESTART, the waitpid() the handler interrupted fails with EINTR",
                "不带 SA_RESTART 时，被处理函数打断的 waitpid() 以 EINTR 失败"
            ),
        );
    } else {
        sc.expect_eq(
            errors,
            vec![],
            &say!(
                "with SA_RESTART the kernel restarts the interrupted waitpid(): no error",
                "带 SA_RESTART 时，内核会重启被打断的 waitpid()：没有错误"
            ),
        );
    }
    let expected: Vec<String> = kids.iter().map(|c| format!("{c} killed by SIGTERM")).collect();
    let reaped = reaped_by_parent(&sc, parent);
    // 000: kill -15 <main>: before it exits, the main process terminates the children.
    sc.claim_verdict(
        "parent-sigterm-terminates-children",
        Verdict::when(reaped == expected),
        &say!(
            "parent {parent}'s handler SIGTERMed {kids:?}; it reaped {reaped:?}, then exited 0",
            "父进程 {parent} 的处理函数向 {kids:?} 发送了 SIGTERM；父进程回收了 {reaped:?}，然后以 0 退出"
        ),
    );
    sc.expect_eq(
        reaped,
        expected,
        &say!(
            "the parent itself joins (reaps) every child its handler terminated, each killed by SIGTERM",
            "父进程自己 join（回收）它的处理函数终止的每个子进程，每个都是被 SIGTERM 杀死的"
        ),
    );
    sc.until_empty();
}

/// Started by a launcher that ignores SIGCHLD (an ignored disposition survives fork and exec),
/// the parent's children are reaped by the kernel the moment they die: once the handler has
/// terminated them, the retried waitpid fails with ECHILD — no child of that pid exists any
/// more, and waiting again can never succeed. EINTR means "wait again"; ECHILD means "stop".
// hint: 2
#[test]
fn after_eintr_the_join_waits_again_but_gives_up_on_echild() {
    let sc = Scenario::start_with(lab!(), &[], Setup::default().ignoring(Signal::SIGCHLD));
    sc.when_stuck(
        Where::Busy,
        &say!(
            "does your join loop give up on an error other than EINTR (ECHILD)?",
            "你的 join 循环遇到 EINTR 以外的错误（ECHILD）时会放弃吗？"
        ),
    );
    let (parent, _kids) = started(&sc);
    sc.step(&say!(
        "SIGCHLD is ignored (the launcher's doing): the kernel reaps each child as it dies",
        "SIGCHLD 被忽略了（是启动器设置的）：每个子进程一死，内核就回收它"
    ));
    sc.step(&say!(
        "kill -15 the parent: its handler terminates the children; its waitpid fails with EINTR",
        "对父进程执行 kill -15：它的处理函数终止子进程；它的 waitpid 以 EINTR 失败"
    ));
    sc.signal(parent, Signal::SIGTERM);
    sc.until(
        &say!(
            "the parent gives its join up and exits (or has seen more than two errors)",
            "父进程放弃 join 并退出（或已遇到两个以上的错误）"
        ),
        |_| sc.exit_now(parent).is_some() || sc.notes_now("join-error").len() > 2,
    );
    let errors: Vec<String> = sc.notes_now("join-error").into_iter().map(|(_, v, _)| v).collect();
    sc.expect_eq(
        errors.iter().take(3).cloned().collect::<Vec<_>>(),
        vec!["EINTR: Interrupted system call".to_string(), "ECHILD: No child processes".to_string()],
        &say!(
            "waitpid fails with EINTR (the handler ran: wait again), then with ECHILD (the kernel reaped the child: give up)",
            "waitpid 先以 EINTR 失败（处理函数运行过：再等一次），再以 ECHILD 失败（内核已回收子进程：放弃）"
        ),
    );
    sc.expect_eq(
        sc.exit_of(parent),
        Exit::Code(0),
        &say!("the parent exits normally after giving up", "父进程放弃之后正常退出"),
    );
    sc.until_empty();
}

/// A handler runs in the middle of whatever the main code is doing — even a `println!`. Here
/// the parent is held inside its own `println!("joined child …")` when the SIGTERM arrives: the
/// handler must do only async-signal-safe work (write(2), kill, atomics). A `println!` in it
/// finds stdout's buffer borrowed and aborts the process, every time.
// hint: 1
#[test]
fn a_sigterm_in_the_middle_of_a_println_runs_a_handler_that_does_not_print() {
    let sc = Scenario::start_with(lab!(), &["--restart"], Setup::default().hold_println("joined child"));
    let (parent, kids) = started(&sc);
    sc.step(&say!(
        "kill -15 child 0: the parent reaps it and prints \"joined child …\" — held inside that println!",
        "对子进程 0 执行 kill -15：父进程回收它，并打印 \"joined child …\"——被暂停在这个 println! 之中"
    ));
    sc.signal(kids[0], Signal::SIGTERM);
    sc.paused("println: joined child");
    sc.step(&say!(
        "kill -15 the parent now, in the middle of its println!",
        "现在对父进程执行 kill -15，此时它的 println! 正执行到一半"
    ));
    sc.signal(parent, Signal::SIGTERM);
    sc.note(parent, "handler");
    sc.until_proc(
        &say!(
            "the handler has returned: the parent is back inside its println!, alive",
            "处理函数已返回：父进程回到它的 println! 之中，仍然活着"
        ),
        parent,
        |p| p.at_pause(),
    );
    let terminated: Vec<i32> =
        sc.notes("terminate", N).iter().map(|(_, v, _)| v.parse().unwrap_or(-1)).collect();
    sc.expect_eq(
        terminated,
        kids.clone(),
        &say!(
            "the handler ran and terminated the children in its list",
            "处理函数运行了，并终止了它列表中的子进程"
        ),
    );
    sc.until_stdout(
        &say!(
            "the handler's own line arrives, written with write(2) while the println! waits",
            "处理函数自己的那一行出现了：它是在 println! 等待时用 write(2) 写出的"
        ),
        |o| o.contains("parent: SIGTERM caught, terminating the children"),
    );
    sc.release_pid(parent);
    sc.expect_eq(
        sc.exit_of(parent),
        Exit::Code(0),
        &say!(
            "the parent finishes its println!, joins the rest and exits",
            "父进程完成它的 println!，join 其余的子进程，然后退出"
        ),
    );
    let expected: Vec<String> = kids.iter().map(|c| format!("{c} killed by SIGTERM")).collect();
    sc.expect_eq(
        reaped_by_parent(&sc, parent),
        expected,
        &say!("the parent joined every child", "父进程 join 了每个子进程"),
    );
}

/// A join must wait again every time it is interrupted, not only once. Here the program was
/// started with SIGTERM ignored (only the parent installs a handler; its children keep the
/// launcher's SIG_IGN), so the handler's SIGTERMs end nobody and the join goes on waiting —
/// and a second SIGTERM interrupts the retried waitpid too.
// hint: 2
#[test]
fn the_join_waits_again_as_often_as_it_is_interrupted() {
    let sc = Scenario::start_with(lab!(), &[], Setup::default().ignoring(Signal::SIGTERM));
    let (parent, kids) = started(&sc);
    for round in 1..=2 {
        sc.step(&say!(
            "kill -15 the parent (SIGTERM number {round}): the children ignore the handler's SIGTERMs",
            "对父进程执行 kill -15（第 {round} 个 SIGTERM）：子进程忽略处理函数发给它们的 SIGTERM"
        ));
        sc.signal(parent, Signal::SIGTERM);
        sc.notes("join-error", round);
        let t = sc.until(
            &say!(
                "the parent leaves waitpid: back in it, or gone",
                "父进程离开 waitpid：又回到其中，或已消失"
            ),
            |t| t.in_waitpid(parent) || t.gone(parent) || t.zombie(parent),
        );
        sc.expect(
            t.in_waitpid(parent),
            &say!(
                "after the interruption number {round}, the parent waits for child 0 again (blocked in waitpid)",
                "第 {round} 次被打断之后，父进程再次等待子进程 0（阻塞在 waitpid 中）"
            ),
        );
    }
    sc.step(&say!(
        "the children are killed (SIGKILL): the join collects them",
        "子进程被杀死（SIGKILL）：join 把它们回收"
    ));
    for &k in &kids {
        sc.signal(k, Signal::SIGKILL);
    }
    sc.expect_eq(
        sc.exit_of(parent),
        Exit::Code(0),
        &say!("the parent joins every child and exits normally", "父进程 join 了每个子进程，然后正常退出"),
    );
    let expected: Vec<String> = kids.iter().map(|c| format!("{c} killed by SIGKILL")).collect();
    sc.expect_eq(
        reaped_by_parent(&sc, parent),
        expected,
        &say!("the parent joined every child", "父进程 join 了每个子进程"),
    );
}
