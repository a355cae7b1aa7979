//! Acting on the scenario: signals, vetted by `safety`.

use super::Scenario;
use crate::safety::{self, Refusal, Target};
use nix::sys::signal::Signal;

impl Scenario {
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
}
