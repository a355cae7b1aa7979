//! Spec of lab 15 — fork in a multithreaded process. Judges labs/15-fork-threads
//! (`cargo test -p lab15`) and solutions/15-fork-threads (`cargo test -p sol15`).
//!
//! The parent runs two threads: main, and a logger that writes records into a log under a
//! mutex. Held at a pause, the logger is in the middle of a record (holding the mutex) or
//! between two; then the parent starts a worker — with fork, spawn (fork + exec) or a fork
//! server — and the worker writes one record.
//!
//! A hang is certain once seen: a process with a single thread, asleep on a futex, waits for a
//! lock that only another thread of its own could release (a Rust `Mutex` is a private futex:
//! no other process can wake it) — and it has no other thread. The spec then watches it for a
//! short window, only to show it, and kills it; a scenario never waits for it to the deadline.

use harness::prelude::*;
use harness::{Proc, Thread};

/// How long a hang is watched, to show it does not end. Nothing can end it, so any window
/// would show the same.
const WINDOW: Duration = Duration::from_millis(50);

const HELD: &str = "the logger thread is where it should be; the parent starts a worker";

/// Asleep on a futex: waiting for a lock (or a condition variable, a channel…). The kernel
/// function is `futex_do_wait` on Linux 6.18; other kernels name it differently, always `futex…`.
fn on_a_futex(t: &Thread) -> bool {
    t.state == 'S' && t.wchan.starts_with("futex")
}

/// One thread, asleep on a futex: a lock nobody in this process can ever release.
fn hung_on_a_lock(threads: &[Thread]) -> bool {
    threads.len() == 1 && on_a_futex(&threads[0])
}

/// The threads of `pid`, in words: "2 main (S in futex_do_wait)".
fn describe(threads: &[Thread]) -> String {
    threads
        .iter()
        .map(|t| {
            let wchan = if t.wchan.is_empty() { String::new() } else { format!(" in {}", t.wchan) };
            format!("{} {} ({}{wchan})", t.tid, t.name, t.state)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Starts the lab and stops at the pause before the worker starts. Checks what holds for every
/// run there: the parent has two threads, its main thread and the logger, and the logger waits
/// (on a futex: its channel) where it was told to. Returns (scenario, parent, main thread's name).
fn at_the_pause(args: &[&str]) -> (Scenario, i32, String) {
    let sc = Scenario::start(lab!(), args);
    let parent = sc.role("parent");
    sc.paused(HELD);
    let two = |threads: &[Thread]| {
        threads.len() == 2
            && threads[0].tid == parent
            && threads[1].name == "logger"
            && on_a_futex(&threads[1])
    };
    sc.until("the parent has two threads, its main thread and the logger, the logger waiting", |_| {
        two(&sc.threads(parent))
    });
    let threads = sc.threads(parent);
    sc.expect(
        two(&threads),
        &format!(
            "the parent has two threads, its main thread {parent} and the logger: {}",
            describe(&threads)
        ),
    );
    sc.show("held at the pause, before the worker starts");
    let main = threads[0].name.clone();
    (sc, parent, main)
}

/// Waits until the worker has written its record (noted `records`) — or something is certainly
/// stuck: a process of the scenario with one thread asleep on a lock, or this program's main
/// started again instead of a worker. Returns the worker's pid and its record count.
#[track_caller]
fn worker_wrote(sc: &Scenario, parent: i32) -> (i32, usize) {
    let stuck = |t: &Tree| -> Option<String> {
        if sc.notes_now("records").is_empty() {
            for p in t.lab_procs().filter(|p: &&Proc| p.pid != parent && p.threads == 1) {
                let threads = sc.threads(p.pid);
                if hung_on_a_lock(&threads) {
                    return Some(format!(
                        "process {} ({}) is a single thread asleep on a lock: {} — nobody in it can ever release that lock",
                        p.pid,
                        t.roles.get(&p.pid).map(String::as_str).unwrap_or("not yet a worker"),
                        describe(&threads)
                    ));
                }
            }
        }
        let parents = t.roles.values().filter(|r| *r == "parent").count();
        (parents > 1).then(|| "a second process announced itself as the parent: the worker ran this program's main, not the worker".into())
    };
    sc.until("the worker writes its record (or something is stuck for good)", |t| {
        !sc.notes_now("records").is_empty() || stuck(t).is_some()
    });
    if sc.notes_now("records").is_empty() {
        let why = stuck(&sc.snapshot()).unwrap_or_else(|| "it is stuck".into());
        sc.fail(&format!("the worker writes its record — but {why}"));
    }
    let (worker, records, _) = sc.notes("records", 1).remove(0);
    let records = records.parse().unwrap_or(usize::MAX);
    (worker, records)
}

/// Post 003: fork makes the child "a copy of the main process, including its memory state and
/// resources". Of its memory, yes — the log's mutex too, locked — but of one thread: the one
/// that called fork. The worker has one thread (the copy of the parent's main thread); the
/// logger is not in it, so the mutex it held stays locked in the worker for good.
#[test]
fn the_child_of_fork_has_one_thread_and_a_lock_nobody_will_release() {
    let (sc, parent, main) = at_the_pause(&[]);
    sc.step("the parent forks a worker while the logger thread holds the log's lock; the worker logs");
    sc.release();
    let worker = sc.role("worker");
    sc.until("the worker is a single thread asleep on the log's lock (or it has ended)", |t| {
        hung_on_a_lock(&sc.threads(worker)) || !t.alive(worker)
    });
    let threads = sc.threads(worker);
    let hung = hung_on_a_lock(&threads);
    // 003: fork copies the main process, memory state and resources included. The lock's state
    // was copied (held, by nobody there): part true. The threads were not: one thread.
    let seen = format!(
        "fork while the logger thread held the log's lock: worker {worker} had {} thread(s) ({}), {}",
        threads.len(),
        threads.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", "),
        if hung {
            format!("asleep on the copied, held lock in {}", threads[0].wchan)
        } else {
            "not asleep on the lock".to_string()
        }
    );
    sc.claim_verdict("fork-copies-the-process", Verdict::of(&[hung, threads.len() > 1]), &seen);
    // 003: fork is the Unix default. Asked of this machine's Python.
    if let Some((version, method)) =
        harness::python3("import multiprocessing; print(multiprocessing.get_start_method())")
    {
        let method = method.trim().to_string();
        sc.claim_verdict(
            "fork-default",
            Verdict::when(method == "fork"),
            &format!(
                "Python {version} on Linux here: multiprocessing.get_start_method() is {method}; {seen} — the same hang a Python worker started by fork gets"
            ),
        );
    }
    sc.expect(
        hung,
        &format!("the worker is a single thread asleep on the log's lock: {}", describe(&threads)),
    );
    sc.expect(
        threads[0].tid == worker && threads[0].name == main && threads.iter().all(|t| t.name != "logger"),
        &format!(
            "the worker's one thread is the copy of the thread that called fork ({main}), not the logger: {}",
            describe(&threads)
        ),
    );
    sc.stays(
        "the worker stays asleep on the lock, alive: its owner, the logger, was not copied",
        WINDOW,
        |t| t.alive(worker) && hung_on_a_lock(&sc.threads(worker)),
    );
    sc.expect(sc.notes_now("records").is_empty(), "the worker never wrote its record");
    sc.until(
        "meanwhile the parent's logger has finished its record (the parent's own lock is free) and the parent waits for the worker",
        |t| t.get(parent).is_some_and(|p| p.threads == 1 && p.in_waitpid()),
    );
    sc.step("the spec kills the hung worker");
    sc.signal(worker, Signal::SIGKILL);
    sc.expect_eq(sc.note(parent, "worker_ended").as_str(), "killed by SIGKILL", "the parent's wait returns");
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), "the parent exits normally");
}

/// The same fork between two records: the lock is free at that instant, so the worker logs —
/// and finds the parent's record in its copy of the log. Whether a fork in a multithreaded
/// process hangs depends on what the other threads hold at that instant.
#[test]
fn a_fork_between_two_records_works_by_luck() {
    let (sc, parent, _) = at_the_pause(&["--logger", "idle"]);
    sc.step("the parent forks a worker while the logger is between two records (the lock is free)");
    sc.release();
    let (worker, records) = worker_wrote(&sc, parent);
    sc.claim_verdict(
        "fork-copies-the-process",
        Verdict::when(records == 2),
        &format!(
            "fork between two records: worker {worker} logged, and its log held {records} records — the parent's, copied with the memory, and its own"
        ),
    );
    sc.expect_eq(records, 2, "the worker's log holds the parent's record, copied by fork, and its own");
    sc.expect_eq(
        sc.note(parent, "worker_ended").as_str(),
        "exited with status 0",
        "the worker exits normally",
    );
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), "the parent exits normally");
}

/// Fork + exec (Rust's `Command`, Python's *spawn*): the worker is a fresh program — new memory,
/// a new unlocked mutex, one thread — whatever the parent's threads hold.
#[test]
fn spawn_starts_a_fresh_program_whatever_the_threads_hold() {
    let (sc, parent, _) = at_the_pause(&["--start", "spawn"]);
    sc.step("the parent spawns a worker (fork + exec) while the logger thread holds the log's lock");
    sc.release();
    let (worker, records) = worker_wrote(&sc, parent);
    // 003: spawn starts a brand-new interpreter; the child inherits none of the memory state.
    sc.claim_verdict(
        "spawn-fresh",
        Verdict::when(records == 1),
        &format!(
            "spawn (fork + exec) while the logger held the lock: worker {worker}'s log held {records} record(s), its own; it was not stuck on the lock"
        ),
    );
    sc.expect_eq(records, 1, "the worker's log is its own, new and empty: its record is the only one");
    sc.expect_eq(
        sc.note(parent, "worker_ended").as_str(),
        "exited with status 0",
        "the worker exits normally",
    );
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), "the parent exits normally");
    sc.until_empty();
    sc.expect(sc.exit_now(worker).is_none(), &format!("the parent reaped its worker {worker} itself"));
}

/// Python's *forkserver*: a server forked before any thread started forks the worker. The
/// server has one thread and an unlocked log, and so has every worker it forks.
#[test]
fn a_fork_server_started_before_any_thread_forks_workers_safely() {
    let (sc, parent, _) = at_the_pause(&["--start", "forkserver"]);
    let server = sc.role("forkserver");
    let t = sc.snapshot();
    sc.expect(
        t.ppid(server) == Some(parent) && sc.threads(server).len() == 1,
        &format!("the fork server {server} is a child of the parent, with one thread"),
    );
    sc.step("the parent asks the fork server for a worker while its logger thread holds the log's lock");
    sc.release();
    let (worker, records) = worker_wrote(&sc, parent);
    // 003: forkserver has a server process create the children, more safely.
    sc.claim_verdict(
        "forkserver-safer",
        Verdict::when(records == 1),
        &format!(
            "fork server {server} (1 thread) forked worker {worker} while the parent's logger held the lock: the worker logged ({records} record in its log)"
        ),
    );
    sc.expect_eq(
        records,
        1,
        "the worker's log is the server's copy, made before the logger wrote: its record is alone",
    );
    sc.expect_eq(
        sc.note(parent, "worker_ended").as_str(),
        "exited with status 0",
        "the server reports: it exited normally",
    );
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), "the parent exits normally");
    sc.until_empty();
    sc.expect(
        sc.exit_now(worker).is_none() && sc.exit_now(server).is_none(),
        "the server reaped its worker, and the parent its server",
    );
}
