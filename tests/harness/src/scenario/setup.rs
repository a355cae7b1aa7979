//! How a scenario starts, beyond the lab and its arguments: a terminal, the sandbox's layers,
//! the lab as a session leader, pauses that hold stdout. [`Scenario::start_with`] takes one.

use super::Scenario;
use crate::layers::Chosen;
use crate::scenario::Lab;
use nix::sys::signal::Signal;

/// The options of a scenario's start. `Setup::default()` is what [`Scenario::start`] does.
#[derive(Clone, Debug, Default)]
pub struct Setup {
    /// A pseudo-terminal whose foreground group is the lab's (see [`Scenario::start_with_terminal`]).
    pub terminal: bool,
    /// The sandbox's layers; `None`: `PROCLAB_LAYERS`, else the default ([`crate::layers`]).
    pub layers: Option<Chosen>,
    /// Start the lab as the leader of a session of its own (`setsid ./lab`), instead of as the
    /// leader of a process group in the sandbox's session (a job of a shell). A session leader
    /// leads its group already and may not move: `setpgid(0, 0)` fails with EPERM.
    pub session_leader: bool,
    /// Every `labkit::pause` waits inside a write to stdout: a signal handler that runs during
    /// a pause and calls `println!` (or allocates) aborts the process, every time — not only
    /// when the signal happens to land inside one of the program's own `println!`s.
    pub hold_stdout: bool,
    /// Each process's first `println!` (write to stdout) whose text contains this waits *inside*
    /// that write, as at a pause labelled `println: <text>` (see `gate/lib.rs`): a signal the
    /// spec sends meanwhile lands in the middle of a `println!`, so a handler that prints
    /// aborts every time.
    pub hold_println: Option<String>,
    /// Every `prctl(PR_SET_PDEATHSIG)` waits just before the kernel sees it, as at a pause
    /// labelled `prctl(PR_SET_PDEATHSIG)`: the spec can kill the parent between a check of
    /// the parent and the arming of the signal.
    pub gate_pdeathsig: bool,
    /// Signals the lab starts with ignored (SIG_IGN), as a launcher that ignores them leaves
    /// them: an ignored disposition survives fork and exec. SIGCHLD ignored, say, makes the
    /// kernel reap the lab's children itself, so its waitpid ends in ECHILD.
    pub ignored: Vec<Signal>,
    /// The sandbox is not a child subreaper (only with a PID namespace, whose pid 1 it is):
    /// the scenario's orphans go to pid 1 of the namespace because it is pid 1, as post 002
    /// says — not to the nearest subreaper, for there is none.
    pub without_subreaper: bool,
    /// A bound on the scenario's processes smaller than the sandbox's 1024 (16 at least): the
    /// harness's own fork bomb.
    pub nproc: Option<u64>,
}

impl Setup {
    /// The lab as a session leader (`setsid ./lab`), or not.
    pub fn session_leader(mut self, on: bool) -> Self {
        self.session_leader = on;
        self
    }
    /// Pauses that hold stdout: handlers that print or allocate during a pause abort.
    pub fn hold_stdout(mut self) -> Self {
        self.hold_stdout = true;
        self
    }
    /// Hold each process's first `println!` containing `text` inside the write (see the field).
    pub fn hold_println(mut self, text: &str) -> Self {
        self.hold_println = Some(text.to_string());
        self
    }
    /// Stop every `prctl(PR_SET_PDEATHSIG)` just before it happens (see the field).
    pub fn gate_pdeathsig(mut self) -> Self {
        self.gate_pdeathsig = true;
        self
    }
    /// The usual layers but the PID namespace, when another layer is left to keep the lab in:
    /// the scenario's pids are then the machine's, and the sandbox is not pid 1 — "the orphan
    /// is adopted by pid 1" is no longer true by accident. (Without another layer the PID
    /// namespace stays; `Scenario::in_pid_namespace` says which it got.)
    pub fn without_pid_namespace(mut self) -> Self {
        let base = match self.layers.take() {
            Some(l) => l,
            None => crate::layers::chosen().unwrap_or(Chosen(vec![])),
        };
        let rest: Vec<&'static str> = base.0.iter().copied().filter(|&l| l != "pidns").collect();
        self.layers = Some(if rest.is_empty() { base } else { Chosen(rest) });
        self
    }
    /// No child subreaper in the scenario: orphans go to pid 1 of its PID namespace (see the
    /// field). Only where the PID namespace layer is available (else the sandbox stays a
    /// subreaper: outside a namespace the orphans would escape to the runner);
    /// [`Scenario::sandbox_is_subreaper`] says which the scenario got.
    pub fn without_subreaper(mut self) -> Self {
        let layers = match self.layers.clone() {
            Some(l) => Some(l),
            None => crate::layers::chosen().ok(),
        };
        self.without_subreaper = layers.is_some_and(|l| l.has("pidns"));
        self
    }
    /// Start the lab with `sig` ignored (see the field).
    pub fn ignoring(mut self, sig: Signal) -> Self {
        self.ignored.push(sig);
        self
    }
    /// Whether a gate is open (the gate library must be preloaded).
    pub fn gated(&self) -> bool {
        self.hold_println.is_some() || self.gate_pdeathsig
    }
    /// A pseudo-terminal (Ctrl-C and friends through [`Scenario::type_keys`]).
    pub fn terminal(mut self) -> Self {
        self.terminal = true;
        self
    }
    /// At most `n` processes in the scenario (16 ≤ n ≤ 1024), instead of 1024.
    pub fn nproc(mut self, n: u64) -> Self {
        self.nproc = Some(n);
        self
    }
    /// These layers of the sandbox.
    pub fn layers(mut self, layers: Chosen) -> Self {
        self.layers = Some(layers);
        self
    }

    /// How the start differs from the default, for the failure report ("" when it does not).
    pub fn describe(&self) -> String {
        use i18n::t;
        let mut parts = Vec::new();
        if self.session_leader {
            parts.push(t!("setup-session-leader"));
        }
        if self.hold_stdout {
            parts.push(t!("setup-hold-stdout"));
        }
        if self.terminal {
            parts.push(t!("setup-terminal"));
        }
        if let Some(text) = &self.hold_println {
            parts.push(t!("setup-hold-println", text = text));
        }
        if self.gate_pdeathsig {
            parts.push(t!("setup-gate-pdeathsig"));
        }
        if self.without_subreaper {
            parts.push(t!("setup-no-subreaper"));
        }
        for s in &self.ignored {
            parts.push(t!("setup-ignoring", signal = s));
        }
        parts.join(&t!("list-separator"))
    }
}

impl Scenario {
    /// Starts `lab` with `args` as `setup` says (see [`Setup`]).
    pub fn start_with(lab: Lab, args: &[&str], setup: Setup) -> Scenario {
        Self::launch(lab, args, setup)
    }

    /// How this scenario was started.
    pub fn setup(&self) -> &Setup {
        &self.setup
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_start_says_nothing_special() {
        assert_eq!(Setup::default().describe(), "");
        assert_eq!(
            Setup::default().session_leader(true).hold_stdout().describe(),
            "started as a session leader (setsid), pauses hold stdout"
        );
        assert!(!Setup::default().session_leader(true).session_leader(false).session_leader);
    }
}
