//! Spec of lab 07 — the "infinite" terminate loop. Judges labs/07-terminate-loop
//! (`cargo test -p lab07`) and solutions/07-terminate-loop (`cargo test -p sol07`).
//!
//! The lab is post 000's third listing: the SIGTERM handler registered *before* the children
//! are forked. With `--post` the program is the listing as it is; without, the handlers must
//! really stop the processes (the exercise).
//!
//! Signal coalescing makes the number of handler runs vary from run to run: the spec asserts
//! its bounds, never one number (derivation in labs/07-terminate-loop/README.md).

use harness::prelude::*;
use rstest::rstest;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::time::Instant;

/// How long the cascade must have been quiet before the spec calls it settled.
const SETTLE: Duration = Duration::from_millis(100);
/// How long the spec then watches that nothing changes any more ("still alive", "silence").
const WINDOW: Duration = Duration::from_millis(500);
/// How long the fix's survivors are watched after one child stopped: a wrong answer that
/// signals them does so within milliseconds of the SIGTERM.
const SURVIVORS: Duration = Duration::from_millis(250);

#[derive(Clone, Copy, Debug)]
enum Who {
    Parent,
    Child(usize),
}

/// The pids of the scenario: the parent, then the children in fork order.
struct Procs {
    parent: i32,
    kids: Vec<i32>,
}

impl Procs {
    fn pid(&self, who: Who) -> i32 {
        match who {
            Who::Parent => self.parent,
            Who::Child(i) => self.kids[i],
        }
    }
    fn name(&self, pid: i32) -> String {
        match self.kids.iter().position(|&k| k == pid) {
            Some(i) => say!("child {i}", "子进程 {i}"),
            None if pid == self.parent => say!("parent", "父进程"),
            None => format!("{pid}"),
        }
    }
    fn all(&self) -> Vec<i32> {
        std::iter::once(self.parent).chain(self.kids.iter().copied()).collect()
    }
}

/// The most handler runs each process can have after one SIGTERM to `who`, with `n` children
/// (0 = the signal cannot reach it). A child's list holds the children forked before it, so
/// SIGTERMs only flow to lower indexes. Without coalescing, every SIGTERM sent is one run:
/// target parent: child j gets 1 from the parent + 1 per run of each child above it, so
/// R(n-1) = 1 and R(j) = 1 + R(j+1) + … + R(n-1) = 2^(n-1-j); target child k: R(k) = 1 and
/// R(j) = 2^(k-1-j) for j < k.
fn max_runs(n: usize, who: Who) -> Vec<(Who, usize)> {
    let mut v = vec![(Who::Parent, usize::from(matches!(who, Who::Parent)))];
    for j in 0..n {
        let max = match who {
            Who::Parent => 1 << (n - 1 - j),
            Who::Child(k) if j == k => 1,
            Who::Child(k) if j < k => 1 << (k - 1 - j),
            Who::Child(_) => 0,
        };
        v.push((Who::Child(j), max));
    }
    v
}

/// SIGTERM pending (SigPnd, ShdPnd) or blocked (SigBlk: it is while its handler runs) in `pid`.
fn term_in_flight(t: &Tree, pid: i32) -> bool {
    t.get(pid).is_some_and(|p| p.has_pending(Signal::SIGTERM) || p.blocks(Signal::SIGTERM))
}

/// Handler runs so far, per process.
fn runs(sc: &Scenario) -> BTreeMap<i32, usize> {
    let mut m = BTreeMap::new();
    for (pid, _, _) in sc.notes_now("handler-run") {
        *m.entry(pid).or_insert(0) += 1;
    }
    m
}

/// Starts the lab and waits until every child is running and the parent is blocked in
/// waitpid(child 0). Checks what each child inherited.
fn started(sc: &Scenario, n: usize) -> Procs {
    let parent = sc.role("parent");
    let kids: Vec<i32> = (0..n).map(|i| sc.role(&format!("child {i}"))).collect();
    let lens: Vec<String> = kids.iter().map(|&k| sc.note(k, "list-len")).collect();
    let expected: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    sc.expect_eq(
        lens,
        expected,
        &say!(
            "child i inherited a copy of the list holding the i children forked before it",
            "子进程 i 继承了一份列表副本，里面是在它之前 fork 出的 i 个子进程"
        ),
    );
    // A child is safe to signal once it is at work: past its note, its copy of the list already
    // forgotten (the fix's TODO comes after the note) — asleep in its loop, or held at a pause.
    sc.until(
        &say!(
            "every child is at work: asleep in its loop (nanosleep) or held at a pause",
            "每个子进程都已开始工作：在它的循环里睡眠（nanosleep），或停在一个暂停点"
        ),
        |t| {
            kids.iter().all(|&k| {
                t.get(k).is_some_and(|p| p.at_pause() || (p.state == 'S' && p.wchan.contains("nanosleep")))
            })
        },
    );
    let joining: i32 = sc.note(parent, "joining").parse().unwrap_or(-1);
    sc.expect_eq(
        joining,
        kids[0],
        &say!(
            "the parent joins the children in order: first child 0",
            "父进程按顺序等待（join）子进程：先等子进程 0"
        ),
    );
    sc.step(&say!(
        "the parent registered its SIGTERM handler, then forked {n} children, then called waitpid(child 0)",
        "父进程先注册了 SIGTERM 处理函数，然后 fork 出 {n} 个子进程，再调用 waitpid 等待子进程 0"
    ));
    let t = sc.until(
        &say!("the parent is blocked in waitpid(child 0)", "父进程阻塞在等待子进程 0 的 waitpid 中"),
        |t| t.in_waitpid(parent),
    );
    let procs = Procs { parent, kids };
    for pid in procs.all() {
        let name = procs.name(pid);
        sc.expect(
            t.get(pid).is_some_and(|p| p.catches(Signal::SIGTERM)),
            &say!(
                "{name} ({pid}) catches SIGTERM: the handler was registered before the forks",
                "{name}（{pid}）捕获 SIGTERM：处理函数是在 fork 之前注册的"
            ),
        );
    }
    procs
}

/// Waits until the cascade is over: no SIGTERM pending or being handled in any process, and
/// the count of handler runs unchanged, for SETTLE. Returns the runs per process.
fn settle(sc: &Scenario, procs: &Procs) -> BTreeMap<i32, usize> {
    let quiet: Cell<Option<(Instant, usize)>> = Cell::new(None);
    let all = procs.all();
    let settle_ms = SETTLE.as_millis();
    sc.until(
        &say!(
            "the cascade settles: no SIGTERM pending or being handled anywhere, no new handler run for {settle_ms} ms",
            "连锁反应平息下来：任何进程中都没有未决或正在处理的 SIGTERM，{settle_ms} 毫秒内没有新的处理函数运行"
        ),
        |t| {
            let count = sc.notes_now("handler-run").len();
            let busy = all.iter().any(|&p| term_in_flight(t, p));
            match quiet.get() {
                _ if busy || count == 0 => {
                    quiet.set(None);
                    false
                }
                Some((since, c)) if c == count => since.elapsed() >= SETTLE,
                _ => {
                    quiet.set(Some((Instant::now(), count)));
                    false
                }
            }
        },
    );
    runs(sc)
}

/// Post 000: "the handler calls terminate() on the children … an infinite loop" (`--post`).
/// The list is copied at each fork, so the SIGTERMs flow down to child 0 and stop: a finite
/// cascade, bounded per process and in total; then silence — and every process is still
/// alive, because every handler swallows SIGTERM.
// hint: 1
#[rstest]
#[case::to_the_parent(3, Who::Parent)]
#[case::to_child_0(3, Who::Child(0))]
#[case::to_child_1(3, Who::Child(1))]
#[case::to_child_2(3, Who::Child(2))]
#[case::to_the_parent_of_1(1, Who::Parent)]
#[case::to_the_parent_of_5(5, Who::Parent)]
fn the_posts_loop_is_a_finite_cascade_and_then_nothing_stops(#[case] n: usize, #[case] who: Who) {
    let n_arg = n.to_string();
    let sc = Scenario::start(lab!(), &["--post", "--children", &n_arg]);
    let procs = started(&sc, n);
    let target = procs.pid(who);
    let target_name = procs.name(target);
    sc.step(&say!(
        "kill -15 {target_name}: every process has the handler and its own copy of the list",
        "kill -15 {target_name}：每个进程都有这个处理函数，也都有自己的一份列表副本"
    ));
    sc.signal(target, Signal::SIGTERM);
    let runs = settle(&sc, &procs);

    // Per process: within [1, max] if the signal can reach it, exactly 0 if not.
    let bounds = max_runs(n, who);
    let mut summary = Vec::new();
    for &(w, max) in &bounds {
        let pid = procs.pid(w);
        let got = runs.get(&pid).copied().unwrap_or(0);
        let name = procs.name(pid);
        summary.push(format!("{name} ×{got}"));
        if max == 1 {
            sc.expect_eq(
                got,
                1,
                &say!(
                    "{name} ({pid}) ran its handler exactly once: one SIGTERM only can reach it",
                    "{name}（{pid}）恰好运行了一次处理函数：只有一个 SIGTERM 能到达它"
                ),
            );
        } else if max == 0 {
            sc.expect_eq(
                got,
                0,
                &say!(
                    "{name} ({pid}) never runs its handler: no list it could be reached from holds it",
                    "{name}（{pid}）从不运行处理函数：没有哪个进程的列表里有它，信号到不了它"
                ),
            );
        } else {
            sc.expect(
                (1..=max).contains(&got),
                &say!(
                    "{name} ({pid}) ran its handler between 1 and {max} times (fewer when pending SIGTERMs coalesce): observed {got}",
                    "{name}（{pid}）运行处理函数的次数在 1 到 {max} 之间（未决的 SIGTERM 合并时会少些）：实际为 {got}"
                ),
            );
        }
    }
    let summary = summary.join(", ");
    let total: usize = runs.values().sum();
    let reached = bounds.iter().filter(|(_, max)| *max > 0).count();
    let most: usize = bounds.iter().map(|(_, max)| max).sum();
    let power = match who {
        Who::Parent => n,
        Who::Child(k) => k,
    };
    sc.expect(
        (reached..=most).contains(&total),
        &say!(
            "handler runs in all: at least {reached} (one per process reached), at most {most} (2^{power}): observed {total} ({summary})",
            "处理函数总共运行的次数：至少 {reached}（信号到达的每个进程各一次），至多 {most}（2^{power}）：实际为 {total}（{summary}）"
        ),
    );
    // Each run terminated the list the process held: child j holds j pids, the parent n.
    let wrong: Vec<String> = sc
        .notes_now("handler-run")
        .into_iter()
        .filter(|(pid, len, _)| {
            let holds = if *pid == procs.parent { Some(n) } else { procs.kids.iter().position(|k| k == pid) };
            len.parse::<usize>().ok() != holds
        })
        .map(|(pid, len, _)| {
            let name = procs.name(pid);
            say!("{name} terminated a list of {len}", "{name} 终止了一个含 {len} 个 pid 的列表")
        })
        .collect();
    // 000: because of the start order, the global list is "not shared well" with the children.
    let except = if wrong.is_empty() {
        String::new()
    } else {
        say!(" — except {wrong:?}", "——例外：{wrong:?}")
    };
    sc.claim_verdict(
        "list-copied-at-fork",
        Verdict::when(wrong.is_empty()),
        &say!(
            "each of {total} handler runs terminated its own process's copy of the list: the parent's held {n} pids, child j's the j started before it{except}",
            "{total} 次处理函数运行，每一次终止的都是本进程自己的那份列表：父进程的有 {n} 个 pid，子进程 j 的有在它之前启动的 j 个{except}"
        ),
    );
    sc.expect(
        wrong.is_empty(),
        &say!(
            "every handler run terminated its own copy of the list: the parent's {n} pids, child j's j pids — observed {wrong:?}",
            "每次处理函数运行终止的都是自己那份列表：父进程的 {n} 个 pid，子进程 j 的 j 个 pid——实际为 {wrong:?}"
        ),
    );

    sc.step(&say!("the cascade is over: is anything still going on?", "连锁反应结束了：还有什么在进行吗？"));
    let all = procs.all();
    sc.stays(
        &say!(
            "every process is still alive: each handler swallowed its SIGTERM",
            "每个进程都还活着：每个处理函数都吞掉了自己收到的 SIGTERM"
        ),
        WINDOW,
        |t| all.iter().all(|&p| t.alive(p)),
    );
    let later: usize = sc.notes_now("handler-run").len();
    let t = sc.snapshot();
    let alive = all.iter().filter(|&&p| t.alive(p)).count();
    let count = all.len();
    let window_ms = WINDOW.as_millis();
    let more = later - total;
    // 000: each handler calls terminate() again: an infinite loop.
    sc.claim_verdict(
        "infinite-loop",
        Verdict::when(later > total),
        &say!(
            "SIGTERM to {target_name}: {total} handler runs ({summary}; bound {reached}..={most}), then {more} more in {window_ms} ms",
            "SIGTERM 发给{target_name}：处理函数运行了 {total} 次（{summary}；界限 {reached}..={most}），之后 {window_ms} 毫秒内又运行了 {more} 次"
        ),
    );
    // 000: the process receives the signal, but the program keeps running.
    sc.claim_verdict(
        "program-runs-on",
        Verdict::when(alive == count),
        &say!(
            "{alive} of {count} processes alive {window_ms} ms after the cascade settled",
            "连锁反应平息 {window_ms} 毫秒后，{count} 个进程中有 {alive} 个还活着"
        ),
    );
    let inherited = all.iter().filter(|&&p| t.get(p).is_some_and(|q| q.catches(Signal::SIGTERM))).count();
    // 000: a child inherits its parent's handlers (registered before the children start).
    sc.claim_verdict(
        "children-inherit-handler",
        Verdict::when(inherited == count),
        &say!(
            "{inherited} of {count} processes (the parent and its {n} children) had TERM in SigCgt",
            "{count} 个进程（父进程及其 {n} 个子进程）中有 {inherited} 个的 SigCgt 含 TERM"
        ),
    );
    if matches!(who, Who::Parent) {
        // 000: signalling the main process ends it and its children — not with this listing.
        sc.claim_verdict(
            "sigterm-parent-ends-all",
            Verdict::when(alive == 0),
            &say!(
                "with the post's listing, SIGTERM to the parent ended {ended} of the {count} processes",
                "用博文原来的程序，SIGTERM 发给父进程后，{count} 个进程中结束了 {ended} 个",
                ended = count - alive
            ),
        );
    }
    sc.expect_eq(
        later,
        total,
        &say!(
            "no handler ran during those {window_ms} ms: silence, not a loop",
            "这 {window_ms} 毫秒内没有处理函数运行：一片寂静，并没有循环"
        ),
    );
    if matches!(who, Who::Parent) {
        sc.until(
            &say!(
                "the parent is still blocked in waitpid(child 0), forever",
                "父进程仍然阻塞在等待子进程 0 的 waitpid 中，永远等下去"
            ),
            |t| t.in_waitpid(procs.parent),
        );
    }
}

/// The exercise: one SIGTERM to the parent ends the whole tree — every child stops by itself
/// (exit status 0), the parent reaps them all and exits 0.
// hint: 2
#[rstest]
#[case::three_children(3)]
#[case::six_children(6)]
fn the_fix_one_sigterm_to_the_parent_ends_the_whole_tree(#[case] n: usize) {
    let n_arg = n.to_string();
    let sc = Scenario::start(lab!(), &["--children", &n_arg]);
    let procs = started(&sc, n);
    sc.step(&say!("kill -15 the parent", "kill -15 父进程"));
    sc.signal(procs.parent, Signal::SIGTERM);
    let all = procs.all();
    sc.until(
        &say!(
            "every process has ended: the children stopped, the parent reaped them and exited",
            "每个进程都已结束：子进程停了下来，父进程回收了它们并退出"
        ),
        |t| all.iter().all(|&p| t.gone(p)),
    );
    sc.expect_eq(
        sc.exit_of(procs.parent),
        Exit::Code(0),
        &say!("the parent exits normally", "父进程正常退出"),
    );
    let reaped: Vec<String> = sc
        .notes_now("reaped")
        .into_iter()
        .filter(|(p, _, _)| *p == procs.parent)
        .map(|(_, v, _)| v)
        .collect();
    let expected: Vec<String> = procs.kids.iter().map(|k| format!("{k} exited with status 0")).collect();
    sc.claim_verdict(
        "sigterm-parent-ends-all",
        Verdict::when(reaped == expected),
        &say!(
            "with the fix (handlers that set a flag, children that stop, a parent that reaps), one SIGTERM to the parent: it reaped {reaped:?} and exited 0",
            "修正之后（处理函数只设置标志，子进程自行停止，父进程负责回收），一个 SIGTERM 发给父进程：它回收了 {reaped:?}，然后以 0 退出"
        ),
    );
    sc.expect_eq(
        reaped,
        expected,
        &say!(
            "the parent reaped every child, each stopped by itself with status 0",
            "父进程回收了每个子进程，每个子进程都自行停止，退出状态为 0"
        ),
    );
    sc.until_empty();
}

/// The exercise, other side: a child's copy of the list names the parent's children, not its
/// own. A child that gets SIGTERM stops itself, and only itself; the parent and the other
/// children keep running (stopping everyone from any member is lab 08's killpg).
// hint: 3
#[rstest]
#[case::child_0(0)]
#[case::child_1(1)]
#[case::child_2(2)]
fn the_fix_sigterm_to_a_child_stops_that_child_only(#[case] k: usize) {
    let sc = Scenario::start(lab!(), &[]);
    let procs = started(&sc, 3);
    let victim = procs.kids[k];
    sc.step(&say!("kill -15 child {k}", "kill -15 子进程 {k}"));
    sc.signal(victim, Signal::SIGTERM);
    let runs = settle(&sc, &procs);
    let ran: Vec<String> = runs.keys().map(|&p| procs.name(p)).collect();
    sc.expect_eq(
        ran,
        vec![say!("child {k}", "子进程 {k}")],
        &say!(
            "only child {k} ran its handler: it signalled no one",
            "只有子进程 {k} 运行了处理函数：它没有给任何进程发信号"
        ),
    );
    sc.until(
        &say!(
            "child {k} stops by itself: its main code notes \"stopped\" and exits (zombie or reaped)",
            "子进程 {k} 自行停止：它的主代码记下“stopped”并退出（成为僵尸进程或已被回收）"
        ),
        |t| !t.alive(victim) && sc.notes_now("stopped").iter().any(|(p, v, _)| *p == victim && v == "clean"),
    );
    let others: Vec<i32> = procs.all().into_iter().filter(|&p| p != victim).collect();
    sc.stays(
        &say!("the parent and the other children keep running", "父进程和其他子进程继续运行"),
        SURVIVORS,
        |t| others.iter().all(|&p| t.alive(p)),
    );
}

/// A handler runs in the middle of whatever the process is doing — even a `println!`. Child 1
/// is held inside its own `println!("args is 1")` when the SIGTERM arrives: the handler must
/// do only async-signal-safe work (an atomic store, write(2), kill). A `println!` in it finds
/// stdout's buffer borrowed and aborts the process, every time.
// hint: 2
#[test]
fn the_fix_a_sigterm_in_the_middle_of_a_println_runs_a_handler_that_does_not_print() {
    let sc = Scenario::start_with(lab!(), &[], Setup::default().hold_println("args is 1"));
    let procs = started(&sc, 3);
    let victim = procs.kids[1];
    sc.paused("println: args is 1");
    sc.step(&say!(
        "child 1 is held inside its println!(\"args is 1\"); kill -15 child 1 now",
        "子进程 1 停在它的 println!(\"args is 1\") 之中；现在 kill -15 子进程 1"
    ));
    sc.signal(victim, Signal::SIGTERM);
    sc.note(victim, "handler-run");
    sc.until_proc(
        &say!(
            "the handler has returned: child 1 is back inside its println!, alive",
            "处理函数已经返回：子进程 1 回到了它的 println! 之中，仍然活着"
        ),
        victim,
        |p| p.at_pause(),
    );
    sc.until_stdout(
        &say!(
            "the handler's own line arrives, written with write(2) while the println! waits",
            "处理函数自己的那一行输出出现了：它在 println! 等待时用 write(2) 写出"
        ),
        |o| o.contains("SIGTERM caught: terminating every process in my list"),
    );
    sc.release_pid(victim);
    sc.until(
        &say!(
            "child 1 finishes its println!, sees the flag and stops by itself (notes \"stopped\")",
            "子进程 1 做完它的 println!，看到标志后自行停止（记下“stopped”）"
        ),
        |t| !t.alive(victim) && sc.notes_now("stopped").iter().any(|(p, v, _)| *p == victim && v == "clean"),
    );
    let others: Vec<i32> = procs.all().into_iter().filter(|&p| p != victim).collect();
    sc.until(
        &say!("the parent and the other children keep running", "父进程和其他子进程继续运行"),
        |t| others.iter().all(|&p| t.alive(p)),
    );
}
