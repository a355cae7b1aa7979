//! `Setup::session_leader`: the lab started as `setsid ./lab` would start it.

use harness::prelude::*;

fn probe() -> Lab {
    Lab { bin: env!("CARGO_BIN_EXE_harness-probe"), package: "harness-probe" }
}

#[test]
fn by_default_the_lab_leads_a_group_in_the_sandboxs_session() {
    let sc = Scenario::start(probe(), &["whoami"]);
    let p = sc.role("probe");
    assert_eq!(sc.note(p, "session-leader"), "false");
    assert_eq!(sc.note(p, "group-leader"), "true");
    assert_eq!(sc.note(p, "setpgid"), "0");
    assert_eq!(sc.exit_of(p), Exit::Code(0));
}

#[test]
fn as_a_session_leader_the_lab_leads_its_session_and_may_not_move_its_group() {
    let sc = Scenario::start_with(probe(), &["whoami"], Setup::default().session_leader(true));
    let p = sc.role("probe");
    assert_eq!(sc.note(p, "session-leader"), "true");
    assert_eq!(sc.note(p, "group-leader"), "true");
    assert_eq!(sc.note(p, "setpgid"), (nix::errno::Errno::EPERM as i32).to_string());
    assert_eq!(sc.exit_of(p), Exit::Code(0));
}

#[test]
fn a_signal_the_launcher_ignores_stays_ignored_in_the_lab() {
    let sc = Scenario::start_with(probe(), &["sit"], Setup::default().ignoring(Signal::SIGCHLD));
    let p = sc.paused("sitting");
    let me = sc.until_proc("the probe sits", p, |q| q.at_pause());
    assert!(me.ignores(Signal::SIGCHLD), "{me:?}");
    assert!(!me.ignores(Signal::SIGTERM));
}
