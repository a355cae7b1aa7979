//! Why a process aborted, in words: a signal handler that printed or allocated. With
//! `Setup::hold_stdout` such a handler aborts every time (labkit's hold.rs); the failure
//! report then says so instead of leaving the student with "observed Signal(6, false)".

use super::Scenario;
use crate::trace::{Exit, Kind};
use std::time::{Duration, Instant};

/// What stderr shows when a handler's `println!` found stdout's buffer borrowed.
const BORROWED: [&str; 2] = ["already borrowed", "already mutably borrowed"];

/// What a panicking lab process said: "setpgid: EPERM" from
/// "thread 'main' panicked at src/main.rs:3:5:\nsetpgid: EPERM".
pub fn panic_message(stderr: &str) -> Option<String> {
    let mut lines = stderr.lines();
    lines.find(|l| l.contains("panicked at"))?;
    lines.next().map(|m| m.trim().to_string()).filter(|m| !m.is_empty())
}

/// The diagnosis for an abort, from what the process wrote on stderr.
pub fn diagnose(stderr: &str) -> Option<String> {
    if stderr.contains(labkit::guard::MESSAGE) {
        Some(i18n::t!("why-allocated"))
    } else if BORROWED.iter().any(|b| stderr.contains(b)) {
        Some(i18n::t!("why-printed"))
    } else {
        None
    }
}

impl Scenario {
    /// If a process of the scenario died of SIGABRT or panicked (status 101), why (waiting
    /// briefly for its stderr).
    pub(super) fn abort_diagnosis(&self) -> Option<String> {
        let aborted = |log: &super::Log| {
            log.events.iter().any(|e| matches!(e.kind, Kind::Exited(_, Exit::Signal(6, _) | Exit::Code(101))))
        };
        let end = Instant::now() + Duration::from_millis(500);
        let mut log = self.shared.lock();
        loop {
            let text = String::from_utf8_lossy(&log.stderr);
            if let Some(d) = diagnose(&text) {
                return Some(d);
            }
            if let Some(m) = panic_message(&text) {
                return Some(i18n::t!("why-panicked", message = m));
            }
            // Nothing aborted (yet), or all of stderr is in: no diagnosis.
            let now = Instant::now();
            if !aborted(&log) || log.stderr_closed || now >= end {
                return None;
            }
            log = self.shared.changed.wait_timeout(log, end - now).unwrap_or_else(|e| e.into_inner()).0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_borrow_panic_is_a_printing_handler_and_the_guard_an_allocating_one() {
        let printed = "thread 'main' panicked at src/main.rs:3:5:\nalready mutably borrowed: BorrowError\n";
        assert!(diagnose(printed).unwrap().starts_with("your handler printed"));
        let allocated = format!("{}\n", labkit::guard::MESSAGE);
        assert!(diagnose(&allocated).unwrap().starts_with("a signal handler allocated"));
        assert_eq!(diagnose("thread 'main' panicked at src/main.rs: index out of bounds"), None);
    }

    #[test]
    fn a_panic_is_told_by_its_message() {
        let err = "thread 'main' (2) panicked at src/main.rs:118:65:\nsetpgid: EPERM\nnote: run with `RUST_BACKTRACE=1`";
        assert_eq!(panic_message(err).as_deref(), Some("setpgid: EPERM"));
        assert_eq!(panic_message("nothing"), None);
    }
}
