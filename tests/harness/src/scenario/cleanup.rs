//! The end of a scenario: kill, reap, check that nothing is left — on every path.

use super::Scenario;
use nix::sys::signal::Signal;
use std::io::Write;
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
