//! The figure record: when `PROCLAB_FIGURE` names a directory, each scenario writes there, as
//! it ends (having passed), a JSON file of what it saw — its steps, the process tree at each
//! step, show and wait that succeeded and once more when the spec ends, every signal the spec
//! sent and every key it typed, and the whole trace (roles, notes, pauses, spawns, reapings,
//! and the signals the lab's own processes sent, which the sandbox's seccomp layer traces in
//! this mode). `cargo lab figures` draws it. Without the variable nothing is recorded and
//! nothing changes.
//!
//! File name: `<package>--<test>--<n>.json` (`::` of the test's name as `.`; `n` counts the
//! scenarios of one test, from 1).

use super::Scenario;
use crate::safety::Target;
use crate::trace::{Event, Exit, Kind};
use crate::tree::Tree;
use nix::sys::signal::Signal;
use std::cell::RefCell;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// What a recording scenario keeps until it ends.
#[derive(Default)]
pub(super) struct Recorder {
    /// Where to write; `None`: not recording.
    dir: Option<PathBuf>,
    marks: RefCell<Vec<Mark>>,
    sent: RefCell<Vec<Sent>>,
    keys: RefCell<Vec<(i128, Vec<u8>)>>,
    started_ns: i128,
}

struct Mark {
    t_ns: i128,
    kind: &'static str,
    text: String,
    tree: Tree,
}

struct Sent {
    t_ns: i128,
    sig: Signal,
    target: Target,
}

impl Recorder {
    /// Recording if `PROCLAB_FIGURE` is set.
    pub(super) fn from_env() -> Recorder {
        Recorder {
            dir: std::env::var_os("PROCLAB_FIGURE").filter(|d| !d.is_empty()).map(PathBuf::from),
            started_ns: crate::trace::now_ns(),
            ..Default::default()
        }
    }

    pub(super) fn on(&self) -> bool {
        self.dir.is_some()
    }
}

/// The kernel functions a sleeping process is drawn waiting in, in words: waits that are part
/// of a lab's story (a sleep or a run is not: they flicker between two looks).
pub fn waiting_in(wchan: &str) -> Option<&'static str> {
    Some(match wchan {
        "do_wait" => "in wait",
        "anon_pipe_write" | "pipe_write" => "in write(pipe)",
        "anon_pipe_read" | "pipe_read" => "in read(pipe)",
        "futex_do_wait" | "futex_wait_queue" | "futex_wait_queue_me" => "on a futex",
        "__do_sys_pause" | "sys_pause" => "in pause",
        "do_sigtimedwait" | "sigsuspend" | "__do_sys_rt_sigsuspend" => "in sigwait",
        "locks_lock_inode_wait" => "in flock",
        w if w.starts_with("poll_schedule_timeout") || w == "do_sys_poll" || w == "ep_poll" => "in poll",
        _ => return None,
    })
}

/// What a figure draws of a tree: who is where, and in which state (see `cargo lab figures`);
/// the sandbox's own state is no part of the story.
fn shape(t: &Tree) -> Vec<(i32, i32, i32, char, Option<&'static str>)> {
    t.lab_procs()
        .map(|p| {
            let class = match p.state {
                'Z' | 'X' => 'Z',
                'T' | 't' => 'T',
                _ if p.wchan == "wait_for_partner" => 'P',
                _ => 'A',
            };
            let wait = if p.state == 'S' { waiting_in(&p.wchan) } else { None };
            (p.pid, p.ppid, p.pgid, class, wait)
        })
        .collect()
}

/// How long a look waits for the tree to settle, and how often it looks meanwhile.
const SETTLE_MAX: Duration = Duration::from_millis(250);
const SETTLE_EVERY: Duration = Duration::from_millis(4);

/// Nobody of the lab is running or about to (state R), or in the middle of a system call that
/// cannot be interrupted (D): everyone waits for something.
fn quiet(t: &Tree) -> bool {
    t.lab_procs().all(|p| !matches!(p.state, 'R' | 'D'))
}

impl Scenario {
    /// The tree once it has settled: every process of the lab waiting for something, and the
    /// same (as a figure draws it) in two snapshots [`SETTLE_EVERY`] apart — or as it is after
    /// [`SETTLE_MAX`] (a process that never stops running). A step begins right after the spec
    /// acted; what the lab does in reply takes microseconds, or milliseconds on a busy machine,
    /// and a figure drawn from a snapshot in between would differ from run to run.
    fn settled(&self) -> Tree {
        let end = Instant::now() + SETTLE_MAX;
        let mut last = self.snapshot();
        loop {
            std::thread::sleep(SETTLE_EVERY);
            let now = self.snapshot();
            if (quiet(&now) && quiet(&last) && shape(&now) == shape(&last)) || Instant::now() >= end {
                return now;
            }
            last = now;
        }
    }

    /// Records a point of the story (`step`, `show`, `ok`, `end`) with the tree at that point:
    /// `tree` (the one a wait succeeded on), else the tree once settled.
    pub(super) fn figure_mark(&self, kind: &'static str, text: &str, tree: Option<&Tree>) {
        if !self.figure.on() {
            return;
        }
        let tree = match tree {
            Some(t) => t.clone(),
            None => self.settled(),
        };
        let t_ns = tree.taken_ns;
        self.figure.marks.borrow_mut().push(Mark { t_ns, kind, text: text.to_string(), tree });
    }

    /// Records a signal the spec sent at `t_ns`.
    pub(super) fn figure_sent(&self, target: Target, sig: Signal, t_ns: i128) {
        if self.figure.on() {
            self.figure.sent.borrow_mut().push(Sent { t_ns, sig, target });
        }
    }

    /// Records keys the spec is about to type on the terminal.
    pub(super) fn figure_keys(&self, keys: &[u8]) {
        if self.figure.on() {
            self.figure.keys.borrow_mut().push((crate::trace::now_ns(), keys.to_vec()));
        }
    }

    /// Writes the record, with a last look at the tree (call once the trace is synced, before
    /// the scenario is torn down).
    pub(super) fn figure_write(&self) {
        let Some(dir) = &self.figure.dir else { return };
        self.figure_mark("end", "the spec has ended", None);
        let test = std::thread::current().name().unwrap_or("main").replace("::", ".");
        thread_local!(static COUNT: RefCell<std::collections::HashMap<String, usize>> = RefCell::default());
        let n = COUNT.with(|c| {
            let mut c = c.borrow_mut();
            let n = c.entry(test.clone()).or_insert(0);
            *n += 1;
            *n
        });
        let json = self.figure_json(&test);
        let _ = std::fs::create_dir_all(dir);
        let path = dir.join(format!("{}--{test}--{n}.json", self.lab.package));
        if let Err(e) = std::fs::write(&path, json) {
            eprintln!("proclab: cannot write the figure record {}: {e}", path.display());
        }
    }

    fn figure_json(&self, test: &str) -> String {
        let f = &self.figure;
        let mut j = String::new();
        let _ = write!(
            j,
            "{{\"lab\":{},\"test\":{},\"args\":[{}],\"layers\":{},\"root\":{},\"start\":{},\n\"marks\":[",
            quote(self.lab.package),
            quote(test),
            self.args.iter().map(|a| quote(a)).collect::<Vec<_>>().join(","),
            quote(&self.layers),
            self.root,
            f.started_ns
        );
        for (i, m) in f.marks.borrow().iter().enumerate() {
            let _ = write!(
                j,
                "{}\n{{\"t\":{},\"kind\":{},\"text\":{},\"tree\":{}}}",
                if i > 0 { "," } else { "" },
                m.t_ns,
                quote(m.kind),
                quote(&m.text),
                tree_json(&m.tree)
            );
        }
        j.push_str("],\n\"sent\":[");
        for (i, s) in f.sent.borrow().iter().enumerate() {
            let (key, id) = match s.target {
                Target::Pid(p) => ("pid", p),
                Target::Group(g) => ("group", g),
            };
            let _ = write!(
                j,
                "{}\n{{\"t\":{},\"sig\":{},\"{key}\":{id}}}",
                if i > 0 { "," } else { "" },
                s.t_ns,
                s.sig as i32
            );
        }
        j.push_str("],\n\"keys\":[");
        for (i, (t, k)) in f.keys.borrow().iter().enumerate() {
            let _ = write!(
                j,
                "{}\n{{\"t\":{t},\"keys\":{}}}",
                if i > 0 { "," } else { "" },
                quote(&String::from_utf8_lossy(k))
            );
        }
        j.push_str("],\n\"trace\":[");
        let events = self.events();
        let mut first = true;
        for e in &events {
            let Some(line) = trace_line(e) else { continue };
            let _ = write!(
                j,
                "{}\n{{\"pid\":{},\"t\":{},\"line\":{}}}",
                if first { "" } else { "," },
                e.pid,
                e.t_ns,
                quote(&line)
            );
            first = false;
        }
        j.push_str("]}\n");
        j
    }
}

/// A trace record as the sandbox and labkit write it (without pid and time), so that
/// [`Event::parse`] reads it back; `None` for the plumbing (sync markers, readiness).
pub fn trace_line(e: &Event) -> Option<String> {
    Some(match &e.kind {
        Kind::Role(r) => format!("role {r}"),
        Kind::Note(k, v) => format!("note {k} {v}"),
        Kind::Pause(l) => format!("pause {l}"),
        Kind::Spawn(p) => format!("spawn {p}"),
        Kind::Exited(p, Exit::Code(c)) => format!("exit {p} code {c}"),
        Kind::Exited(p, Exit::Signal(s, core)) => {
            format!("exit {p} signal {s}{}", if *core { " core" } else { "" })
        }
        Kind::Empty => "empty".into(),
        Kind::Refused(r) => format!("refused {r}"),
        Kind::Other(s) => s.clone(),
        Kind::Root(_) | Kind::Ready(_) | Kind::SandboxError(_) | Kind::Synced(_) => return None,
    })
}

fn tree_json(t: &Tree) -> String {
    let mut j = String::from("[");
    for (i, p) in t.procs.values().enumerate() {
        let role = if p.pid == t.root { Some("sandbox") } else { t.roles.get(&p.pid).map(String::as_str) };
        let _ = write!(
            j,
            "{}{{\"pid\":{},\"ppid\":{},\"pgid\":{},\"sid\":{},\"tpgid\":{},\"state\":{},\"wchan\":{},\"role\":{},\"comm\":{},\"caught\":{},\"ignored\":{},\"blocked\":{},\"pending\":{},\"threads\":{}}}",
            if i > 0 { "," } else { "" },
            p.pid,
            p.ppid,
            p.pgid,
            p.sid,
            p.tpgid,
            quote(&p.state.to_string()),
            quote(&p.wchan),
            role.map(quote).unwrap_or_else(|| "null".into()),
            quote(&p.comm),
            p.caught,
            p.ignored,
            p.blocked,
            p.pending,
            p.threads
        );
    }
    j.push(']');
    j
}

/// A JSON string literal.
pub fn quote(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            '\r' => q.push_str("\\r"),
            '\t' => q.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(q, "\\u{:04x}", c as u32);
            }
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_quoted_as_json() {
        assert_eq!(quote("a\"b\\c\nd\u{3}é"), "\"a\\\"b\\\\c\\nd\\u0003é\"");
    }

    #[test]
    fn trace_lines_read_back_as_the_same_event() {
        for line in
            ["role worker 2", "note var 10", "pause look", "spawn 2", "exit 3 code 0", "exit 4 signal 6 core"]
        {
            let e = Event::parse(&format!("7 1 {line}")).unwrap();
            assert_eq!(trace_line(&e).as_deref(), Some(line));
        }
        assert_eq!(trace_line(&Event::parse("1 1 synced 3").unwrap()), None);
    }
}
