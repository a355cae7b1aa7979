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
    sc.expect_eq(joining, kids[0], "the parent joins the children in order: first child 0");
    sc.step(
        "the parent forked 3 children, then registered its SIGTERM handler, then called waitpid(child 0)",
    );
    sc.until("the parent is blocked in waitpid() (state S, kernel function do_wait)", |t| {
        t.in_waitpid(parent)
    });
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
        None => (parent, "the parent".to_string(), true),
        Some(i) => (kids[i], format!("child {i}"), false),
    };
    let t = sc.snapshot();
    let Some(p) = t.get(pid) else { sc.fail(&format!("{who} ({pid}) is alive")) };
    if child.is_some() {
        // 000: the handler was registered after the children started: they have none.
        let parent_has = t.get(parent).is_some_and(|q| q.catches(Signal::SIGTERM));
        sc.claim_verdict(
            "late-handler-parent-only",
            Verdict::when(parent_has && !p.catches(Signal::SIGTERM)),
            &format!(
                "SigCgt: parent {parent} {} TERM, {who} ({pid}) {}",
                if parent_has { "catches" } else { "does not catch" },
                if p.catches(Signal::SIGTERM) { "catches it too" } else { "does not (default action)" }
            ),
        );
    }
    sc.expect_eq(
        p.catches(Signal::SIGTERM),
        expected,
        &format!("{who} ({pid}) catches SIGTERM (/proc/{pid}/status SigCgt has TERM)"),
    );
    sc.expect(!p.ignores(Signal::SIGTERM), &format!("{who} does not ignore SIGTERM"));
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
    sc.step(&format!("kill -15 child {k}: it has no handler of its own"));
    sc.signal(victim, Signal::SIGTERM);
    if k == 0 {
        sc.step("the parent was waiting for exactly this child: waitpid returns, the parent joins child 1");
        let how = sc.note(parent, "reaped");
        sc.expect_eq(
            how.clone(),
            format!("{victim} killed by SIGTERM"),
            "the parent reaps child 0, killed by SIGTERM",
        );
        sc.until("child 0 is gone (reaped) and the parent is blocked in waitpid() again", |t| {
            t.gone(victim) && t.in_waitpid(parent)
        });
        // 000: ps shows the child "exited by itself". The child the parent was joining is
        // dead and gone from ps at once.
        sc.claim_verdict(
            "killed-child-zombie",
            Verdict::when(how == format!("{victim} killed by SIGTERM")),
            &format!("child 0 ({victim}), the one the parent was joining, died of SIGTERM ({how}) and left ps at once"),
        );
        sc.stays("the parent and the other children keep running", WINDOW, |t| {
            t.alive(parent) && others.iter().all(|&c| t.alive(c))
        });
    } else {
        sc.until(&format!("child {k} is a zombie of the parent, which is blocked in waitpid() again"), |t| {
            t.zombie(victim) && t.ppid(victim) == Some(parent) && t.in_waitpid(parent)
        });
        sc.step("the parent is still blocked in waitpid(child 0): nobody reaps the dead child");
        sc.stays(
            &format!("child {k} stays a zombie; the parent and the other children keep running"),
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
            "all along, the parent has been joining child 0 only",
        );
        sc.until("the parent is still blocked in waitpid(child 0)", |t| t.in_waitpid(parent));
        // Dead (part true), but not gone: ps shows it <defunct> while the parent joins child 0.
        let t = sc.snapshot();
        sc.claim_verdict(
            "killed-child-zombie",
            Verdict::of(&[t.zombie(victim) || t.gone(victim), t.gone(victim)]),
            &format!(
                "child {k} ({victim}) died of SIGTERM but ps showed it {} for {} ms while the parent waited for child 0",
                if t.zombie(victim) { "Z <defunct>" } else { "gone" },
                WINDOW.as_millis()
            ),
        );
    }
    let handlers = sc.notes_now("handler").len();
    let t = sc.snapshot();
    let ran_on = t.alive(parent) && others.iter().all(|&c| t.alive(c));
    // 000: term is not entered; the main process and the other children are unaffected.
    sc.claim_verdict(
        "child-sigterm-kills-only-child",
        Verdict::when(handlers == 0 && ran_on && !t.alive(victim)),
        &format!(
            "SIGTERM to child {k} ({victim}): {handlers} handler run(s); it died; parent {parent} and siblings {others:?} {}",
            if ran_on { "ran on" } else { "did not all run on" }
        ),
    );
    sc.expect(handlers == 0, "no handler ran anywhere: SIGTERM to a child does not reach the parent");
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
    sc.step("kill -15 the parent while it is blocked in waitpid(child 0)");
    sc.signal(parent, Signal::SIGTERM);
    sc.note(parent, "handler");
    let terminated: Vec<i32> =
        sc.notes("terminate", N).iter().map(|(_, v, _)| v.parse().unwrap_or(-1)).collect();
    sc.expect_eq(
        terminated,
        kids.clone(),
        "the parent's handler terminates the children in its list, in order",
    );
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), "the parent exits normally after its handler ran");
    sc.final_stdout();
    sc.step("the parent has exited: what did its join see, and who reaped the children?");
    let errors: Vec<String> = sc.notes_now("join-error").into_iter().map(|(_, v, _)| v).collect();
    // 000: join() fails with "Interrupted system call" when the signal arrives.
    let interrupted = errors.first().map(String::as_str) == Some("EINTR: Interrupted system call");
    sc.claim_verdict(
        "join-eintr",
        Verdict::when(interrupted),
        &format!(
            "{}: the waitpid the handler interrupted in parent {parent} {}",
            if eintr {
                "without SA_RESTART (as Python's signal.signal installs it)"
            } else {
                "with SA_RESTART"
            },
            match errors.first() {
                Some(e) => format!("returned {e}"),
                None => "was restarted by the kernel: no error".to_string(),
            }
        ),
    );
    if eintr {
        sc.expect_eq(
            errors.first().map(String::as_str),
            Some("EINTR: Interrupted system call"),
            "without SA_RESTART, the waitpid() the handler interrupted fails with EINTR",
        );
    } else {
        sc.expect_eq(
            errors,
            vec![],
            "with SA_RESTART the kernel restarts the interrupted waitpid(): no error",
        );
    }
    let expected: Vec<String> = kids.iter().map(|c| format!("{c} killed by SIGTERM")).collect();
    let reaped = reaped_by_parent(&sc, parent);
    // 000: kill -15 <main>: before it exits, the main process terminates the children.
    sc.claim_verdict(
        "parent-sigterm-terminates-children",
        Verdict::when(reaped == expected),
        &format!("parent {parent}'s handler SIGTERMed {kids:?}; it reaped {reaped:?}, then exited 0"),
    );
    sc.expect_eq(
        reaped,
        expected,
        "the parent itself joins (reaps) every child its handler terminated, each killed by SIGTERM",
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
    sc.when_stuck(Where::Busy, "does your join loop give up on an error other than EINTR (ECHILD)?");
    let (parent, _kids) = started(&sc);
    sc.step("SIGCHLD is ignored (the launcher's doing): the kernel reaps each child as it dies");
    sc.step("kill -15 the parent: its handler terminates the children; its waitpid fails with EINTR");
    sc.signal(parent, Signal::SIGTERM);
    sc.until("the parent gives its join up and exits (or has seen more than two errors)", |_| {
        sc.exit_now(parent).is_some() || sc.notes_now("join-error").len() > 2
    });
    let errors: Vec<String> = sc.notes_now("join-error").into_iter().map(|(_, v, _)| v).collect();
    sc.expect_eq(
        errors.iter().take(3).cloned().collect::<Vec<_>>(),
        vec!["EINTR: Interrupted system call".to_string(), "ECHILD: No child processes".to_string()],
        "waitpid fails with EINTR (the handler ran: wait again), then with ECHILD (the kernel reaped the child: give up)",
    );
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), "the parent exits normally after giving up");
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
    sc.step(
        "kill -15 child 0: the parent reaps it and prints \"joined child …\" — held inside that println!",
    );
    sc.signal(kids[0], Signal::SIGTERM);
    sc.paused("println: joined child");
    sc.step("kill -15 the parent now, in the middle of its println!");
    sc.signal(parent, Signal::SIGTERM);
    sc.note(parent, "handler");
    sc.until_proc("the handler has returned: the parent is back inside its println!, alive", parent, |p| {
        p.at_pause()
    });
    let terminated: Vec<i32> =
        sc.notes("terminate", N).iter().map(|(_, v, _)| v.parse().unwrap_or(-1)).collect();
    sc.expect_eq(terminated, kids.clone(), "the handler ran and terminated the children in its list");
    sc.until_stdout("the handler's own line arrives, written with write(2) while the println! waits", |o| {
        o.contains("parent: SIGTERM caught, terminating the children")
    });
    sc.release_pid(parent);
    sc.expect_eq(
        sc.exit_of(parent),
        Exit::Code(0),
        "the parent finishes its println!, joins the rest and exits",
    );
    let expected: Vec<String> = kids.iter().map(|c| format!("{c} killed by SIGTERM")).collect();
    sc.expect_eq(reaped_by_parent(&sc, parent), expected, "the parent joined every child");
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
        sc.step(&format!(
            "kill -15 the parent (SIGTERM number {round}): the children ignore the handler's SIGTERMs"
        ));
        sc.signal(parent, Signal::SIGTERM);
        sc.notes("join-error", round);
        let t = sc.until("the parent leaves waitpid: back in it, or gone", |t| {
            t.in_waitpid(parent) || t.gone(parent) || t.zombie(parent)
        });
        sc.expect(
            t.in_waitpid(parent),
            &format!("after the interruption number {round}, the parent waits for child 0 again (blocked in waitpid)"),
        );
    }
    sc.step("the children are killed (SIGKILL): the join collects them");
    for &k in &kids {
        sc.signal(k, Signal::SIGKILL);
    }
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), "the parent joins every child and exits normally");
    let expected: Vec<String> = kids.iter().map(|c| format!("{c} killed by SIGKILL")).collect();
    sc.expect_eq(reaped_by_parent(&sc, parent), expected, "the parent joined every child");
}
