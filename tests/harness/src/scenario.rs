//! A running scenario: one lab program inside its own sandbox, watched by a spec.

use crate::safety::{self, Refusal, Runner, Target};
use crate::trace::{Event, Exit, Kind};
use crate::tree::{Proc, Tree, read_proc};
use nix::sys::signal::Signal;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::DirBuilderExt;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Keep at most this much of a lab's stdout or stderr (a runaway printer must not eat memory).
const OUTPUT_CAP: usize = 1 << 20;

/// The program a spec judges: the student's starter (`labNN`) or the reference (`solNN`).
#[derive(Clone, Copy, Debug)]
pub struct Lab {
    /// Path of the compiled lab binary.
    pub bin: &'static str,
    /// Cargo package: `lab02` (student) or `sol02` (reference solution).
    pub package: &'static str,
}

/// The lab binary of the package this spec is compiled for. The same spec file is the
/// `[[test]]` of both `labs/NN-x` and `solutions/NN-x`; this picks the right binary.
#[macro_export]
macro_rules! lab {
    () => {
        $crate::Lab {
            bin: env!(concat!("CARGO_BIN_EXE_", env!("CARGO_PKG_NAME"))),
            package: env!("CARGO_PKG_NAME"),
        }
    };
}

impl Lab {
    pub fn is_solution(&self) -> bool {
        self.package.starts_with("sol")
    }
    pub fn describe(&self) -> String {
        if self.is_solution() {
            format!("{} (the reference solution)", self.package)
        } else {
            format!("{} (your code in labs/)", self.package)
        }
    }
}

#[derive(Default)]
struct Log {
    events: Vec<Event>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    /// stdout reached EOF: every process that could write to it has closed it.
    stdout_closed: bool,
}

#[derive(Default)]
struct Shared {
    log: Mutex<Log>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Log> {
        // A reader thread cannot panic while holding the lock, but never let poison hide a verdict.
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// How long any single wait may take before the spec fails with the tree shown.
/// `PROCLAB_DEADLINE_MS` overrides the default of 3000.
pub fn default_deadline() -> Duration {
    std::env::var("PROCLAB_DEADLINE_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(Duration::from_millis)
        .unwrap_or(Duration::from_millis(3000))
}

/// One lab run inside a sandbox. Dropping it (pass, failure or panic) kills, reaps and checks
/// away every process of the scenario.
pub struct Scenario {
    lab: Lab,
    args: Vec<String>,
    sandbox: Child,
    root: i32,
    runner: Runner,
    control: Option<File>,
    /// Where each `labkit::pause` makes its FIFO (named after its pid) and waits on it.
    go_dir: std::path::PathBuf,
    /// Pids the spec saw pause (`paused`) and has not released yet, oldest first.
    to_release: RefCell<std::collections::VecDeque<i32>>,
    terminal: Option<File>,
    shared: Arc<Shared>,
    readers: Vec<JoinHandle<()>>,
    started: Instant,
    deadline: Duration,
    steps: RefCell<Vec<String>>,
    seen: RefCell<HashMap<i32, u64>>,
    pauses_taken: RefCell<HashMap<String, usize>>,
    narrate: bool,
    narrated_stdout: Cell<usize>,
    done: bool,
}

/// A fresh private directory for the pauses' FIFOs.
fn go_dir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "proclab-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .expect("proclab: cannot create a directory for pauses");
    dir
}

fn pipe() -> (OwnedFd, OwnedFd) {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).expect("proclab: cannot create a pipe")
}

fn spawn_reader(fd: OwnedFd, shared: Arc<Shared>, which: u8) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name(format!("proclab-reader-{which}"))
        .spawn(move || {
            let file = File::from(fd);
            if which == b't' {
                for line in BufReader::new(file).lines() {
                    let Ok(line) = line else { break };
                    let ev =
                        Event::parse(&line).unwrap_or(Event { pid: 0, t_ns: 0, kind: Kind::Other(line) });
                    shared.lock().events.push(ev);
                    shared.changed.notify_all();
                }
            } else {
                let mut reader = file;
                let mut buf = [0u8; 8192];
                loop {
                    match reader.read(&mut buf) {
                        Ok(0) => {
                            if which == b'o' {
                                shared.lock().stdout_closed = true;
                                shared.changed.notify_all();
                            }
                            break;
                        }
                        Ok(n) => {
                            let mut log = shared.lock();
                            let out = if which == b'o' { &mut log.stdout } else { &mut log.stderr };
                            let room = OUTPUT_CAP.saturating_sub(out.len());
                            out.extend_from_slice(&buf[..n.min(room)]);
                            drop(log);
                            shared.changed.notify_all();
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(_) => break,
                    }
                }
            }
        })
        .expect("proclab: cannot start a reader thread")
}

impl Scenario {
    /// Starts `lab` with `args` in a fresh sandbox: new session, child subreaper, default
    /// signal dispositions, empty signal mask, stdin from /dev/null, the lab in its own
    /// process group.
    pub fn start(lab: Lab, args: &[&str]) -> Scenario {
        Self::launch(lab, args, false)
    }

    /// Like [`Scenario::start`], but the sandbox's session gets a pseudo-terminal: the lab's
    /// stdin is the terminal and the lab's group is its foreground group, so
    /// [`Scenario::type_keys`] with `"\x03"` is a real Ctrl-C.
    pub fn start_with_terminal(lab: Lab, args: &[&str]) -> Scenario {
        Self::launch(lab, args, true)
    }

    fn launch(lab: Lab, args: &[&str], with_pty: bool) -> Scenario {
        let (ctl_r, ctl_w) = pipe();
        let (out_r, out_w) = pipe();
        let (err_r, err_w) = pipe();
        let (tr_r, tr_w) = pipe();
        let pty = with_pty.then(|| nix::pty::openpty(None, None).expect("proclab: openpty"));

        let go_dir = go_dir();
        let mut cmd = Command::new(env!("PROCLAB_SANDBOX"));
        cmd.env("PROCLAB_GO_DIR", &go_dir);
        if with_pty {
            cmd.arg("--pty");
        }
        cmd.arg("--").arg(lab.bin).args(args);
        cmd.stdin(Stdio::from(ctl_r)).stdout(Stdio::from(out_w)).stderr(Stdio::from(err_w));
        let tr = tr_w.as_raw_fd();
        let slave = pty.as_ref().map(|p| p.slave.as_raw_fd()).unwrap_or(-1);
        // SAFETY: only async-signal-safe calls (fcntl, dup2, close) between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                // Copy above fd 10 first so no dup2 below clobbers a source still needed.
                let t = libc::fcntl(tr, libc::F_DUPFD, 10);
                let s = if slave >= 0 { libc::fcntl(slave, libc::F_DUPFD, 10) } else { -1 };
                if t < 0 || (slave >= 0 && s < 0) {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::dup2(t, 3) < 0 || (s >= 0 && libc::dup2(s, 5) < 0) {
                    return Err(std::io::Error::last_os_error());
                }
                libc::close(t);
                if s >= 0 {
                    libc::close(s);
                }
                Ok(())
            });
        }
        let sandbox = cmd.spawn().expect("proclab: cannot start the sandbox");
        drop(tr_w);
        drop(cmd); // closes our copies of the child's ends (ctl_r, out_w, err_w)
        let terminal = pty.map(|p| {
            drop(p.slave);
            File::from(p.master)
        });

        let shared = Arc::new(Shared::default());
        let readers = vec![
            spawn_reader(out_r, shared.clone(), b'o'),
            spawn_reader(err_r, shared.clone(), b'e'),
            spawn_reader(tr_r, shared.clone(), b't'),
        ];
        let root = sandbox.id() as i32;
        let sc = Scenario {
            lab,
            args: args.iter().map(|s| s.to_string()).collect(),
            sandbox,
            root,
            runner: Runner::current(),
            control: Some(File::from(ctl_w)),
            go_dir,
            to_release: RefCell::new(std::collections::VecDeque::new()),
            terminal,
            shared,
            readers,
            started: Instant::now(),
            deadline: default_deadline(),
            steps: RefCell::new(Vec::new()),
            seen: RefCell::new(HashMap::new()),
            pauses_taken: RefCell::new(HashMap::new()),
            narrate: std::env::var_os("PROCLAB_NARRATE").is_some(),
            narrated_stdout: Cell::new(0),
            done: false,
        };
        if sc.narrate {
            // libtest names each test's thread after the test.
            if let Some(test) = std::thread::current().name().filter(|n| *n != "main") {
                println!("\n━━ {} ━━", test.replace('_', " ").replace("::", ": "));
            }
            println!(
                "$ {} {}   (in a sandbox: new session, child subreaper {root})",
                lab.package,
                sc.args.join(" ")
            );
        }
        sc
    }

    // ----- facts -------------------------------------------------------------------------

    /// The sandbox's pid: the subreaper that adopts the scenario's orphans.
    pub fn sandbox_pid(&self) -> i32 {
        self.root
    }

    /// The lab being judged.
    pub fn lab(&self) -> Lab {
        self.lab
    }

    /// The time limit of every wait.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// Changes the time limit of every later wait (the default is [`default_deadline`]).
    pub fn set_deadline(&mut self, deadline: Duration) {
        self.deadline = deadline;
    }

    /// The process tree now, roles attached.
    pub fn snapshot(&self) -> Tree {
        let mut t = Tree::snapshot(self.root);
        {
            let log = self.shared.lock();
            for e in &log.events {
                if let Kind::Role(r) = &e.kind {
                    t.roles.insert(e.pid, r.clone());
                }
            }
        }
        let mut seen = self.seen.borrow_mut();
        for p in t.lab_procs() {
            seen.entry(p.pid).or_insert(p.starttime);
        }
        t
    }

    /// Everything traced so far.
    pub fn events(&self) -> Vec<Event> {
        self.shared.lock().events.clone()
    }

    /// What the lab printed on stdout so far.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.shared.lock().stdout).into_owned()
    }

    /// What the lab printed on stderr so far.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.shared.lock().stderr).into_owned()
    }

    fn remember(&self, pid: i32) {
        if let Some(p) = read_proc(pid) {
            self.seen.borrow_mut().entry(pid).or_insert(p.starttime);
        }
    }

    // ----- waiting -----------------------------------------------------------------------

    /// Waits until `found` returns something from the trace and output, or fails the spec.
    #[track_caller]
    fn wait_log<T>(&self, expected: &str, mut found: impl FnMut(&Log) -> Option<T>) -> T {
        let end = Instant::now() + self.deadline;
        let mut log = self.shared.lock();
        loop {
            if let Some(v) = found(&log) {
                return v;
            }
            let now = Instant::now();
            if now >= end {
                drop(log);
                self.fail(&format!("{expected} (waited {} ms)", self.deadline.as_millis()));
            }
            log = self.shared.changed.wait_timeout(log, end - now).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    /// The pid of the first process that announced `role`.
    #[track_caller]
    pub fn role(&self, role: &str) -> i32 {
        self.roles(role, 1)[0]
    }

    /// The pids of the first `n` processes that announced `role`, in announcement order.
    #[track_caller]
    pub fn roles(&self, role: &str, n: usize) -> Vec<i32> {
        let what = if n == 1 {
            format!("a process announces the role \"{role}\"")
        } else {
            format!("{n} processes announce the role \"{role}\"")
        };
        let pids = self.wait_log(&what, |log| {
            let pids: Vec<i32> = log
                .events
                .iter()
                .filter(|e| e.kind == Kind::Role(role.to_string()))
                .map(|e| e.pid)
                .take(n)
                .collect();
            (pids.len() == n).then_some(pids)
        });
        for &p in &pids {
            self.remember(p);
        }
        pids
    }

    /// The first value `pid` noted under `key`.
    #[track_caller]
    pub fn note(&self, pid: i32, key: &str) -> String {
        self.wait_log(&format!("process {pid} notes \"{key}\""), |log| {
            log.events.iter().find_map(|e| match &e.kind {
                Kind::Note(k, v) if e.pid == pid && k == key => Some(v.clone()),
                _ => None,
            })
        })
    }

    /// The first `n` notes under `key`, from any process: (pid, value, time in ns).
    #[track_caller]
    pub fn notes(&self, key: &str, n: usize) -> Vec<(i32, String, i128)> {
        self.wait_log(&format!("{n} note(s) \"{key}\""), |log| {
            let v: Vec<_> = log
                .events
                .iter()
                .filter_map(|e| match &e.kind {
                    Kind::Note(k, v) if k == key => Some((e.pid, v.clone(), e.t_ns)),
                    _ => None,
                })
                .take(n)
                .collect();
            (v.len() == n).then_some(v)
        })
    }

    /// Every note under `key` so far, without waiting.
    pub fn notes_now(&self, key: &str) -> Vec<(i32, String, i128)> {
        self.shared
            .lock()
            .events
            .iter()
            .filter_map(|e| match &e.kind {
                Kind::Note(k, v) if k == key => Some((e.pid, v.clone(), e.t_ns)),
                _ => None,
            })
            .collect()
    }

    /// Waits until a process stops at `labkit::pause(label)` (the next such stop not already
    /// waited for) and returns its pid. It stays stopped until [`Scenario::release`].
    #[track_caller]
    pub fn paused(&self, label: &str) -> i32 {
        let taken = *self.pauses_taken.borrow().get(label).unwrap_or(&0);
        let pid = self.wait_log(&format!("a process reaches pause \"{label}\""), |log| {
            log.events.iter().filter(|e| e.kind == Kind::Pause(label.to_string())).nth(taken).map(|e| e.pid)
        });
        self.pauses_taken.borrow_mut().insert(label.to_string(), taken + 1);
        self.to_release.borrow_mut().push_back(pid);
        self.remember(pid);
        pid
    }

    /// Lets the process of the oldest [`Scenario::paused`] not yet released go on — that
    /// process and no other, however many are paused.
    #[track_caller]
    pub fn release(&self) {
        let Some(pid) = self.to_release.borrow_mut().pop_front() else {
            self.fail("release() follows a paused(label) that has not been released yet")
        };
        self.release_pid(pid);
    }

    /// Lets process `pid`, stopped at a `labkit::pause`, go on.
    #[track_caller]
    pub fn release_pid(&self, pid: i32) {
        use std::os::unix::fs::OpenOptionsExt;
        self.to_release.borrow_mut().retain(|&p| p != pid);
        let fifo = self.go_dir.join(pid.to_string());
        let end = Instant::now() + self.deadline;
        loop {
            // Succeeds once the process has the FIFO open for reading, i.e. is waiting on it.
            match std::fs::OpenOptions::new().write(true).custom_flags(libc::O_NONBLOCK).open(&fifo) {
                Ok(mut f) => {
                    let _ = f.write_all(b"g");
                    return;
                }
                Err(_) if Instant::now() < end => std::thread::sleep(Duration::from_millis(1)),
                Err(e) => self.fail(&format!("process {pid} waits at a pause and can be released ({e})")),
            }
        }
    }

    /// Waits until the sandbox reaps `pid` (a process it started, or an orphan it adopted) and
    /// returns how it ended.
    #[track_caller]
    pub fn exit_of(&self, pid: i32) -> Exit {
        self.wait_log(&format!("process {pid} ends and the sandbox reaps it"), |log| {
            log.events.iter().find_map(|e| match e.kind {
                Kind::Exited(p, x) if p == pid => Some(x),
                _ => None,
            })
        })
    }

    /// How `pid` ended, if the sandbox has reaped it already (no wait). A process whose own
    /// parent reaped it never shows here: use it after [`Scenario::until_empty`] to ask "did
    /// the sandbox have to reap it?".
    pub fn exit_now(&self, pid: i32) -> Option<Exit> {
        self.shared.lock().events.iter().find_map(|e| match e.kind {
            Kind::Exited(p, x) if p == pid => Some(x),
            _ => None,
        })
    }

    /// When the sandbox reaped `pid` (CLOCK_MONOTONIC ns, comparable with notes' times), if it has.
    pub fn reaped_at(&self, pid: i32) -> Option<i128> {
        self.shared.lock().events.iter().find_map(|e| match e.kind {
            Kind::Exited(p, _) if p == pid => Some(e.t_ns),
            _ => None,
        })
    }

    /// Waits until `pid` notes `key` at a time later than `after_ns` (CLOCK_MONOTONIC ns);
    /// returns the value. "The orphan is still working after its parent died."
    #[track_caller]
    pub fn note_after(&self, pid: i32, key: &str, after_ns: i128) -> String {
        self.wait_log(
            &format!("process {pid} notes \"{key}\" again (after +{} ms)", self.ms_since_start(after_ns)),
            |log| {
                log.events.iter().find_map(|e| match &e.kind {
                    Kind::Note(k, v) if e.pid == pid && k == key && e.t_ns > after_ns => Some(v.clone()),
                    _ => None,
                })
            },
        )
    }

    fn ms_since_start(&self, t_ns: i128) -> i128 {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: clock_gettime writes into `ts`.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
        let now = i128::from(ts.tv_sec) * 1_000_000_000 + i128::from(ts.tv_nsec);
        let started_ns = now - self.started.elapsed().as_nanos() as i128;
        (t_ns - started_ns) / 1_000_000
    }

    /// The pid of the lab's first process (the one the sandbox started).
    #[track_caller]
    pub fn main_pid(&self) -> i32 {
        self.wait_log("the sandbox starts the lab", |log| {
            log.events.iter().find_map(|e| match e.kind {
                Kind::Spawn(p) => Some(p),
                _ => None,
            })
        })
    }

    /// Waits until no process of the scenario is left (all exited and reaped).
    #[track_caller]
    pub fn until_empty(&self) {
        self.wait_log("every process of the scenario has exited and been reaped", |log| {
            log.events.iter().any(|e| e.kind == Kind::Empty).then_some(())
        });
        self.narrate_ok("every process has exited and been reaped", &self.snapshot());
    }

    /// All the lab wrote on stdout: waits until every process of the scenario has closed it
    /// (normally: all have exited).
    #[track_caller]
    pub fn final_stdout(&self) -> String {
        self.wait_log("every process of the lab closes stdout (has exited)", |log| {
            log.stdout_closed.then(|| String::from_utf8_lossy(&log.stdout).into_owned())
        })
    }

    /// Waits until stdout satisfies `pred`; returns all of stdout.
    #[track_caller]
    pub fn until_stdout(&self, expected: &str, pred: impl Fn(&str) -> bool) -> String {
        self.wait_log(expected, |log| {
            let s = String::from_utf8_lossy(&log.stdout);
            pred(&s).then(|| s.into_owned())
        })
    }

    /// Polls the process tree (every 2 ms) until `pred` holds, or fails the spec showing what
    /// was expected and the tree that was observed.
    #[track_caller]
    pub fn until(&self, expected: &str, pred: impl Fn(&Tree) -> bool) -> Tree {
        let end = Instant::now() + self.deadline;
        loop {
            let t = self.snapshot();
            if pred(&t) {
                self.narrate_ok(expected, &t);
                return t;
            }
            if Instant::now() >= end {
                self.fail_with(&format!("{expected} (waited {} ms)", self.deadline.as_millis()), &t);
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Polls one process (its own /proc files only, every 0.5 ms) until `pred` holds, and
    /// returns it: quicker than [`Scenario::until`] at catching a brief state of one process
    /// ("asleep in nanosleep right now").
    #[track_caller]
    pub fn until_proc(&self, expected: &str, pid: i32, pred: impl Fn(&Proc) -> bool) -> Proc {
        let end = Instant::now() + self.deadline;
        loop {
            let now = read_proc(pid);
            if let Some(p) = now.as_ref().filter(|p| pred(p)) {
                self.narrate_ok(expected, &self.snapshot());
                return p.clone();
            }
            if Instant::now() >= end {
                let last = match now {
                    Some(p) => format!("last seen: state {} in {:?}", p.state, p.wchan),
                    None => "it is gone".into(),
                };
                self.fail(&format!("{expected} (waited {} ms; {last})", self.deadline.as_millis()));
            }
            std::thread::sleep(Duration::from_micros(500));
        }
    }

    /// Checks that `pred` keeps holding for `window`, polling every 2 ms: "still alive",
    /// "no zombie appears". Fails on the first snapshot where it does not.
    #[track_caller]
    pub fn stays(&self, expected: &str, window: Duration, pred: impl Fn(&Tree) -> bool) -> Tree {
        let end = Instant::now() + window;
        loop {
            let t = self.snapshot();
            if !pred(&t) {
                self.fail_with(&format!("{expected} (for {} ms)", window.as_millis()), &t);
            }
            if Instant::now() >= end {
                self.narrate_ok(&format!("{expected} (for {} ms)", window.as_millis()), &t);
                return t;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    // ----- acting ------------------------------------------------------------------------

    /// Sends `sig` to one process of the scenario, through a pidfd. Fails the spec if the
    /// target is not the scenario's to signal (see [`crate::safety`]).
    #[track_caller]
    pub fn signal(&self, pid: i32, sig: Signal) {
        if let Err(r) = self.try_signal(Target::Pid(pid), sig) {
            self.fail(&format!("{sig} can be sent to {pid} — {r}"));
        }
    }

    /// Sends `sig` to every process of group `pgid`, after checking every member is ours.
    #[track_caller]
    pub fn signal_group(&self, pgid: i32, sig: Signal) {
        if let Err(r) = self.try_signal(Target::Group(pgid), sig) {
            self.fail(&format!("{sig} can be sent to group {pgid} — {r}"));
        }
    }

    /// Like [`Scenario::signal`] but returns the refusal instead of failing.
    pub fn try_signal(&self, target: Target, sig: Signal) -> Result<(), Refusal> {
        let t = self.snapshot();
        if self.narrate {
            println!(
                "  → {} to {}",
                sig,
                match target {
                    Target::Pid(p) => format!("{p} ({})", t.roles.get(&p).map(String::as_str).unwrap_or("?")),
                    Target::Group(g) => format!("process group {g}"),
                }
            );
        }
        safety::send(target, sig, self.runner, &t)
    }

    /// Writes `keys` to the terminal (scenarios started with a terminal only): `"\x03"` is Ctrl-C.
    #[track_caller]
    pub fn type_keys(&self, keys: &[u8]) {
        let Some(mut t) = self.terminal.as_ref() else {
            self.fail("the scenario has a terminal (start it with Scenario::start_with_terminal)")
        };
        if let Err(e) = t.write_all(keys) {
            self.fail(&format!("keys can be typed on the terminal ({e})"));
        }
    }

    // ----- verdicts ----------------------------------------------------------------------

    /// Records a step of the scenario (shown in failure reports and narrated by `cargo lab demo`).
    pub fn step(&self, text: &str) {
        self.steps.borrow_mut().push(text.to_string());
        if self.narrate {
            self.narrate_stdout();
            println!("\n▶ {text}");
        }
    }

    /// In a demo, draws the tree now under `title`.
    pub fn show(&self, title: &str) {
        if self.narrate {
            let t = self.snapshot();
            self.narrate_stdout();
            println!("  {title}:");
            print!("{}", indent(&t.render(), "    "));
        }
    }

    fn narrate_ok(&self, what: &str, t: &Tree) {
        if self.narrate {
            self.narrate_stdout();
            println!("  ✓ {what}   (+{} ms)", self.started.elapsed().as_millis());
            print!("{}", indent(&t.render(), "    "));
        }
    }

    fn narrate_stdout(&self) {
        let out = self.stdout();
        let from = self.narrated_stdout.get().min(out.len());
        let fresh = &out[from..];
        if let Some(end) = fresh.rfind('\n') {
            for line in fresh[..end].lines() {
                println!("  lab printed │ {line}");
            }
            self.narrated_stdout.set(from + end + 1);
        }
    }

    /// Records what this run showed about one claim of the posts. `id` names a row of a lab
    /// sheet's claims table; `observed` says what was seen ("child 4242 was Z for 3 ms").
    /// Call it once the spec has asserted the facts: `cargo lab tour` collects these records
    /// (through `PROCLAB_CLAIMS`) and prints them beside the claims.
    pub fn claim(&self, id: &str, observed: &str) {
        if self.narrate {
            println!("  ★ claim {id}: {observed}");
        }
        let Some(path) = std::env::var_os("PROCLAB_CLAIMS") else { return };
        let line = format!("{}\t{}\t{}\n", self.lab.package, id, observed.replace(['\t', '\n'], " "));
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
            let _ = f.write_all(line.as_bytes());
        }
    }

    /// Fails the spec unless `ok`, saying what was expected and showing the tree.
    #[track_caller]
    pub fn expect(&self, ok: bool, expected: &str) {
        if !ok {
            self.fail(expected);
        } else if self.narrate {
            println!("  ✓ {expected}");
        }
    }

    /// Fails the spec unless `observed == expected`.
    #[track_caller]
    pub fn expect_eq<T: PartialEq + std::fmt::Debug>(&self, observed: T, expected: T, what: &str) {
        if observed != expected {
            self.fail(&format!("{what}: {expected:?}, observed {observed:?}"));
        } else if self.narrate {
            println!("  ✓ {what}: {observed:?}");
        }
    }

    /// Fails the spec: what was expected, the tree observed now, the steps, the output.
    #[track_caller]
    pub fn fail(&self, expected: &str) -> ! {
        let t = self.snapshot();
        self.fail_with(expected, &t)
    }

    #[track_caller]
    fn fail_with(&self, expected: &str, t: &Tree) -> ! {
        panic!("{}", self.report(expected, t))
    }

    /// The failure report (public so specs and tools can show it).
    pub fn report(&self, expected: &str, t: &Tree) -> String {
        let mut r = String::new();
        let args =
            if self.args.is_empty() { String::new() } else { format!(" with {}", self.args.join(" ")) };
        let _ = writeln!(r, "\n── proclab: {}{args} ──", self.lab.describe());
        let _ = writeln!(r, "expected: {expected}");
        let _ = writeln!(r, "observed (+{} ms):", self.started.elapsed().as_millis());
        r.push_str(&indent(&t.render(), "  "));
        let events = self.events();
        let exits: Vec<String> =
            events.iter().filter(|e| matches!(e.kind, Kind::Exited(..))).map(|e| e.to_string()).collect();
        if !exits.is_empty() {
            let _ = writeln!(r, "reaped by the sandbox:\n  {}", exits.join("\n  "));
        }
        let steps = self.steps.borrow();
        if !steps.is_empty() {
            let _ = writeln!(r, "steps:");
            for (i, s) in steps.iter().enumerate() {
                let _ = writeln!(r, "  {}. {s}", i + 1);
            }
        }
        for (name, text, keep) in [("stdout", self.stdout(), 30), ("stderr", self.stderr(), 15)] {
            if !text.trim().is_empty() {
                let lines: Vec<&str> = text.lines().collect();
                let skip = lines.len().saturating_sub(keep);
                let _ = writeln!(
                    r,
                    "lab {name}{}:",
                    if skip > 0 { format!(" (last {keep} lines)") } else { String::new() }
                );
                for l in &lines[skip..] {
                    let _ = writeln!(r, "  │ {l}");
                }
            }
        }
        let notes: Vec<String> = events
            .iter()
            .filter(|e| !matches!(e.kind, Kind::Exited(..) | Kind::Spawn(_)))
            .map(|e| e.to_string())
            .collect();
        if !notes.is_empty() {
            let skip = notes.len().saturating_sub(20);
            let _ = writeln!(r, "trace{}:", if skip > 0 { " (last 20)" } else { "" });
            for n in &notes[skip..] {
                let _ = writeln!(r, "  {n}");
            }
        }
        r
    }

    // ----- the end -----------------------------------------------------------------------

    /// Ends the scenario now: kills and reaps every process, checks nothing is left.
    /// (Dropping the scenario does the same; call this to end it at a chosen point.)
    pub fn finish(mut self) {
        if let Err(e) = self.shutdown() {
            panic!("{e}");
        }
    }

    fn shutdown(&mut self) -> Result<(), String> {
        if self.done {
            return Ok(());
        }
        self.done = true;
        if let Some(mut c) = self.control.take() {
            let _ = c.write_all(b"kill\n");
        }
        // The sandbox SIGKILLs everything below it, reaps it and exits.
        let end = Instant::now() + Duration::from_secs(5);
        let mut forced = false;
        loop {
            match self.sandbox.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if Instant::now() < end => std::thread::sleep(Duration::from_millis(1)),
                Ok(None) => {
                    forced = true;
                    let _ = self.sandbox.kill();
                    let _ = self.sandbox.wait();
                    break;
                }
            }
        }
        let left = self.leftovers();
        for &pid in &left {
            if pid > 1 && pid != self.runner.pid {
                let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), Signal::SIGKILL);
            }
        }
        // Reader threads end at EOF, once every process holding the pipes is gone.
        let end = Instant::now() + Duration::from_secs(2);
        for h in self.readers.drain(..) {
            while !h.is_finished() && Instant::now() < end {
                std::thread::sleep(Duration::from_millis(1));
            }
            if h.is_finished() {
                let _ = h.join();
            }
        }
        let _ = std::fs::remove_dir_all(&self.go_dir);
        if !left.is_empty() || forced {
            return Err(format!(
                "proclab: the scenario of {} did not end cleanly: sandbox {}, processes left behind {:?} (now killed)",
                self.lab.describe(),
                if forced { "had to be killed" } else { "exited" },
                left
            ));
        }
        Ok(())
    }

    /// Processes of this scenario still in /proc: in the sandbox's session, or seen earlier and
    /// still the same process (same start time).
    fn leftovers(&self) -> Vec<i32> {
        let mut left = Vec::new();
        let seen = self.seen.borrow();
        if let Ok(iter) = procfs::process::all_processes() {
            for p in iter.flatten() {
                if let Ok(stat) = p.stat() {
                    let ours = stat.session == self.root || seen.get(&stat.pid) == Some(&stat.starttime);
                    if ours && stat.pid != self.runner.pid {
                        left.push(stat.pid);
                    }
                }
            }
        }
        left
    }
}

impl Drop for Scenario {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown() {
            if std::thread::panicking() {
                eprintln!("{e}");
            } else {
                panic!("{e}");
            }
        }
    }
}

fn indent(text: &str, pad: &str) -> String {
    text.lines().map(|l| format!("{pad}{l}\n")).collect()
}
