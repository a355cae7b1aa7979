//! The gates (gate/lib.rs): pause points inside the lab's own calls, opened by the spec.

use harness::prelude::*;

fn probe() -> Lab {
    Lab { bin: env!("CARGO_BIN_EXE_harness-probe"), package: "harness-probe" }
}

fn held_at_println(handler: &str) -> (Scenario, i32) {
    let sc = Scenario::start_with(
        probe(),
        &["handler", handler],
        Setup::default().hold_println("between the pauses"),
    );
    let p = sc.paused("sitting");
    sc.release();
    assert_eq!(sc.paused("println: between the pauses"), p);
    (sc, p)
}

#[test]
fn a_handler_that_prints_inside_a_held_println_aborts_every_time() {
    for _ in 0..3 {
        let (sc, p) = held_at_println("print");
        sc.signal(p, Signal::SIGUSR1);
        assert_eq!(sc.exit_of(p), Exit::Signal(6, false));
        let err = sc.final_stderr();
        assert!(err.contains("already borrowed") || err.contains("already mutably borrowed"), "{err}");
    }
}

#[test]
fn a_write2_handler_inside_a_held_println_goes_through_and_the_line_is_whole() {
    let (sc, p) = held_at_println("say");
    sc.until_proc("held inside the write like at a pause", p, |q| q.at_pause());
    sc.signal(p, Signal::SIGUSR1);
    sc.until_stdout("the handler's write(2) arrives", |o| o.contains("handler: write(2)"));
    sc.release();
    sc.paused("sitting again");
    sc.release();
    assert_eq!(sc.exit_of(p), Exit::Code(0));
    // The held write carries the buffered start of the line too: the handler's line comes
    // first, and the interrupted line arrives whole.
    assert_eq!(
        sc.final_stdout(),
        "handler: write(2)\nbefore the pause, no newline; between the pauses\nafter the pauses\n"
    );
}

#[test]
fn prctl_pdeathsig_waits_at_its_gate_until_released() {
    let sc = Scenario::start_with(probe(), &["pdeathsig"], Setup::default().gate_pdeathsig());
    let p = sc.paused("prctl(PR_SET_PDEATHSIG)");
    assert!(sc.notes_now("armed-with-parent").is_empty(), "it waits before arming");
    sc.release();
    assert_eq!(sc.note(p, "armed-with-parent"), sc.sandbox_pid().to_string());
    assert_eq!(sc.exit_of(p), Exit::Code(0));
}
