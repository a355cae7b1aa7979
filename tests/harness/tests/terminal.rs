//! The harness's terminal API, tested against the real kernel with harness-probe: a Ctrl-C on
//! the scenario's pseudo-terminal, its echo, the foreground group — and the runner's own
//! terminal left exactly as it was.

use harness::prelude::*;
use std::os::fd::AsFd;

fn probe() -> Lab {
    Lab { bin: env!("CARGO_BIN_EXE_harness-probe"), package: "harness-probe" }
}

/// The runner's terminal as it is now (foreground group and settings), or None without one
/// (CI, `setsid … </dev/null`). Reading them sends no SIGTTOU/SIGTTIN.
fn runners_terminal() -> Option<(i32, String)> {
    let tty = std::fs::File::open("/dev/tty").ok()?;
    let pgrp = nix::unistd::tcgetpgrp(tty.as_fd()).ok()?.as_raw();
    let attrs = nix::sys::termios::tcgetattr(tty.as_fd()).ok()?;
    Some((pgrp, format!("{:?}", libc::termios::from(attrs))))
}

#[test]
fn the_terminal_reports_its_foreground_group_and_echoes_ctrl_c() {
    let before = runners_terminal();
    let sc = Scenario::start_with_terminal(probe(), &["tty"]);
    let p = sc.role("probe");
    let pgrp: i32 = sc.note(p, "pgrp").parse().unwrap();
    assert_eq!(sc.foreground_group(), pgrp, "tcgetpgrp on the master names the lab's group");
    let t = sc.snapshot();
    let probe = t.get(p).unwrap();
    assert_eq!(probe.tpgid, pgrp, "the probe's /proc stat names the same group:\n{}", t.render());
    assert!(probe.in_foreground(), "{}", t.render());
    assert!(!t.get(t.root).unwrap().in_foreground(), "the sandbox is not in the foreground");
    assert!(t.render().contains(&format!("pgid {pgrp}  foreground")), "{}", t.render());
    assert_eq!(sc.terminal_output(), "", "nothing typed, nothing shown");
    sc.type_keys(b"\x03");
    assert_eq!(sc.exit_of(p), Exit::Signal(Signal::SIGINT as i32, false));
    let shown = sc.until_terminal("the terminal echoes ^C", |s| s.contains("^C"));
    assert_eq!(shown, "^C");
    sc.finish();
    assert_eq!(runners_terminal(), before, "the runner's own terminal is untouched");
}

#[test]
fn a_scenario_without_a_terminal_has_no_foreground_group() {
    let sc = Scenario::start(probe(), &["sit"]);
    let p = sc.role("probe");
    sc.paused("sitting");
    let t = sc.snapshot();
    assert_eq!(t.get(p).unwrap().tpgid, -1, "no controlling terminal:\n{}", t.render());
    let failed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sc.foreground_group()));
    assert!(failed.is_err(), "foreground_group() fails the spec without a terminal");
}
