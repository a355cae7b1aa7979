//! Handler hygiene made certain: with `Setup::hold_stdout`, a pause waits inside a write to
//! stdout, so a signal handler that runs during it and prints or allocates aborts — every
//! time — while a handler that only uses write(2) notices nothing.

use harness::prelude::*;

fn probe() -> Lab {
    Lab { bin: env!("CARGO_BIN_EXE_harness-probe"), package: "harness-probe" }
}

fn held(handler: &str) -> Scenario {
    Scenario::start_with(probe(), &["handler", handler], Setup::default().hold_stdout())
}

#[test]
fn a_handler_that_prints_during_a_held_pause_aborts_every_time() {
    for _ in 0..3 {
        let sc = held("print");
        let p = sc.paused("sitting");
        sc.signal(p, Signal::SIGUSR1);
        assert_eq!(sc.exit_of(p), Exit::Signal(6, false), "stderr: {}", sc.stderr());
        let err = sc.final_stderr();
        assert!(err.contains("already borrowed") || err.contains("already mutably borrowed"), "{err}");
        assert!(sc.stdout().starts_with("before the pause, no newline; "), "flushed before the hold");
    }
}

#[test]
fn a_handler_that_allocates_during_a_held_pause_aborts_with_labkits_message() {
    let sc = held("alloc");
    let p = sc.paused("sitting");
    sc.signal(p, Signal::SIGUSR1);
    assert_eq!(sc.exit_of(p), Exit::Signal(6, false));
    assert!(sc.final_stderr().contains(labkit::guard::MESSAGE), "{}", sc.stderr());
}

#[test]
fn a_write2_handler_during_a_held_pause_is_fine_and_the_program_goes_on() {
    let sc = held("say");
    let p = sc.paused("sitting");
    // A held pause looks like any pause: asleep in the FIFO's open, the usual masks.
    let me = sc.until_proc("the probe waits at its pause", p, |q| q.at_pause());
    assert!(me.ignores(Signal::SIGPIPE) && !me.catches(Signal::SIGPIPE) && !me.blocks(Signal::SIGPIPE));
    sc.signal(p, Signal::SIGUSR1);
    sc.until_stdout("the handler's write(2) arrives", |o| o.contains("handler: write(2)"));
    sc.until_proc("back at the pause", p, |q| q.at_pause());
    sc.release();
    sc.paused("sitting again");
    sc.signal(p, Signal::SIGUSR1);
    sc.release();
    assert_eq!(sc.exit_of(p), Exit::Code(0));
    let out = sc.final_stdout();
    assert_eq!(
        out,
        "before the pause, no newline; handler: write(2)\nbetween the pauses\nhandler: write(2)\nafter the pauses\n"
    );
}

#[test]
fn without_the_hold_a_printing_handler_at_a_pause_gets_away_with_it() {
    let sc = Scenario::start(probe(), &["handler", "print"]);
    let p = sc.paused("sitting");
    sc.signal(p, Signal::SIGUSR1);
    sc.until_stdout("the handler's println! arrives", |o| o.contains("handler: println!"));
    sc.release();
    sc.paused("sitting again");
    sc.release();
    assert_eq!(sc.exit_of(p), Exit::Code(0));
}

#[test]
fn the_report_says_the_handler_printed() {
    let report = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let sc = held("print");
        let p = sc.paused("sitting");
        sc.signal(p, Signal::SIGUSR1);
        sc.expect_eq(sc.exit_of(p), Exit::Code(0), "the probe exits normally");
    }))
    .expect_err("the spec fails");
    let report = report.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(report.contains("why: your handler printed: not async-signal-safe"), "{report}");
}
