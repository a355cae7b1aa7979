//! Every process plays its part once: a passing spec fails at its end when a process the
//! scenario did not expect showed up (a child that fell through into the parent's code).

use harness::prelude::*;
use std::panic::{AssertUnwindSafe, catch_unwind};

fn probe() -> Lab {
    Lab { bin: env!("CARGO_BIN_EXE_harness-probe"), package: "harness-probe" }
}

fn failure_of(f: impl FnOnce()) -> String {
    let err = catch_unwind(AssertUnwindSafe(f)).expect_err("the spec should have failed");
    err.downcast_ref::<String>().cloned().unwrap_or_default()
}

#[test]
fn a_child_at_the_parents_pause_fails_a_spec_that_otherwise_passes() {
    let report = failure_of(|| {
        let sc = Scenario::start(probe(), &["fall-through"]);
        sc.role("probe");
        sc.role("kid");
        // Both stop there; the spec waits for one (whichever comes first), then sees the other.
        sc.paused("the parent's work");
        sc.until("both wait at the pause", |t| t.lab_procs().filter(|q| q.at_pause()).count() == 2);
    });
    assert!(report.contains("expected: only the process(es)"), "{report}");
    assert!(report.contains("stopped there too"), "{report}");
}

#[test]
fn a_spec_that_means_it_can_opt_out() {
    let sc = Scenario::start(probe(), &["fall-through"]);
    sc.parts_unchecked();
    sc.role("probe");
    sc.paused("the parent's work");
    sc.until("both wait at the pause", |t| t.lab_procs().filter(|q| q.at_pause()).count() == 2);
}

#[test]
fn a_hang_gets_a_headline_about_the_program() {
    let report = failure_of(|| {
        let mut sc = Scenario::start(probe(), &["hang"]);
        sc.set_deadline(Duration::from_millis(300));
        sc.when_stuck(Where::Busy, "does your loop ever end?");
        sc.role("probe");
        sc.note(2, "something never noted");
    });
    // The probe's pid is 2 in the scenario's PID namespace, the host's pid with that layer off.
    assert!(report.contains("the probe (") && report.contains(") keeps running"), "{report}");
    assert!(report.contains("does your loop ever end?"), "{report}");
    assert!(report.contains("still waiting for: process 2 notes"), "{report}");
}
