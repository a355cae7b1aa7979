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
    sc.when_stuck(Where::Asleep, "does your child wait until getppid() changes — to any pid, not only 1?");
    let parent = sc.role("parent");
    let child = sc.role("child");
    let sandbox = sc.sandbox_pid();
    sc.paused("the parent is about to exit");
    sc.show("the child has started; its parent is still alive");
    let t = sc.snapshot();
    // 000: the main process and the children it created are in one group.
    sc.claim_verdict(
        "orphan-group",
        Verdict::when(t.pgid(child).is_some() && t.pgid(child) == t.pgid(parent)),
        &format!(
            "child {child} was in process group {}, its parent {parent} in {}",
            t.pgid(child).map_or("-".to_string(), |g| g.to_string()),
            t.pgid(parent).map_or("-".to_string(), |g| g.to_string())
        ),
    );
    sc.stays(
        &format!("the child does not report a new parent while its parent {parent} still lives"),
        Duration::from_millis(linger_ms),
        |_| sc.notes_now("new-ppid").is_empty(),
    );
    sc.step("the parent exits without waiting; the child goes on");
    sc.release();
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), "the parent exits normally");
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
            format!(
                "orphan {child} of {parent}: getppid() became 1 — the sandbox, pid 1 of the scenario's PID namespace and a child subreaper too"
            )
        } else {
            format!(
                "orphan {child} of {parent}: getppid() became {adopter}, not 1 — the sandbox {sandbox}, the nearest child subreaper above it (no PID namespace: the machine's pid 1 and the test runner, a subreaper too, are further up)"
            )
        },
    );
    sc.expect(
        late_ms <= PROMPT_MS,
        &format!("the orphan reports its new parent at once (it watches getppid()): within {PROMPT_MS} ms of the parent's death — observed {late_ms} ms"),
    );
    sc.expect(
        adopter == sandbox,
        &format!(
            "the orphan reports its new parent: the sandbox {sandbox} (the nearest child subreaper{}), not its old parent {parent} — observed {adopter}",
            if sc.in_pid_namespace() {
                ", which is also pid 1 of the scenario's own PID namespace"
            } else {
                "; not the machine's pid 1"
            }
        ),
    );
    sc.paused("the orphan keeps running");
    sc.until("the orphan is alive, its ppid is the sandbox, its process group unchanged", |t| {
        t.alive(child) && t.ppid(child) == Some(sandbox) && t.pgid(child) == Some(parent)
    });
    sc.step("the orphan finishes its work");
    sc.release();
    sc.expect_eq(sc.exit_of(child), Exit::Code(0), "the orphan ends normally and its new parent reaps it");
}

/// "Else pid 1": with no child subreaper anywhere above the orphan, it goes to pid 1 of its
/// PID namespace — as post 002 says — because that process is the namespace's init. The
/// sandbox is started without its subreaper flag (`PR_GET_CHILD_SUBREAPER` says 0); it is
/// still pid 1 of the scenario's namespace.
// hint: 1
#[test]
fn without_a_subreaper_the_orphan_goes_to_pid_1_of_its_namespace() {
    let sc = Scenario::start_with(lab!(), &[], Setup::default().without_subreaper());
    sc.when_stuck(Where::Asleep, "does your child wait until getppid() changes — to any pid, not only 1?");
    let parent = sc.role("parent");
    let child = sc.role("child");
    let subreaper = sc.sandbox_is_subreaper();
    sc.paused("the parent is about to exit");
    sc.step("the parent exits without waiting; no process above the child is a child subreaper");
    sc.release();
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), "the parent exits normally");
    let adopter: i32 = sc.note(child, "new-ppid").parse().unwrap_or(-1);
    sc.claim_verdict(
        "orphan-pid1",
        Verdict::when(adopter == 1),
        &format!(
            "with {}, orphan {child} of {parent}: getppid() became {adopter}{}",
            if subreaper {
                "the sandbox still a child subreaper (this machine gave the scenario no PID namespace)"
            } else {
                "no child subreaper above it (the sandbox's PR_GET_CHILD_SUBREAPER: 0)"
            },
            if adopter == 1 { " — pid 1, the init of its PID namespace" } else { "" }
        ),
    );
    if sc.in_pid_namespace() && !subreaper {
        sc.expect_eq(
            adopter,
            1,
            "with no child subreaper above it, the orphan's new parent is pid 1 of its namespace",
        );
    }
    sc.paused("the orphan keeps running");
    sc.until("the orphan is alive, adopted by pid 1", |t| t.alive(child) && t.ppid(child) == Some(adopter));
    sc.release();
    sc.expect_eq(sc.exit_of(child), Exit::Code(0), "the orphan ends normally and pid 1 reaps it");
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
    sc.claim_verdict(
        "orphan-lives-on",
        Verdict::when(done),
        &format!(
            "parent {parent} exited and was reaped; its child {child} {} printed \"done\" afterwards",
            if done { "went on and" } else { "never" }
        ),
    );
    sc.expect(done, "the orphan prints \"done\" after its parent exited");
}
