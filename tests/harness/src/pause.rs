//! Telling, from /proc, that a process is waiting at a `labkit::pause`.

use crate::tree::Proc;

/// The kernel function a process sleeps in while it opens a FIFO nobody has opened for
/// writing yet: where `labkit::pause` waits for the spec's release.
const FIFO_OPEN_WAIT: &str = "wait_for_partner";

impl Proc {
    /// Asleep at a `labkit::pause`, waiting for the spec's release (state S, in the kernel's
    /// `wait_for_partner`). A signal handler that returns puts the process back here: the
    /// interrupted open of the FIFO is restarted (by the kernel under SA_RESTART, else by
    /// labkit after EINTR).
    pub fn at_pause(&self) -> bool {
        self.state == 'S' && self.wchan == FIFO_OPEN_WAIT
    }
}

#[cfg(test)]
mod tests {
    use crate::tree::fake_proc;

    #[test]
    fn only_a_sleep_in_the_fifo_open_is_a_pause() {
        let mut p = fake_proc(2, 1, 2, 1, 'S');
        assert!(!p.at_pause());
        p.wchan = "wait_for_partner".into();
        assert!(p.at_pause());
        p.wchan = "do_wait".into();
        assert!(!p.at_pause());
        p.wchan = "wait_for_partner".into();
        p.state = 'T';
        assert!(!p.at_pause(), "a stopped process is not waiting for a release");
    }
}
