// right: every process of the subtree arms PR_SET_PDEATHSIG(SIGTERM) and so dies with its parent; the subreaper parent signals the child and reaps until ECHILD, with no walk of /proc
//! Lab 13 — terminate() and the rest of the tree.
//!
//! Post 003 warns about multiprocessing's `p.terminate()`: "it does no cleanup; if p created
//! child processes, they become zombies; if p held a lock, the lock is not released, which
//! leads to deadlock" — and says a daemon process "cannot create processes of its own".
//! This program plays each scene with a parent that terminates (SIGTERM) one of its children:
//!
//! - `tree`: the child has children of its own. The post's `terminate()` signals the child
//!   alone; its children live on as orphans, adopted by the nearest child subreaper. The
//!   exercise: terminate the child's whole subtree so that no orphan survives.
//! - `lock flock|robust|plain`: the child dies holding a lock that other children wait for.
//! - `daemon`: a child that dies with its parent (PR_SET_PDEATHSIG, the kernel's own version
//!   of "daemon") forks a child of its own.

use clap::{Parser, Subcommand, ValueEnum};
use nix::errno::Errno;
use nix::libc;
use nix::sys::mman::{MapFlags, ProtFlags, mmap_anonymous};
use nix::sys::prctl;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitStatus, wait, waitpid};
use nix::unistd::{ForkResult, Pid, fork, getpid, getppid, pipe, read, setsid, write};
use std::fs::File;
use std::io::Write;
use std::num::NonZeroUsize;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::ptr::NonNull;
use std::time::Duration;

/// A parent terminates one of its children: what becomes of the child's own children, of a
/// lock it held, and of a "daemon" child's children?
#[derive(Parser)]
struct Args {
    #[command(subcommand)]
    scene: Option<Scene>,
}

#[derive(Subcommand)]
enum Scene {
    /// The child has children of its own; the parent terminates it (the default scene).
    Tree(TreeArgs),
    /// The child dies holding a lock that two other children wait for.
    Lock {
        #[arg(value_enum)]
        kind: LockKind,
    },
    /// A child with a parent-death signal (like Python's daemon=True) forks a child.
    Daemon,
}

#[derive(clap::Args, Default)]
struct TreeArgs {
    /// How many children the child starts (the parent's grandchildren).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=4))]
    grandchildren: u32,
    /// The post's program: `p.terminate()` then `p.join()` — a signal to the child alone.
    #[arg(long)]
    post: bool,
    /// Send SIGKILL (`p.kill()`) instead of SIGTERM (`p.terminate()`).
    #[arg(long)]
    kill: bool,
    /// The last grandchild calls setsid(), like a daemon: a session and a group of its own.
    #[arg(long)]
    escape: bool,
    /// Every grandchild starts a child of its own (a great-grandchild).
    #[arg(long)]
    nested: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LockKind {
    /// flock(2) on a file in a temporary directory.
    Flock,
    /// A process-shared robust pthread mutex in shared memory.
    Robust,
    /// A process-shared plain pthread mutex in shared memory (like multiprocessing.Lock, a
    /// semaphore in shared memory).
    Plain,
}

// ANCHOR: work
/// The post's `while True: sleep(1); print(...)`: work forever, reporting who the parent is.
fn work(who: &str) -> ! {
    let mut parent = Pid::from_raw(0);
    loop {
        let now = getppid();
        if now != parent {
            println!("{who} {}: working, my parent is {now}", getpid());
            parent = now;
        }
        labkit::note_num("ppid", now.as_raw());
        std::thread::sleep(Duration::from_millis(20));
    }
}
// ANCHOR_END: work

// ANCHOR: task
/// The post's `task()`, with children of its own: they are the parent's grandchildren.
fn task(a: &TreeArgs) -> ! {
    labkit::role("child");
    for i in 0..a.grandchildren {
        std::io::stdout().flush().expect("flush stdout");
        // SAFETY: one thread; the new process runs `grandchild` and never returns here.
        let me = getpid();
        if let ForkResult::Child = unsafe { fork() }.expect("fork") {
            if !a.post {
                die_with(me);
            }
            grandchild(a.escape && i + 1 == a.grandchildren, a.nested, !a.post);
        }
    }
    work("child")
}

/// Ends this process when `parent` ends (and at once if it already has).
fn die_with(parent: Pid) {
    prctl::set_pdeathsig(Signal::SIGTERM).expect("prctl(PR_SET_PDEATHSIG)");
    if getppid() != parent {
        std::process::exit(0);
    }
}

fn grandchild(escape: bool, nested: bool, guard: bool) -> ! {
    labkit::role("grandchild");
    if escape {
        // Like a daemon: out of the child's session and process group. A signal to the
        // child's group no longer reaches this process.
        setsid().expect("setsid");
        labkit::note("escaped", "setsid");
    }
    if nested {
        std::io::stdout().flush().expect("flush stdout");
        let me = getpid();
        // SAFETY: one thread; the new process only works.
        if let ForkResult::Child = unsafe { fork() }.expect("fork") {
            if guard {
                die_with(me);
            }
            labkit::role("great-grandchild");
            work("great-grandchild");
        }
    }
    work("grandchild")
}
// ANCHOR_END: task

// ANCHOR: descendants
/// Every process below `ancestor` in the process tree now: a walk of /proc, where each
/// process's stat names its parent. (Zombies are listed too.) /proc/PID/task/TID/children
/// would list children directly, but only on kernels built with CONFIG_PROC_CHILDREN.
#[allow(dead_code)]
fn descendants(ancestor: Pid) -> Vec<Pid> {
    let mut parent_of = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("read /proc").flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        // "pid (comm) state ppid ...": comm may hold spaces and ')', so cut at the last ')'.
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        let ppid = stat.rfind(')').and_then(|i| stat[i + 1..].split_whitespace().nth(1)?.parse::<i32>().ok());
        if let Some(ppid) = ppid {
            parent_of.push((pid, ppid));
        }
    }
    let mut found = vec![ancestor.as_raw()];
    let mut i = 0;
    while i < found.len() {
        let p = found[i];
        found.extend(parent_of.iter().filter(|&&(_, ppid)| ppid == p).map(|&(pid, _)| pid));
        i += 1;
    }
    found[1..].iter().map(|&p| Pid::from_raw(p)).collect()
}
// ANCHOR_END: descendants

// ANCHOR: become_subreaper
/// Orphans go to the nearest *child subreaper* above them (else to pid 1 of the PID
/// namespace). Make this process that subreaper: whatever its subtree leaves behind comes to
/// it, so it can signal and reap it.
fn become_subreaper() {
    prctl::set_child_subreaper(true).expect("prctl(PR_SET_CHILD_SUBREAPER)");
}
// ANCHOR_END: become_subreaper

// ANCHOR: terminate_tree
/// Terminates `child` and everything below it, and returns once every one of them has been
/// reaped: no orphan survives.
fn terminate_tree(child: Pid, sig: Signal) {
    // Each process below dies with its parent: ending the child ends them all, one level
    // after the other. As a subreaper this process reaps every one of them.
    kill(child, sig).expect("kill");
    loop {
        match wait() {
            Ok(status) => report("reaped", child, status),
            Err(Errno::ECHILD) => return,
            Err(Errno::EINTR) => continue,
            Err(e) => panic!("wait: {e}"),
        }
    }
}
// ANCHOR_END: terminate_tree

/// Prints and notes how a process the parent reaped ended.
fn report(what: &str, child: Pid, status: WaitStatus) {
    let (pid, how) = match status {
        WaitStatus::Exited(pid, code) => (pid, format!("exited with {code}")),
        WaitStatus::Signaled(pid, sig, _) => (pid, format!("killed by {}", sig.as_str())),
        other => (other.pid().unwrap_or(Pid::from_raw(0)), format!("{other:?}")),
    };
    let whose = if pid == child { "my child" } else { "adopted" };
    println!("parent: {what} {pid} ({whose}): {how}");
    labkit::note(what, &format!("{pid} {how}"));
}

fn tree(a: &TreeArgs) {
    labkit::role("parent");
    if !a.post {
        become_subreaper();
    }
    std::io::stdout().flush().expect("flush stdout");
    // SAFETY: one thread; the child runs `task`, which never returns.
    let parent = getpid();
    let child = match unsafe { fork() }.expect("fork") {
        ForkResult::Child => {
            if !a.post {
                die_with(parent);
            }
            task(a)
        }
        ForkResult::Parent { child } => child,
    };
    println!("parent {}: started child {child}", getpid());
    // The post's sleep(5): the child and its children work meanwhile.
    labkit::pause("the child and its children work");
    let sig = if a.kill { Signal::SIGKILL } else { Signal::SIGTERM };
    // ANCHOR: post
    if a.post {
        // The post's p.terminate() (p.kill() with --kill): one signal, to the child alone.
        kill(child, sig).expect("kill");
        println!("parent: sent {} to child {child}", sig.as_str());
        labkit::pause("the parent has terminated its child");
        // p.join(): reap the child.
        report("joined", child, waitpid(child, None).expect("waitpid"));
    } else {
        terminate_tree(child, sig);
        labkit::pause("the parent has terminated its child");
    }
    // ANCHOR_END: post
    println!("Parent is continuing on...");
}

// ANCHOR: locks
/// A lock several processes share: a file to flock, or a pthread mutex in shared memory.
enum Lock {
    File(PathBuf),
    Mutex(NonNull<libc::pthread_mutex_t>),
}

/// One process's handle on the lock: a file it opened itself (an open file description of
/// its own: flock belongs to that), or the shared mutex.
enum Handle {
    File(File),
    Mutex(NonNull<libc::pthread_mutex_t>),
}

/// A pthread mutex in memory that every process forked after this call shares (MAP_SHARED),
/// made usable across processes (PTHREAD_PROCESS_SHARED), robust or not.
fn shared_mutex(robust: bool) -> NonNull<libc::pthread_mutex_t> {
    let len = NonZeroUsize::new(size_of::<libc::pthread_mutex_t>()).expect("not zero");
    // SAFETY: a new anonymous mapping, placed by the kernel.
    let mem = unsafe {
        mmap_anonymous(None, len, ProtFlags::PROT_READ | ProtFlags::PROT_WRITE, MapFlags::MAP_SHARED)
    }
    .expect("mmap");
    let mutex = mem.cast::<libc::pthread_mutex_t>();
    let mut attr = std::mem::MaybeUninit::<libc::pthread_mutexattr_t>::uninit();
    // SAFETY: attr is initialised by pthread_mutexattr_init before any other use; the mutex
    // lives in the fresh mapping, which is big enough and suitably aligned (page-aligned).
    unsafe {
        check(libc::pthread_mutexattr_init(attr.as_mut_ptr()), "pthread_mutexattr_init");
        check(
            libc::pthread_mutexattr_setpshared(attr.as_mut_ptr(), libc::PTHREAD_PROCESS_SHARED),
            "pthread_mutexattr_setpshared",
        );
        if robust {
            check(
                libc::pthread_mutexattr_setrobust(attr.as_mut_ptr(), libc::PTHREAD_MUTEX_ROBUST),
                "pthread_mutexattr_setrobust",
            );
        }
        check(libc::pthread_mutex_init(mutex.as_ptr(), attr.as_ptr()), "pthread_mutex_init");
        libc::pthread_mutexattr_destroy(attr.as_mut_ptr());
    }
    mutex
}

fn check(rc: i32, what: &str) {
    assert_eq!(rc, 0, "{what}: {}", Errno::from_raw(rc));
}

impl Lock {
    fn open(&self) -> Handle {
        match self {
            Lock::File(path) => Handle::File(File::open(path).expect("open the lock file")),
            Lock::Mutex(m) => Handle::Mutex(*m),
        }
    }
}

impl Handle {
    /// Takes the lock, sleeping while another process holds it. `Err` is what the lock says
    /// instead (EOWNERDEAD: you have it, but its last owner died holding it).
    fn lock(&self) -> Result<(), Errno> {
        match self {
            // SAFETY: flock on an fd this process owns.
            Handle::File(f) => Errno::result(unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) }).map(drop),
            // SAFETY: the mutex was initialised before the fork, in shared memory.
            Handle::Mutex(m) => match unsafe { libc::pthread_mutex_lock(m.as_ptr()) } {
                0 => Ok(()),
                e => Err(Errno::from_raw(e)),
            },
        }
    }

    fn unlock(&self) {
        match self {
            // SAFETY: as in lock.
            Handle::File(f) => Errno::result(unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_UN) })
                .map(drop)
                .expect("flock(LOCK_UN)"),
            // SAFETY: as in lock; this process holds it.
            Handle::Mutex(m) => {
                check(unsafe { libc::pthread_mutex_unlock(m.as_ptr()) }, "pthread_mutex_unlock")
            }
        }
    }
}
// ANCHOR_END: locks

// ANCHOR: waiter
/// A process that wants the lock: it takes it, does its work, lets it go.
fn waiter(lock: &Lock, ready: &OwnedFd) -> ! {
    labkit::role("waiter");
    let handle = lock.open();
    write(ready, b"w").expect("write");
    labkit::note("waiting", "lock");
    let got = handle.lock();
    labkit::note("locked", &got.map_or_else(|e| format!("{e:?}"), |()| "ok".into()));
    match got {
        Ok(()) => println!("waiter {}: got the lock", getpid()),
        Err(Errno::EOWNERDEAD) => {
            // I hold it now, but its owner died in the middle of its work: repair what the
            // lock protects, then say so, or the mutex is unusable once I unlock it.
            println!("waiter {}: got the lock, but its owner died holding it (EOWNERDEAD)", getpid());
            if let Handle::Mutex(m) = &handle {
                // SAFETY: this process holds the robust mutex (EOWNERDEAD).
                check(unsafe { libc::pthread_mutex_consistent(m.as_ptr()) }, "pthread_mutex_consistent");
            }
        }
        Err(e) => {
            println!("waiter {}: no lock: {} ({e:?})", getpid(), e.desc());
            std::process::exit(1);
        }
    }
    handle.unlock();
    std::process::exit(0)
}
// ANCHOR_END: waiter

/// Waits for one byte from each of `n` children: "I have opened the lock" (the holder: "I
/// hold it").
fn await_ready(ready: &OwnedFd, n: usize) {
    let mut got = 0;
    let mut buf = [0u8; 4];
    while got < n {
        match read(ready, &mut buf[..n - got]) {
            Ok(0) => panic!("a child ended before it was ready"),
            Ok(k) => got += k,
            Err(Errno::EINTR) => continue,
            Err(e) => panic!("read: {e}"),
        }
    }
}

// ANCHOR: lock_scene
fn lock_scene(kind: LockKind) {
    labkit::role("parent");
    let (lock, dir) = match kind {
        LockKind::Flock => {
            // A directory of its own under $TMPDIR, never in the working tree.
            let template = std::env::temp_dir().join("lab13-flock-XXXXXX");
            let dir = nix::unistd::mkdtemp(&template).expect("mkdtemp");
            let file = dir.join("lock");
            File::create(&file).expect("create the lock file");
            (Lock::File(file), Some(dir))
        }
        LockKind::Robust => (Lock::Mutex(shared_mutex(true)), None),
        LockKind::Plain => (Lock::Mutex(shared_mutex(false)), None),
    };
    let (ready_r, ready_w) = pipe().expect("pipe");
    std::io::stdout().flush().expect("flush stdout");
    // SAFETY: one thread; the holder never returns here.
    let holder = match unsafe { fork() }.expect("fork") {
        ForkResult::Child => {
            labkit::role("holder");
            let handle = lock.open();
            handle.lock().expect("the first lock");
            labkit::note("locked", "ok");
            println!("holder {}: I hold the lock", getpid());
            write(&ready_w, b"h").expect("write");
            loop {
                nix::unistd::pause(); // holds it until a signal ends it
            }
        }
        ForkResult::Parent { child } => child,
    };
    await_ready(&ready_r, 1);
    let mut waiters = Vec::new();
    for _ in 0..2 {
        std::io::stdout().flush().expect("flush stdout");
        // SAFETY: one thread; a waiter never returns here.
        match unsafe { fork() }.expect("fork") {
            ForkResult::Child => waiter(&lock, &ready_w),
            ForkResult::Parent { child } => waiters.push(child),
        }
    }
    await_ready(&ready_r, waiters.len());
    if let Some(dir) = &dir {
        // Every process has its own open file now. A flock belongs to the open file, not to
        // the name: the directory can go at once, so nothing is left behind in any case.
        std::fs::remove_dir_all(dir).expect("remove the lock's directory");
        labkit::note("removed", &dir.display().to_string());
    }

    labkit::pause("the holder holds the lock; the waiters wait for it");
    // p.terminate(): the holder dies holding the lock, without any cleanup of its own.
    labkit::note("terminate", "holder");
    kill(holder, Signal::SIGTERM).expect("kill");
    report("holder", holder, waitpid(holder, None).expect("waitpid"));
    // p.join() of each waiter. With a plain mutex this waits forever.
    for &w in &waiters {
        report("joined", w, waitpid(w, None).expect("waitpid"));
    }
    if let Lock::Mutex(m) = lock {
        // SAFETY: the mutex is in the shared mapping, initialised.
        let rc = unsafe { libc::pthread_mutex_trylock(m.as_ptr()) };
        let said = if rc == 0 { "ok".to_string() } else { format!("{:?}", Errno::from_raw(rc)) };
        println!("parent: pthread_mutex_trylock after all that: {said}");
        labkit::note("trylock", &said);
        if rc == 0 {
            Handle::Mutex(m).unlock();
        }
    }
}
// ANCHOR_END: lock_scene

// ANCHOR: daemon
fn daemon_scene() {
    labkit::role("parent");
    let parent = getpid();
    std::io::stdout().flush().expect("flush stdout");
    // SAFETY: one thread; the daemon never returns here.
    if let ForkResult::Child = unsafe { fork() }.expect("fork") {
        labkit::role("daemon");
        // The kernel's "die with your parent" (lab 05): SIGTERM when the parent dies.
        prctl::set_pdeathsig(Signal::SIGTERM).expect("prctl(PR_SET_PDEATHSIG)");
        if getppid() != parent {
            std::process::exit(0); // the parent died before the prctl: no signal will come
        }
        labkit::note("pdeathsig", &format!("{:?}", prctl::get_pdeathsig().expect("prctl")));
        std::io::stdout().flush().expect("flush stdout");
        // multiprocessing would refuse this fork ("daemonic processes are not allowed to have
        // children"). The kernel does not.
        // SAFETY: one thread; the grandchild only works.
        match unsafe { fork() }.expect("fork") {
            ForkResult::Child => {
                labkit::role("grandchild");
                // A parent-death signal is not inherited: fork clears it.
                labkit::note("pdeathsig", &format!("{:?}", prctl::get_pdeathsig().expect("prctl")));
                work("grandchild")
            }
            ForkResult::Parent { child } => {
                println!("daemon {}: forked {child}; no rule against it", getpid());
                labkit::note_num("forked", child.as_raw());
                work("daemon")
            }
        }
    }
    labkit::pause("the daemon has a child of its own");
    // The main program ends, and leaves its daemon child to the kernel's parent-death signal.
    println!("parent: exiting");
}
// ANCHOR_END: daemon

fn main() {
    let args: Args = labkit::args();
    match args.scene.unwrap_or(Scene::Tree(TreeArgs { grandchildren: 2, ..TreeArgs::default() })) {
        Scene::Tree(a) => tree(&a),
        Scene::Lock { kind } => lock_scene(kind),
        Scene::Daemon => daemon_scene(),
    }
}
