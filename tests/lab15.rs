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

/// The threads of `pid`, in words: "2 main (S in futex_do_wait)" ("2 main（S，在 futex_do_wait 中）").
fn describe(threads: &[Thread]) -> String {
    threads
        .iter()
        .map(|t| {
            let wchan =
                if t.wchan.is_empty() { String::new() } else { say!(" in {}", "，在 {} 中", t.wchan) };
            say!("{} {} ({}{wchan})", "{} {}（{}{wchan}）", t.tid, t.name, t.state)
        })
        .collect::<Vec<_>>()
        .join(&say!(", ", "、"))
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
    sc.until(
        &say!(
            "the parent has two threads, its main thread and the logger, the logger waiting",
            "父进程有两个线程，即它的主线程和 logger，且 logger 在等待"
        ),
        |_| two(&sc.threads(parent)),
    );
    let threads = sc.threads(parent);
    sc.expect(
        two(&threads),
        &say!(
            "the parent has two threads, its main thread {parent} and the logger: {}",
            "父进程有两个线程，即它的主线程 {parent} 和 logger：{}",
            describe(&threads)
        ),
    );
    sc.show(&say!("held at the pause, before the worker starts", "停在暂停点，工作进程启动之前"));
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
                    return Some(say!(
                        "process {} ({}) is a single thread asleep on a lock: {} — nobody in it can ever release that lock",
                        "进程 {}（{}）只有一个线程，睡在一把锁上：{}——这个进程里再也没有谁能释放这把锁",
                        p.pid,
                        t.roles
                            .get(&p.pid)
                            .cloned()
                            .unwrap_or_else(|| say!("not yet a worker", "还不是工作进程")),
                        describe(&threads)
                    ));
                }
            }
        }
        let parents = t.roles.values().filter(|r| *r == "parent").count();
        (parents > 1).then(|| {
            say!(
                "a second process announced itself as the parent: the worker ran this program's main, not the worker",
                "第二个进程宣布自己是 parent：工作进程执行的是这个程序的 main，而不是工作进程的代码"
            )
        })
    };
    sc.until(
        &say!(
            "the worker writes its record (or something is stuck for good)",
            "工作进程写下它的记录（或者有什么永远卡住了）"
        ),
        |t| !sc.notes_now("records").is_empty() || stuck(t).is_some(),
    );
    if sc.notes_now("records").is_empty() {
        let why = stuck(&sc.snapshot()).unwrap_or_else(|| say!("it is stuck", "它卡住了"));
        sc.fail(&say!("the worker writes its record — but {why}", "工作进程写下它的记录——但{why}"));
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
    sc.step(&say!(
        "the parent forks a worker while the logger thread holds the log's lock; the worker logs",
        "logger 线程持有日志锁时，父进程 fork 出一个工作进程；工作进程写日志"
    ));
    sc.release();
    let worker = sc.role("worker");
    sc.until(
        &say!(
            "the worker is a single thread asleep on the log's lock (or it has ended)",
            "工作进程只有一个线程，睡在日志锁上（或者它已经结束）"
        ),
        |t| hung_on_a_lock(&sc.threads(worker)) || !t.alive(worker),
    );
    let threads = sc.threads(worker);
    let hung = hung_on_a_lock(&threads);
    // 003: fork copies the main process, memory state and resources included. The lock's state
    // was copied (held, by nobody there): part true. The threads were not: one thread.
    let seen = say!(
        "fork while the logger thread held the log's lock: worker {worker} had {} thread(s) ({}), {}",
        "logger 线程持有日志锁时 fork：工作进程 {worker} 有 {} 个线程（{}），{}",
        threads.len(),
        threads.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(&say!(", ", "、")),
        if hung {
            say!(
                "asleep on the copied, held lock in {}",
                "睡在复制过来的、仍处于加锁状态的锁上，在 {} 中",
                threads[0].wchan
            )
        } else {
            say!("not asleep on the lock", "没有睡在这把锁上")
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
            &say!(
                "Python {version} on Linux here: multiprocessing.get_start_method() is {method}; {seen} — the same hang a Python worker started by fork gets",
                "本机 Linux 上的 Python {version}：multiprocessing.get_start_method() 是 {method}；{seen}——用 fork 启动的 Python 工作进程也会这样卡死"
            ),
        );
    }
    sc.expect(
        hung,
        &say!(
            "the worker is a single thread asleep on the log's lock: {}",
            "工作进程只有一个线程，睡在日志锁上：{}",
            describe(&threads)
        ),
    );
    sc.expect(
        threads[0].tid == worker && threads[0].name == main && threads.iter().all(|t| t.name != "logger"),
        &say!(
            "the worker's one thread is the copy of the thread that called fork ({main}), not the logger: {}",
            "工作进程唯一的线程是调用 fork 的那个线程（{main}）的副本，而不是 logger：{}",
            describe(&threads)
        ),
    );
    sc.stays(
        &say!(
            "the worker stays asleep on the lock, alive: its owner, the logger, was not copied",
            "工作进程一直活着，睡在这把锁上：锁的持有者 logger 没有被复制过来"
        ),
        WINDOW,
        |t| t.alive(worker) && hung_on_a_lock(&sc.threads(worker)),
    );
    sc.expect(
        sc.notes_now("records").is_empty(),
        &say!("the worker never wrote its record", "工作进程始终没有写下它的记录"),
    );
    sc.until(
        &say!(
            "meanwhile the parent's logger has finished its record (the parent's own lock is free) and the parent waits for the worker",
            "与此同时，父进程的 logger 写完了它的记录（父进程自己的锁是空闲的），父进程在等待工作进程"
        ),
        |t| t.get(parent).is_some_and(|p| p.threads == 1 && p.in_waitpid()),
    );
    sc.step(&say!("the spec kills the hung worker", "规约杀死卡死的工作进程"));
    sc.signal(worker, Signal::SIGKILL);
    sc.expect_eq(
        sc.note(parent, "worker_ended").as_str(),
        "killed by SIGKILL",
        &say!("the parent's wait returns", "父进程的 wait 返回"),
    );
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), &say!("the parent exits normally", "父进程正常退出"));
}

/// The same fork between two records: the lock is free at that instant, so the worker logs —
/// and finds the parent's record in its copy of the log. Whether a fork in a multithreaded
/// process hangs depends on what the other threads hold at that instant.
#[test]
fn a_fork_between_two_records_works_by_luck() {
    let (sc, parent, _) = at_the_pause(&["--logger", "idle"]);
    sc.step(&say!(
        "the parent forks a worker while the logger is between two records (the lock is free)",
        "logger 处在两条记录之间（锁是空闲的）时，父进程 fork 出一个工作进程"
    ));
    sc.release();
    let (worker, records) = worker_wrote(&sc, parent);
    sc.claim_verdict(
        "fork-copies-the-process",
        Verdict::when(records == 2),
        &say!(
            "fork between two records: worker {worker} logged, and its log held {records} records — the parent's, copied with the memory, and its own",
            "在两条记录之间 fork：工作进程 {worker} 写了日志，它的日志里有 {records} 条记录——父进程的那条（随内存一起复制过来）和它自己的"
        ),
    );
    sc.expect_eq(
        records,
        2,
        &say!(
            "the worker's log holds the parent's record, copied by fork, and its own",
            "工作进程的日志里有父进程的记录（由 fork 复制而来）和它自己的记录"
        ),
    );
    sc.expect_eq(
        sc.note(parent, "worker_ended").as_str(),
        "exited with status 0",
        &say!("the worker exits normally", "工作进程正常退出"),
    );
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), &say!("the parent exits normally", "父进程正常退出"));
}

/// Fork + exec (Rust's `Command`, Python's *spawn*): the worker is a fresh program — new memory,
/// a new unlocked mutex, one thread — whatever the parent's threads hold.
#[test]
fn spawn_starts_a_fresh_program_whatever_the_threads_hold() {
    let (sc, parent, _) = at_the_pause(&["--start", "spawn"]);
    sc.step(&say!(
        "the parent spawns a worker (fork + exec) while the logger thread holds the log's lock",
        "logger 线程持有日志锁时，父进程用 spawn（fork + exec）启动一个工作进程"
    ));
    sc.release();
    let (worker, records) = worker_wrote(&sc, parent);
    // 003: spawn starts a brand-new interpreter; the child inherits none of the memory state.
    sc.claim_verdict(
        "spawn-fresh",
        Verdict::when(records == 1),
        &say!(
            "spawn (fork + exec) while the logger held the lock: worker {worker}'s log held {records} record(s), its own; it was not stuck on the lock",
            "logger 持有锁时 spawn（fork + exec）：工作进程 {worker} 的日志里有 {records} 条记录，是它自己的；它没有卡在锁上"
        ),
    );
    sc.expect_eq(
        records,
        1,
        &say!(
            "the worker's log is its own, new and empty: its record is the only one",
            "工作进程的日志是它自己的，新建时是空的：它的记录是唯一的一条"
        ),
    );
    sc.expect_eq(
        sc.note(parent, "worker_ended").as_str(),
        "exited with status 0",
        &say!("the worker exits normally", "工作进程正常退出"),
    );
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), &say!("the parent exits normally", "父进程正常退出"));
    sc.until_empty();
    sc.expect(
        sc.exit_now(worker).is_none(),
        &say!("the parent reaped its worker {worker} itself", "父进程亲自回收了它的工作进程 {worker}"),
    );
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
        &say!(
            "the fork server {server} is a child of the parent, with one thread",
            "fork 服务器 {server} 是父进程的子进程，只有一个线程"
        ),
    );
    sc.step(&say!(
        "the parent asks the fork server for a worker while its logger thread holds the log's lock",
        "父进程的 logger 线程持有日志锁时，父进程请 fork 服务器启动一个工作进程"
    ));
    sc.release();
    let (worker, records) = worker_wrote(&sc, parent);
    // 003: forkserver has a server process create the children, more safely.
    sc.claim_verdict(
        "forkserver-safer",
        Verdict::when(records == 1),
        &say!(
            "fork server {server} (1 thread) forked worker {worker} while the parent's logger held the lock: the worker logged ({records} record in its log)",
            "父进程的 logger 持有锁时，fork 服务器 {server}（1 个线程）fork 出了工作进程 {worker}：工作进程写了日志（它的日志里有 {records} 条记录）"
        ),
    );
    sc.expect_eq(
        records,
        1,
        &say!(
            "the worker's log is the server's copy, made before the logger wrote: its record is alone",
            "工作进程的日志复制自服务器的日志，而后者复制于 logger 写入之前：里面只有它自己的记录"
        ),
    );
    sc.expect_eq(
        sc.note(parent, "worker_ended").as_str(),
        "exited with status 0",
        &say!("the server reports: it exited normally", "服务器报告：工作进程正常退出"),
    );
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), &say!("the parent exits normally", "父进程正常退出"));
    sc.until_empty();
    sc.expect(
        sc.exit_now(worker).is_none() && sc.exit_now(server).is_none(),
        &say!(
            "the server reaped its worker, and the parent its server",
            "服务器回收了它的工作进程，父进程回收了服务器"
        ),
    );
}
