//! Spec of lab 09 — Ctrl-C on a real terminal. Judges labs/09-ctrl-c (`cargo test -p lab09`)
//! and solutions/09-ctrl-c (`cargo test -p sol09`).
//!
//! Every scenario runs on a real pseudo-terminal: the lab's first process leads the terminal's
//! foreground group (as a shell's job would) and the spec types `\x03` on the terminal, so the
//! kernel's line discipline, not the spec, sends the SIGINT. `--post` is the post's program
//! (workers in the parent's group); the default is the exercise (workers in groups of their
//! own, stopped by the parent one at a time, last started first).

use harness::prelude::*;
use harness::{Event, Kind};
use rstest::rstest;

const WORKERS: usize = 3;
const CTRL_C: &[u8] = b"\x03";

/// How the SIGINT comes.
#[derive(Clone, Copy, Debug)]
enum Trigger {
    /// `^C` typed on the terminal.
    CtrlC,
    /// `kill -INT <parent>`.
    KillInt,
}

/// Which side of the last fork stops at a pause before doing anything else.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Hold {
    No,
    Parent,
    Worker,
}

/// The processes of one run: the parent and its workers in start order (worker i at index i).
struct Run {
    sc: Scenario,
    parent: i32,
    workers: Vec<i32>,
}

/// Starts the lab on a terminal and waits until the parent has started every worker and each
/// is at work. With a hold, the held side of the last fork is stopped at its pause instead.
fn started(args: &[&str], hold: Hold) -> Run {
    let mut all: Vec<&str> = args.to_vec();
    match hold {
        Hold::No => {}
        Hold::Parent => all.extend(["--hold", "parent"]),
        Hold::Worker => all.extend(["--hold", "worker"]),
    }
    let sc = Scenario::start_with_terminal(lab!(), &all);
    let parent = sc.role("parent");
    let held = match hold {
        Hold::No => None,
        Hold::Parent => Some(sc.paused("the parent has forked a worker")),
        Hold::Worker => Some(sc.paused("a worker is born")),
    };
    let announced = sc.roles("worker", if hold == Hold::Worker { WORKERS - 1 } else { WORKERS });
    let mut workers = vec![0; WORKERS];
    for &w in &announced {
        let i: usize = sc.note(w, "index").parse().unwrap_or(usize::MAX);
        if i >= WORKERS || workers[i] != 0 {
            sc.fail(&say!(
                "worker {w} notes an index 0..{WORKERS} no other worker has — it noted {i}",
                "工作进程 {w} 应当记下一个 0..{WORKERS} 之间、别的工作进程都没有的序号——它记下的是 {i}"
            ));
        }
        workers[i] = w;
        sc.note(w, "working");
    }
    if hold == Hold::Worker {
        workers[WORKERS - 1] = held.unwrap_or(0);
    }
    if hold != Hold::Parent {
        sc.note(parent, "started");
    }
    Run { sc, parent, workers }
}

/// The `got` notes (signals caught, with their origin) of `pid`, in order.
fn got(events: &[Event], pid: i32) -> Vec<String> {
    notes_of(events, pid, "got")
}

fn notes_of(events: &[Event], pid: i32, key: &str) -> Vec<String> {
    events
        .iter()
        .filter(|e| e.pid == pid)
        .filter_map(|e| match &e.kind {
            Kind::Note(k, v) if k == key => Some(v.clone()),
            _ => None,
        })
        .collect()
}

/// The terminal's foreground group is the parent's, as a shell would make it for a job.
#[track_caller]
fn parent_leads_the_foreground_group(sc: &Scenario, parent: i32) -> i32 {
    let fg = sc.foreground_group();
    sc.expect_eq(
        Some(fg),
        sc.snapshot().pgid(parent),
        &say!(
            "the terminal's foreground group (tcgetpgrp) is the parent's group",
            "终端的前台进程组（tcgetpgrp）就是父进程的进程组"
        ),
    );
    fg
}

/// Every process caught Ctrl-C's SIGINT with the post's handler, from the terminal.
const FROM_TERMINAL: &str = "SIGINT from the terminal";

/// Post 001's program: the workers are in the parent's group, the terminal's foreground group.
/// One ^C, and the kernel sends SIGINT to every one of them at once — each handler reports a
/// signal from the kernel itself (si_code SI_KERNEL), not from the parent. Each cleans up.
#[test]
fn posts_program_ctrl_c_signals_every_process_of_the_foreground_group_at_once() {
    let Run { sc, parent, workers } = started(&["--post"], Hold::No);
    let fg = parent_leads_the_foreground_group(&sc, parent);
    let t = sc.snapshot();
    sc.expect(
        workers.iter().all(|&w| t.pgid(w) == Some(fg)),
        &say!(
            "every worker {workers:?} is in the parent's group {fg}, the terminal's foreground group",
            "每个工作进程 {workers:?} 都在父进程的进程组 {fg} 中，也就是终端的前台进程组"
        ),
    );
    sc.show(&say!(
        "the post's program on a terminal: everyone in the foreground group",
        "博文的程序在终端上运行：所有进程都在前台进程组中"
    ));
    sc.step(&say!("Ctrl-C is typed on the terminal", "在终端上按下 Ctrl-C"));
    sc.type_keys(CTRL_C);
    sc.until_terminal(&say!("the terminal echoes ^C", "终端回显 ^C"), |s| s.contains("^C"));
    sc.expect_eq(
        sc.exit_of(parent),
        Exit::Code(0),
        &say!("the parent cleans up and exits", "父进程完成清理并退出"),
    );
    sc.until_empty();
    let events = sc.events();
    // Order and timing vary from run to run: reported, not asserted.
    let handled: Vec<(i32, i128)> = events
        .iter()
        .filter(|e| matches!(&e.kind, Kind::Note(k, _) if k == "got"))
        .map(|e| (e.pid, e.t_ns))
        .collect();
    let spread_us = (handled.iter().map(|h| h.1).max().unwrap_or(0)
        - handled.iter().map(|h| h.1).min().unwrap_or(0))
        / 1000;
    let first = if handled.first().map(|h| h.0) == Some(parent) {
        say!("the parent's", "父进程的")
    } else {
        say!("a worker's", "某个工作进程的")
    };
    let everyone: Vec<i32> = std::iter::once(parent).chain(workers.iter().copied()).collect();
    let cleaned = everyone.iter().filter(|&&p| notes_of(&events, p, "cleanup").len() == 1).count();
    let from_kernel = everyone.iter().filter(|&&p| notes_of(&events, p, "sender") == ["0"]).count();
    let from_parent =
        workers.iter().filter(|&&w| notes_of(&events, w, "sender") == [parent.to_string()]).count();
    let total = everyone.len();
    // 001: KeyboardInterrupt lets every process exit fairly gracefully.
    sc.claim_verdict(
        "ctrl-c-everyone-cleans-up",
        Verdict::when(cleaned == total),
        &say!(
            "one ^C: {cleaned} of {total} processes (the parent and {WORKERS} workers) caught SIGINT and cleaned up once; {first} handler ran first, the last {spread_us} µs after the first",
            "一次 ^C：{total} 个进程（父进程和 {WORKERS} 个工作进程）中有 {cleaned} 个捕获了 SIGINT 并清理了一次；{first}处理函数最先运行，最后一个比第一个晚 {spread_us} µs"
        ),
    );
    // 001: the main process gets SIGINT and passes it on to each child. A worker's SIGINT from
    // the parent would carry the parent's pid; from the terminal it carries 0 (SI_KERNEL).
    sc.claim_verdict(
        "ctrl-c-propagates",
        Verdict::when(from_parent > 0),
        &say!(
            "one ^C: {from_kernel} of {total} processes of foreground group {fg} got SIGINT from the kernel itself (SI_KERNEL, sender 0), {from_parent} worker(s) from the parent",
            "一次 ^C：前台进程组 {fg} 的 {total} 个进程中有 {from_kernel} 个直接从内核收到 SIGINT（SI_KERNEL，发送者 0），有 {from_parent} 个工作进程是从父进程收到的"
        ),
    );
    for &p in &everyone {
        let (signals, senders, cleanups) =
            (got(&events, p), notes_of(&events, p, "sender"), notes_of(&events, p, "cleanup"));
        sc.expect(
            signals == [FROM_TERMINAL] && senders == ["0"] && cleanups.len() == 1,
            &say!(
                "process {p} caught one signal, SIGINT from the kernel itself (si_code SI_KERNEL, sender pid 0), and cleaned up once — observed {signals:?} from {senders:?}, cleanups {cleanups:?}",
                "进程 {p} 捕获了一个信号，即直接来自内核的 SIGINT（si_code SI_KERNEL，发送者 pid 0），并清理了一次——实际为来自 {senders:?} 的 {signals:?}，清理记录 {cleanups:?}"
            ),
        );
    }
    let unreaped: Vec<i32> = workers.iter().copied().filter(|&w| sc.exit_now(w).is_some()).collect();
    sc.expect(
        unreaped.is_empty(),
        &say!(
            "the parent reaped its workers (the sandbox had to reap {unreaped:?})",
            "父进程回收了它的工作进程（沙箱不得不替它回收的：{unreaped:?}）"
        ),
    );
    let out = sc.final_stdout();
    sc.expect(
        out.contains("parent: SIGINT from the terminal — cleaning up")
            && (0..WORKERS)
                .all(|i| out.contains(&format!("worker {i}: SIGINT from the terminal — cleaning up"))),
        &say!("every process printed its cleanup line", "每个进程都打印出了表示清理的那一行"),
    );
}

/// Nothing propagates: `kill -INT <parent>` reaches the parent alone. It cleans up and waits for
/// its workers (as Python's exit joins its children), and they keep working — until a real
/// ^C reaches them too, because they were in the foreground group all along.
#[test]
fn posts_program_kill_int_to_the_parent_reaches_only_the_parent() {
    let Run { sc, parent, workers } = started(&["--post"], Hold::No);
    parent_leads_the_foreground_group(&sc, parent);
    sc.show(&say!("the post's program on a terminal", "博文的程序在终端上运行"));
    sc.step(&say!("kill -INT {parent} (the parent), not a ^C", "kill -INT {parent}（父进程），而不是 ^C"));
    sc.signal(parent, Signal::SIGINT);
    let (_, _, cleaned) = sc.notes("cleanup", 1)[0].clone();
    sc.expect_eq(
        sc.note(parent, "got"),
        "SIGINT from kill()".to_string(),
        &say!("the parent caught a SIGINT sent by kill()", "父进程捕获了一个由 kill() 发送的 SIGINT"),
    );
    sc.step(&say!(
        "the parent has cleaned up and waits for its workers; do they stop?",
        "父进程已完成清理，正在等待它的工作进程；它们会停下来吗？"
    ));
    for &w in &workers {
        sc.note_after(w, "working", cleaned);
    }
    let t = sc.snapshot();
    sc.show(&say!("after kill -INT to the parent", "对父进程 kill -INT 之后"));
    sc.expect(
        workers.iter().all(|&w| t.alive(w) && !t.get(w).is_some_and(|p| p.has_pending(Signal::SIGINT))),
        &say!("every worker is alive, with no SIGINT pending", "每个工作进程都活着，没有未决的 SIGINT"),
    );
    let events = sc.events();
    let reached = workers.iter().filter(|&&w| !got(&events, w).is_empty()).count();
    sc.claim_verdict(
        "ctrl-c-propagates",
        Verdict::when(reached > 0),
        &say!(
            "kill -INT to parent {parent}: the parent caught it and cleaned up; {reached} of its {WORKERS} workers got a signal — they kept working until a ^C on the terminal reached them directly",
            "对父进程 {parent} 执行 kill -INT：父进程捕获了它并完成清理；它的 {WORKERS} 个工作进程中有 {reached} 个收到了信号——它们一直在工作，直到终端上的 ^C 直接到达它们"
        ),
    );
    let got_notes = sc.notes_now("got");
    sc.expect(
        workers.iter().all(|&w| got(&events, w).is_empty() && notes_of(&events, w, "cleanup").is_empty()),
        &say!(
            "no worker caught a signal or cleaned up; each kept working after the parent's cleanup — the parent passed nothing on (notes: {got_notes:?})",
            "没有哪个工作进程捕获了信号或做了清理；父进程清理之后，每个工作进程都继续工作——父进程什么也没有传下去（记录：{got_notes:?}）"
        ),
    );
    sc.step(&say!("now a real ^C on the terminal", "现在在终端上真正按一次 ^C"));
    sc.type_keys(CTRL_C);
    sc.expect_eq(
        sc.exit_of(parent),
        Exit::Code(0),
        &say!("the parent's wait ends: its workers exited", "父进程的等待结束了：它的工作进程都已退出"),
    );
    sc.until_empty();
    let events = sc.events();
    for &w in &workers {
        sc.expect_eq(
            got(&events, w),
            vec![FROM_TERMINAL.to_string()],
            &say!("worker {w} caught the ^C itself", "工作进程 {w} 自己捕获了 ^C"),
        );
    }
}

/// The exercise: every worker in a process group of its own, so ^C reaches only the parent —
/// the one process left in the foreground group — and the parent stops the workers one at a
/// time, last started first, each with SIGTERM, waiting for each to clean up before the next;
/// the parent cleans up last. `kill -INT <parent>` starts the same shutdown. The holds stop one
/// side of the last fork before it runs a line of its own: the worker must be out of the
/// foreground group whichever side gets to run first, so both sides call setpgid.
#[rstest]
#[case::ctrl_c(Trigger::CtrlC, Hold::No)]
#[case::kill_int_to_the_parent(Trigger::KillInt, Hold::No)]
#[case::ctrl_c_while_the_new_worker_has_not_run(Trigger::CtrlC, Hold::Worker)]
#[case::ctrl_c_while_the_parent_has_not_run_after_fork(Trigger::CtrlC, Hold::Parent)]
fn the_parent_stops_its_workers_in_its_own_order(#[case] trigger: Trigger, #[case] hold: Hold) {
    let Run { sc, parent, workers } = started(&[], hold);
    let last = workers[WORKERS - 1];
    let fg = parent_leads_the_foreground_group(&sc, parent);
    let t = sc.snapshot();
    let last_i = WORKERS - 1;
    match hold {
        Hold::No => sc.show(&say!(
            "the parent in the foreground group, each worker in a group of its own",
            "父进程在前台进程组中，每个工作进程各在自己的进程组中"
        )),
        Hold::Worker => sc.show(&say!(
            "worker {last_i} ({last}) is born and has not run yet",
            "工作进程 {last_i}（{last}）已经诞生，但还没有运行"
        )),
        Hold::Parent => sc.show(&say!(
            "the parent has forked worker {last_i} ({last}) and has not run since",
            "父进程 fork 出了工作进程 {last_i}（{last}），此后还没有运行过"
        )),
    }
    for (i, &w) in workers.iter().enumerate() {
        let why = match hold {
            Hold::Worker if w == last => say!(
                " — moved by the parent, since the worker has not run a line yet",
                "——是父进程把它移过去的，因为工作进程还一行代码都没有运行"
            ),
            Hold::Parent if w == last => say!(
                " — moved by the worker itself, since the parent has not run a line yet",
                "——是工作进程自己移过去的，因为父进程还一行代码都没有运行"
            ),
            _ => String::new(),
        };
        sc.expect(
            t.pgid(w).is_some_and(|g| g != fg && g != t.pgid(parent).unwrap_or(0)),
            &say!(
                "worker {i} ({w}) is in a process group of its own, out of the terminal's foreground group {fg}{why}",
                "工作进程 {i}（{w}）在自己的进程组中，不在终端的前台进程组 {fg} 中{why}"
            ),
        );
        let p = t.get(w);
        sc.expect(
            p.is_some_and(|p| {
                p.catches(Signal::SIGINT) && p.catches(Signal::SIGTERM) && !p.blocks(Signal::SIGINT)
            }),
            &say!(
                "worker {i} ({w}) still catches SIGINT (unblocked) and SIGTERM with the post's handler",
                "工作进程 {i}（{w}）仍用博文中的处理函数捕获 SIGINT（未被阻塞）和 SIGTERM"
            ),
        );
    }
    match trigger {
        Trigger::CtrlC => {
            sc.step(&say!("Ctrl-C is typed on the terminal", "在终端上按下 Ctrl-C"));
            sc.type_keys(CTRL_C);
            sc.until_terminal(&say!("the terminal echoes ^C", "终端回显 ^C"), |s| s.contains("^C"));
        }
        Trigger::KillInt => {
            sc.step(&say!("kill -INT {parent} (the parent)", "kill -INT {parent}（父进程）"));
            sc.signal(parent, Signal::SIGINT);
        }
    }
    if hold != Hold::No {
        sc.step(&say!("the held process goes on", "被暂停的进程继续运行"));
        sc.release();
    }
    sc.expect_eq(
        sc.exit_of(parent),
        Exit::Code(0),
        &say!("the parent stops its workers, cleans up and exits", "父进程停止它的工作进程，完成清理并退出"),
    );
    sc.until_empty();
    let events = sc.events();
    let sigint = match trigger {
        Trigger::CtrlC => FROM_TERMINAL,
        Trigger::KillInt => "SIGINT from kill()",
    };
    if matches!(trigger, Trigger::CtrlC) && hold == Hold::No {
        let sigints =
            workers.iter().filter(|&&w| got(&events, w).iter().any(|g| g.starts_with("SIGINT"))).count();
        sc.claim_verdict(
            "ctrl-c-propagates",
            Verdict::when(sigints > 0),
            &say!(
                "workers in groups of their own, out of the foreground group: ^C reached the parent {parent}; {sigints} of {WORKERS} workers got a SIGINT — they ended by its SIGTERMs, in its order",
                "工作进程各在自己的进程组中，不在前台进程组里：^C 到达了父进程 {parent}；{WORKERS} 个工作进程中有 {sigints} 个收到了 SIGINT——它们是被父进程的 SIGTERM 按父进程定的顺序结束的"
            ),
        );
    }
    sc.expect_eq(
        got(&events, parent),
        vec![sigint.to_string()],
        &say!("the parent caught the SIGINT", "父进程捕获了这个 SIGINT"),
    );
    for (i, &w) in workers.iter().enumerate() {
        sc.expect_eq(
            got(&events, w),
            vec!["SIGTERM".to_string()],
            &say!(
                "worker {i} ({w}) caught one signal only: the parent's SIGTERM — no SIGINT",
                "工作进程 {i}（{w}）只捕获了一个信号：父进程的 SIGTERM——没有 SIGINT"
            ),
        );
        sc.expect_eq(
            notes_of(&events, w, "sender"),
            vec![parent.to_string()],
            &say!(
                "worker {i}'s SIGTERM came from the parent {parent}",
                "工作进程 {i} 的 SIGTERM 来自父进程 {parent}"
            ),
        );
    }
    // The shutdown in trace order: each step causes the next, so the order is certain.
    let keys = ["got", "stopping", "stopped", "cleanup"];
    let observed: Vec<String> = events
        .iter()
        .filter_map(|e| match &e.kind {
            Kind::Note(k, v) if keys.contains(&k.as_str()) => {
                let who = if e.pid == parent {
                    "parent".to_string()
                } else {
                    workers
                        .iter()
                        .position(|&w| w == e.pid)
                        .map(|i| format!("worker {i}"))
                        .unwrap_or(e.pid.to_string())
                };
                Some(format!("{who}: {k} {v}"))
            }
            _ => None,
        })
        .collect();
    let mut expected = vec![format!("parent: got {sigint}")];
    for i in (0..WORKERS).rev() {
        expected.extend([
            format!("parent: stopping {i}"),
            format!("worker {i}: got SIGTERM"),
            format!("worker {i}: cleanup worker {i}"),
            format!("parent: stopped {i}"),
        ]);
    }
    expected.push("parent: cleanup parent".to_string());
    let mismatch = if observed == expected {
        String::new()
    } else {
        let observed = observed.join("\n      ");
        say!("\n    observed:\n      {observed}", "\n    实际观察到：\n      {observed}")
    };
    let shutdown = expected.join("\n      ");
    sc.expect(
        mismatch.is_empty(),
        &say!(
            "the shutdown, in trace order — each worker stopped and reaped before the next, the parent last:\n      {shutdown}{mismatch}",
            "按跟踪记录顺序的关闭过程——每个工作进程都在下一个之前被停止并回收，父进程最后：\n      {shutdown}{mismatch}"
        ),
    );
    let unreaped: Vec<i32> = workers.iter().copied().filter(|&w| sc.exit_now(w).is_some()).collect();
    sc.expect(
        unreaped.is_empty(),
        &say!(
            "the parent reaped its workers (the sandbox had to reap {unreaped:?})",
            "父进程回收了它的工作进程（沙箱不得不替它回收的：{unreaped:?}）"
        ),
    );
}
