//! A hang gets a headline about the program, not the plumbing: when a wait runs out of time,
//! the failure says where the lab's processes are stuck — "the parent (2) is still inside its
//! SIGCHLD handler, running (R, SIGCHLD blocked) after 3 s" — read from each one's state, CPU
//! time, wait channel and signal masks; and, where the spec attached one, the question that
//! points at the mistake ("does your loop end when waitpid says StillAlive?").

use super::Scenario;
use crate::tree::{Proc, Tree, signal_name};
use i18n::t;
use nix::sys::signal::Signal;

/// Where a stuck process is, as far as /proc can tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Where {
    /// Inside its handler of this signal: it catches the signal and has it blocked (the kernel
    /// blocks a signal while its handler runs).
    InHandler(Signal),
    /// Running, or using CPU time: a loop that does not end.
    Busy,
    /// Asleep in waitpid.
    InWaitpid,
    /// Waiting at a `labkit::pause` for the spec.
    AtPause,
    /// Asleep anywhere else.
    Asleep,
}

/// Where `now` is (`before`: the same process a moment earlier, to see its CPU time grow).
pub fn whereabouts(now: &Proc, before: Option<&Proc>) -> Where {
    let busy = now.state == 'R' || before.is_some_and(|b| now.cpu_ms >= b.cpu_ms + 10);
    let handled = now.caught & now.blocked;
    let sig = (1..=31).find(|s| handled & (1u64 << (s - 1)) != 0).and_then(|s| Signal::try_from(s).ok());
    match sig {
        Some(s) if busy || !now.at_pause() => Where::InHandler(s),
        _ if busy => Where::Busy,
        _ if now.in_waitpid() => Where::InWaitpid,
        _ if now.at_pause() => Where::AtPause,
        _ => Where::Asleep,
    }
}

/// One process in words: "the parent (2) is still inside its SIGCHLD handler, running (R, SIGCHLD blocked)".
/// `pause`: the label of the last pause it announced.
pub fn describe(p: &Proc, w: Where, role: Option<&str>, pause: Option<&str>) -> String {
    let who = match role {
        Some(r) => t!("stuck-who-role", role = r, pid = p.pid),
        None => t!("stuck-who", pid = p.pid, comm = p.comm),
    };
    let state = match p.state {
        'R' => t!("stuck-running"),
        'S' if p.wchan.is_empty() => t!("stuck-asleep"),
        'S' if p.wchan.starts_with("seccomp_do_user_notif") => t!("stuck-sending"),
        'S' => t!("stuck-asleep-in", wchan = p.wchan),
        'T' | 't' => t!("stuck-stopped"),
        'Z' => t!("stuck-a-zombie"),
        c => t!("stuck-state", state = c),
    };
    match w {
        Where::InHandler(s) => t!("stuck-in-handler", who = who, sig = signal_name(s as i32), state = state),
        Where::Busy => t!("stuck-busy", who = who, state = state),
        Where::InWaitpid => t!("stuck-in-waitpid", who = who),
        Where::AtPause => match pause {
            Some(l) => t!("stuck-at-pause", who = who, label = l),
            None => t!("stuck-at-a-pause", who = who),
        },
        Where::Asleep if p.is_zombie() => t!("stuck-zombie", who = who),
        Where::Asleep => t!("stuck-is", who = who, state = state),
    }
}

/// How interesting a whereabouts is for a headline (the most telling first).
fn rank(w: Where) -> u8 {
    match w {
        Where::InHandler(_) => 3,
        Where::Busy => 2,
        _ => 1,
    }
}

/// The headline for a hang: the processes that tell most, with the spec's question for each
/// place, if it attached one. `questions`: (place, question); `pauses`: each process's last
/// pause label.
pub fn headline(
    before: &Tree,
    now: &Tree,
    questions: &[(Where, String)],
    pauses: &std::collections::HashMap<i32, String>,
) -> Option<String> {
    let mut found: Vec<(Where, &Proc)> =
        now.lab_procs().filter(|p| !p.is_zombie()).map(|p| (whereabouts(p, before.get(p.pid)), p)).collect();
    found.sort_by_key(|(w, p)| (std::cmp::Reverse(rank(*w)), p.pid));
    let top = rank(found.first()?.0);
    let parts: Vec<String> = found
        .iter()
        .filter(|(w, _)| rank(*w) == top)
        .take(2)
        .map(|(w, p)| {
            let role = now.roles.get(&p.pid).map(String::as_str);
            let mut s = describe(p, *w, role, pauses.get(&p.pid).map(String::as_str));
            if let Some((_, q)) = questions.iter().find(|(at, _)| at == w) {
                s = t!("stuck-question", place = s, question = q);
            }
            s
        })
        .collect();
    let and = t!("stuck-and");
    // A part that ends in its question mark needs no joiner before the next ("？；" reads badly).
    let mut line = String::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            line.push_str(if line.ends_with('？') { "" } else { &and });
        }
        line.push_str(part);
    }
    Some(line)
}

impl Scenario {
    /// Attaches a question to a place a hang may leave a process in: when a wait runs out of
    /// time with a process there, the failure's headline asks it. E.g.
    /// `sc.when_stuck(Where::InHandler(Signal::SIGCHLD), "does your loop end when waitpid says StillAlive?")`.
    pub fn when_stuck(&self, at: Where, question: &str) {
        self.stuck_questions.borrow_mut().push((at, question.to_string()));
    }

    /// What a wait that ran out of time reports: where the processes are stuck, then what was
    /// awaited.
    pub(super) fn stuck(&self, expected: &str) -> String {
        let before = self.snapshot();
        std::thread::sleep(std::time::Duration::from_millis(30));
        let now = self.snapshot();
        let waited = t!("stuck-waiting", what = expected, ms = self.deadline.as_millis());
        let pauses: std::collections::HashMap<i32, String> = self
            .events()
            .into_iter()
            .filter_map(|e| match e.kind {
                crate::trace::Kind::Pause(l) => Some((e.pid, l)),
                _ => None,
            })
            .collect();
        match headline(&before, &now, &self.stuck_questions.borrow(), &pauses) {
            Some(h) => {
                // The second line starts under the text of the first, after the report's
                // "expected: " (whatever its width in the student's language).
                let pad = " ".repeat(i18n::width(&t!("report-expected", what = "")));
                let secs = format!("{:.1}", self.deadline.as_secs_f64());
                format!("{}\n{pad}{waited}", t!("stuck-after", secs = secs, headline = h))
            }
            None => waited,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::{bit as mask, fake_proc};

    #[test]
    fn a_process_that_catches_and_blocks_a_signal_is_inside_its_handler() {
        let mut p = fake_proc(2, 1, 2, 1, 'R');
        p.caught = mask(Signal::SIGCHLD) | mask(Signal::SIGSEGV);
        p.blocked = mask(Signal::SIGCHLD);
        assert_eq!(whereabouts(&p, None), Where::InHandler(Signal::SIGCHLD));
        let d = describe(&p, Where::InHandler(Signal::SIGCHLD), Some("parent"), None);
        assert_eq!(
            d,
            "the parent (2) is still inside its SIGCHLD handler, running (SIGCHLD blocked while it runs)"
        );
    }

    #[test]
    fn a_running_process_is_busy_and_a_sleeper_says_where() {
        let p = fake_proc(3, 2, 2, 1, 'R');
        assert_eq!(whereabouts(&p, None), Where::Busy);
        let mut s = fake_proc(3, 2, 2, 1, 'S');
        s.wchan = "do_wait".into();
        assert_eq!(whereabouts(&s, None), Where::InWaitpid);
        s.wchan = "wait_for_partner".into();
        assert_eq!(whereabouts(&s, None), Where::AtPause);
        s.wchan = "hrtimer_nanosleep".into();
        assert_eq!(whereabouts(&s, None), Where::Asleep);
        // Asleep between two samples, yet 20 ms more CPU: busy all the same.
        let mut before = s.clone();
        before.cpu_ms = 100;
        s.cpu_ms = 120;
        assert_eq!(whereabouts(&s, Some(&before)), Where::Busy);
    }

    #[test]
    fn the_headline_names_the_most_telling_process_and_asks_the_question() {
        let mut t = Tree { root: 1, ..Default::default() };
        let mut parent = fake_proc(2, 1, 2, 1, 'R');
        parent.caught = mask(Signal::SIGCHLD);
        parent.blocked = mask(Signal::SIGCHLD);
        let mut child = fake_proc(3, 2, 2, 1, 'S');
        child.wchan = "wait_for_partner".into();
        t.procs.insert(1, fake_proc(1, 0, 1, 1, 'S'));
        t.procs.insert(2, parent);
        t.procs.insert(3, child);
        t.roles.insert(2, "parent".into());
        let q = [(
            Where::InHandler(Signal::SIGCHLD),
            "does your loop end when waitpid says StillAlive?".to_string(),
        )];
        let pauses = [(3, "the child waits".to_string())].into();
        let h = headline(&t, &t, &q, &pauses).unwrap();
        assert!(h.starts_with("the parent (2) is still inside its SIGCHLD handler"), "{h}");
        assert!(h.ends_with("— does your loop end when waitpid says StillAlive?"), "{h}");
        assert!(!h.contains("(3)"), "the paused child tells less: {h}");
        let mut only_child = t.clone();
        only_child.procs.remove(&2);
        let h = headline(&only_child, &only_child, &q, &pauses).unwrap();
        assert_eq!(h, "process 3 (x) waits at the pause \"the child waits\"");
    }
}
