//! Spec of lab 10 — graceful exit. Judges labs/10-graceful-exit (`cargo test -p lab10`) and
//! solutions/10-graceful-exit (`cargo test -p sol10`).
//!
//! The lab is post 001's `MyProcess`: the parent starts a worker, sleeps, `terminate()`s it
//! (SIGTERM) and joins it. The worker writes records of 32 bytes to stdout, each in four
//! pieces. `--abrupt` is the post's handler (it leaves the process on the spot: Rust's
//! stand-in for raising an exception); the default is the exercise: a flag the worker checks
//! between records. A torn record is a line that starts like a record and is not a whole one.

use harness::prelude::*;
use rstest::rstest;

/// The parent's pause before `p.terminate()` (the post's `time.sleep(5)`).
const SLEEPS: &str = "the parent sleeps before terminate()";
/// The worker's pause with `--pause-in-record K`: two of the four pieces written.
const HALF: &str = "half of a record is written";
/// The record the worker stops in, in the handshake tests.
const K: u32 = 2;
const PAYLOAD: &str = "abcdefghijklmnopqrstuv";

/// `rec NNNN abcdefghijklmnopqrstuv`: a whole record (its newline already split off).
fn whole(line: &str) -> bool {
    line.len() == 31
        && line.starts_with("rec ")
        && line[4..8].bytes().all(|b| b.is_ascii_digit())
        && line[8..] == format!(" {PAYLOAD}")
}

/// Lines that began as a record and are not a whole one — including a last line without its
/// newline.
fn torn(out: &str) -> Vec<String> {
    let mut bad: Vec<String> =
        out.lines().filter(|l| l.starts_with("rec ") && !whole(l)).map(str::to_string).collect();
    if let Some(last) = out.rsplit('\n').next().filter(|l| !l.is_empty()) {
        bad.push(format!("{last} (no newline at the end of the output)"));
    }
    bad
}

/// How many whole records the output holds.
fn whole_records(out: &str) -> usize {
    out.lines().filter(|l| whole(l)).count()
}

/// The worker, held in the middle of a record, has dealt with the SIGTERM its parent sent:
/// it has ended (the post's handler leaves on the spot), or it is back at its pause with the
/// signal handled (no longer pending) or held (pending, blocked).
fn dealt_with_sigterm(t: &Tree, worker: i32) -> bool {
    match t.get(worker) {
        None => true,
        Some(p) if p.is_zombie() => true,
        Some(p) => p.at_pause() && (!p.has_pending(Signal::SIGTERM) || p.blocks(Signal::SIGTERM)),
    }
}

/// The handshake: the worker stops in the middle of record K and says so; the parent is
/// released and sends SIGTERM then; once the worker has dealt with it, it is released too
/// (if it is still there). Returns (worker, how the parent saw it end, all the output).
fn sigterm_in_the_middle_of_record_k(sc: &Scenario) -> (i32, String, String) {
    let parent = sc.role("parent");
    let worker = sc.role("worker");
    sc.paused(HALF);
    sc.paused(SLEEPS);
    sc.expect(
        sc.notes_now("written").len() == K as usize,
        &format!("the worker has written records 0..{K} whole and stopped inside record {K}"),
    );
    sc.show(&format!("the worker is held with half of record {K} written"));
    sc.step(&format!("the parent wakes and calls p.terminate(): SIGTERM to the worker, inside record {K}"));
    sc.release_pid(parent);
    sc.note(parent, "terminated");
    let t = sc
        .until("the worker has dealt with the SIGTERM: it has ended, or handled it and waits again", |t| {
            dealt_with_sigterm(t, worker)
        });
    if t.alive(worker) {
        sc.step("the worker is still there: it goes on from its pause");
        sc.release_pid(worker);
    }
    let joined = sc.note(parent, "joined");
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), "the parent exits normally");
    let out = sc.final_stdout();
    (worker, joined, out)
}

/// The post's way: exiting from the handler ends the worker "gracefully" — it runs its own
/// code and its status is 0, not "killed by SIGTERM" — but right where the signal landed: the
/// record it was writing is cut in half. Made certain with the handshake.
#[test]
fn exiting_from_the_handler_tears_the_record_it_interrupts() {
    let sc = Scenario::start(lab!(), &["--abrupt", "--pause-in-record", &K.to_string()]);
    let (worker, joined, out) = sigterm_in_the_middle_of_record_k(&sc);
    sc.show("after the join");
    let bad = torn(&out);
    let expected_cut = format!("rec {K:04} abcdefg");
    // 001: the exception lets terminate() end the child gracefully. Its status is a normal
    // exit (part true) — but the record it was writing is torn (part false).
    sc.claim_verdict(
        "exception-graceful",
        Verdict::of(&[joined == format!("{worker} exited 0"), bad.is_empty()]),
        &format!(
            "worker {worker} left from its handler: the parent's join saw \"{joined}\"; torn record(s): {bad:?}"
        ),
    );
    sc.expect_eq(
        joined,
        format!("{worker} exited 0"),
        "the parent's join sees a normal exit, status 0 (from _exit in the handler)",
    );
    sc.expect(
        bad.len() == 1 && bad[0].starts_with(&expected_cut),
        &format!("exactly one torn record, record {K}, cut after its first two pieces ({expected_cut:?}…) — observed {bad:?}"),
    );
    sc.expect(sc.notes_now("stopped").is_empty(), "the worker's own stop path never ran");
}

/// The exercise: the handler only sets a flag, the worker finishes the record it is in, sees
/// the flag between two records and stops. The same handshake: SIGTERM inside record K.
#[test]
fn with_a_flag_the_worker_finishes_its_record_then_stops() {
    let sc = Scenario::start(lab!(), &["--pause-in-record", &K.to_string()]);
    let (worker, joined, out) = sigterm_in_the_middle_of_record_k(&sc);
    sc.show("after the join");
    let bad = torn(&out);
    let stopped = sc.notes_now("stopped");
    let n = stopped.first().map_or(0, |s| s.1.parse::<u32>().unwrap_or(0));
    // 001: with a flag each operation runs to its end.
    sc.claim_verdict(
        "flag-whole-operation",
        Verdict::when(bad.is_empty() && n == K + 1),
        &format!(
            "SIGTERM inside record {K}: the worker finished it, stopped after {n} whole records ({} torn), join: {joined}",
            bad.len()
        ),
    );
    sc.expect(bad.is_empty(), &format!("no torn record — observed {bad:?}"));
    sc.expect_eq(joined, format!("{worker} exited 0"), "the parent's join sees a normal exit, status 0");
    sc.expect(
        stopped.len() == 1 && stopped[0].0 == worker,
        &format!("the worker ran its own stop path (noted \"stopped\") — observed {stopped:?}"),
    );
    sc.expect(
        n == K + 1 && whole_records(&out) == n as usize,
        &format!(
            "the worker finished record {K}, the one SIGTERM interrupted, and wrote no other: {} whole records — it says {n}, the output holds {}",
            K + 1,
            whole_records(&out)
        ),
    );
    sc.expect(
        out.contains(&format!("stopping after {n} whole records")),
        "the worker says so on its way out",
    );
}

/// xorshift64*: the spec's own random numbers, reproducible from the seed.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

/// `PROCLAB_SEED` if set (to replay a run), else one from the clock.
fn seed() -> u64 {
    std::env::var("PROCLAB_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        (t.as_nanos() as u64) | 1
    })
}

/// Many SIGTERMs at random moments: no handshake, the parent terminates each worker after a
/// random delay. With the flag no record may ever tear, wherever the signal lands.
#[test]
fn with_a_flag_no_record_tears_under_sigterms_at_random_moments() {
    const ROUNDS: usize = 20;
    /// A record takes about 3 × 200 µs: delays up to 2.5 ms land anywhere in the first ~4.
    const MAX_DELAY_US: u64 = 2500;
    let seed = seed();
    let mut rng = Rng(seed);
    let sc = Scenario::start(lab!(), &["--rounds", &ROUNDS.to_string()]);
    println!("random SIGTERMs: seed {seed} (replay: PROCLAB_SEED={seed} cargo test -p sol10 random)");
    let parent = sc.role("parent");
    sc.step(&format!(
        "{ROUNDS} workers, one after another; each is terminated 0–{MAX_DELAY_US} µs after it starts work (seed {seed})"
    ));
    let mut delays = Vec::new();
    for k in 0..ROUNDS {
        let worker = sc.roles("worker", k + 1)[k];
        sc.note(worker, "ready");
        sc.paused(SLEEPS);
        // Not a wait for anything: the random moment at which this worker gets its SIGTERM.
        let delay = rng.below(MAX_DELAY_US + 1);
        delays.push(delay);
        std::thread::sleep(Duration::from_micros(delay));
        sc.release_pid(parent);
    }
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), &format!("the parent exits normally (seed {seed})"));
    let out = sc.final_stdout();
    let bad = torn(&out);
    sc.expect(
        bad.is_empty(),
        &format!("no torn record after {ROUNDS} SIGTERMs at random moments (seed {seed}, delays µs {delays:?}) — torn lines: {bad:?}"),
    );
    let joined = sc.notes_now("joined");
    let abnormal: Vec<&String> =
        joined.iter().map(|(_, v, _)| v).filter(|v| !v.ends_with(" exited 0")).collect();
    sc.expect(
        joined.len() == ROUNDS && abnormal.is_empty(),
        &format!("every worker exited 0 (seed {seed}) — other statuses: {abnormal:?}"),
    );
    let stopped = sc.notes_now("stopped");
    let written: usize = stopped.iter().filter_map(|(_, n, _)| n.parse::<usize>().ok()).sum();
    sc.expect(
        stopped.len() == ROUNDS && written == whole_records(&out),
        &format!(
            "every worker stopped by its own stop path, and the whole records they report ({written}) are all the output holds ({}) (seed {seed})",
            whole_records(&out)
        ),
    );
    sc.claim_verdict(
        "flag-whole-operation",
        Verdict::when(bad.is_empty() && abnormal.is_empty()),
        &format!(
            "{ROUNDS} SIGTERMs at random moments (seed {seed}): {} torn records, {written} whole, {} abnormal exits",
            bad.len(),
            abnormal.len()
        ),
    );
}

/// Where `signal.signal` is called decides who has the handler: the post's `run()` (the worker
/// only), `__init__` (the parent, before the fork: both, the worker by inheritance), or the
/// parent after the fork (the parent only; lab 06). SigCgt shows it, and so does the outcome.
#[rstest]
#[case::in_run(&["--bind", "in-worker"], false, true)]
#[case::in_init_before_fork(&["--bind", "before-fork"], true, true)]
#[case::in_the_parent_after_fork(&["--bind", "after-fork"], true, false)]
fn where_the_handler_is_bound_decides_who_has_it(
    #[case] args: &[&str],
    #[case] in_parent: bool,
    #[case] in_worker: bool,
) {
    let sc = Scenario::start(lab!(), args);
    let parent = sc.role("parent");
    let worker = sc.role("worker");
    sc.note(worker, "ready");
    sc.paused(SLEEPS);
    sc.step(&format!("bound {}: who catches SIGTERM?", args[1]));
    let t = sc.snapshot();
    let catches = |pid: i32| t.get(pid).is_some_and(|p| p.catches(Signal::SIGTERM));
    sc.show("SigCgt of parent and worker");
    let seen = format!(
        "bound {}: parent {parent} {} TERM, worker {worker} {} TERM",
        args[1],
        if catches(parent) { "catches" } else { "does not catch" },
        if catches(worker) { "catches" } else { "does not catch" }
    );
    match args[1] {
        // 001: once bound, the children forked from the main process have it bound too.
        // 001: bound in __init__ (before start(), in the parent), the parent has it too.
        "before-fork" => {
            sc.claim_verdict("handler-inherited", Verdict::when(catches(parent) && catches(worker)), &seen);
            sc.claim_verdict("bind-in-init", Verdict::when(catches(parent) && catches(worker)), &seen);
        }
        // 001: bound in run(), already the child's space: the child alone has it.
        "in-worker" => {
            sc.claim_verdict("bind-in-init", Verdict::when(!catches(parent) && catches(worker)), &seen)
        }
        _ => {}
    }
    sc.expect_eq(
        catches(parent),
        in_parent,
        &format!("the parent {parent} catches SIGTERM (SigCgt has TERM)"),
    );
    sc.expect_eq(
        catches(worker),
        in_worker,
        &format!("the worker {worker} catches SIGTERM (SigCgt has TERM)"),
    );
    sc.step("the parent calls p.terminate()");
    sc.release_pid(parent);
    let joined = sc.note(parent, "joined");
    let expected = if in_worker { "exited 0" } else { "killed by SIGTERM" };
    sc.expect_eq(
        joined,
        format!("{worker} {expected}"),
        "the worker ends by its handler (exit 0) if it has one, else by SIGTERM's default action",
    );
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), "the parent exits normally");
}
