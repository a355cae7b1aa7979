//! From a scenario's record (written by the harness under `PROCLAB_FIGURE`) to what a figure
//! draws, with every run-to-run difference that is not the lesson taken out:
//!
//! - pids are renumbered 1, 2, 3 … in fork order: the sandbox 1, the lab 2, then depth first,
//!   each process's children in the order it forked them (the kernel's own numbers vary: the
//!   sandbox's threads and concurrent forks take numbers too);
//! - a process's state is alive, paused (at a `labkit::pause`), stopped or zombie — never R
//!   against S, which is a matter of microseconds;
//! - time is order, not duration: the columns are the moments the spec looked at the tree
//!   (each step's start, each show, the end — each once the tree had settled, see the
//!   harness's figure.rs), identical consecutive looks are merged, and what happened
//!   between two looks (signals, reapings) is drawn between them in causal order, never by its
//!   timestamp; a signal sent again to the same target between two looks is drawn once.

use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

// ----- the record, as the harness writes it ------------------------------------------------

#[derive(Debug, Deserialize)]
pub struct Record {
    pub lab: String,
    pub test: String,
    #[serde(default)]
    pub layers: String,
    pub root: i32,
    pub marks: Vec<MarkRec>,
    #[serde(default)]
    pub sent: Vec<SentRec>,
    #[serde(default)]
    pub keys: Vec<KeyRec>,
    #[serde(default)]
    pub trace: Vec<TraceRec>,
}

#[derive(Debug, Deserialize)]
pub struct MarkRec {
    pub t: i64,
    pub kind: String,
    pub text: String,
    pub tree: Vec<ProcRec>,
}

#[derive(Debug, Deserialize)]
pub struct ProcRec {
    pub pid: i32,
    pub ppid: i32,
    pub pgid: i32,
    #[serde(default)]
    pub tpgid: i32,
    pub state: String,
    #[serde(default)]
    pub wchan: String,
    #[serde(default)]
    pub comm: String,
}

#[derive(Debug, Deserialize)]
pub struct SentRec {
    pub t: i64,
    pub sig: i32,
    pub pid: Option<i32>,
    pub group: Option<i32>,
}

#[derive(Debug, Deserialize)]
pub struct KeyRec {
    pub t: i64,
    pub keys: String,
}

#[derive(Debug, Deserialize)]
pub struct TraceRec {
    pub pid: i32,
    pub t: i64,
    pub line: String,
}

// ----- what is drawn -------------------------------------------------------------------------

/// A process's state in one look.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum State {
    Alive,
    Paused,
    Stopped,
    Zombie,
}

/// One process in one look: its number, its parent's, its group's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub n: usize,
    pub parent: usize,
    pub pgid: usize,
    pub state: State,
    /// Where it sleeps, when that is part of a story: "in wait", "in write(pipe)" … (see
    /// [`waiting_in`]); never a sleep or a run, which flicker between two looks.
    pub wait: Option<&'static str>,
}

/// One look at the tree (or several identical consecutive ones, merged).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// The step in progress at the first look (0: before the first step) and at the last.
    pub steps: (usize, usize),
    pub tree: Vec<Node>,
}

impl Column {
    /// "start", "step 2", "steps 1–2".
    pub fn label(&self) -> String {
        let one = |s: usize| if s == 0 { "start".to_string() } else { format!("step {s}") };
        match self.steps {
            (a, b) if a == b => one(a),
            (0, b) => format!("start–step {b}"),
            (a, b) => format!("steps {a}–{b}"),
        }
    }
    pub fn get(&self, n: usize) -> Option<&Node> {
        self.tree.iter().find(|p| p.n == n)
    }
}

/// Who sent a signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum From {
    /// The spec (the test), from outside the sandbox: `kill` by hand, in the post's words.
    Spec,
    /// A key typed on the scenario's terminal (the kernel's terminal driver signals the group).
    Terminal,
    Proc(usize),
}

/// Whom a signal was sent to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum To {
    Proc(usize),
    Group(usize),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signal {
    pub from: From,
    pub to: To,
    pub sig: i32,
    /// The members of the group (`To::Group`) in the look before, or the process itself.
    pub reaches: Vec<usize>,
    /// How it was sent: "kill", "killpg", "^C" …
    pub how: String,
}

/// How a process's life ended between two looks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    /// The sandbox reaped it (its parent had died, or it was the lab) and saw this status.
    BySandbox(String),
    /// It vanished from /proc: its parent (or the kernel, for SIGCHLD ignored) reaped it.
    Vanished,
}

/// What happened between two looks, in causal order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Gap {
    pub signals: Vec<Signal>,
    pub ends: Vec<(usize, End)>,
    /// Processes born and ended inside this gap (no look saw them).
    pub brief: Vec<usize>,
}

/// One process of the figure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proc {
    /// Its number in the figure (1 the sandbox, 2 the lab, then fork order).
    pub n: usize,
    /// The part it plays (`labkit::role`), else its command in parentheses.
    pub role: String,
    /// Its first parent in the figure's numbering (0 for the sandbox).
    pub parent: usize,
}

impl Proc {
    pub fn label(&self) -> String {
        format!("{} {}", self.n, self.role)
    }
}

/// Everything a figure draws.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Figure {
    pub lab: String,
    pub test: String,
    /// Every process, in the figure's order (depth first, fork order).
    pub procs: Vec<Proc>,
    /// The steps' texts, pids renumbered.
    pub steps: Vec<String>,
    pub columns: Vec<Column>,
    /// `columns.len() + 1` gaps: before the first look, between looks, after the last.
    pub gaps: Vec<Gap>,
}

impl Figure {
    pub fn proc(&self, n: usize) -> Option<&Proc> {
        self.procs.iter().find(|p| p.n == n)
    }
    /// Depth in the first-parent tree (the sandbox 0).
    pub fn depth(&self, n: usize) -> usize {
        let mut d = 0;
        let mut cur = n;
        while let Some(p) = self.proc(cur).filter(|p| p.parent != 0) {
            d += 1;
            cur = p.parent;
            if d > 64 {
                break;
            }
        }
        d
    }
    /// Every signal, aggregated: (from, to, sig, how) with its count, in order of first sending.
    pub fn flows(&self) -> Vec<(From, To, i32, String, Vec<usize>, usize)> {
        let mut out: Vec<(From, To, i32, String, Vec<usize>, usize)> = Vec::new();
        for s in self.gaps.iter().flat_map(|g| &g.signals) {
            match out.iter_mut().find(|f| f.0 == s.from && f.1 == s.to && f.2 == s.sig && f.3 == s.how) {
                Some(f) => {
                    f.5 += 1;
                    for r in &s.reaches {
                        if !f.4.contains(r) {
                            f.4.push(*r);
                        }
                    }
                }
                None => out.push((s.from, s.to, s.sig, s.how.clone(), s.reaches.clone(), 1)),
            }
        }
        out
    }
}

/// Short names of the standard signals.
pub fn signal_name(sig: i32) -> String {
    harness::tree::signal_name(sig)
}

// ----- from the record to the figure ----------------------------------------------------------

pub use harness::scenario::figure::waiting_in;

fn state_of(p: &ProcRec) -> State {
    match p.state.as_str() {
        "Z" | "X" => State::Zombie,
        "T" | "t" => State::Stopped,
        _ if p.wchan == "wait_for_partner" => State::Paused,
        _ => State::Alive,
    }
}

/// A trace record's words.
fn words(line: &str) -> Vec<&str> {
    line.split(' ').collect()
}

impl Record {
    pub fn parse(json: &str) -> Result<Record, String> {
        serde_json::from_str(json).map_err(|e| format!("not a figure record: {e}"))
    }

    /// The lab's first process (the one the sandbox started).
    fn spawned(&self) -> Option<i32> {
        self.trace.iter().find_map(|e| {
            let w = words(&e.line);
            (w.first() == Some(&"spawn")).then(|| w.get(1)?.parse().ok()).flatten()
        })
    }

    /// The figure's numbering: real pid -> 1, 2, 3 … (see the module's doc).
    pub fn numbering(&self) -> BTreeMap<i32, usize> {
        let root = self.root;
        let mut parent: BTreeMap<i32, i32> = BTreeMap::new();
        let mut all: BTreeSet<i32> = BTreeSet::new();
        all.insert(root);
        if let Some(s) = self.spawned() {
            parent.insert(s, root);
            all.insert(s);
        }
        for m in &self.marks {
            for p in &m.tree {
                all.insert(p.pid);
                if p.pid != root {
                    parent.entry(p.pid).or_insert(p.ppid);
                }
            }
        }
        for e in &self.trace {
            let w = words(&e.line);
            if e.pid != root {
                all.insert(e.pid);
            }
            match w.as_slice() {
                ["exit", p, ..] => all.extend(p.parse::<i32>().ok()),
                ["signal", by, _, "pid", to, ..] => {
                    all.extend(by.parse::<i32>().ok());
                    all.extend(to.parse::<i32>().ok());
                }
                ["signal", by, ..] => all.extend(by.parse::<i32>().ok()),
                _ => {}
            }
        }
        all.extend(self.sent.iter().filter_map(|s| s.pid));
        all.retain(|&p| p > 0);
        let mut kids: BTreeMap<i32, Vec<i32>> = BTreeMap::new();
        for (&c, &p) in &parent {
            if all.contains(&p) && c != p {
                kids.entry(p).or_default().push(c);
            }
        }
        let mut order: Vec<i32> = Vec::new();
        let mut todo = vec![root];
        while let Some(p) = todo.pop() {
            if order.contains(&p) {
                continue;
            }
            order.push(p);
            if let Some(k) = kids.get(&p) {
                // Sorted ascending; pushed in reverse so the first-forked is visited first.
                for &c in k.iter().rev() {
                    todo.push(c);
                }
            }
        }
        for &p in &all {
            if !order.contains(&p) {
                order.push(p);
            }
        }
        order.into_iter().enumerate().map(|(i, p)| (p, i + 1)).collect()
    }

    pub fn figure(&self) -> Figure {
        let num = self.numbering();
        let n_of = |pid: i32| num.get(&pid).copied();
        let root = self.root;

        // Roles, first announcement wins; else the command from the first look.
        let mut roles: HashMap<i32, String> = HashMap::new();
        for e in &self.trace {
            if let Some(r) = e.line.strip_prefix("role ") {
                roles.entry(e.pid).or_insert_with(|| r.to_string());
            }
        }
        let mut comms: HashMap<i32, String> = HashMap::new();
        let mut first_parent: HashMap<i32, i32> = HashMap::new();
        for m in &self.marks {
            for p in &m.tree {
                comms.entry(p.pid).or_insert_with(|| p.comm.clone());
                first_parent.entry(p.pid).or_insert(p.ppid);
            }
        }
        if let Some(s) = self.spawned() {
            first_parent.entry(s).or_insert(root);
        }
        let mut procs: Vec<Proc> = num
            .iter()
            .map(|(&pid, &n)| Proc {
                n,
                role: if pid == root {
                    "sandbox".into()
                } else if let Some(r) = roles.get(&pid) {
                    r.clone()
                } else if let Some(c) = comms.get(&pid) {
                    format!("({c})")
                } else {
                    "?".into()
                },
                parent: if pid == root {
                    0
                } else {
                    first_parent.get(&pid).and_then(|&p| n_of(p)).unwrap_or(0)
                },
            })
            .collect();
        procs.sort_by_key(|p| p.n);

        // Looks, in order; each with the step in progress.
        let mut step = 0;
        let mut steps: Vec<String> = Vec::new();
        let mut looks: Vec<(i64, usize, Vec<Node>)> = Vec::new();
        for m in &self.marks {
            // A step's own look shows the tree before its action: it belongs to the step before.
            let phase = step;
            if m.kind == "step" {
                step += 1;
                steps.push(renumber(&m.text, &num));
            }
            // The trees a wait succeeded on hold what the spec asked for, but the rest of the
            // tree may be anywhere at that microsecond: the figure draws the settled looks.
            if m.kind == "ok" {
                continue;
            }
            let mut tree: Vec<Node> = m
                .tree
                .iter()
                .filter_map(|p| {
                    // The sandbox's own state (reading its control pipe, reaping) is no part
                    // of the story.
                    let lab = p.pid != root;
                    Some(Node {
                        n: n_of(p.pid)?,
                        parent: n_of(p.ppid).unwrap_or(0),
                        pgid: n_of(p.pgid).unwrap_or(0),
                        state: if lab { state_of(p) } else { State::Alive },
                        wait: if lab && p.state == "S" { waiting_in(&p.wchan) } else { None },
                    })
                })
                .collect();
            tree.sort_by_key(|p| p.n);
            looks.push((m.t, if m.kind == "step" { phase } else { step }, tree));
        }
        // Two alike looks in a row are one column — unless something happened between them
        // (a signal, a reaping): "the same tree after it" is then the news.
        let mut events: Vec<i64> =
            self.sent.iter().map(|s| s.t).chain(self.keys.iter().map(|k| k.t)).collect();
        for e in &self.trace {
            let w = words(&e.line);
            if w.first() == Some(&"signal") || (w.first() == Some(&"exit") && e.pid == root) {
                events.push(e.t);
            }
        }
        let mut columns: Vec<Column> = Vec::new();
        let mut starts: Vec<i64> = Vec::new();
        let mut last_t = i64::MIN;
        for (t, phase, tree) in looks {
            let quiet = !events.iter().any(|&e| last_t < e && e <= t);
            match columns.last_mut() {
                Some(c) if c.tree == tree && quiet => c.steps.1 = phase,
                _ => {
                    columns.push(Column { steps: (phase, phase), tree });
                    starts.push(t);
                }
            }
            last_t = t;
        }
        // Gap g holds what happened after look g-1 began and before look g began.
        let gap_of = |t: i64| starts.iter().take_while(|&&s| s <= t).count();
        let mut gaps: Vec<Gap> = vec![Gap::default(); columns.len() + 1];

        // Signals, with their times (to order them causally below).
        let mut timed: Vec<(usize, i64, Signal)> = Vec::new();
        let look_before = |g: usize| -> Option<&Column> { g.checked_sub(1).and_then(|i| columns.get(i)) };
        let reach = |g: usize, to: To| -> Vec<usize> {
            match to {
                To::Proc(n) => vec![n],
                To::Group(grp) => look_before(g)
                    .map(|c| {
                        c.tree
                            .iter()
                            .filter(|p| p.pgid == grp && p.state != State::Zombie)
                            .map(|p| p.n)
                            .collect()
                    })
                    .unwrap_or_default(),
            }
        };
        for s in &self.sent {
            let to = match (s.pid, s.group) {
                (Some(p), _) => n_of(p).map(To::Proc),
                (None, Some(g)) => n_of(g).map(To::Group),
                _ => None,
            };
            let Some(to) = to else { continue };
            let g = gap_of(s.t);
            let how = if matches!(to, To::Group(_)) { "killpg" } else { "kill" };
            timed.push((
                g,
                s.t,
                Signal { from: From::Spec, to, sig: s.sig, reaches: reach(g, to), how: how.into() },
            ));
        }
        for k in &self.keys {
            for ch in k.keys.chars() {
                let (sig, how) = match ch {
                    '\u{3}' => (2, "^C"),
                    '\u{1c}' => (3, "^\\"),
                    '\u{1a}' => (20, "^Z"),
                    _ => continue,
                };
                let g = gap_of(k.t);
                // The terminal's foreground group, as the look before saw it.
                let fg = self
                    .marks
                    .iter()
                    .rfind(|m| m.t <= k.t)
                    .and_then(|m| m.tree.iter().find(|p| p.tpgid > 0).map(|p| p.tpgid))
                    .and_then(n_of);
                let Some(fg) = fg else { continue };
                let to = To::Group(fg);
                timed.push((
                    g,
                    k.t,
                    Signal { from: From::Terminal, to, sig, reaches: reach(g, to), how: how.into() },
                ));
            }
        }
        let mut reaped: BTreeMap<usize, (i64, String)> = BTreeMap::new();
        for e in &self.trace {
            let w = words(&e.line);
            match w.as_slice() {
                ["signal", by, sig, kind, id, call, ..] => {
                    let (Some(by), Ok(sig), Ok(id)) =
                        (by.parse().ok().and_then(n_of), sig.parse(), id.parse::<i32>())
                    else {
                        continue;
                    };
                    let to = match *kind {
                        "group" => n_of(id).map(To::Group),
                        _ => n_of(id).map(To::Proc),
                    };
                    let Some(to) = to else { continue };
                    let g = gap_of(e.t);
                    let how = match (*call, to) {
                        ("kill", To::Group(_)) => "killpg".to_string(),
                        ("tgkill" | "tkill", To::Proc(n)) if n == by => "raise".to_string(),
                        (c, _) => c.to_string(),
                    };
                    timed.push((
                        g,
                        e.t,
                        Signal { from: From::Proc(by), to, sig, reaches: reach(g, to), how },
                    ));
                }
                ["exit", p, how @ ..] if e.pid == root => {
                    let Some(n) = p.parse().ok().and_then(n_of) else { continue };
                    let status = match how {
                        ["code", c] => format!("exit {c}"),
                        ["signal", s] => signal_name(s.parse().unwrap_or(0)),
                        ["signal", s, "core"] => format!("{} core", signal_name(s.parse().unwrap_or(0))),
                        _ => how.join(" "),
                    };
                    reaped.insert(n, (e.t, status));
                }
                _ => {}
            }
        }
        // Causal order inside a gap: a signal sent by a process comes after the first signal
        // that reached it (the one its handler answers; which of two later ones came first is
        // a race); then by sender, then in the sender's own order.
        timed.sort_by_key(|(_, t, _)| *t);
        let mut depth: Vec<usize> = Vec::with_capacity(timed.len());
        for (i, (_, t, s)) in timed.iter().enumerate() {
            let d = match s.from {
                From::Spec | From::Terminal => 0,
                From::Proc(by) => (0..i)
                    .find(|&j| timed[j].1 <= *t && timed[j].2.reaches.contains(&by))
                    .map(|j| depth[j] + 1)
                    .unwrap_or(0),
            };
            depth.push(d);
        }
        let sender_rank = |f: From| match f {
            From::Spec => 0,
            From::Terminal => 1,
            From::Proc(n) => 1 + n,
        };
        let mut keyed: Vec<((usize, usize, usize, usize), Signal)> = Vec::new();
        let mut seq: HashMap<From, usize> = HashMap::new();
        for (i, (g, _, s)) in timed.into_iter().enumerate() {
            let k = seq.entry(s.from).or_insert(0);
            *k += 1;
            keyed.push(((g, depth[i], sender_rank(s.from), *k), s));
        }
        keyed.sort_by_key(|(k, _)| *k);
        // The same signal sent again by the same process to the same target between two looks
        // is drawn once: how many times a loop that signals "until it is gone" went round
        // depends on the scheduler.
        for ((g, ..), s) in keyed {
            let again = gaps[g]
                .signals
                .iter()
                .any(|o| o.from == s.from && o.to == s.to && o.sig == s.sig && o.how == s.how);
            if !again {
                gaps[g].signals.push(s);
            }
        }
        // A volley — one process sending one signal to several targets in a row — is a loop
        // over a set (its children, the descendants it found): drawn in the figure's order of
        // the targets, not in the order the loop happened to find them.
        for gap in &mut gaps {
            let sigs = &mut gap.signals;
            let mut start = 0;
            while start < sigs.len() {
                let mut end = start + 1;
                while end < sigs.len()
                    && sigs[end].from == sigs[start].from
                    && sigs[end].sig == sigs[start].sig
                    && sigs[end].how == sigs[start].how
                {
                    end += 1;
                }
                sigs[start..end].sort_by_key(|s| s.to);
                start = end;
            }
        }

        // Ends: reaped by the sandbox (status known), or vanished between two looks.
        let mut ended: BTreeSet<usize> = BTreeSet::new();
        for (&n, (t, status)) in &reaped {
            let g = gap_of(*t);
            gaps[g].ends.push((n, End::BySandbox(status.clone())));
            ended.insert(n);
            if !columns.iter().any(|c| c.get(n).is_some()) {
                gaps[g].brief.push(n);
            }
        }
        for i in 1..columns.len() {
            for p in &columns[i - 1].tree {
                if columns[i].get(p.n).is_none() && !ended.contains(&p.n) && p.n != 1 {
                    gaps[i].ends.push((p.n, End::Vanished));
                    ended.insert(p.n);
                }
            }
        }
        // Processes that no look saw and the sandbox did not reap: they lived inside the gap of
        // their first record, and a later look shows they were gone (reaped by their parent).
        let mut first_seen: BTreeMap<usize, i64> = BTreeMap::new();
        for e in &self.trace {
            if e.pid != root {
                if let Some(n) = n_of(e.pid) {
                    first_seen.entry(n).or_insert(e.t);
                }
            }
        }
        for (n, t) in first_seen {
            let seen = columns.iter().any(|c| c.get(n).is_some());
            if seen || ended.contains(&n) || n == 1 {
                continue;
            }
            let g = gap_of(t);
            gaps[g].brief.push(n);
            if g < columns.len() {
                gaps[g].ends.push((n, End::Vanished));
            }
            ended.insert(n);
        }
        for g in &mut gaps {
            g.ends.sort_by_key(|(n, _)| *n);
            g.brief.sort();
        }
        Figure { lab: self.lab.clone(), test: self.test.clone(), procs, steps, columns, gaps }
    }
}

/// `text` with every pid of the run replaced by the figure's number for it. Specs write pids
/// in a few shapes — `kill -TERM 5`, `kill -TERM -5`, `killpg(5, …)`, `group 5`, `head 5`,
/// `writer 5`, `worker 1 (5)`, `([5, 7])` — and numbers in other places are counts and indices
/// ("forks 10 children", "kill -15 child 1"), left alone.
pub fn renumber(text: &str, num: &BTreeMap<i32, usize>) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let mut depth_bracket = 0i32;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() && (i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '.')) {
            let mut j = i;
            while j < chars.len() && chars[j].is_ascii_digit() {
                j += 1;
            }
            let digits: String = chars[i..j].iter().collect();
            let before: String = chars[..i].iter().collect();
            let after = chars.get(j).copied();
            let standalone = after.is_none_or(|a| !(a.is_alphanumeric() || a == '.'));
            let pid_context = pid_context(&before, depth_bracket > 0);
            match digits.parse::<i32>().ok().and_then(|p| num.get(&p)) {
                Some(n) if standalone && pid_context => out.push_str(&n.to_string()),
                _ => out.push_str(&digits),
            }
            i = j;
            continue;
        }
        match c {
            '[' => depth_bracket += 1,
            ']' => depth_bracket -= 1,
            _ => {}
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Whether a number right after `before` is a pid (see [`renumber`]).
fn pid_context(before: &str, in_list: bool) -> bool {
    let b = before.strip_suffix('-').unwrap_or(before);
    if in_list && (b.ends_with('[') || b.ends_with(", ")) {
        return true;
    }
    if before.ends_with('(') {
        return true;
    }
    for word in ["group ", "head ", "writer ", "pid ", "process "] {
        if b.ends_with(word) {
            return true;
        }
    }
    // kill -SIG N / kill -SIG -N / kill -N N
    let words: Vec<&str> = b.split_whitespace().collect();
    b.ends_with(' ')
        && words.len() >= 2
        && words[words.len() - 2] == "kill"
        && words[words.len() - 1].starts_with('-')
}
