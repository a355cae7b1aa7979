//! Waiting: every wait has the scenario's deadline and fails the spec with the tree shown.

use super::{Log, Scenario};
use crate::trace::{Exit, Kind};
use crate::tree::{Proc, Tree};
use i18n::t;
use std::io::Write;
use std::time::{Duration, Instant};

impl Scenario {
    /// Waits until `found` returns something from the trace and output, or fails the spec.
    #[track_caller]
    pub(super) fn wait_log<T>(&self, expected: &str, mut found: impl FnMut(&Log) -> Option<T>) -> T {
        let end = Instant::now() + self.deadline;
        let mut log = self.shared.lock();
        loop {
            if let Some(v) = found(&log) {
                return v;
            }
            // Every process has ended and all it wrote has arrived: nothing can change now.
            if log.ended && log.stdout_closed && log.stderr_closed {
                drop(log);
                self.fail(&self.no_longer(expected));
            }
            let now = Instant::now();
            if now >= end {
                drop(log);
                self.fail(&self.stuck(expected));
            }
            log = self.shared.changed.wait_timeout(log, end - now).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    /// Whether the sandbox has reported that no process of the scenario is left.
    pub fn ended(&self) -> bool {
        self.shared.lock().ended
    }

    /// The failure text for a wait that can no longer succeed.
    fn no_longer(&self, expected: &str) -> String {
        t!("wait-no-longer", what = expected, ms = self.started.elapsed().as_millis())
    }

    /// The pid of the first process that announced `role`.
    #[track_caller]
    pub fn role(&self, role: &str) -> i32 {
        self.roles(role, 1)[0]
    }

    /// The pids of the first `n` processes that announced `role`, in announcement order.
    #[track_caller]
    pub fn roles(&self, role: &str, n: usize) -> Vec<i32> {
        let what = if n == 1 { t!("wait-role", role = role) } else { t!("wait-roles", n = n, role = role) };
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
        self.parts.asked_for(role, n);
        self.parts.met(&pids);
        pids
    }

    /// The first value `pid` noted under `key`.
    #[track_caller]
    pub fn note(&self, pid: i32, key: &str) -> String {
        self.wait_log(&t!("wait-note", pid = pid, key = key), |log| {
            log.events.iter().find_map(|e| match &e.kind {
                Kind::Note(k, v) if e.pid == pid && k == key => Some(v.clone()),
                _ => None,
            })
        })
    }

    /// The first `n` notes under `key`, from any process: (pid, value, time in ns).
    #[track_caller]
    pub fn notes(&self, key: &str, n: usize) -> Vec<(i32, String, i128)> {
        self.wait_log(&t!("wait-notes", n = n, key = key), |log| {
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
        let pid = self.wait_log(&t!("wait-pause", label = label), |log| {
            log.events.iter().filter(|e| e.kind == Kind::Pause(label.to_string())).nth(taken).map(|e| e.pid)
        });
        self.pauses_taken.borrow_mut().insert(label.to_string(), taken + 1);
        self.pids_paused.borrow_mut().entry(label.to_string()).or_default().insert(pid);
        self.parts.met(&[pid]);
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
                Err(e) => self.fail(&t!("wait-releasable", pid = pid, error = e)),
            }
        }
    }

    /// Waits until the sandbox reaps `pid` (a process it started, or an orphan it adopted) and
    /// returns how it ended.
    #[track_caller]
    pub fn exit_of(&self, pid: i32) -> Exit {
        self.wait_log(&t!("wait-exit", pid = pid), |log| {
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
            &t!("wait-note-again", pid = pid, key = key, ms = self.ms_since_start(after_ns)),
            |log| {
                log.events.iter().find_map(|e| match &e.kind {
                    Kind::Note(k, v) if e.pid == pid && k == key && e.t_ns > after_ns => Some(v.clone()),
                    _ => None,
                })
            },
        )
    }

    pub(super) fn ms_since_start(&self, t_ns: i128) -> i128 {
        let started_ns = crate::trace::now_ns() - self.started.elapsed().as_nanos() as i128;
        (t_ns - started_ns) / 1_000_000
    }

    /// The pid of the lab's first process (the one the sandbox started).
    #[track_caller]
    pub fn main_pid(&self) -> i32 {
        self.wait_log(&t!("wait-lab-starts"), |log| {
            log.events.iter().find_map(|e| match e.kind {
                Kind::Spawn(p) => Some(p),
                _ => None,
            })
        })
    }

    /// Waits until no process of the scenario is left (all exited and reaped).
    #[track_caller]
    pub fn until_empty(&self) {
        self.wait_log(&t!("wait-empty"), |log| {
            log.events.iter().any(|e| e.kind == Kind::Empty).then_some(())
        });
        self.narrate_ok(&t!("wait-empty-done"), &self.snapshot());
    }

    /// All the lab wrote on stdout: waits until every process of the scenario has closed it
    /// (normally: all have exited).
    #[track_caller]
    pub fn final_stdout(&self) -> String {
        self.wait_log(&t!("wait-closed", stream = "stdout"), |log| {
            log.stdout_closed.then(|| String::from_utf8_lossy(&log.stdout).into_owned())
        })
    }

    /// All the lab wrote on stderr: waits until every process of the scenario has closed it.
    #[track_caller]
    pub fn final_stderr(&self) -> String {
        self.wait_log(&t!("wait-closed", stream = "stderr"), |log| {
            log.stderr_closed.then(|| String::from_utf8_lossy(&log.stderr).into_owned())
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
            let ended = self.ended();
            let t = self.snapshot();
            if pred(&t) {
                self.narrate_ok(expected, &t);
                return t;
            }
            if ended {
                self.fail_with(&self.no_longer(expected), &t);
            }
            if Instant::now() >= end {
                self.fail(&self.stuck(expected));
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
            let ended = self.ended();
            let now = self.proc(pid);
            if let Some(p) = now.as_ref().filter(|p| pred(p)) {
                self.narrate_ok(expected, &self.snapshot());
                return p.clone();
            }
            if ended {
                self.fail(&self.no_longer(expected));
            }
            // Ended (a zombie, or reaped by the sandbox): it cannot come back.
            match &now {
                Some(p) if p.is_zombie() => self.fail(&t!("wait-proc-zombie", what = expected, pid = pid)),
                None => {
                    if let Some(x) = self.exit_now(pid) {
                        self.fail(&t!("wait-proc-ended", what = expected, pid = pid, exit = x));
                    }
                }
                _ => {}
            }
            if Instant::now() >= end {
                let last = match now {
                    Some(p) => {
                        t!(
                            "wait-proc-last-seen",
                            pid = pid,
                            state = p.state,
                            wchan = format!("{:?}", p.wchan)
                        )
                    }
                    None => t!("wait-proc-gone", pid = pid),
                };
                self.fail(&self.stuck(&t!("wait-and", what = expected, more = last)));
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
                self.fail_with(&t!("wait-for-window", what = expected, ms = window.as_millis()), &t);
            }
            if Instant::now() >= end {
                self.narrate_ok(&t!("wait-for-window", what = expected, ms = window.as_millis()), &t);
                return t;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}
