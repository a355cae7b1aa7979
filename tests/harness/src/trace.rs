//! The trace: what the lab (through `labkit`) and the sandbox reported on the private pipe.

use std::fmt;

/// How a process ended, as its parent's `waitpid` saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// `exit(n)` or returning from main.
    Code(i32),
    /// Killed by a signal (and whether it dumped core).
    Signal(i32, bool),
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exit::Code(c) => write!(f, "{}", i18n::t!("exit-code", code = c)),
            Exit::Signal(s, core) => {
                let name = crate::tree::signal_name(*s);
                let text = if *core {
                    i18n::t!("exit-signal-core", n = s, name = name)
                } else {
                    i18n::t!("exit-signal", n = s, name = name)
                };
                f.write_str(&text)
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `labkit::role(name)`
    Role(String),
    /// `labkit::note(key, value)`
    Note(String, String),
    /// `labkit::pause(label)`: the process now waits for the spec.
    Pause(String),
    /// The sandbox started the lab as `pid`.
    Spawn(i32),
    /// The sandbox reaped `pid`.
    Exited(i32, Exit),
    /// The sandbox has no child left: the whole scenario has ended.
    Empty,
    /// The sandbox's pid as the runner sees it (in a PID namespace the sandbox is pid 1 inside).
    Root(i32),
    /// The sandbox is ready: its layers and limits, e.g. "landlock,pidns,seccomp; nproc 1024 …".
    Ready(String),
    /// The sandbox refused a signal the lab tried to send outside its scenario (seccomp layer).
    Refused(String),
    /// The sandbox could not set the scenario up.
    SandboxError(String),
    /// The sandbox's answer to the runner's `sync N`: everything traced before it has arrived.
    Synced(u64),
    /// Anything else (kept for the failure report).
    Other(String),
}

/// One record of the trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Who wrote it.
    pub pid: i32,
    /// CLOCK_MONOTONIC, in ns, when it was written.
    pub t_ns: i128,
    pub kind: Kind,
}

impl Event {
    pub fn parse(line: &str) -> Option<Event> {
        let mut it = line.splitn(4, ' ');
        let pid = it.next()?.parse().ok()?;
        let t_ns = it.next()?.parse().ok()?;
        let kind_word = it.next()?;
        let rest = it.next().unwrap_or("").trim_end();
        let kind = match kind_word {
            "role" => Kind::Role(rest.to_string()),
            "note" => {
                let (k, v) = rest.split_once(' ').unwrap_or((rest, ""));
                Kind::Note(k.to_string(), v.to_string())
            }
            "pause" => Kind::Pause(rest.to_string()),
            "spawn" => Kind::Spawn(rest.parse().ok()?),
            "exit" => {
                let w: Vec<&str> = rest.split(' ').collect();
                let pid = w.first()?.parse().ok()?;
                let n = w.get(2)?.parse().ok()?;
                let exit = match *w.get(1)? {
                    "code" => Exit::Code(n),
                    "signal" => Exit::Signal(n, w.get(3) == Some(&"core")),
                    _ => return None,
                };
                Kind::Exited(pid, exit)
            }
            "empty" => Kind::Empty,
            "root" => Kind::Root(rest.parse().ok()?),
            "ready" => Kind::Ready(rest.to_string()),
            "refused" => Kind::Refused(rest.to_string()),
            "sandbox-error" => Kind::SandboxError(rest.to_string()),
            "synced" => Kind::Synced(rest.parse().ok()?),
            _ => Kind::Other(format!("{kind_word} {rest}")),
        };
        Some(Event { pid, t_ns, kind })
    }
}

/// Now, on the trace's clock (CLOCK_MONOTONIC, in ns): comparable with [`Event::t_ns`], so with
/// the times of the lab's notes and of the sandbox's reaping ("how long after my kill did the
/// lab note that it reaped the child?").
pub fn now_ns() -> i128 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes into `ts`.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    i128::from(ts.tv_sec) * 1_000_000_000 + i128::from(ts.tv_nsec)
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use i18n::t;
        let pid = self.pid;
        let line = match &self.kind {
            Kind::Role(r) => t!("trace-role", pid = pid, role = r),
            Kind::Note(k, v) => t!("trace-note", pid = pid, key = k, value = v),
            Kind::Pause(l) => t!("trace-pause", pid = pid, label = l),
            Kind::Spawn(p) => t!("trace-spawn", pid = p),
            Kind::Exited(p, e) => t!("trace-reaped", pid = p, exit = e),
            Kind::Empty => t!("trace-empty"),
            Kind::Root(p) => t!("trace-root", pid = p),
            Kind::Ready(l) => t!("trace-ready", layers = ready_in(i18n::current(), l)),
            Kind::Refused(r) => t!("trace-refused", what = r),
            Kind::SandboxError(e) => t!("trace-error", error = e),
            Kind::Synced(n) => t!("trace-synced", n = n),
            Kind::Other(s) => format!("{pid} {s}"),
        };
        f.write_str(&line)
    }
}

/// The sandbox's "ready" line (written in English by the std-only sandbox binary) in `lang`.
fn ready_in(lang: i18n::Lang, line: &str) -> String {
    if lang != i18n::Lang::Zh {
        return line.to_string();
    }
    // Longest phrases first: "not a child subreaper" before "child subreaper".
    const WORDS: &[(&str, &str)] = &[
        ("not a child subreaper", "不是子进程收割者"),
        ("child subreaper", "子进程收割者"),
        ("core files off", "不产生 core 文件"),
        (
            "nproc unbounded (root, and no writable pids cgroup)",
            "进程数无上限（root，且没有可写的 pids cgroup）",
        ),
        ("nproc unbounded", "进程数无上限"),
        (" (pids cgroup)", "（pids cgroup）"),
        (" (RLIMIT_NPROC in the scenario's user namespace)", "（场景自己的用户命名空间中的 RLIMIT_NPROC）"),
        ("nproc ", "进程数上限 "),
        ("; ", "；"),
    ];
    WORDS.iter().fold(line.to_string(), |s, (en, zh)| s.replace(en, zh))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_sandbox_ready_line_reads_in_chinese() {
        let line = "landlock,pidns; nproc 1024 (pids cgroup); core files off; child subreaper";
        assert_eq!(super::ready_in(i18n::Lang::En, line), line);
        assert_eq!(
            super::ready_in(i18n::Lang::Zh, line),
            "landlock,pidns；进程数上限 1024（pids cgroup）；不产生 core 文件；子进程收割者"
        );
        assert!(
            super::ready_in(i18n::Lang::Zh, "none; nproc 9; core files off; not a child subreaper")
                .ends_with("；不是子进程收割者")
        );
    }

    use super::*;

    #[test]
    fn parses_every_kind() {
        let k = |l: &str| Event::parse(l).unwrap().kind;
        assert_eq!(k("7 1 role parent"), Kind::Role("parent".into()));
        assert_eq!(k("7 1 role worker 2"), Kind::Role("worker 2".into()));
        assert_eq!(k("7 1 note var 10"), Kind::Note("var".into(), "10".into()));
        assert_eq!(k("7 1 note list 1 2 3"), Kind::Note("list".into(), "1 2 3".into()));
        assert_eq!(k("7 1 pause look"), Kind::Pause("look".into()));
        assert_eq!(k("7 1 spawn 8"), Kind::Spawn(8));
        assert_eq!(k("7 1 exit 8 code 3"), Kind::Exited(8, Exit::Code(3)));
        assert_eq!(k("7 1 exit 8 signal 9"), Kind::Exited(8, Exit::Signal(9, false)));
        assert_eq!(k("7 1 exit 8 signal 6 core"), Kind::Exited(8, Exit::Signal(6, true)));
        assert_eq!(k("7 1 empty"), Kind::Empty);
        assert_eq!(k("7 1 root 4242"), Kind::Root(4242));
        assert_eq!(k("1 1 ready pidns; nproc 1024"), Kind::Ready("pidns; nproc 1024".into()));
        assert_eq!(k("1 1 refused 5 kill(-1): x"), Kind::Refused("5 kill(-1): x".into()));
        assert_eq!(k("1 1 sandbox-error mount: EPERM"), Kind::SandboxError("mount: EPERM".into()));
        assert_eq!(k("1 1 synced 3"), Kind::Synced(3));
        assert!(Event::parse("garbage").is_none());
        assert!(Event::parse("7 1 exit x code 1").is_none());
    }

    #[test]
    fn the_clock_of_the_trace_moves_forward_with_time() {
        let a = now_ns();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = now_ns();
        assert!(b - a >= 2_000_000, "{a} then {b}");
    }

    #[test]
    fn exits_read_like_a_sentence() {
        assert_eq!(Exit::Signal(9, false).to_string(), "killed by signal 9 (SIGKILL)");
        assert_eq!(Exit::Code(0).to_string(), "exited with status 0");
    }
}
