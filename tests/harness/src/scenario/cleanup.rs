//! The end of a scenario: kill, reap, check that nothing is left — on every path.

use super::Scenario;
use nix::sys::signal::Signal;
use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Child, Command};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

impl Scenario {
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
        // A spec that passed: did every process play its part once (parts.rs)? Judged on the
        // tree as it is, before the end kills it.
        let parts = if std::thread::panicking() {
            None
        } else {
            self.sync_trace();
            self.figure_write();
            self.parts_problem().map(|p| {
                let t = self.snapshot();
                self.report(&p, &t)
            })
        };
        if let Some(mut c) = self.control.take() {
            let _ = c.write_all(b"kill\n");
        }
        // The sandbox SIGKILLs everything of the scenario, reaps it and exits 0; any other end
        // means it was killed (from outside: the lab cannot).
        let end = Instant::now() + Duration::from_secs(5);
        let mut forced = false;
        let mut died_early = None;
        loop {
            match self.sandbox.try_wait() {
                Ok(Some(status)) => {
                    died_early = (!status.success()).then_some(status);
                    break;
                }
                Err(_) => break,
                Ok(None) if Instant::now() < end => std::thread::sleep(Duration::from_millis(1)),
                Ok(None) => {
                    forced = true;
                    let _ = self.sandbox.kill();
                    let _ = self.sandbox.wait();
                    break;
                }
            }
        }
        unregister(self.sandbox.id() as i32);
        let mut left = self.leftovers();
        for &pid in &left {
            if pid > 1 && pid != self.runner.pid {
                let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), Signal::SIGKILL);
            }
        }
        // What a dead sandbox left was re-parented to us (the runner is a subreaper): kill and
        // reap it, and count what was this scenario's.
        let seen = self.seen.borrow().clone();
        for (pid, sid, start) in sweep_adopted_ids() {
            let ours = sid == self.host_root || seen.get(&pid) == Some(&start);
            if ours && !left.contains(&pid) {
                left.push(pid);
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
        if let Some(status) = died_early {
            return Err(format!(
                "proclab: the sandbox of {} died before the scenario ended ({status}); the harness killed \
                 what it left behind: {left:?}",
                self.lab.describe()
            ));
        }
        if let Some(report) = parts {
            return Err(report);
        }
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

    /// Waits until every record the lab wrote so far has arrived: asks the sandbox to put a
    /// marker on the trace pipe, behind them, and waits for it (briefly: a lab may have filled
    /// the pipe and be blocked; then what has arrived is all there is to judge).
    pub fn sync_trace(&self) {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(1);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let Some(mut c) = self.control.as_ref() else { return };
        if c.write_all(format!("sync {n}\n").as_bytes()).is_err() {
            return;
        }
        let end = Instant::now() + Duration::from_millis(500);
        let mut log = self.shared.lock();
        while !log.events.iter().rev().any(|e| e.kind == crate::trace::Kind::Synced(n)) {
            let now = Instant::now();
            if now >= end {
                return;
            }
            log = self.shared.changed.wait_timeout(log, end - now).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    /// Processes of this scenario still in /proc (runner pids): in the sandbox's session, or
    /// seen earlier and still the same process (same start time).
    fn leftovers(&self) -> Vec<i32> {
        let mut left = Vec::new();
        let seen = self.seen.borrow();
        if let Ok(iter) = procfs::process::all_processes() {
            for p in iter.flatten() {
                if let Ok(stat) = p.stat() {
                    let ours = stat.session == self.host_root || seen.get(&stat.pid) == Some(&stat.starttime);
                    if ours && stat.pid != self.runner.pid {
                        left.push(stat.pid);
                    }
                }
            }
        }
        left
    }
}

/// The runner's own children that are not orphans to sweep: sandboxes (and anything a test
/// spawned with [`spawn_spared`]), counted, since a pid may be reused while still listed.
static SPARED: Mutex<BTreeMap<i32, usize>> = Mutex::new(BTreeMap::new());

fn spared() -> std::sync::MutexGuard<'static, BTreeMap<i32, usize>> {
    SPARED.lock().unwrap_or_else(|e| e.into_inner())
}

/// Makes the test runner a child subreaper, once: if a sandbox is killed (from outside), what
/// it leaves is re-parented to the runner instead of pid 1, so the harness can find, kill and
/// reap it.
pub fn become_subreaper() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: prctl with integer arguments.
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    });
}

/// Spawns `cmd` as a child of the runner that the orphan sweep leaves alone (until it is
/// reaped). The spawn holds the sweep's lock, so no sweep can mistake it for an orphan.
pub fn spawn_spared(cmd: &mut Command) -> std::io::Result<Child> {
    let mut s = spared();
    let child = cmd.spawn()?;
    *s.entry(child.id() as i32).or_insert(0) += 1;
    Ok(child)
}

pub(super) fn spawn_registered(cmd: &mut Command) -> std::io::Result<Child> {
    spawn_spared(cmd)
}

/// Forgets a spared child once it has been reaped.
pub fn unregister(pid: i32) {
    let mut s = spared();
    if let Some(n) = s.get_mut(&pid) {
        *n -= 1;
        if *n == 0 {
            s.remove(&pid);
        }
    }
}

/// Kills and reaps every child of the runner that it did not spawn itself: orphans of a
/// scenario whose sandbox died, re-parented to the runner. Returns their pids.
pub fn sweep_adopted() -> Vec<i32> {
    sweep_adopted_ids().into_iter().map(|(pid, _, _)| pid).collect()
}

/// [`sweep_adopted`], with each one's session and start time (to tell whose they were).
fn sweep_adopted_ids() -> Vec<(i32, i32, u64)> {
    let me = std::process::id() as i32;
    let found: Vec<(i32, i32, u64)> = {
        let s = spared();
        let mut v = Vec::new();
        if let Ok(iter) = procfs::process::all_processes() {
            for p in iter.flatten() {
                if let Ok(stat) = p.stat() {
                    if stat.ppid == me && !s.contains_key(&stat.pid) {
                        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(stat.pid), Signal::SIGKILL);
                        v.push((stat.pid, stat.session, stat.starttime));
                    }
                }
            }
        }
        v
    };
    let end = Instant::now() + Duration::from_secs(2);
    for &(pid, _, _) in &found {
        loop {
            use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
            match waitpid(nix::unistd::Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) if Instant::now() < end => {
                    std::thread::sleep(Duration::from_millis(1))
                }
                _ => break,
            }
        }
    }
    found
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
