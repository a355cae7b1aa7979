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
        bad.push(say!("{last} (no newline at the end of the output)", "{last}（输出末尾没有换行）"));
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
        &say!(
            "the worker has written records 0..{K} whole and stopped inside record {K}",
            "工作进程已完整写出记录 0..{K}，并停在记录 {K} 的中间"
        ),
    );
    sc.show(&say!(
        "the worker is held with half of record {K} written",
        "工作进程被暂停，记录 {K} 只写了一半"
    ));
    sc.step(&say!(
        "the parent wakes and calls p.terminate(): SIGTERM to the worker, inside record {K}",
        "父进程醒来并调用 p.terminate()：向正在写记录 {K} 的工作进程发送 SIGTERM"
    ));
    sc.release_pid(parent);
    sc.note(parent, "terminated");
    let t = sc.until(
        &say!(
            "the worker has dealt with the SIGTERM: it has ended, or handled it and waits again",
            "工作进程已经应对了这个 SIGTERM：要么已经结束，要么处理完后又停在暂停点等待"
        ),
        |t| dealt_with_sigterm(t, worker),
    );
    if t.alive(worker) {
        sc.step(&say!(
            "the worker is still there: it goes on from its pause",
            "工作进程还在：它从暂停点继续运行"
        ));
        sc.release_pid(worker);
    }
    let joined = sc.note(parent, "joined");
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), &say!("the parent exits normally", "父进程正常退出"));
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
    sc.show(&say!("after the join", "join 之后"));
    let bad = torn(&out);
    let expected_cut = format!("rec {K:04} abcdefg");
    // 001: the exception lets terminate() end the child gracefully. Its status is a normal
    // exit (part true) — but the record it was writing is torn (part false).
    sc.claim_verdict(
        "exception-graceful",
        Verdict::of(&[joined == format!("{worker} exited 0"), bad.is_empty()]),
        &say!(
            "worker {worker} left from its handler: the parent's join saw \"{joined}\"; torn record(s): {bad:?}",
            "工作进程 {worker} 从处理函数中直接退出：父进程的 join 看到“{joined}”；被截断的记录：{bad:?}"
        ),
    );
    sc.expect_eq(
        joined,
        format!("{worker} exited 0"),
        &say!(
            "the parent's join sees a normal exit, status 0 (from _exit in the handler)",
            "父进程的 join 看到的是正常退出，状态 0（来自处理函数中的 _exit）"
        ),
    );
    sc.expect(
        bad.len() == 1 && bad[0].starts_with(&expected_cut),
        &say!(
            "exactly one torn record, record {K}, cut after its first two pieces ({expected_cut:?}…) — observed {bad:?}",
            "恰好有一条被截断的记录，即记录 {K}，在它的前两段之后被截断（{expected_cut:?}…）——实际为 {bad:?}"
        ),
    );
    sc.expect(
        sc.notes_now("stopped").is_empty(),
        &say!("the worker's own stop path never ran", "工作进程自己的停止路径从未运行"),
    );
}

/// The exercise: the handler only sets a flag, the worker finishes the record it is in, sees
/// the flag between two records and stops. The same handshake: SIGTERM inside record K.
#[test]
fn with_a_flag_the_worker_finishes_its_record_then_stops() {
    let sc = Scenario::start(lab!(), &["--pause-in-record", &K.to_string()]);
    let (worker, joined, out) = sigterm_in_the_middle_of_record_k(&sc);
    sc.show(&say!("after the join", "join 之后"));
    let bad = torn(&out);
    let stopped = sc.notes_now("stopped");
    let n = stopped.first().map_or(0, |s| s.1.parse::<u32>().unwrap_or(0));
    let n_torn = bad.len();
    // 001: with a flag each operation runs to its end.
    sc.claim_verdict(
        "flag-whole-operation",
        Verdict::when(bad.is_empty() && n == K + 1),
        &say!(
            "SIGTERM inside record {K}: the worker finished it, stopped after {n} whole records ({n_torn} torn), join: {joined}",
            "SIGTERM 在记录 {K} 写到一半时到来：工作进程把它写完，写完 {n} 条完整记录后停止（{n_torn} 条被截断），join：{joined}"
        ),
    );
    sc.expect(bad.is_empty(), &say!("no torn record — observed {bad:?}", "没有被截断的记录——实际为 {bad:?}"));
    sc.expect_eq(
        joined,
        format!("{worker} exited 0"),
        &say!("the parent's join sees a normal exit, status 0", "父进程的 join 看到的是正常退出，状态 0"),
    );
    sc.expect(
        stopped.len() == 1 && stopped[0].0 == worker,
        &say!(
            "the worker ran its own stop path (noted \"stopped\") — observed {stopped:?}",
            "工作进程运行了自己的停止路径（记下“stopped”）——实际为 {stopped:?}"
        ),
    );
    let (want, held) = (K + 1, whole_records(&out));
    sc.expect(
        n == K + 1 && held == n as usize,
        &say!(
            "the worker finished record {K}, the one SIGTERM interrupted, and wrote no other: {want} whole records — it says {n}, the output holds {held}",
            "工作进程写完了被 SIGTERM 打断的记录 {K}，之后没有再写别的：应有 {want} 条完整记录——它说 {n} 条，输出中有 {held} 条"
        ),
    );
    sc.expect(
        out.contains(&format!("stopping after {n} whole records")),
        &say!("the worker says so on its way out", "工作进程在退出时也这样说了"),
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
    println!(
        "{}",
        say!(
            "random SIGTERMs: seed {seed} (replay: PROCLAB_SEED={seed} cargo test -p sol10 random)",
            "随机时刻的 SIGTERM：种子 {seed}（重放：PROCLAB_SEED={seed} cargo test -p sol10 random）"
        )
    );
    let parent = sc.role("parent");
    sc.step(&say!(
        "{ROUNDS} workers, one after another; each is terminated 0–{MAX_DELAY_US} µs after it starts work (seed {seed})",
        "{ROUNDS} 个工作进程，一个接一个；每个都在开始工作后 0–{MAX_DELAY_US} µs 内被终止（种子 {seed}）"
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
    sc.expect_eq(
        sc.exit_of(parent),
        Exit::Code(0),
        &say!("the parent exits normally (seed {seed})", "父进程正常退出（种子 {seed}）"),
    );
    let out = sc.final_stdout();
    let bad = torn(&out);
    sc.expect(
        bad.is_empty(),
        &say!(
            "no torn record after {ROUNDS} SIGTERMs at random moments (seed {seed}, delays µs {delays:?}) — torn lines: {bad:?}",
            "在随机时刻发送 {ROUNDS} 个 SIGTERM 之后，没有被截断的记录（种子 {seed}，延迟 µs {delays:?}）——被截断的行：{bad:?}"
        ),
    );
    let joined = sc.notes_now("joined");
    let abnormal: Vec<&String> =
        joined.iter().map(|(_, v, _)| v).filter(|v| !v.ends_with(" exited 0")).collect();
    sc.expect(
        joined.len() == ROUNDS && abnormal.is_empty(),
        &say!(
            "every worker exited 0 (seed {seed}) — other statuses: {abnormal:?}",
            "每个工作进程都以 0 退出（种子 {seed}）——其他状态：{abnormal:?}"
        ),
    );
    let stopped = sc.notes_now("stopped");
    let written: usize = stopped.iter().filter_map(|(_, n, _)| n.parse::<usize>().ok()).sum();
    let held = whole_records(&out);
    sc.expect(
        stopped.len() == ROUNDS && written == held,
        &say!(
            "every worker stopped by its own stop path, and the whole records they report ({written}) are all the output holds ({held}) (seed {seed})",
            "每个工作进程都经由自己的停止路径停止，它们报告的完整记录数（{written}）正是输出中的全部记录（{held}）（种子 {seed}）"
        ),
    );
    let (n_torn, n_abnormal) = (bad.len(), abnormal.len());
    sc.claim_verdict(
        "flag-whole-operation",
        Verdict::when(bad.is_empty() && abnormal.is_empty()),
        &say!(
            "{ROUNDS} SIGTERMs at random moments (seed {seed}): {n_torn} torn records, {written} whole, {n_abnormal} abnormal exits",
            "在随机时刻发送 {ROUNDS} 个 SIGTERM（种子 {seed}）：{n_torn} 条记录被截断，{written} 条完整，{n_abnormal} 次非正常退出"
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
    let bind = args[1];
    sc.step(&say!("bound {bind}: who catches SIGTERM?", "绑定方式 {bind}：谁捕获 SIGTERM？"));
    let t = sc.snapshot();
    let catches = |pid: i32| t.get(pid).is_some_and(|p| p.catches(Signal::SIGTERM));
    sc.show(&say!("SigCgt of parent and worker", "父进程和工作进程的 SigCgt"));
    let verb =
        |pid: i32| if catches(pid) { say!("catches", "捕获") } else { say!("does not catch", "不捕获") };
    let (in_p, in_w) = (verb(parent), verb(worker));
    let seen = say!(
        "bound {bind}: parent {parent} {in_p} TERM, worker {worker} {in_w} TERM",
        "绑定方式 {bind}：父进程 {parent} {in_p} TERM，工作进程 {worker} {in_w} TERM"
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
        &say!(
            "the parent {parent} catches SIGTERM (SigCgt has TERM)",
            "父进程 {parent} 捕获 SIGTERM（SigCgt 含 TERM）"
        ),
    );
    sc.expect_eq(
        catches(worker),
        in_worker,
        &say!(
            "the worker {worker} catches SIGTERM (SigCgt has TERM)",
            "工作进程 {worker} 捕获 SIGTERM（SigCgt 含 TERM）"
        ),
    );
    sc.step(&say!("the parent calls p.terminate()", "父进程调用 p.terminate()"));
    sc.release_pid(parent);
    let joined = sc.note(parent, "joined");
    let expected = if in_worker { "exited 0" } else { "killed by SIGTERM" };
    sc.expect_eq(
        joined,
        format!("{worker} {expected}"),
        &say!(
            "the worker ends by its handler (exit 0) if it has one, else by SIGTERM's default action",
            "工作进程有处理函数时经由处理函数结束（退出码 0），否则按 SIGTERM 的默认动作结束"
        ),
    );
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), &say!("the parent exits normally", "父进程正常退出"));
}
