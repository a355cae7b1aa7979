//! The harness's terminal API, tested against the real kernel with harness-probe: a Ctrl-C on
//! the scenario's pseudo-terminal, its echo, the foreground group — and the runner's own
//! terminal left exactly as it was.

use harness::prelude::*;
use std::os::fd::AsFd;

fn probe() -> Lab {
    Lab { bin: env!("CARGO_BIN_EXE_harness-probe"), package: "harness-probe" }
}

/// The runner's controlling terminal (device number, 0 for none: CI, `setsid … </dev/null`)
/// and, if it has one, its foreground group and settings. Reading them sends no SIGTTOU/SIGTTIN.
fn runners_terminal() -> (u64, Option<(i32, String)>) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after_comm = &stat[stat.rfind(')').unwrap() + 2..];
    // state ppid pgrp session tty_nr …
    let tty_nr: u64 = after_comm.split(' ').nth(4).unwrap().parse().unwrap();
    let now = || -> Option<(i32, String)> {
        let tty = std::fs::File::open("/dev/tty").ok()?;
        let pgrp = nix::unistd::tcgetpgrp(tty.as_fd()).ok()?.as_raw();
        let attrs = nix::sys::termios::tcgetattr(tty.as_fd()).ok()?;
        Some((pgrp, format!("{:?}", libc::termios::from(attrs))))
    };
    (tty_nr, now())
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
    // Also when the runner leads a session without a terminal (`setsid <test binary>`), where
    // opening a terminal without O_NOCTTY would make it the runner's.
    assert_eq!(runners_terminal(), before, "the runner's own terminal (or lack of one) is untouched");
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

/// The terminal's fds are close-on-exec: a scenario started meanwhile (tests run side by side in
/// one runner) does not inherit them — which would keep the first scenario's terminal open, and
/// its reader thread waiting, until the second one ends.
#[test]
fn a_scenario_started_meanwhile_does_not_inherit_the_terminal() {
    let with_tty = Scenario::start_with_terminal(probe(), &["tty"]);
    with_tty.role("probe");
    let other = Scenario::start(probe(), &["sit"]);
    let p = other.role("probe");
    other.paused("sitting");
    for pid in [other.sandbox_pid(), p] {
        let ttys: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .unwrap()
            .flatten()
            .filter_map(|fd| std::fs::read_link(fd.path()).ok())
            .map(|target| target.display().to_string())
            .filter(|target| target.starts_with("/dev/pts/") || target == "/dev/ptmx")
            .collect();
        assert!(ttys.is_empty(), "process {pid} of the other scenario holds {ttys:?}");
    }
}
