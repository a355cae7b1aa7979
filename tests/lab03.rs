//! Spec of lab 03 — orphan. Judges labs/03-orphan (`cargo test -p lab03`) and
//! solutions/03-orphan (`cargo test -p sol03`).

use harness::prelude::*;
use rstest::rstest;

/// How soon after its parent's death the orphan must report its new parent (it watches
/// getppid() every millisecond; a child that slept instead is late).
const PROMPT_MS: i128 = 150;

/// Post 002 says the orphan is "managed by pid 1". Partly: it goes to the nearest child
/// subreaper (the sandbox here), and only without one to pid 1.
///
/// The parent is kept alive for a while (100 ms, then 400 ms in the second case) before it
/// exits: a child that reports while its parent still lives did not wait to be orphaned, and
/// one that reports more than 150 ms after the death was not watching — whatever it slept,
/// a child that looks only once fails one of the two cases, every run. The second case also
/// runs without a PID namespace, where the sandbox is not pid 1: "wait for pid 1" never ends.
// hint: 1
#[rstest]
#[case::parent_lingers_100_ms(100, false)]
#[case::parent_lingers_400_ms_no_pid_namespace(400, true)]
fn an_orphan_is_adopted_by_the_nearest_subreaper_not_pid_1(#[case] linger_ms: u64, #[case] no_pidns: bool) {
    let setup = if no_pidns { Setup::default().without_pid_namespace() } else { Setup::default() };
    let sc = Scenario::start_with(lab!(), &[], setup);
    sc.when_stuck(
        Where::Asleep,
        &say!(
            "does your child wait until getppid() changes — to any pid, not only 1?",
            "你的子进程是否一直等到 getppid() 改变——变成任何 pid 都算，而不只是 1？"
        ),
    );
    let parent = sc.role("parent");
    let child = sc.role("child");
    let sandbox = sc.sandbox_pid();
    sc.paused("the parent is about to exit");
    sc.show(&say!("the child has started; its parent is still alive", "子进程已经启动；它的父进程还活着"));
    let t = sc.snapshot();
    let (group, parent_group) = (
        t.pgid(child).map_or("-".to_string(), |g| g.to_string()),
        t.pgid(parent).map_or("-".to_string(), |g| g.to_string()),
    );
    // 000: the main process and the children it created are in one group.
    sc.claim_verdict(
        "orphan-group",
        Verdict::when(t.pgid(child).is_some() && t.pgid(child) == t.pgid(parent)),
        &say!(
            "child {child} was in process group {group}, its parent {parent} in {parent_group}",
            "子进程 {child} 在进程组 {group} 中，它的父进程 {parent} 在进程组 {parent_group} 中"
        ),
    );
    sc.stays(
        &say!(
            "the child does not report a new parent while its parent {parent} still lives",
            "父进程 {parent} 还活着时，子进程不报告新的父进程"
        ),
        Duration::from_millis(linger_ms),
        |_| sc.notes_now("new-ppid").is_empty(),
    );
    sc.step(&say!(
        "the parent exits without waiting; the child goes on",
        "父进程不等待（wait）子进程就退出；子进程继续运行"
    ));
    sc.release();
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), &say!("the parent exits normally", "父进程正常退出"));
    let died = sc.reaped_at(parent).unwrap_or(0);
    let adopter: i32 = sc.note(child, "new-ppid").parse().unwrap_or(-1);
    let reported = sc.notes("new-ppid", 1)[0].2;
    let late_ms = (reported - died) / 1_000_000;
    // 002: the orphan goes to pid 1. Here the nearest child subreaper adopts it — the sandbox,
    // which is pid 1 as well when the scenario has a PID namespace of its own.
    sc.claim_verdict(
        "orphan-pid1",
        Verdict::when(adopter == 1),
        &if adopter == 1 {
            say!(
                "orphan {child} of {parent}: getppid() became 1 — the sandbox, pid 1 of the scenario's PID namespace and a child subreaper too",
                "父进程 {parent} 留下的孤儿进程 {child}：getppid() 变成了 1——即沙箱，它是场景的 PID 命名空间中的 1 号进程，也是子进程收割者"
            )
        } else {
            say!(
                "orphan {child} of {parent}: getppid() became {adopter}, not 1 — the sandbox {sandbox}, the nearest child subreaper above it (no PID namespace: the machine's pid 1 and the test runner, a subreaper too, are further up)",
                "父进程 {parent} 留下的孤儿进程 {child}：getppid() 变成了 {adopter}，不是 1——即沙箱 {sandbox}，它上方最近的子进程收割者（没有 PID 命名空间：本机的 1 号进程，以及同样是子进程收割者的测试运行器，都在更上层）"
            )
        },
    );
    sc.expect(
        late_ms <= PROMPT_MS,
        &say!(
            "the orphan reports its new parent at once (it watches getppid()): within {PROMPT_MS} ms of the parent's death — observed {late_ms} ms",
            "孤儿进程立即报告它的新父进程（它在监视 getppid()）：在父进程死亡后 {PROMPT_MS} 毫秒之内——实际观察到 {late_ms} 毫秒"
        ),
    );
    let ns = if sc.in_pid_namespace() {
        say!(
            ", which is also pid 1 of the scenario's own PID namespace",
            "，它也是场景自己的 PID 命名空间中的 1 号进程"
        )
    } else {
        say!("; not the machine's pid 1", "；不是本机的 1 号进程")
    };
    sc.expect(
        adopter == sandbox,
        &say!(
            "the orphan reports its new parent: the sandbox {sandbox} (the nearest child subreaper{ns}), not its old parent {parent} — observed {adopter}",
            "孤儿进程报告它的新父进程：沙箱 {sandbox}（离它最近的子进程收割者{ns}），而不是原来的父进程 {parent}——实际观察到 {adopter}"
        ),
    );
    sc.paused("the orphan keeps running");
    sc.until(
        &say!(
            "the orphan is alive, its ppid is the sandbox, its process group unchanged",
            "孤儿进程活着，它的 ppid 是沙箱，它的进程组没有变"
        ),
        |t| t.alive(child) && t.ppid(child) == Some(sandbox) && t.pgid(child) == Some(parent),
    );
    sc.step(&say!("the orphan finishes its work", "孤儿进程完成它的工作"));
    sc.release();
    sc.expect_eq(
        sc.exit_of(child),
        Exit::Code(0),
        &say!("the orphan ends normally and its new parent reaps it", "孤儿进程正常结束，由它的新父进程回收"),
    );
}

/// "Else pid 1": with no child subreaper anywhere above the orphan, it goes to pid 1 of its
/// PID namespace — as post 002 says — because that process is the namespace's init. The
/// sandbox is started without its subreaper flag (`PR_GET_CHILD_SUBREAPER` says 0); it is
/// still pid 1 of the scenario's namespace.
// hint: 1
#[test]
fn without_a_subreaper_the_orphan_goes_to_pid_1_of_its_namespace() {
    let sc = Scenario::start_with(lab!(), &[], Setup::default().without_subreaper());
    sc.when_stuck(
        Where::Asleep,
        &say!(
            "does your child wait until getppid() changes — to any pid, not only 1?",
            "你的子进程是否一直等到 getppid() 改变——变成任何 pid 都算，而不只是 1？"
        ),
    );
    let parent = sc.role("parent");
    let child = sc.role("child");
    let subreaper = sc.sandbox_is_subreaper();
    sc.paused("the parent is about to exit");
    sc.step(&say!(
        "the parent exits without waiting; no process above the child is a child subreaper",
        "父进程不等待（wait）子进程就退出；子进程上方没有任何进程是子进程收割者"
    ));
    sc.release();
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), &say!("the parent exits normally", "父进程正常退出"));
    let adopter: i32 = sc.note(child, "new-ppid").parse().unwrap_or(-1);
    let above = if subreaper {
        say!(
            "the sandbox still a child subreaper (this machine gave the scenario no PID namespace)",
            "沙箱仍是子进程收割者（本机没有给场景单独的 PID 命名空间）"
        )
    } else {
        say!(
            "no child subreaper above it (the sandbox's PR_GET_CHILD_SUBREAPER: 0)",
            "它上方没有子进程收割者（沙箱的 PR_GET_CHILD_SUBREAPER：0）"
        )
    };
    let init = if adopter == 1 {
        say!(" — pid 1, the init of its PID namespace", "——1 号进程，它的 PID 命名空间的 init")
    } else {
        String::new()
    };
    sc.claim_verdict(
        "orphan-pid1",
        Verdict::when(adopter == 1),
        &say!(
            "with {above}, orphan {child} of {parent}: getppid() became {adopter}{init}",
            "在{above}的情况下，父进程 {parent} 留下的孤儿进程 {child}：getppid() 变成了 {adopter}{init}"
        ),
    );
    if sc.in_pid_namespace() && !subreaper {
        sc.expect_eq(
            adopter,
            1,
            &say!(
                "with no child subreaper above it, the orphan's new parent is pid 1 of its namespace",
                "它上方没有子进程收割者时，孤儿进程的新父进程是它所在命名空间的 1 号进程"
            ),
        );
    }
    sc.paused("the orphan keeps running");
    sc.until(
        &say!("the orphan is alive, adopted by pid 1", "孤儿进程活着，已被 1 号进程收养"),
        |t| t.alive(child) && t.ppid(child) == Some(adopter),
    );
    sc.release();
    sc.expect_eq(
        sc.exit_of(child),
        Exit::Code(0),
        &say!("the orphan ends normally and pid 1 reaps it", "孤儿进程正常结束，由 1 号进程回收"),
    );
}

/// The orphan keeps printing after its parent has gone.
// hint: 2
#[test]
fn an_orphan_keeps_running_after_its_parent_is_gone() {
    let sc = Scenario::start(lab!(), &[]);
    let parent = sc.role("parent");
    let child = sc.role("child");
    sc.paused("the parent is about to exit");
    sc.release();
    sc.exit_of(parent);
    sc.paused("the orphan keeps running");
    sc.release();
    let out = sc.final_stdout();
    let done = out.contains(&format!("child {child}: done"));
    // 000: every process is independent — the child does not end with its parent.
    let went = if done {
        say!("went on and", "继续运行，之后打印了")
    } else {
        say!("never", "之后始终没有打印")
    };
    sc.claim_verdict(
        "orphan-lives-on",
        Verdict::when(done),
        &say!(
            "parent {parent} exited and was reaped; its child {child} {went} printed \"done\" afterwards",
            "父进程 {parent} 已退出并被回收；它的子进程 {child} {went} \"done\""
        ),
    );
    sc.expect(
        done,
        &say!("the orphan prints \"done\" after its parent exited", "孤儿进程在父进程退出之后打印 \"done\""),
    );
}
