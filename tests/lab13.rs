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
    if sc.in_pid_namespace() {
        format!(
            "{} (the sandbox: pid 1 of the scenario's PID namespace and a child subreaper)",
            sc.sandbox_pid()
        )
    } else {
        format!("{} (the sandbox, a child subreaper; no PID namespace on this run)", sc.sandbox_pid())
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
    sc.show("the child and its two children at work");
    let call = if sig == Signal::SIGKILL { "p.kill()" } else { "p.terminate()" };
    sc.step(&format!(
        "the parent sends {sig} to its child alone (the post's {call}), and does not join it yet"
    ));
    sc.release();
    sc.paused(TERMINATED);
    // What became of the child's children, seen as soon as the child is dead.
    let t0 = sc.until("the child has died", |t| t.zombie(f.child) || t.gone(f.child));
    let zombies = f.grandchildren.iter().filter(|&&g| t0.zombie(g)).count();
    let running = f.grandchildren.iter().filter(|&&g| matches!(t0.life(g), Life::Alive(_))).count();
    let states: Vec<String> = f
        .grandchildren
        .iter()
        .map(|&g| format!("{g} {} ppid {}", t0.get(g).map_or('-', |p| p.state), t0.ppid(g).unwrap_or(0)))
        .collect();
    let seen = format!(
        "after {sig} to child {} ({call}): the child {}; its children {states:?} — adopted by {}",
        f.child,
        if t0.zombie(f.child) { "was a zombie until joined" } else { "was gone" },
        the_sandbox(&sc)
    );
    // 003: if p created children, they become zombies.
    sc.claim_verdict("terminate-zombies", Verdict::when(zombies == f.grandchildren.len()), &seen);
    // 003: neither terminate() nor kill() ends the child processes.
    sc.claim_verdict("terminate-children", Verdict::when(running == f.grandchildren.len()), &seen);
    let t = sc.until(
        &format!(
            "the child {} is a zombie (dead, not joined) and its children {:?} are alive, adopted by {sandbox}",
            f.child, f.grandchildren
        ),
        |t| {
            t.zombie(f.child)
                && f.grandchildren.iter().all(|&g| t.alive(g) && t.ppid(g) == Some(sandbox))
        },
    );
    for &g in &f.grandchildren {
        sc.expect(
            matches!(t.life(g), Life::Alive('S' | 'R')),
            &format!("grandchild {g} is running or sleeping (R/S), not a zombie: {:?}", t.life(g)),
        );
    }
    sc.expect_eq(t.zombies(), vec![f.child], "the only zombie is the terminated child itself");

    sc.step("the parent joins its child (waitpid), prints \"Parent is continuing on...\" and exits");
    sc.release();
    sc.expect_eq(
        sc.note(f.parent, "joined"),
        format!("{} killed by {}", f.child, sig.as_str()),
        "the parent's join reaps its child, killed by the signal",
    );
    sc.expect_eq(sc.exit_of(f.parent), Exit::Code(0), "the parent exits normally");
    let gone = sc.reaped_at(f.parent).unwrap_or_else(|| sc.fail("the sandbox has reaped the parent"));
    sc.step("the orphans keep working after the whole family above them is gone");
    for &g in &f.grandchildren {
        let seen = sc.note_after(g, "ppid", gone);
        sc.expect_eq(
            seen,
            sandbox.to_string(),
            &format!("grandchild {g}, still working after the parent exited, reports getppid()"),
        );
    }
    sc.show("the orphans, still at work; the sandbox kills them when the scenario ends");
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
            &format!(
                "grandchild {escaped} has left the child's session and process group (setsid): a signal to the child's group misses it"
            ),
        );
    }
    sc.show("the child's subtree at work; the parent is held before it terminates it");
    sc.step("the parent terminates its child and everything below it");
    sc.release();
    sc.paused(TERMINATED);
    let t = sc.snapshot();
    let left: Vec<String> = f
        .subtree()
        .into_iter()
        .filter(|&p| !t.gone(p))
        .map(|p| match (t.life(p), t.ppid(p)) {
            (Life::Zombie, Some(pp)) => format!("{p} a zombie of {pp}"),
            (_, Some(pp)) => format!("{p} alive, ppid {pp}"),
            _ => format!("{p} ?"),
        })
        .collect();
    sc.expect(
        left.is_empty(),
        &format!(
            "when the parent says it has terminated its child, nothing of the subtree {:?} is left — no orphan, no zombie (left: {left:?})",
            f.subtree()
        ),
    );
    sc.show("only the parent is left");
    sc.release();
    sc.expect_eq(sc.exit_of(f.parent), Exit::Code(0), "the parent exits normally");
    sc.until_empty();
    let to_sandbox: Vec<i32> = f.subtree().into_iter().filter(|&p| sc.exit_now(p).is_some()).collect();
    sc.expect(
        to_sandbox.is_empty(),
        &format!(
            "no process of the subtree was left for the sandbox to reap: every one was reaped by the parent or by its own parent (the sandbox reaped {to_sandbox:?})"
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
    sc.expect_eq(sc.note(holder, "locked"), "ok".to_string(), "the holder takes the free lock");
    sc.paused(LOCK_HELD);
    for &w in &waiters {
        sc.note(w, "waiting");
    }
    // Waiters that say they have the lock (they must not, while the holder holds it).
    let early = || -> Vec<i32> {
        sc.notes_now("locked").into_iter().map(|(p, _, _)| p).filter(|p| waiters.contains(p)).collect()
    };
    let t = sc.until("both waiters sleep (S) in the lock call while the holder holds it", |t| {
        !early().is_empty()
            || t.alive(holder) && waiters.iter().all(|&w| t.get(w).is_some_and(|p| p.state == 'S'))
    });
    let early = early();
    sc.expect(
        early.is_empty(),
        &format!("no waiter has the lock while the holder holds it ({early:?} said it had)"),
    );
    let asleep = waiters
        .iter()
        .map(|&w| t.get(w).map_or(format!("{w} ?"), |p| format!("{w} {} in {}", p.state, p.wchan)))
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
        &format!("the lock's temporary directory {dir} is gone already: a flock belongs to the open file, not its name"),
    );
    sc.show("the holder holds the flock; both waiters sleep in flock()");
    sc.step("the parent terminates the holder (SIGTERM) and joins everyone");
    sc.release();
    let killed = sc.notes("terminate", 1)[0].2;
    sc.expect_eq(
        sc.note(c.parent, "holder"),
        format!("{} killed by SIGTERM", c.holder),
        "the holder dies of SIGTERM, holding the lock",
    );
    let got = waiters_got(&sc, &c);
    // 003: a lock held by the terminated process is not released: deadlock. Not a flock.
    sc.claim_verdict(
        "lock-deadlock",
        Verdict::when(got.iter().all(|g| g != "ok")),
        &format!(
            "flock: waiters {:?} slept; holder {} died of SIGTERM; then they got: {got:?}",
            c.asleep, c.holder
        ),
    );
    sc.expect_eq(got, vec!["ok".to_string(), "ok".to_string()], "each waiter gets the lock");
    let first = sc
        .notes_now("locked")
        .into_iter()
        .filter(|(p, _, _)| c.waiters.contains(p))
        .map(|(_, _, t)| t)
        .min()
        .unwrap_or(0);
    sc.expect(first > killed, "no waiter had the lock before the holder was terminated");
    sc.expect_eq(sc.exit_of(c.parent), Exit::Code(0), "the parent joins both waiters and exits normally");
    sc.until_empty();
}

/// A robust, process-shared pthread mutex: when its owner dies the kernel marks it (the
/// owner's robust list) and wakes one waiter, whose lock returns EOWNERDEAD; it makes the
/// mutex consistent and everyone goes on.
#[test]
fn a_robust_mutex_tells_the_next_locker_that_its_owner_died() {
    let (sc, c) = contest("robust");
    sc.show("the holder holds the robust mutex; both waiters sleep in pthread_mutex_lock");
    sc.step("the parent terminates the holder (SIGTERM) and joins everyone");
    sc.release();
    sc.notes("terminate", 1);
    sc.expect_eq(
        sc.note(c.parent, "holder"),
        format!("{} killed by SIGTERM", c.holder),
        "the holder dies of SIGTERM, holding the mutex",
    );
    let got = waiters_got(&sc, &c);
    sc.claim_verdict(
        "lock-deadlock",
        Verdict::when(got.is_empty()),
        &format!(
            "robust mutex: waiters {:?} slept; holder {} died of SIGTERM; then their pthread_mutex_lock returned {got:?}",
            c.asleep, c.holder
        ),
    );
    sc.expect_eq(
        got,
        vec!["EOWNERDEAD".to_string(), "ok".to_string()],
        "one waiter's pthread_mutex_lock returns EOWNERDEAD (it has the lock; its owner died); after it made the mutex consistent, the other's returns 0",
    );
    sc.expect_eq(
        sc.note(c.parent, "trylock"),
        "ok".to_string(),
        "after both waiters, the parent's pthread_mutex_trylock succeeds: the mutex is usable again",
    );
    sc.expect_eq(sc.exit_of(c.parent), Exit::Code(0), "the parent joins both waiters and exits normally");
    sc.until_empty();
}

/// A plain process-shared pthread mutex (like multiprocessing.Lock, a semaphore in shared
/// memory): nothing in the kernel knows its owner, so its death changes nothing. The waiters
/// sleep on, and the parent joining them sleeps too: the program is deadlocked. Detected with
/// a window; the sandbox kills them all when the scenario ends.
#[test]
fn a_plain_mutex_leaves_the_others_blocked_forever() {
    let (sc, c) = contest("plain");
    sc.show("the holder holds the plain mutex; both waiters sleep in pthread_mutex_lock");
    sc.step("the parent terminates the holder (SIGTERM), reaps it, and joins the waiters");
    sc.release();
    sc.expect_eq(
        sc.note(c.parent, "holder"),
        format!("{} killed by SIGTERM", c.holder),
        "the holder dies of SIGTERM, holding the mutex",
    );
    let deadlocked = |t: &Tree| {
        t.gone(c.holder)
            && c.waiters.iter().all(|&w| t.get(w).is_some_and(|p| p.state == 'S'))
            && t.in_waitpid(c.parent)
    };
    sc.until(
        "the holder is gone; the waiters sleep in pthread_mutex_lock, the parent in waitpid",
        deadlocked,
    );
    let t = sc.stays(
        "the holder is gone, yet both waiters sleep on in pthread_mutex_lock and the parent in waitpid",
        BLOCKED_WINDOW,
        deadlocked,
    );
    let got = sc.notes_now("locked").into_iter().filter(|(p, _, _)| c.waiters.contains(p)).count();
    let states: Vec<String> = c
        .waiters
        .iter()
        .map(|&w| t.get(w).map_or(format!("{w} ?"), |p| format!("{w} {} in {}", p.state, p.wchan)))
        .collect();
    // A plain mutex in shared memory: like multiprocessing.Lock, nobody but its owner frees it.
    sc.claim_verdict(
        "lock-deadlock",
        Verdict::when(got == 0),
        &format!(
            "plain mutex in shared memory (like multiprocessing.Lock): {} ms after holder {} was reaped, {got} waiter(s) had the lock; {states:?}, parent {} waiting for them",
            BLOCKED_WINDOW.as_millis(),
            c.holder,
            c.parent
        ),
    );
    sc.expect_eq(got, 0, "waiters that got the lock");
    sc.show("deadlocked: the sandbox kills them when the scenario ends");
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
        "the daemon's parent-death signal",
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
    sc.claim_verdict(
        "daemon-no-children",
        Verdict::of(&parts),
        &format!(
            "{}; the kernel: daemon {daemon} (parent-death signal SIGTERM) forked {forked}",
            match &python {
                Some((v, out)) =>
                    format!("Python {v}: a daemon Process's start() of a child said {:?}", out.trim()),
                None => "no python3 here to ask multiprocessing".to_string(),
            }
        ),
    );
    sc.expect_eq(
        forked,
        grandchild.to_string(),
        "the daemon's fork succeeded: the kernel has no rule against it",
    );
    sc.expect_eq(
        sc.note(grandchild, "pdeathsig"),
        "None".to_string(),
        "the grandchild has no parent-death signal: fork clears it",
    );
    sc.paused(DAEMON);
    sc.until("the daemon and its child work; the child's parent is the daemon", |t| {
        t.alive(daemon) && t.alive(grandchild) && t.ppid(grandchild) == Some(daemon)
    });
    sc.show("the parent, its daemon child, and the daemon's child");
    sc.step("the parent exits (the main program ends)");
    sc.release();
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), "the parent exits normally");
    sc.expect_eq(
        sc.exit_of(daemon),
        Exit::Signal(Signal::SIGTERM as i32, false),
        "the daemon dies of its parent-death signal",
    );
    let died = sc.reaped_at(daemon).unwrap_or_else(|| sc.fail("the sandbox has reaped the daemon"));
    let seen = sc.note_after(grandchild, "ppid", died);
    sc.expect_eq(
        seen,
        sandbox.to_string(),
        &format!("the daemon's child {grandchild}, still working after the daemon died, reports getppid()"),
    );
    sc.show("the daemon's child lives on, an orphan");
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
