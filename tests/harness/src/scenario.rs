//! A running scenario: one lab program inside its own sandbox, watched by a spec.

use crate::safety::Runner;
use crate::trace::{Event, Kind};
use crate::tree::{Proc, Tree, read_proc, read_proc_in};
pub use setup::Setup;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::DirBuilderExt;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
pub use stuck::Where;

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
            i18n::t!("report-lab-reference", package = self.package)
        } else {
            i18n::t!("report-lab-yours", package = self.package)
        }
    }
}

#[derive(Default)]
struct Log {
    events: Vec<Event>,
    /// The sandbox reported that no process of the scenario is left (nothing can change now).
    ended: bool,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    /// stdout reached EOF: every process that could write to it has closed it.
    stdout_closed: bool,
    /// stderr reached EOF.
    stderr_closed: bool,
}

#[derive(Default)]
struct Shared {
    log: Mutex<Log>,
    changed: Condvar,
    /// Output readers holding bytes they have read but not yet put in the log.
    in_hand: std::sync::atomic::AtomicUsize,
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
    /// How it was started (session leader, pauses holding stdout …).
    setup: Setup,
    /// Who the spec expects: "every process plays its part once" (see parts.rs).
    parts: parts::Parts,
    /// Questions the spec attached to "stuck inside its handler of SIG" (see stuck.rs).
    stuck_questions: RefCell<Vec<(stuck::Where, String)>>,
    /// The pids the spec saw stop at each pause label.
    pids_paused: RefCell<HashMap<String, std::collections::BTreeSet<i32>>>,
    args: Vec<String>,
    sandbox: Child,
    /// The sandbox, in the scenario's numbering (1 when it has a PID namespace of its own).
    root: i32,
    /// The sandbox as the runner sees it, and the depth of the scenario's PID namespace.
    host_root: i32,
    level: Option<usize>,
    /// Scenario pid -> runner pid, learnt from snapshots.
    hosts: RefCell<HashMap<i32, i32>>,
    /// What the sandbox said when it was ready: layers and limits.
    layers: String,
    runner: Runner,
    control: Option<File>,
    /// Where each `labkit::pause` makes its FIFO (named after its pid) and waits on it.
    go_dir: std::path::PathBuf,
    /// Pids the spec saw pause (`paused`) and has not released yet, oldest first.
    to_release: RefCell<std::collections::VecDeque<i32>>,
    terminal: Option<terminal::Terminal>,
    shared: Arc<Shared>,
    readers: Vec<JoinHandle<()>>,
    /// Copies of the read ends of the lab's stdout and stderr, to see whether bytes wait unread
    /// in them (see `Scenario::let_output_arrive`).
    output_pipes: Vec<OwnedFd>,
    started: Instant,
    deadline: Duration,
    steps: RefCell<Vec<String>>,
    /// Every process of the scenario ever seen: runner pid -> start time.
    seen: RefCell<HashMap<i32, u64>>,
    pauses_taken: RefCell<HashMap<String, usize>>,
    narrate: bool,
    narrated_stdout: Cell<usize>,
    /// `PROCLAB_FIGURE`: what `cargo lab figures` draws (figure.rs).
    figure: figure::Recorder,
    done: bool,
}

/// A fresh private directory for the pauses' FIFOs.
fn go_dir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    // proclab-<runner pid>.<its start time>.<its PID namespace>-N: a sandbox of the same
    // namespace that finds one whose owner is dead removes it (left by a runner killed before
    // it could); runners of other namespaces (a container, CI's throw-away namespace) share
    // the temp dir, and their pids mean nothing here.
    let me = std::process::id() as i32;
    let start = read_proc(me).map(|p| p.starttime).unwrap_or(0);
    let ns = crate::tree::pid_namespace().unwrap_or(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("proclab-{me}.{start}.{ns}-{n}"));
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

/// Counts a reader's bytes as in the log again when dropped.
struct InLog<'a>(&'a std::sync::atomic::AtomicUsize);

impl Drop for InLog<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
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
                    let mut log = shared.lock();
                    log.ended |= ev.kind == Kind::Empty;
                    log.events.push(ev);
                    drop(log);
                    shared.changed.notify_all();
                }
            } else {
                let mut reader = file;
                let mut buf = [0u8; 8192];
                loop {
                    let got = reader.read(&mut buf);
                    shared.in_hand.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let _in_log = InLog(&shared.in_hand);
                    match got {
                        Ok(0) => {
                            if which == b'o' {
                                shared.lock().stdout_closed = true;
                            } else {
                                shared.lock().stderr_closed = true;
                            }
                            shared.changed.notify_all();
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
        Self::launch(lab, args, Setup::default())
    }

    /// Like [`Scenario::start`], with the sandbox's layers chosen here instead of by
    /// `PROCLAB_LAYERS` (see [`crate::layers`]): the harness's own tests use it to prove each
    /// layer alone.
    pub fn start_with_layers(lab: Lab, args: &[&str], layers: crate::layers::Chosen) -> Scenario {
        Self::launch(lab, args, Setup::default().layers(layers))
    }

    /// Like [`Scenario::start`], but the sandbox's session gets a pseudo-terminal: the lab's
    /// stdin is the terminal and the lab's group is its foreground group, so
    /// [`Scenario::type_keys`] with `"\x03"` is a real Ctrl-C.
    pub fn start_with_terminal(lab: Lab, args: &[&str]) -> Scenario {
        Self::launch(lab, args, Setup::default().terminal())
    }

    fn launch(lab: Lab, args: &[&str], setup: Setup) -> Scenario {
        if lab.is_solution() || lab.package.starts_with("lab") {
            // A lab's spec reports in the student's language: `cargo lab` says which, else the
            // locale. (The harness's own tests read its English messages: they keep English.)
            i18n::adopt_locale();
        }
        cleanup::become_subreaper();
        let with_pty = setup.terminal;
        let layers = match setup.layers.clone() {
            Some(l) => l,
            None => crate::layers::chosen().unwrap_or_else(|e| panic!("proclab: {e}")),
        };
        let ruleset = layers
            .has("landlock")
            .then(|| crate::layers::landlock_ruleset().unwrap_or_else(|e| panic!("proclab: {e}")));
        let (ctl_r, ctl_w) = pipe();
        let (out_r, out_w) = pipe();
        let (err_r, err_w) = pipe();
        let (tr_r, tr_w) = pipe();
        let pty = with_pty.then(|| terminal::open_pty().expect("proclab: cannot open a pseudo-terminal"));

        let go_dir = go_dir();
        let mut cmd = Command::new(env!("PROCLAB_SANDBOX"));
        cmd.env("PROCLAB_GO_DIR", &go_dir);
        if with_pty {
            cmd.arg("--pty");
        }
        if setup.session_leader {
            cmd.arg("--setsid");
        }
        if setup.without_subreaper && layers.has("pidns") {
            cmd.arg("--no-subreaper");
        }
        if !setup.ignored.is_empty() {
            let sigs: Vec<String> = setup.ignored.iter().map(|&s| (s as i32).to_string()).collect();
            cmd.arg("--ignore").arg(sigs.join(","));
        }
        match setup.nproc {
            Some(n) => cmd.env("PROCLAB_NPROC", n.to_string()),
            None => cmd.env_remove("PROCLAB_NPROC"),
        };
        if setup.hold_stdout {
            cmd.env("PROCLAB_HOLD_STDOUT", "1");
        } else {
            cmd.env_remove("PROCLAB_HOLD_STDOUT");
        }
        for var in ["PROCLAB_PRELOAD", "PROCLAB_GATE_WRITE", "PROCLAB_GATE_PDEATHSIG"] {
            cmd.env_remove(var);
        }
        if setup.gated() {
            cmd.env("PROCLAB_PRELOAD", env!("PROCLAB_GATE_LIB"));
        }
        if let Some(text) = &setup.hold_println {
            cmd.env("PROCLAB_GATE_WRITE", text);
        }
        if setup.gate_pdeathsig {
            cmd.env("PROCLAB_GATE_PDEATHSIG", "1");
        }
        if !layers.0.is_empty() {
            cmd.arg("--layers").arg(layers.to_string());
        }
        cmd.arg("--").arg(lab.bin).args(args);
        cmd.stdin(Stdio::from(ctl_r)).stdout(Stdio::from(out_w)).stderr(Stdio::from(err_w));
        // The sandbox's fds: 3 trace, 5 terminal, 6 Landlock ruleset.
        let fds = [
            (tr_w.as_raw_fd(), 3),
            (pty.as_ref().map(|p| p.slave.as_raw_fd()).unwrap_or(-1), 5),
            (ruleset.as_ref().map(|r| r.as_raw_fd()).unwrap_or(-1), 6),
        ];
        // SAFETY: only async-signal-safe calls (fcntl, dup2, close) between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                // Copy above fd 10 first so no dup2 below clobbers a source still needed.
                let mut high = [-1; 3];
                for (i, &(from, _)) in fds.iter().enumerate() {
                    if from >= 0 {
                        high[i] = libc::fcntl(from, libc::F_DUPFD, 10);
                        if high[i] < 0 {
                            return Err(std::io::Error::last_os_error());
                        }
                    }
                }
                for (i, &(_, to)) in fds.iter().enumerate() {
                    if high[i] >= 0 {
                        if libc::dup2(high[i], to) < 0 {
                            return Err(std::io::Error::last_os_error());
                        }
                        libc::close(high[i]);
                    }
                }
                Ok(())
            });
        }
        let sandbox = cleanup::spawn_registered(&mut cmd).expect("proclab: cannot start the sandbox");
        drop(tr_w);
        drop(ruleset);
        drop(cmd); // closes our copies of the child's ends (ctl_r, out_w, err_w)
        let terminal = pty.map(|p| {
            drop(p.slave);
            terminal::Terminal::new(p.master)
        });

        let shared = Arc::new(Shared::default());
        let output_pipes = [&out_r, &err_r].iter().filter_map(|fd| fd.try_clone().ok()).collect();
        let readers = vec![
            spawn_reader(out_r, shared.clone(), b'o'),
            spawn_reader(err_r, shared.clone(), b'e'),
            spawn_reader(tr_r, shared.clone(), b't'),
        ];
        let root = sandbox.id() as i32;
        let mut sc = Scenario {
            lab,
            setup,
            parts: parts::Parts::default(),
            stuck_questions: RefCell::new(Vec::new()),
            pids_paused: RefCell::new(HashMap::new()),
            args: args.iter().map(|s| s.to_string()).collect(),
            sandbox,
            root,
            host_root: root,
            level: None,
            hosts: RefCell::new(HashMap::new()),
            layers: String::new(),
            runner: Runner::current(),
            control: Some(File::from(ctl_w)),
            go_dir,
            to_release: RefCell::new(std::collections::VecDeque::new()),
            terminal,
            shared,
            readers,
            output_pipes,
            started: Instant::now(),
            deadline: default_deadline(),
            steps: RefCell::new(Vec::new()),
            seen: RefCell::new(HashMap::new()),
            pauses_taken: RefCell::new(HashMap::new()),
            narrate: std::env::var_os("PROCLAB_NARRATE").is_some(),
            narrated_stdout: Cell::new(0),
            figure: figure::Recorder::from_env(),
            done: false,
        };
        sc.until_ready(layers.has("pidns"));
        if sc.narrate {
            // libtest names each test's thread after the test.
            if let Some(test) = std::thread::current().name().filter(|n| *n != "main") {
                println!("\n━━ {} ━━", test.replace('_', " ").replace("::", ": "));
            }
            let command = format!("{} {}", lab.package, sc.args.join(" "));
            let start = if sc.sandbox_is_subreaper() {
                i18n::t!("narrate-start", command = command, root = sc.root)
            } else {
                i18n::t!("narrate-start-no-subreaper", command = command, root = sc.root)
            };
            println!("$ {start}");
        }
        sc
    }

    /// Waits for the sandbox to say where it is and that it is ready (or why it cannot be).
    fn until_ready(&mut self, pidns: bool) {
        let (host_root, ready) = self
            .wait_log(&i18n::t!("wait-sandbox-ready"), |log| {
                if let Some(e) = log.events.iter().find_map(|e| match &e.kind {
                    Kind::SandboxError(m) => Some(m.clone()),
                    _ => None,
                }) {
                    return Some(Err(e));
                }
                let root = log.events.iter().find_map(|e| match e.kind {
                    Kind::Root(p) => Some(p),
                    _ => None,
                })?;
                let ready = log.events.iter().find_map(|e| match &e.kind {
                    Kind::Ready(l) => Some(l.clone()),
                    _ => None,
                })?;
                Some(Ok((root, ready)))
            })
            .unwrap_or_else(|e| panic!("proclab: the sandbox could not set the scenario up: {e}"));
        self.host_root = host_root;
        self.layers = ready;
        if pidns {
            let nspid = procfs::process::Process::new(host_root)
                .and_then(|p| p.status())
                .ok()
                .and_then(|s| s.nspid)
                .unwrap_or_default();
            if nspid.len() < 2 {
                panic!(
                    "proclab: the sandbox {host_root} is not in a PID namespace of its own (NSpid {nspid:?})"
                );
            }
            self.level = Some(nspid.len() - 1);
            self.root = nspid[nspid.len() - 1];
        } else {
            self.root = host_root;
        }
    }

    // ----- facts -------------------------------------------------------------------------

    /// The sandbox's pid: the subreaper that adopts the scenario's orphans (1 when the scenario
    /// has a PID namespace of its own: then the sandbox is its init, too).
    pub fn sandbox_pid(&self) -> i32 {
        self.root
    }

    /// Whether the sandbox is a child subreaper, as the kernel told it (`PR_GET_CHILD_SUBREAPER`):
    /// always, unless the scenario was started [`Setup::without_subreaper`] in a PID namespace.
    pub fn sandbox_is_subreaper(&self) -> bool {
        !self.layers.contains("not a child subreaper")
    }

    /// What the sandbox said when it was ready: its layers and limits.
    pub fn layers(&self) -> &str {
        &self.layers
    }

    /// The directory of the pauses' FIFOs (removed when the scenario ends).
    pub fn pause_dir(&self) -> &std::path::Path {
        &self.go_dir
    }

    /// Whether the scenario has a PID namespace of its own (its pids are not the runner's).
    pub fn in_pid_namespace(&self) -> bool {
        self.level.is_some()
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
        let known: Vec<i32> = self.seen.borrow().keys().copied().collect();
        let mut t = Tree::snapshot_known(self.host_root, self.level, &known);
        {
            let log = self.shared.lock();
            for e in &log.events {
                if let Kind::Role(r) = &e.kind {
                    t.roles.insert(e.pid, r.clone());
                }
            }
        }
        let mut seen = self.seen.borrow_mut();
        let mut hosts = self.hosts.borrow_mut();
        for p in t.lab_procs() {
            seen.entry(p.host_pid).or_insert(p.starttime);
            hosts.insert(p.pid, p.host_pid);
        }
        t
    }

    /// The runner's pid for scenario pid `pid` (the same number without a PID namespace).
    pub fn host_pid(&self, pid: i32) -> Option<i32> {
        if self.level.is_none() {
            return Some(pid);
        }
        if let Some(&h) = self.hosts.borrow().get(&pid) {
            return Some(h);
        }
        self.snapshot().get(pid).map(|p| p.host_pid)
    }

    /// Reads one process of the scenario now (ids in the scenario's numbering).
    pub fn proc(&self, pid: i32) -> Option<Proc> {
        let host = self.host_pid(pid)?;
        read_proc_in(host, self.level).filter(|p| p.pid == pid)
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
        if let Some(p) = self.proc(pid) {
            self.seen.borrow_mut().entry(p.host_pid).or_insert(p.starttime);
        }
    }
}

fn indent(text: &str, pad: &str) -> String {
    text.lines().map(|l| format!("{pad}{l}\n")).collect()
}
mod act;
pub mod cleanup;
pub mod figure;
mod hygiene;
pub mod memory;
mod parts;
mod report;
pub use report::{Verdict, claim_record, claim_verdict_of, parse_claim_record, python3};
pub mod setup;
pub mod stuck;
mod terminal;
mod wait;
