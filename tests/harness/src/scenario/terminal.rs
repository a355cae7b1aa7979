//! The scenario's pseudo-terminal (scenarios started with [`Scenario::start_with_terminal`]):
//! what a person at the keyboard does and sees.
//!
//! The runner holds the *master* side; the sandbox makes the *slave* side the controlling
//! terminal of its new session and the lab's group its foreground group. Typing `"\x03"` on the
//! master is then a real Ctrl-C: the kernel's line discipline sends SIGINT to every process of
//! the foreground group, exactly as on a student's terminal. The runner's own terminal (if it
//! has one) is never involved: the pty is opened with `O_NOCTTY`, and only the sandbox's new
//! session ever makes it a controlling terminal.

use super::Scenario;
use nix::fcntl::OFlag;
use nix::pty::OpenptyResult;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Keep at most this much of what the terminal displays.
const SCREEN_CAP: usize = 1 << 20;

/// Opens a pseudo-terminal pair for a scenario. Both ends are `O_NOCTTY` (opening them never
/// makes them the runner's controlling terminal, even when the runner leads a session without
/// one) and `O_CLOEXEC` (no other scenario started at the same moment inherits them, which
/// would keep the terminal open after this scenario ends).
pub(crate) fn open_pty() -> nix::Result<OpenptyResult> {
    let flags = OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC;
    let master = nix::pty::posix_openpt(flags)?;
    nix::pty::grantpt(&master)?;
    nix::pty::unlockpt(&master)?;
    let name = nix::pty::ptsname_r(&master)?;
    let slave = nix::fcntl::open(name.as_str(), flags, nix::sys::stat::Mode::empty())?;
    Ok(OpenptyResult { master: master.into(), slave })
}

/// What the terminal has displayed: the echo of typed keys (`^C`) and anything the lab wrote
/// to the terminal itself (its stdout and stderr are capture pipes, not the terminal).
#[derive(Default)]
struct Screen {
    shown: Mutex<Vec<u8>>,
    changed: Condvar,
}

impl Screen {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<u8>> {
        self.shown.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The runner's side of the scenario's terminal: the master, and a thread that reads
/// everything the terminal displays (so the lab never blocks on a full terminal either).
pub(crate) struct Terminal {
    master: File,
    screen: Arc<Screen>,
    reader: Option<JoinHandle<()>>,
}

impl Terminal {
    pub(crate) fn new(master: OwnedFd) -> Terminal {
        let master = File::from(master);
        let screen = Arc::new(Screen::default());
        let mut source = master.try_clone().expect("proclab: cannot duplicate the terminal's master");
        let sink = screen.clone();
        let reader = std::thread::Builder::new()
            .name("proclab-terminal".into())
            .spawn(move || {
                let mut buf = [0u8; 4096];
                loop {
                    match source.read(&mut buf) {
                        // EIO: every slave fd is closed (the scenario is over).
                        Ok(0) => break,
                        Ok(n) => {
                            let mut shown = sink.lock();
                            let room = SCREEN_CAP.saturating_sub(shown.len());
                            shown.extend_from_slice(&buf[..n.min(room)]);
                            drop(shown);
                            sink.changed.notify_all();
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(_) => break,
                    }
                }
            })
            .expect("proclab: cannot start the terminal's reader thread");
        Terminal { master, screen, reader: Some(reader) }
    }
}

impl Drop for Terminal {
    /// Runs after the scenario's processes are gone: the reader then sees EIO and ends.
    /// Never hangs a test on it: after a short wait the thread is left to end by itself.
    fn drop(&mut self) {
        if let Some(h) = self.reader.take() {
            let end = Instant::now() + Duration::from_secs(1);
            while !h.is_finished() && Instant::now() < end {
                std::thread::sleep(Duration::from_millis(1));
            }
            if h.is_finished() {
                let _ = h.join();
            }
        }
    }
}

impl Scenario {
    #[track_caller]
    fn terminal(&self) -> &Terminal {
        match self.terminal.as_ref() {
            Some(t) => t,
            None => self.fail("the scenario has a terminal (start it with Scenario::start_with_terminal)"),
        }
    }

    /// Writes `keys` to the terminal (scenarios started with a terminal only): `"\x03"` is Ctrl-C,
    /// `"\x1c"` Ctrl-\, `"\x1a"` Ctrl-Z (with the terminal's default settings).
    #[track_caller]
    pub fn type_keys(&self, keys: &[u8]) {
        self.figure_keys(keys);
        if let Err(e) = (&self.terminal().master).write_all(keys) {
            self.fail(&i18n::t!("terminal-type", error = e));
        }
    }

    /// What the terminal has displayed so far: the echo of typed keys (Ctrl-C shows as `^C`)
    /// and whatever the lab wrote to the terminal itself, with the terminal's `\r\n` line ends.
    #[track_caller]
    pub fn terminal_output(&self) -> String {
        String::from_utf8_lossy(&self.terminal().screen.lock()).into_owned()
    }

    /// Waits until what the terminal displayed satisfies `pred`; returns all of it.
    #[track_caller]
    pub fn until_terminal(&self, expected: &str, pred: impl Fn(&str) -> bool) -> String {
        let screen = &self.terminal().screen;
        let end = Instant::now() + self.deadline;
        let mut shown = screen.lock();
        loop {
            let text = String::from_utf8_lossy(&shown);
            if pred(&text) {
                let text = text.into_owned();
                drop(shown);
                self.narrate_ok(
                    &i18n::t!("terminal-shows", what = expected, text = format!("{text:?}")),
                    &self.snapshot(),
                );
                return text;
            }
            let now = Instant::now();
            if now >= end {
                let text = text.into_owned();
                drop(shown);
                self.fail(&i18n::t!(
                    "terminal-waited",
                    what = expected,
                    ms = self.deadline.as_millis(),
                    text = format!("{text:?}")
                ));
            }
            shown = screen.changed.wait_timeout(shown, end - now).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    /// The terminal's foreground process group now, as the kernel reports it (`tcgetpgrp` on
    /// the master): the group a Ctrl-C signals. Each process's own view of it is
    /// [`crate::Proc::tpgid`].
    #[track_caller]
    pub fn foreground_group(&self) -> i32 {
        let host = match nix::unistd::tcgetpgrp(&self.terminal().master) {
            Ok(pgid) => pgid.as_raw(),
            Err(e) => self.fail(&i18n::t!("terminal-foreground", error = e)),
        };
        if !self.in_pid_namespace() {
            return host;
        }
        // The kernel answers in the runner's numbering; say it in the scenario's.
        self.snapshot().procs.values().find(|p| p.host_pgid == host).map(|p| p.pgid).unwrap_or(0)
    }
}
