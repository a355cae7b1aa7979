//! The harness's own promises, tested against the real kernel with harness-probe.

use harness::prelude::*;
use harness::tree::read_proc;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

fn probe() -> Lab {
    Lab { bin: env!("CARGO_BIN_EXE_harness-probe"), package: "harness-probe" }
}

/// Runs `f`, expecting it to fail the spec; returns the failure report.
fn failure_of(f: impl FnOnce()) -> String {
    let err = catch_unwind(AssertUnwindSafe(f)).expect_err("the spec should have failed");
    err.downcast_ref::<String>().cloned().unwrap_or_default()
}

#[test]
fn a_hung_lab_fails_within_the_deadline_with_the_tree_shown_and_is_killed() {
    let (mut pid, mut host) = (0, 0);
    let start = Instant::now();
    let deadline = Duration::from_millis(500);
    let report = failure_of(|| {
        let mut sc = Scenario::start(probe(), &["hang"]);
        sc.set_deadline(deadline);
        pid = sc.role("probe");
        host = sc.host_pid(pid).expect("the probe's pid as the runner sees it");
        sc.until("the probe exits", |t| t.gone(pid));
    });
    let took = start.elapsed();
    assert!(took >= deadline && took < deadline + Duration::from_secs(1), "took {took:?}");
    assert!(report.contains("still waiting for: the probe exits"), "{report}");
    assert!(
        report.contains("the probe (2) keeps running") || !report.contains("(2)"),
        "a headline: {report}"
    );
    assert!(report.contains(&format!("{pid} probe")), "the tree is shown: {report}");
    assert!(read_proc(host).is_none(), "the hung probe {pid} (runner's pid {host}) was left running");
}

#[test]
fn a_process_that_left_the_session_is_still_killed() {
    let sc = Scenario::start(probe(), &["escape"]);
    let escapee = sc.role("escapee");
    sc.paused("escapee started");
    let t = sc.until("the escapee runs in a session of its own", |t| {
        t.get(escapee).is_some_and(|p| p.sid == escapee)
    });
    let (starttime, host) = (t.get(escapee).unwrap().starttime, t.get(escapee).unwrap().host_pid);
    sc.finish();
    assert!(
        read_proc(host).is_none_or(|p| p.starttime != starttime),
        "escapee {escapee} survived the cleanup"
    );
}

#[test]
fn the_spec_cannot_signal_what_the_scenario_did_not_create() {
    let sc = Scenario::start(probe(), &["sit"]);
    let p = sc.role("probe");
    sc.paused("sitting");
    let me = std::process::id() as i32;
    for target in [
        Target::Pid(1),
        Target::Pid(-1),
        Target::Group(0),
        Target::Group(1),
        Target::Pid(me),
        Target::Group(nix::unistd::getpgrp().as_raw()),
        Target::Pid(sc.sandbox_pid()),
        Target::Pid(std::os::unix::process::parent_id() as i32),
    ] {
        assert!(sc.try_signal(target, Signal::SIGCONT).is_err(), "{target} was not refused");
    }
    assert_eq!(sc.try_signal(Target::Pid(p), Signal::SIGCONT), Ok(()));
    assert_eq!(sc.try_signal(Target::Group(p), Signal::SIGCONT), Ok(()));
}

#[test]
fn signal_at_says_when_the_signal_was_sent() {
    let sc = Scenario::start(probe(), &["sit"]);
    let p = sc.role("probe");
    sc.paused("sitting");
    let before = harness::trace::now_ns();
    let at = sc.signal_at(p, Signal::SIGKILL);
    let after = harness::trace::now_ns();
    assert!(before <= at && at <= after, "{before} {at} {after}");
    assert_eq!(sc.exit_of(p), Exit::Signal(9, false));
    assert!(sc.reaped_at(p).is_some_and(|r| r >= at), "reaped before it was killed?");
    let refused = failure_of(|| {
        sc.signal_all_at(&[p], Signal::SIGKILL);
    });
    assert!(refused.contains("not a live process of this scenario"), "{refused}");
}

#[test]
fn the_lab_starts_with_default_signals_whatever_the_runner_had() {
    use nix::sys::signal::{SigHandler, SigSet, SigmaskHow, pthread_sigmask, signal};
    // What a careless runner might pass on: HUP ignored, USR1 blocked (in this thread).
    // SAFETY: SIG_IGN for SIGHUP in a test binary is harmless.
    unsafe { signal(Signal::SIGHUP, SigHandler::SigIgn) }.unwrap();
    let mut usr1 = SigSet::empty();
    usr1.add(Signal::SIGUSR1);
    pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&usr1), None).unwrap();

    let sc = Scenario::start(probe(), &["sit"]);
    let p = sc.role("probe");
    sc.paused("sitting");
    let t = sc.snapshot();
    let proc = t.get(p).unwrap();
    assert!(!proc.ignores(Signal::SIGHUP), "HUP still ignored:\n{}", t.render());
    assert!(proc.ignores(Signal::SIGPIPE), "Rust's runtime ignores PIPE in its own process");
    assert_eq!(proc.blocked, 0, "mask not empty:\n{}", t.render());
    assert_ne!(proc.pgid, t.root, "the lab leads a process group of its own");
    assert_eq!(proc.sid, t.root, "the lab is in the sandbox's session");
    pthread_sigmask(SigmaskHow::SIG_UNBLOCK, Some(&usr1), None).unwrap();
}

#[test]
fn ctrl_c_on_the_terminal_reaches_the_foreground_group() {
    let sc = Scenario::start_with_terminal(probe(), &["tty"]);
    let p = sc.role("probe");
    assert_eq!(
        sc.note(p, "foreground"),
        sc.note(p, "pgrp"),
        "the lab's group is the terminal's foreground group"
    );
    sc.type_keys(b"\x03");
    assert_eq!(sc.exit_of(p), Exit::Signal(Signal::SIGINT as i32, false));
}

#[test]
fn a_flood_of_output_is_capped_and_does_not_block_the_lab() {
    let sc = Scenario::start(probe(), &["flood"]);
    let p = sc.role("probe");
    assert_eq!(sc.exit_of(p), Exit::Code(0));
    let out = sc.final_stdout();
    assert_eq!(out.len(), 1 << 20, "kept exactly the cap");
}

#[test]
fn exits_by_signal_are_reported_with_the_signal() {
    let sc = Scenario::start(probe(), &["die"]);
    let p = sc.role("probe");
    assert!(matches!(sc.exit_of(p), Exit::Signal(6, _)));
    sc.until_empty();
}

#[test]
fn a_release_wakes_exactly_the_process_it_names() {
    let sc = Scenario::start(probe(), &["pair"]);
    let parent = sc.role("probe");
    let kid = sc.role("kid");
    let first = sc.paused("both");
    let second = sc.paused("both");
    let mut both = [first, second];
    both.sort();
    let mut expected = [parent, kid];
    expected.sort();
    assert_eq!(both, expected);
    sc.release_pid(kid);
    assert_eq!(sc.note(kid, "went"), "kid");
    sc.until("the kid has exited (a zombie of the still paused parent)", |t| t.zombie(kid));
    assert!(sc.notes_now("went").iter().all(|(p, _, _)| *p == kid), "the parent went on too");
    sc.release(); // the oldest pause not yet released: the parent's
    assert_eq!(sc.note(parent, "went"), "probe");
    assert_eq!(sc.exit_of(parent), Exit::Code(0));
}

#[test]
fn a_lab_that_ends_at_once_fails_at_once_not_at_the_deadline() {
    let report = failure_of(|| {
        let sc = Scenario::start(probe(), &["die"]);
        sc.role("a role nobody announces");
    });
    assert!(report.contains("can no longer happen"), "{report}");
    // When the verdict was reached (the report's own clock, before any backtrace is printed).
    let ms: u64 = report
        .split("observed (+")
        .nth(1)
        .and_then(|r| r.split(" ms").next())
        .and_then(|n| n.parse().ok())
        .expect("the report gives the time of the verdict");
    assert!(ms < 500, "the verdict took {ms} ms: the spec waited for what could not come");
}

#[test]
fn the_report_says_which_layers_kept_the_lab_in() {
    let report = failure_of(|| {
        let sc = Scenario::start(probe(), &["sit"]);
        sc.paused("sitting");
        sc.fail("a report");
    });
    assert!(report.contains("sandbox ready:"), "{report}");
}

/// The sandbox is a child subreaper unless the spec asks otherwise, and then only inside its
/// own PID namespace (outside one the scenario's orphans would go up to the runner): it stays
/// pid 1 there, and the kernel's PR_GET_CHILD_SUBREAPER is what the scenario reports.
#[test]
fn the_sandbox_drops_its_subreaper_flag_only_inside_its_pid_namespace() {
    let sc = Scenario::start(probe(), &["sit"]);
    sc.role("probe");
    assert!(sc.sandbox_is_subreaper(), "by default the sandbox is a child subreaper: {}", sc.layers());
    sc.finish();

    let sc = Scenario::start_with(probe(), &["sit"], Setup::default().without_subreaper());
    sc.role("probe");
    if sc.in_pid_namespace() {
        assert!(!sc.sandbox_is_subreaper(), "without_subreaper in a PID namespace: {}", sc.layers());
        assert_eq!(sc.sandbox_pid(), 1, "the sandbox is still pid 1 of the namespace");
    } else {
        assert!(sc.sandbox_is_subreaper(), "no PID namespace here: the flag stays ({})", sc.layers());
    }
    sc.finish();

    let sc =
        Scenario::start_with(probe(), &["sit"], Setup::default().without_pid_namespace().without_subreaper());
    sc.role("probe");
    if !sc.in_pid_namespace() {
        assert!(
            sc.sandbox_is_subreaper(),
            "outside a PID namespace the sandbox keeps its flag ({})",
            sc.layers()
        );
    }
}

/// A runner's pause directory names its owner by pid, start time and PID namespace: a sandbox
/// removes the directories of dead runners of its own namespace only. (A runner in CI's
/// throw-away namespace once removed the live directories of the host's runners, whose pids
/// it could not see, and their scenarios failed.)
#[test]
fn stale_pause_directories_are_judged_only_in_their_own_pid_namespace() {
    let ns = harness::tree::pid_namespace().expect("our PID namespace");
    // A pid nobody has: its owner is dead in any namespace we can see.
    let dead = (400_000..4_000_000).find(|p| !std::path::Path::new(&format!("/proc/{p}")).exists()).unwrap();
    let tmp = std::env::temp_dir();
    let ours = tmp.join(format!("proclab-{dead}.1.{ns}-0"));
    let theirs = tmp.join(format!("proclab-{dead}.1.{}-0", ns + 1));
    std::fs::create_dir_all(&ours).unwrap();
    std::fs::create_dir_all(&theirs).unwrap();
    Scenario::start(probe(), &["die"]).until_empty();
    let (ours_left, theirs_left) = (ours.exists(), theirs.exists());
    let _ = std::fs::remove_dir(&ours);
    let _ = std::fs::remove_dir(&theirs);
    assert!(!ours_left, "a dead runner's directory of our namespace is left: {}", ours.display());
    assert!(theirs_left, "another namespace's directory was removed: {}", theirs.display());
}
