//! Acting on the scenario: signals, vetted by `safety`.

use super::Scenario;
use crate::safety::{self, Refusal, Target};
use i18n::t;
use nix::sys::signal::Signal;

impl Scenario {
    /// Sends `sig` to one process of the scenario, through a pidfd. Fails the spec if the
    /// target is not the scenario's to signal (see [`crate::safety`]).
    #[track_caller]
    pub fn signal(&self, pid: i32, sig: Signal) {
        if let Err(r) = self.try_signal(Target::Pid(pid), sig) {
            self.fail(&t!("act-can-signal", signal = sig, target = pid, why = r));
        }
    }

    /// Sends `sig` to every process of group `pgid`, after checking every member is ours.
    #[track_caller]
    pub fn signal_group(&self, pgid: i32, sig: Signal) {
        if let Err(r) = self.try_signal(Target::Group(pgid), sig) {
            self.fail(&t!("act-can-signal", signal = sig, target = Target::Group(pgid), why = r));
        }
    }

    /// Like [`Scenario::signal`], and says when the signal was sent: the trace's clock read just
    /// before the system call, comparable with the times of notes and reaping ("how long after
    /// the kill did the lab reap its child?").
    #[track_caller]
    pub fn signal_at(&self, pid: i32, sig: Signal) -> i128 {
        self.signal_all_at(&[pid], sig)[0]
    }

    /// Sends `sig` to each of `pids`, as close together as it can: one look at the tree, then
    /// one system call after another (tens of µs apart). Says when each was sent, as
    /// [`Scenario::signal_at`] does. "Two workers die at once."
    #[track_caller]
    pub fn signal_all_at(&self, pids: &[i32], sig: Signal) -> Vec<i128> {
        let t = self.snapshot();
        let targets: Vec<Target> = pids.iter().map(|&p| Target::Pid(p)).collect();
        targets
            .iter()
            .map(|&target| match self.send_now(target, sig, &t) {
                Ok(at) => at,
                Err(r) => self.fail(&t!("act-can-signal", signal = sig, target = target, why = r)),
            })
            .collect()
    }

    /// Like [`Scenario::signal`] but returns the refusal instead of failing.
    pub fn try_signal(&self, target: Target, sig: Signal) -> Result<(), Refusal> {
        self.send_now(target, sig, &self.snapshot()).map(|_| ())
    }

    /// Vets `target` against `t` (a fresh snapshot) and signals it.
    fn send_now(&self, target: Target, sig: Signal, t: &crate::Tree) -> Result<i128, Refusal> {
        if self.narrate {
            let line = match target {
                Target::Pid(p) => {
                    let role = t.roles.get(&p).map(String::as_str).unwrap_or("?");
                    t!("narrate-signal", signal = sig, pid = p, role = role)
                }
                Target::Group(g) => t!("narrate-signal-group", signal = sig, pgid = g),
            };
            println!("  → {line}");
        }
        let sent = safety::send(target, sig, self.runner, t);
        if let Ok(at) = sent {
            self.figure_sent(target, sig, at);
            // A process the spec signals is one it met: if it is still being torn down when the
            // program's first process ends, it did not outlive its part (parts.rs).
            match target {
                Target::Pid(p) => self.parts.met(&[p]),
                Target::Group(g) => self.parts.met(&t.group(g)),
            }
        }
        sent
    }
}
