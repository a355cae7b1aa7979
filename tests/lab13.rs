//! Spec of lab 13 — terminate() and the rest of the tree. Judges labs/13-terminate-tree
//! (`cargo test -p lab13`) and solutions/13-terminate-tree (`cargo test -p sol13`).
//!
//! `tree --post` is the post's program: the parent sends one signal to its child, whose own
//! children (the grandchildren) live on as orphans of the sandbox. `tree` is the exercise:
//! the parent terminates the whole subtree, and when it says so nothing of it is left.
//! `lock …` kills a child holding a lock that two others wait for; `daemon` shows a child with
//! a parent-death signal forking a child of its own.
//!
//! The sandbox is the scenario's child subreaper and, with a PID namespace (the default where
//! the machine allows it), pid 1 of that namespace as well: orphans of the lab go to it by
//! either rule. Claims say which of the two it was on the run that made them.

use harness::prelude::*;
use rstest::rstest;

const WORK: &str = "the child and its children work";
const TERMINATED: &str = "the parent has terminated its child";
const LOCK_HELD: &str = "the holder holds the lock; the waiters wait for it";
const DAEMON: &str = "the daemon has a child of its own";

/// How long the waiters of a plain mutex must stay blocked once the holder is gone. A flock
/// or a robust mutex hands the lock on 0.2–13 ms after the parent's kill() (median 0.5 ms, 40
/// runs each on a loaded 2-core machine: the flock and robust tests report it), so 150 ms is
/// ten times the worst of those; "forever" is the mechanism's, explained in the chapter:
/// nothing in the kernel knows who holds a plain futex.
const BLOCKED_WINDOW: Duration = Duration::from_millis(150);

/// The sandbox, in words precise enough for a claim: why the orphans went to it.
fn the_sandbox(sc: &Scenario) -> String {
    let pid = sc.sandbox_pid();
    if sc.in_pid_namespace() {
        say!(
            "{pid} (the sandbox: pid 1 of the scenario's PID namespace and a child subreaper)",
            "{pid}（沙箱：场景的 PID 命名空间中的 1 号进程，也是子进程收割者）"
        )
    } else {
        say!(
            "{pid} (the sandbox, a child subreaper; no PID namespace on this run)",
            "{pid}（沙箱，子进程收割者；这次运行没有 PID 命名空间）"
        )
    }
}

/// A `tree` run: the parent, its child, the child's children and, with `--nested`, theirs.
struct Family {
    parent: i32,
    child: i32,
    grandchildren: Vec<i32>,
    great: Vec<i32>,
}

impl Family {
    /// Everything below the parent.
    fn subtree(&self) -> Vec<i32> {
        let mut all = vec![self.child];
        all.extend(&self.grandchildren);
        all.extend(&self.great);
        all
    }
}

/// Starts `lab13 tree ARGS` and waits until every process is at work (has reported its
/// parent once) and the parent is held before it terminates its child.
fn started(args: &[&str], nested: bool) -> (Scenario, Family) {
    let mut all = vec!["tree"];
    all.extend(args);
    let sc = Scenario::start(lab!(), &all);
    let parent = sc.role("parent");
    let child = sc.role("child");
    let grandchildren = sc.roles("grandchild", 2);
    let great = if nested { sc.roles("great-grandchild", 2) } else { Vec::new() };
    let f = Family { parent, child, grandchildren, great };
    for p in f.subtree() {
        sc.note(p, "ppid");
    }
    sc.paused(WORK);
    (sc, f)
}

/// Post 003: after `terminate()` (or `kill()`) the child's children "become zombies". They do
/// not: they keep running as orphans, adopted by the sandbox. The only zombie is the
/// terminated child itself, until its parent joins it. Neither signal reaches the children.
#[rstest]
#[case::terminate(&[], Signal::SIGTERM)]
#[case::kill(&["--kill"], Signal::SIGKILL)]
fn the_posts_terminate_leaves_the_childs_children_running_as_orphans(
    #[case] extra: &[&str],
    #[case] sig: Signal,
) {
    let mut args = vec!["--post"];
    args.extend(extra);
    let (sc, f) = started(&args, false);
    let sandbox = sc.sandbox_pid();
    sc.show(&say!("the child and its two children at work", "子进程和它的两个子进程（孙进程）在工作"));
    let call = if sig == Signal::SIGKILL { "p.kill()" } else { "p.terminate()" };
    sc.step(&say!(
        "the parent sends {sig} to its child alone (the post's {call}), and does not join it yet",
        "父进程只向它的子进程发送 {sig}（博文中的 {call}），暂不 join 它"
    ));
    sc.release();
    sc.paused(TERMINATED);
    // What became of the child's children, seen as soon as the child is dead.
    let t0 =
        sc.until(&say!("the child has died", "子进程已死亡"), |t| t.zombie(f.child) || t.gone(f.child));
    let zombies = f.grandchildren.iter().filter(|&&g| t0.zombie(g)).count();
    let running = f.grandchildren.iter().filter(|&&g| matches!(t0.life(g), Life::Alive(_))).count();
    let states: Vec<String> = f
        .grandchildren
        .iter()
        .map(|&g| format!("{g} {} ppid {}", t0.get(g).map_or('-', |p| p.state), t0.ppid(g).unwrap_or(0)))
        .collect();
    let child = f.child;
    let fate = if t0.zombie(f.child) {
        say!("was a zombie until joined", "在被 join 之前一直是僵尸进程")
    } else {
        say!("was gone", "已经不在了")
    };
    let adopter = the_sandbox(&sc);
    let seen = say!(
        "after {sig} to child {child} ({call}): the child {fate}; its children {states:?} — adopted by {adopter}",
        "向子进程 {child} 发送 {sig}（{call}）之后：子进程{fate}；它的子进程 {states:?}——收养它们的是 {adopter}"
    );
    // 003: if p created children, they become zombies.
    sc.claim_verdict("terminate-zombies", Verdict::when(zombies == f.grandchildren.len()), &seen);
    // 003: neither terminate() nor kill() ends the child processes.
    sc.claim_verdict("terminate-children", Verdict::when(running == f.grandchildren.len()), &seen);
    let grandchildren = &f.grandchildren;
    let t = sc.until(
        &say!(
            "the child {child} is a zombie (dead, not joined) and its children {grandchildren:?} are alive, adopted by {sandbox}",
            "子进程 {child} 是僵尸进程（已死亡，尚未被 join），它的子进程 {grandchildren:?} 都还活着，已被 {sandbox} 收养"
        ),
        |t| {
            t.zombie(f.child)
                && f.grandchildren.iter().all(|&g| t.alive(g) && t.ppid(g) == Some(sandbox))
        },
    );
    for &g in &f.grandchildren {
        let life = t.life(g);
        sc.expect(
            // D too: a sleep the kernel does not interrupt (a page fault on a loaded machine).
            matches!(life, Life::Alive('S' | 'R' | 'D')),
            &say!(
                "grandchild {g} is running or sleeping (R/S/D), not a zombie: {life:?}",
                "孙进程 {g} 在运行或睡眠（R/S/D），不是僵尸进程：{life:?}"
            ),
        );
    }
    sc.expect_eq(
        t.zombies(),
        vec![f.child],
        &say!("the only zombie is the terminated child itself", "唯一的僵尸进程就是被终止的子进程本身"),
    );

    sc.step(&say!(
        "the parent joins its child (waitpid), prints \"Parent is continuing on...\" and exits",
        "父进程 join 它的子进程（waitpid），打印“Parent is continuing on...”，然后退出"
    ));
    sc.release();
    sc.expect_eq(
        sc.note(f.parent, "joined"),
        format!("{} killed by {}", f.child, sig.as_str()),
        &say!(
            "the parent's join reaps its child, killed by the signal",
            "父进程的 join 回收了被该信号杀死的子进程"
        ),
    );
    sc.expect_eq(sc.exit_of(f.parent), Exit::Code(0), &say!("the parent exits normally", "父进程正常退出"));
    let gone = sc
        .reaped_at(f.parent)
        .unwrap_or_else(|| sc.fail(&say!("the sandbox has reaped the parent", "沙箱已回收父进程")));
    sc.step(&say!(
        "the orphans keep working after the whole family above them is gone",
        "上面的整个家族都已不在，孤儿进程仍在继续工作"
    ));
    for &g in &f.grandchildren {
        let seen = sc.note_after(g, "ppid", gone);
        sc.expect_eq(
            seen,
            sandbox.to_string(),
            &say!(
                "grandchild {g}, still working after the parent exited, reports getppid()",
                "父进程退出后仍在工作的孙进程 {g} 报告的 getppid()"
            ),
        );
    }
    sc.show(&say!(
        "the orphans, still at work; the sandbox kills them when the scenario ends",
        "孤儿进程仍在工作；场景结束时沙箱会杀死它们"
    ));
}

/// The exercise: the parent terminates its child's whole subtree. When it says so, nothing of
/// the subtree is left — no orphan, no zombie — even when a grandchild left the child's
/// process group (setsid) or has a child of its own. Every one was reaped by its own parent or
/// by the parent: none was left for the sandbox.
#[rstest]
#[case::two_grandchildren(&[], false)]
#[case::one_left_the_group(&["--escape"], false)]
#[case::grandchildren_with_children(&["--nested"], true)]
fn terminating_the_whole_subtree_leaves_no_orphan(#[case] extra: &[&str], #[case] nested: bool) {
    let (sc, f) = started(extra, nested);
    if extra.contains(&"--escape") {
        let escaped = sc.notes("escaped", 1)[0].0;
        let t = sc.snapshot();
        sc.expect(
            t.get(escaped).is_some_and(|p| p.sid == escaped && p.pgid == escaped)
                && t.pgid(escaped) != t.pgid(f.child),
            &say!(
                "grandchild {escaped} has left the child's session and process group (setsid): a signal to the child's group misses it",
                "孙进程 {escaped} 已离开子进程的会话和进程组（setsid）：发给子进程所在进程组的信号到不了它"
            ),
        );
    }
    sc.show(&say!(
        "the child's subtree at work; the parent is held before it terminates it",
        "子进程的整棵子树在工作；父进程停在终止它之前"
    ));
    sc.step(&say!(
        "the parent terminates its child and everything below it",
        "父进程终止它的子进程以及其下的所有进程"
    ));
    sc.release();
    sc.paused(TERMINATED);
    let t = sc.snapshot();
    let left: Vec<String> = f
        .subtree()
        .into_iter()
        .filter(|&p| !t.gone(p))
        .map(|p| match (t.life(p), t.ppid(p)) {
            (Life::Zombie, Some(pp)) => say!("{p} a zombie of {pp}", "{p} 是 {pp} 的僵尸子进程"),
            (_, Some(pp)) => say!("{p} alive, ppid {pp}", "{p} 还活着，ppid {pp}"),
            _ => format!("{p} ?"),
        })
        .collect();
    let subtree = f.subtree();
    sc.expect(
        left.is_empty(),
        &say!(
            "when the parent says it has terminated its child, nothing of the subtree {subtree:?} is left — no orphan, no zombie (left: {left:?})",
            "父进程说它已终止子进程时，子树 {subtree:?} 中什么也不剩——没有孤儿进程，也没有僵尸进程（剩下的：{left:?}）"
        ),
    );
    sc.show(&say!("only the parent is left", "只剩下父进程"));
    sc.release();
    sc.expect_eq(sc.exit_of(f.parent), Exit::Code(0), &say!("the parent exits normally", "父进程正常退出"));
    sc.until_empty();
    let to_sandbox: Vec<i32> = f.subtree().into_iter().filter(|&p| sc.exit_now(p).is_some()).collect();
    sc.expect(
        to_sandbox.is_empty(),
        &say!(
            "no process of the subtree was left for the sandbox to reap: every one was reaped by the parent or by its own parent (the sandbox reaped {to_sandbox:?})",
            "子树中没有任何进程留给沙箱回收：每一个都由父进程或它自己的父进程回收（沙箱回收了 {to_sandbox:?}）"
        ),
    );
}

/// A `lock` run: the parent, the holder, and the two waiters, held while the holder holds the
/// lock and both waiters sleep waiting for it.
struct Contest {
    parent: i32,
    holder: i32,
    waiters: Vec<i32>,
    /// Each waiter's state and wait channel at that moment, for the claims.
    asleep: Vec<String>,
}

fn contest(kind: &str) -> (Scenario, Contest) {
    let sc = Scenario::start(lab!(), &["lock", kind]);
    let parent = sc.role("parent");
    let holder = sc.role("holder");
    let waiters = sc.roles("waiter", 2);
    sc.expect_eq(
        sc.note(holder, "locked"),
        "ok".to_string(),
        &say!("the holder takes the free lock", "持有者拿到了空闲的锁"),
    );
    sc.paused(LOCK_HELD);
    for &w in &waiters {
        sc.note(w, "waiting");
    }
    // Waiters that say they have the lock (they must not, while the holder holds it).
    let early = || -> Vec<i32> {
        sc.notes_now("locked").into_iter().map(|(p, _, _)| p).filter(|p| waiters.contains(p)).collect()
    };
    let t = sc.until(
        &say!(
            "both waiters sleep (S) in the lock call while the holder holds it",
            "持有者持有锁期间，两个等待者都在加锁调用中睡眠（S）"
        ),
        |t| {
            !early().is_empty()
                || t.alive(holder) && waiters.iter().all(|&w| t.get(w).is_some_and(|p| p.state == 'S'))
        },
    );
    let early = early();
    sc.expect(
        early.is_empty(),
        &say!(
            "no waiter has the lock while the holder holds it ({early:?} said it had)",
            "持有者持有锁期间，没有等待者拿到锁（{early:?} 说自己拿到了）"
        ),
    );
    let asleep = waiters
        .iter()
        .map(|&w| {
            t.get(w).map_or(format!("{w} ?"), |p| {
                let (state, wchan) = (p.state, &p.wchan);
                say!("{w} {state} in {wchan}", "{w} {state}，在 {wchan} 中")
            })
        })
        .collect();
    (sc, Contest { parent, holder, waiters, asleep })
}

/// What the waiters said their lock call returned, sorted (which waiter is first is up to the
/// scheduler).
fn waiters_got(sc: &Scenario, c: &Contest) -> Vec<String> {
    let mut got: Vec<String> = c.waiters.iter().map(|&w| sc.note(w, "locked")).collect();
    got.sort();
    got
}

/// flock: the kernel drops the lock when the holder's last fd on that open file closes —
/// at its death. The waiter gets it at once; nobody is stuck.
#[test]
fn a_flock_is_released_by_the_kernel_when_its_holder_dies() {
    let (sc, c) = contest("flock");
    let dir = sc.note(c.parent, "removed");
    sc.expect(
        !std::path::Path::new(&dir).exists(),
        &say!(
            "the lock's temporary directory {dir} is gone already: a flock belongs to the open file, not its name",
            "锁的临时目录 {dir} 已经删除了：flock 属于打开的文件，而不属于它的名字"
        ),
    );
    sc.show(&say!(
        "the holder holds the flock; both waiters sleep in flock()",
        "持有者持有 flock；两个等待者都在 flock() 中睡眠"
    ));
    sc.step(&say!(
        "the parent terminates the holder (SIGTERM) and joins everyone",
        "父进程终止持有者（SIGTERM），然后 join 所有进程"
    ));
    sc.release();
    let killed = sc.notes("terminate", 1)[0].2;
    sc.expect_eq(
        sc.note(c.parent, "holder"),
        format!("{} killed by SIGTERM", c.holder),
        &say!("the holder dies of SIGTERM, holding the lock", "持有者在持有锁时死于 SIGTERM"),
    );
    let got = waiters_got(&sc, &c);
    let (asleep, holder) = (&c.asleep, c.holder);
    // 003: a lock held by the terminated process is not released: deadlock. Not a flock.
    sc.claim_verdict(
        "lock-deadlock",
        Verdict::when(got.iter().all(|g| g != "ok")),
        &say!(
            "flock: waiters {asleep:?} slept; holder {holder} died of SIGTERM; then they got: {got:?}",
            "flock：等待者 {asleep:?} 在睡眠；持有者 {holder} 死于 SIGTERM；之后它们得到：{got:?}"
        ),
    );
    sc.expect_eq(
        got,
        vec!["ok".to_string(), "ok".to_string()],
        &say!("each waiter gets the lock", "每个等待者都拿到了锁"),
    );
    let first = sc
        .notes_now("locked")
        .into_iter()
        .filter(|(p, _, _)| c.waiters.contains(p))
        .map(|(_, _, t)| t)
        .min()
        .unwrap_or(0);
    sc.expect(
        first > killed,
        &say!(
            "no waiter had the lock before the holder was terminated",
            "持有者被终止之前，没有等待者拿到锁"
        ),
    );
    sc.expect_eq(
        sc.exit_of(c.parent),
        Exit::Code(0),
        &say!("the parent joins both waiters and exits normally", "父进程 join 两个等待者，然后正常退出"),
    );
    sc.until_empty();
}

/// A robust, process-shared pthread mutex: when its owner dies the kernel marks it (the
/// owner's robust list) and wakes one waiter, whose lock returns EOWNERDEAD; it makes the
/// mutex consistent and everyone goes on.
#[test]
fn a_robust_mutex_tells_the_next_locker_that_its_owner_died() {
    let (sc, c) = contest("robust");
    sc.show(&say!(
        "the holder holds the robust mutex; both waiters sleep in pthread_mutex_lock",
        "持有者持有健壮互斥锁；两个等待者都在 pthread_mutex_lock 中睡眠"
    ));
    sc.step(&say!(
        "the parent terminates the holder (SIGTERM) and joins everyone",
        "父进程终止持有者（SIGTERM），然后 join 所有进程"
    ));
    sc.release();
    sc.notes("terminate", 1);
    sc.expect_eq(
        sc.note(c.parent, "holder"),
        format!("{} killed by SIGTERM", c.holder),
        &say!("the holder dies of SIGTERM, holding the mutex", "持有者在持有互斥锁时死于 SIGTERM"),
    );
    let got = waiters_got(&sc, &c);
    let (asleep, holder) = (&c.asleep, c.holder);
    sc.claim_verdict(
        "lock-deadlock",
        Verdict::when(got.is_empty()),
        &say!(
            "robust mutex: waiters {asleep:?} slept; holder {holder} died of SIGTERM; then their pthread_mutex_lock returned {got:?}",
            "健壮互斥锁：等待者 {asleep:?} 在睡眠；持有者 {holder} 死于 SIGTERM；之后它们的 pthread_mutex_lock 返回 {got:?}"
        ),
    );
    sc.expect_eq(
        got,
        vec!["EOWNERDEAD".to_string(), "ok".to_string()],
        &say!(
            "one waiter's pthread_mutex_lock returns EOWNERDEAD (it has the lock; its owner died); after it made the mutex consistent, the other's returns 0",
            "一个等待者的 pthread_mutex_lock 返回 EOWNERDEAD（它拿到了锁；锁原来的持有者已死）；它把互斥锁标记为一致之后，另一个等待者的调用返回 0"
        ),
    );
    sc.expect_eq(
        sc.note(c.parent, "trylock"),
        "ok".to_string(),
        &say!(
            "after both waiters, the parent's pthread_mutex_trylock succeeds: the mutex is usable again",
            "两个等待者都用过之后，父进程的 pthread_mutex_trylock 成功：互斥锁又可以用了"
        ),
    );
    sc.expect_eq(
        sc.exit_of(c.parent),
        Exit::Code(0),
        &say!("the parent joins both waiters and exits normally", "父进程 join 两个等待者，然后正常退出"),
    );
    sc.until_empty();
}

/// A plain process-shared pthread mutex (like multiprocessing.Lock, a semaphore in shared
/// memory): nothing in the kernel knows its owner, so its death changes nothing. The waiters
/// sleep on, and the parent joining them sleeps too: the program is deadlocked. Detected with
/// a window; the sandbox kills them all when the scenario ends.
#[test]
fn a_plain_mutex_leaves_the_others_blocked_forever() {
    let (sc, c) = contest("plain");
    sc.show(&say!(
        "the holder holds the plain mutex; both waiters sleep in pthread_mutex_lock",
        "持有者持有普通互斥锁；两个等待者都在 pthread_mutex_lock 中睡眠"
    ));
    sc.step(&say!(
        "the parent terminates the holder (SIGTERM), reaps it, and joins the waiters",
        "父进程终止持有者（SIGTERM），回收它，然后 join 等待者"
    ));
    sc.release();
    sc.expect_eq(
        sc.note(c.parent, "holder"),
        format!("{} killed by SIGTERM", c.holder),
        &say!("the holder dies of SIGTERM, holding the mutex", "持有者在持有互斥锁时死于 SIGTERM"),
    );
    let deadlocked = |t: &Tree| {
        t.gone(c.holder)
            && c.waiters.iter().all(|&w| t.get(w).is_some_and(|p| p.state == 'S'))
            && t.in_waitpid(c.parent)
    };
    sc.until(
        &say!(
            "the holder is gone; the waiters sleep in pthread_mutex_lock, the parent in waitpid",
            "持有者已不在；等待者在 pthread_mutex_lock 中睡眠，父进程在 waitpid 中"
        ),
        deadlocked,
    );
    let t = sc.stays(
        &say!(
            "the holder is gone, yet both waiters sleep on in pthread_mutex_lock and the parent in waitpid",
            "持有者已不在，两个等待者却仍在 pthread_mutex_lock 中睡眠，父进程仍在 waitpid 中"
        ),
        BLOCKED_WINDOW,
        deadlocked,
    );
    let got = sc.notes_now("locked").into_iter().filter(|(p, _, _)| c.waiters.contains(p)).count();
    let states: Vec<String> = c
        .waiters
        .iter()
        .map(|&w| {
            t.get(w).map_or(format!("{w} ?"), |p| {
                let (state, wchan) = (p.state, &p.wchan);
                say!("{w} {state} in {wchan}", "{w} {state}，在 {wchan} 中")
            })
        })
        .collect();
    let (window_ms, holder, parent) = (BLOCKED_WINDOW.as_millis(), c.holder, c.parent);
    // A plain mutex in shared memory: like multiprocessing.Lock, nobody but its owner frees it.
    sc.claim_verdict(
        "lock-deadlock",
        Verdict::when(got == 0),
        &say!(
            "plain mutex in shared memory (like multiprocessing.Lock): {window_ms} ms after holder {holder} was reaped, {got} waiter(s) had the lock; {states:?}, parent {parent} waiting for them",
            "共享内存中的普通互斥锁（如同 multiprocessing.Lock）：持有者 {holder} 被回收 {window_ms} 毫秒后，有 {got} 个等待者拿到锁；{states:?}，父进程 {parent} 在等待它们"
        ),
    );
    sc.expect_eq(got, 0, &say!("waiters that got the lock", "拿到锁的等待者数"));
    sc.show(&say!(
        "deadlocked: the sandbox kills them when the scenario ends",
        "死锁：场景结束时沙箱会杀死它们"
    ));
}

/// "A daemon process cannot create processes of its own" is multiprocessing's rule. The kernel
/// lets a child with a parent-death signal fork freely; fork clears that signal in its child,
/// which outlives the daemon as an orphan — what the rule is there to prevent.
#[test]
fn a_child_with_a_parent_death_signal_forks_freely() {
    let sc = Scenario::start(lab!(), &["daemon"]);
    let parent = sc.role("parent");
    let daemon = sc.role("daemon");
    let grandchild = sc.role("grandchild");
    let sandbox = sc.sandbox_pid();
    sc.expect_eq(
        sc.note(daemon, "pdeathsig"),
        "Some(SIGTERM)".to_string(),
        &say!("the daemon's parent-death signal", "daemon 子进程的父进程死亡信号"),
    );
    let forked = sc.note(daemon, "forked");
    // 003: a daemon (daemon=True) cannot create processes of its own. multiprocessing's rule
    // (asked of this machine's Python), not the kernel's (the lab's daemon forks).
    let python = harness::python3(DAEMON_CHILD_PY);
    let refused = python
        .as_ref()
        .is_some_and(|(_, out)| out.contains("daemonic processes are not allowed to have children"));
    let kernel_refused = forked != grandchild.to_string();
    let mut parts = vec![kernel_refused];
    if python.is_some() {
        parts.push(refused);
    }
    let asked = match &python {
        Some((v, out)) => {
            let out = out.trim();
            say!(
                "Python {v}: a daemon Process's start() of a child said {out:?}",
                "Python {v}：在 daemon Process 中对一个子进程调用 start()，输出 {out:?}"
            )
        }
        None => say!("no python3 here to ask multiprocessing", "本机没有 python3，无法询问 multiprocessing"),
    };
    sc.claim_verdict(
        "daemon-no-children",
        Verdict::of(&parts),
        &say!(
            "{asked}; the kernel: daemon {daemon} (parent-death signal SIGTERM) forked {forked}",
            "{asked}；内核：daemon 子进程 {daemon}（父进程死亡信号为 SIGTERM）fork 出了 {forked}"
        ),
    );
    sc.expect_eq(
        forked,
        grandchild.to_string(),
        &say!(
            "the daemon's fork succeeded: the kernel has no rule against it",
            "daemon 子进程的 fork 成功了：内核没有禁止它的规则"
        ),
    );
    sc.expect_eq(
        sc.note(grandchild, "pdeathsig"),
        "None".to_string(),
        &say!(
            "the grandchild has no parent-death signal: fork clears it",
            "孙进程没有父进程死亡信号：fork 会清除它"
        ),
    );
    sc.paused(DAEMON);
    sc.until(
        &say!(
            "the daemon and its child work; the child's parent is the daemon",
            "daemon 子进程和它自己的子进程都在工作；那个子进程的父进程是 daemon 子进程"
        ),
        |t| t.alive(daemon) && t.alive(grandchild) && t.ppid(grandchild) == Some(daemon),
    );
    sc.show(&say!(
        "the parent, its daemon child, and the daemon's child",
        "父进程、它的 daemon 子进程，以及 daemon 子进程的子进程"
    ));
    sc.step(&say!("the parent exits (the main program ends)", "父进程退出（主程序结束）"));
    sc.release();
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), &say!("the parent exits normally", "父进程正常退出"));
    sc.expect_eq(
        sc.exit_of(daemon),
        Exit::Signal(Signal::SIGTERM as i32, false),
        &say!("the daemon dies of its parent-death signal", "daemon 子进程死于它的父进程死亡信号"),
    );
    let died = sc
        .reaped_at(daemon)
        .unwrap_or_else(|| sc.fail(&say!("the sandbox has reaped the daemon", "沙箱已回收 daemon 子进程")));
    let seen = sc.note_after(grandchild, "ppid", died);
    sc.expect_eq(
        seen,
        sandbox.to_string(),
        &say!(
            "the daemon's child {grandchild}, still working after the daemon died, reports getppid()",
            "daemon 子进程的子进程 {grandchild} 在 daemon 子进程死后仍在工作，它报告的 getppid()"
        ),
    );
    sc.show(&say!("the daemon's child lives on, an orphan", "daemon 子进程的子进程作为孤儿进程继续存活"));
}

/// multiprocessing's daemon rule, asked of this machine's Python: a daemon Process starts a
/// child of its own.
const DAEMON_CHILD_PY: &str = "
import multiprocessing as mp
def grandchild():
    pass
def daemon():
    try:
        p = mp.Process(target=grandchild)
        p.start()
        p.join()
        print('started a child', flush=True)
    except AssertionError as e:
        print('AssertionError:', e, flush=True)
if __name__ == '__main__':
    d = mp.Process(target=daemon, daemon=True)
    d.start()
    d.join()
";
