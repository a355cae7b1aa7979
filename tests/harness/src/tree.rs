//! Snapshots of a scenario's process tree, read from /proc with the `procfs` crate.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

/// Short names of the standard signals, index = signal number.
const SIGNAL_NAMES: [&str; 32] = [
    "0", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE",
    "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ",
    "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
];

/// "TERM" for 15, "RT34" for 34.
pub fn signal_name(sig: i32) -> String {
    match usize::try_from(sig) {
        Ok(i) if i < SIGNAL_NAMES.len() => SIGNAL_NAMES[i].to_string(),
        _ => format!("RT{sig}"),
    }
}

/// The signals set in a /proc mask (bit n-1 is signal n), by short name. glibc's two
/// reserved real-time signals (32 and 33, used by its threads library) are left out.
pub fn mask_names(mask: u64) -> Vec<String> {
    (1..=64).filter(|&s| s != 32 && s != 33 && mask & (1u64 << (s - 1)) != 0).map(signal_name).collect()
}

/// The bit of signal `sig` in a /proc signal mask.
pub fn bit(sig: nix::sys::signal::Signal) -> u64 {
    1u64 << (sig as i32 - 1)
}

/// One process as /proc shows it. `pid`, `ppid`, `pgid` and `sid` are the numbers the lab itself
/// sees (in the scenario's PID namespace, when it has one: the same numbers its `getpid()` and
/// its notes give); `host_*` are the same ids as the test runner sees them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proc {
    pub pid: i32,
    pub ppid: i32,
    pub pgid: i32,
    pub sid: i32,
    /// The foreground process group of its controlling terminal (`tpgid` in /proc/PID/stat),
    /// -1 without one: the group a Ctrl-C on that terminal signals.
    pub tpgid: i32,
    pub host_pid: i32,
    pub host_pgid: i32,
    pub host_sid: i32,
    /// R running, S sleeping, D disk, T stopped, Z zombie, X dead …
    pub state: char,
    /// Signals with a handler installed (SigCgt), ignored (SigIgn), blocked (SigBlk).
    pub caught: u64,
    pub ignored: u64,
    pub blocked: u64,
    /// Signals pending (SigPnd | ShdPnd): sent, not yet delivered (blocked, or not yet run).
    pub pending: u64,
    /// CPU time used so far (utime + stime), in ms, one clock tick of resolution.
    pub cpu_ms: i64,
    /// The kernel function a sleeping process waits in (/proc/PID/wchan): `do_wait` is
    /// waitpid, `hrtimer_nanosleep` a sleep; "" when running or unknown.
    pub wchan: String,
    pub threads: i64,
    pub comm: String,
    /// Clock ticks after boot at which it started: with `pid`, the process's identity.
    pub starttime: u64,
}

impl Proc {
    pub fn is_zombie(&self) -> bool {
        matches!(self.state, 'Z' | 'X')
    }
    pub fn catches(&self, sig: nix::sys::signal::Signal) -> bool {
        self.caught & bit(sig) != 0
    }
    pub fn ignores(&self, sig: nix::sys::signal::Signal) -> bool {
        self.ignored & bit(sig) != 0
    }
    pub fn blocks(&self, sig: nix::sys::signal::Signal) -> bool {
        self.blocked & bit(sig) != 0
    }
    pub fn has_pending(&self, sig: nix::sys::signal::Signal) -> bool {
        self.pending & bit(sig) != 0
    }
    /// In the foreground process group of its controlling terminal: a Ctrl-C there signals it.
    pub fn in_foreground(&self) -> bool {
        self.tpgid > 0 && self.tpgid == self.pgid
    }
    /// Asleep inside waitpid()/wait() (state S, in the kernel's `do_wait`).
    pub fn in_waitpid(&self) -> bool {
        self.state == 'S' && self.wchan == "do_wait"
    }
}

/// Where a process is in its life, as the kernel reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Life {
    /// Exists and has not exited (any state but Z/X).
    Alive(char),
    /// Exited, not yet reaped by its parent.
    Zombie,
    /// Reaped: no longer in /proc (or its pid now names a different process).
    Gone,
}

/// The inode of this process's PID namespace (`/proc/self/ns/pid` reads `pid:[INODE]`).
pub fn pid_namespace() -> Option<u64> {
    let link = std::fs::read_link("/proc/self/ns/pid").ok()?;
    link.to_string_lossy().strip_prefix("pid:[")?.strip_suffix(']')?.parse().ok()
}

/// Reads one process by the pid the test runner sees; `None` if it does not exist (any more).
/// Its ids are the runner's too.
pub fn read_proc(pid: i32) -> Option<Proc> {
    read_proc_in(pid, None)
}

/// Reads process `host_pid` and gives its ids as seen at PID-namespace depth `level` (the
/// scenario's namespace: the index into /proc/PID/status's NSpid), or as the runner sees them
/// when `level` is `None`. An id from outside that namespace reads 0, as the kernel shows it.
pub fn read_proc_in(host_pid: i32, level: Option<usize>) -> Option<Proc> {
    let p = procfs::process::Process::new(host_pid).ok()?;
    let stat = p.stat().ok()?;
    let status = p.status().ok();
    let (caught, ignored, blocked, pending) = match &status {
        Some(s) => (s.sigcgt, s.sigign, s.sigblk, s.sigpnd | s.shdpnd),
        // A zombie's status is still readable; a race with the reaper is not an error.
        None => (0, stat.sigignore, 0, 0),
    };
    let (pid, ppid, pgid, sid, tpgid) = match level {
        None => (host_pid, stat.ppid, stat.pgrp, stat.session, stat.tpgid),
        Some(l) => {
            let s = status.as_ref()?;
            let at = |v: &Option<Vec<i32>>| v.as_ref().and_then(|v| v.get(l).copied()).unwrap_or(0);
            // A pid of another process, as the scenario sees it (0 if it has none there).
            let inner = |host: i32| {
                procfs::process::Process::new(host)
                    .ok()
                    .and_then(|pp| pp.status().ok())
                    .map(|ps| at(&ps.nspid))
                    .unwrap_or(0)
            };
            let tpgid = if stat.tpgid > 0 {
                if stat.tpgid == stat.pgrp { at(&s.nspgid) } else { inner(stat.tpgid) }
            } else {
                stat.tpgid
            };
            (at(&s.nspid), inner(stat.ppid), at(&s.nspgid), at(&s.nssid), tpgid)
        }
    };
    if pid == 0 {
        return None; // not in the scenario's namespace
    }
    let wchan = match stat.state {
        'S' | 'D' => p.wchan().ok().filter(|w| w != "0").unwrap_or_default(),
        _ => String::new(),
    };
    let ticks = procfs::ticks_per_second().max(1) as i64;
    Some(Proc {
        pid,
        ppid,
        pgid,
        sid,
        tpgid,
        host_pid,
        host_pgid: stat.pgrp,
        host_sid: stat.session,
        state: stat.state,
        caught,
        ignored,
        blocked,
        pending,
        cpu_ms: (stat.utime + stat.stime) as i64 * 1000 / ticks,
        wchan,
        threads: stat.num_threads,
        comm: stat.comm,
        starttime: stat.starttime,
    })
}

/// The processes of one scenario: the sandbox (`root`) and everything below it, plus anything
/// still in its session that has left the subtree.
#[derive(Clone, Debug, Default)]
pub struct Tree {
    /// The sandbox, in the tree's numbering (1 when the scenario has its own PID namespace).
    pub root: i32,
    pub procs: BTreeMap<i32, Proc>,
    /// Role names by pid, as the lab announced them.
    pub roles: HashMap<i32, String>,
    /// When the sample began, on the trace's clock ([`crate::trace::now_ns`]): a note stamped
    /// earlier was written before anything in this tree was read.
    pub taken_ns: i128,
}

/// `host_root` and its descendants by the kernel's lists of children; `None` where there are
/// no such lists, or the root is gone or a zombie.
fn members_by_children(host_root: i32, known: &[i32]) -> Option<Vec<i32>> {
    use procfs::process::Process;
    let root = Process::new(host_root).ok()?;
    if matches!(root.stat().ok()?.state, 'Z' | 'X') {
        return None;
    }
    let mut found = vec![host_root];
    let mut set: std::collections::HashSet<i32> = found.iter().copied().collect();
    let mut i = 0;
    while i < found.len() && found.len() < 100_000 {
        let pid = found[i];
        i += 1;
        let Ok(tasks) = Process::new(pid).and_then(|p| p.tasks()) else { continue };
        for task in tasks.flatten() {
            let children = match task.children() {
                Ok(c) => c,
                Err(_) if pid == host_root => return None, // no CONFIG_PROC_CHILDREN
                Err(_) => continue,
            };
            for child in children.into_iter().filter_map(|c| i32::try_from(c).ok()) {
                if set.insert(child) {
                    found.push(child);
                }
            }
        }
    }
    for &pid in known {
        let stat = || Process::new(pid).and_then(|p| p.stat()).ok();
        if !set.contains(&pid) && stat().is_some_and(|st| st.session == host_root || set.contains(&st.ppid)) {
            set.insert(pid);
            found.push(pid);
        }
    }
    Some(found)
}

/// Every process of the machine whose session is `host_root`'s or whose parents lead to it.
fn members_by_scan(host_root: i32) -> Vec<i32> {
    let mut all: HashMap<i32, (i32, i32)> = HashMap::new(); // pid -> (ppid, sid)
    if let Ok(iter) = procfs::process::all_processes() {
        for p in iter.flatten() {
            if let Ok(stat) = p.stat() {
                all.insert(stat.pid, (stat.ppid, stat.session));
            }
        }
    }
    // Below `root` if walking up the ppid chain reaches it.
    let member = |pid: i32| -> bool {
        let mut cur = pid;
        for _ in 0..4096 {
            if cur == host_root {
                return true;
            }
            match all.get(&cur) {
                Some(&(ppid, _)) if ppid > 0 => cur = ppid,
                _ => return false,
            }
        }
        false
    };
    all.iter().filter(|&(&pid, &(_, sid))| sid == host_root || member(pid)).map(|(&pid, _)| pid).collect()
}

impl Tree {
    /// Reads the tree below `root` from /proc now, in the runner's numbering.
    pub fn snapshot(root: i32) -> Tree {
        Self::snapshot_in(root, None)
    }

    /// Reads the tree below the sandbox `host_root` (a pid the runner sees) from /proc now,
    /// numbered as seen at PID-namespace depth `level` (see [`read_proc_in`]).
    pub fn snapshot_in(host_root: i32, level: Option<usize>) -> Tree {
        Self::snapshot_known(host_root, level, &[])
    }

    /// Like [`Tree::snapshot_in`], `known` being processes of the tree seen before (runner's
    /// pids). The members are found by the kernel's lists of children
    /// (`/proc/PID/task/TID/children`) from `host_root` down: a few files instead of every
    /// process of the machine (0.1-0.3 ms instead of 1.3 ms with 72 processes, and a spec polls
    /// every few ms). A process the walk missed because its parent was exiting at that moment
    /// (its children move to the subreaper between two reads) is one seen before: `known`
    /// brings it back. Where the kernel keeps no such lists, or the root is gone or a zombie (its
    /// orphans went elsewhere), every process of the machine is read, and the members are the
    /// root's session and descendants.
    pub fn snapshot_known(host_root: i32, level: Option<usize>, known: &[i32]) -> Tree {
        let taken_ns = crate::trace::now_ns();
        let members = members_by_children(host_root, known).unwrap_or_else(|| members_by_scan(host_root));
        let mut procs = BTreeMap::new();
        let mut root = host_root;
        for pid in members {
            if let Some(p) = read_proc_in(pid, level) {
                if pid == host_root {
                    root = p.pid;
                }
                procs.insert(p.pid, p);
            }
        }
        Tree { root, procs, roles: HashMap::new(), taken_ns }
    }

    /// The process the runner knows as `host_pid`.
    pub fn by_host(&self, host_pid: i32) -> Option<&Proc> {
        self.procs.values().find(|p| p.host_pid == host_pid)
    }

    pub fn get(&self, pid: i32) -> Option<&Proc> {
        self.procs.get(&pid)
    }

    pub fn life(&self, pid: i32) -> Life {
        match self.procs.get(&pid) {
            None => Life::Gone,
            Some(p) if p.is_zombie() => Life::Zombie,
            Some(p) => Life::Alive(p.state),
        }
    }
    pub fn alive(&self, pid: i32) -> bool {
        matches!(self.life(pid), Life::Alive(_))
    }
    pub fn zombie(&self, pid: i32) -> bool {
        self.life(pid) == Life::Zombie
    }
    pub fn gone(&self, pid: i32) -> bool {
        self.life(pid) == Life::Gone
    }
    pub fn ppid(&self, pid: i32) -> Option<i32> {
        self.get(pid).map(|p| p.ppid)
    }
    pub fn pgid(&self, pid: i32) -> Option<i32> {
        self.get(pid).map(|p| p.pgid)
    }
    /// Processes of the scenario, the sandbox left out.
    pub fn lab_procs(&self) -> impl Iterator<Item = &Proc> {
        self.procs.values().filter(move |p| p.pid != self.root)
    }
    /// Members of process group `pgid`.
    pub fn group(&self, pgid: i32) -> Vec<i32> {
        self.procs.values().filter(|p| p.pgid == pgid).map(|p| p.pid).collect()
    }
    /// `pid` is asleep inside waitpid()/wait().
    pub fn in_waitpid(&self, pid: i32) -> bool {
        self.get(pid).is_some_and(Proc::in_waitpid)
    }
    pub fn zombies(&self) -> Vec<i32> {
        self.lab_procs().filter(|p| p.is_zombie()).map(|p| p.pid).collect()
    }
    pub fn children(&self, pid: i32) -> Vec<i32> {
        self.procs.values().filter(|p| p.ppid == pid && p.pid != pid).map(|p| p.pid).collect()
    }

    fn label(&self, p: &Proc) -> String {
        if p.pid == self.root {
            "sandbox".into()
        } else {
            match self.roles.get(&p.pid) {
                Some(r) => r.clone(),
                None => format!("({})", p.comm),
            }
        }
    }

    fn line(&self, p: &Proc) -> String {
        let mut s = format!("{} {:<10} {}  pgid {}", p.pid, self.label(p), p.state, p.pgid);
        if p.in_foreground() {
            s.push_str("  foreground");
        }
        match p.wchan.as_str() {
            // The sandbox always waits on its control pipe: not part of the story.
            _ if p.pid == self.root => {}
            "" => {}
            // labkit::pause waits for the spec on a FIFO.
            "wait_for_partner" => s.push_str("  (paused)"),
            w => {
                let _ = write!(s, "  in {w}");
            }
        }
        if p.sid != self.root {
            let _ = write!(s, "  sid {}", p.sid);
        }
        for (word, mask) in
            [("caught", p.caught), ("ignored", p.ignored), ("blocked", p.blocked), ("pending", p.pending)]
        {
            let names = mask_names(mask);
            if !names.is_empty() {
                let _ = write!(s, "  {word} {}", names.join(","));
            }
        }
        if p.threads > 1 {
            let _ = write!(s, "  threads {}", p.threads);
        }
        s
    }

    /// Draws the tree, e.g.
    /// ```text
    /// 4239 sandbox    S  pgid 4239
    /// └─ 4240 parent     S  pgid 4240  caught TERM
    ///    └─ 4242 child      Z  pgid 4240
    /// ```
    pub fn render(&self) -> String {
        let mut out = String::new();
        let tops: Vec<i32> = self
            .procs
            .values()
            .filter(|p| p.pid == self.root || !self.procs.contains_key(&p.ppid))
            .map(|p| p.pid)
            .collect();
        for top in tops {
            self.draw(top, "", None, &mut out);
        }
        if self.procs.is_empty() {
            out.push_str(&i18n::t!("tree-empty"));
            out.push('\n');
        }
        out
    }

    fn draw(&self, pid: i32, indent: &str, last: Option<bool>, out: &mut String) {
        let Some(p) = self.procs.get(&pid) else {
            return;
        };
        let (branch, next_indent) = match last {
            None => ("", indent.to_string()),
            Some(true) => ("└─ ", format!("{indent}   ")),
            Some(false) => ("├─ ", format!("{indent}│  ")),
        };
        let _ = writeln!(out, "{indent}{branch}{}", self.line(p));
        // Children with no children of their own that read alike (same line but for the pid)
        // are folded after the first few: 99 zombies make one line, not 99.
        let kids = self.children(pid);
        let shape = |k: i32| -> Option<String> {
            let c = self.procs.get(&k)?;
            if !self.children(k).is_empty() {
                return None;
            }
            let line = self.line(c);
            Some(line[line.find(' ').unwrap_or(0)..].to_string())
        };
        let mut i = 0;
        while i < kids.len() {
            let here = shape(kids[i]);
            let mut run = 1;
            while here.is_some() && i + run < kids.len() && shape(kids[i + run]) == here {
                run += 1;
            }
            if run >= FOLD_AT {
                for k in &kids[i..i + FOLD_SHOW] {
                    self.draw(*k, &next_indent, Some(false), out);
                }
                let rest = &kids[i + FOLD_SHOW..i + run];
                let end = i + run == kids.len();
                let (n, label) = (rest.len(), self.label(p));
                let (first, last) = (rest.first().copied().unwrap_or(0), rest.last().copied().unwrap_or(0));
                let more = match self.procs.get(&rest[0]).map(|c| c.state) {
                    Some('Z') => i18n::t!(
                        "tree-more-zombies",
                        n = n,
                        pid = p.pid,
                        label = label,
                        first = first,
                        last = last
                    ),
                    _ => i18n::t!(
                        "tree-more-alike",
                        n = n,
                        pid = p.pid,
                        label = label,
                        first = first,
                        last = last
                    ),
                };
                let _ = writeln!(out, "{next_indent}{}… {more}", if end { "└─ " } else { "├─ " });
            } else {
                for k in &kids[i..i + run] {
                    self.draw(*k, &next_indent, Some(*k == *kids.last().unwrap_or(k)), out);
                }
            }
            i += run;
        }
    }
}

/// Children that read alike are folded from this many on, keeping the first FOLD_SHOW.
const FOLD_AT: usize = 6;
const FOLD_SHOW: usize = 3;

/// A process as a unit test wants it: sleeping, no signal state, one thread.
#[cfg(test)]
pub(crate) fn fake_proc(pid: i32, ppid: i32, pgid: i32, sid: i32, state: char) -> Proc {
    Proc {
        pid,
        ppid,
        pgid,
        sid,
        tpgid: -1,
        host_pid: pid,
        host_pgid: pgid,
        host_sid: sid,
        state,
        caught: 0,
        ignored: 0,
        blocked: 0,
        pending: 0,
        cpu_ms: 0,
        wchan: String::new(),
        threads: 1,
        comm: "x".into(),
        starttime: 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proc(pid: i32, ppid: i32, pgid: i32, state: char) -> Proc {
        fake_proc(pid, ppid, pgid, 10, state)
    }

    #[test]
    fn masks_name_their_signals() {
        assert_eq!(mask_names(1 << 14), vec!["TERM"]);
        assert_eq!(mask_names((1 << 1) | (1 << 16)), vec!["INT", "CHLD"]);
        assert_eq!(signal_name(34), "RT34");
    }

    #[test]
    fn render_draws_roles_states_and_branches() {
        let mut t = Tree { root: 10, ..Default::default() };
        t.procs.insert(10, proc(10, 1, 10, 'S'));
        let mut parent = proc(11, 10, 11, 'S');
        parent.caught = 1 << 14;
        t.procs.insert(11, parent);
        t.procs.insert(12, proc(12, 11, 11, 'Z'));
        t.procs.insert(13, proc(13, 11, 11, 'S'));
        t.roles.insert(11, "parent".into());
        t.roles.insert(12, "child".into());
        let r = t.render();
        assert!(r.starts_with("10 sandbox"), "{r}");
        assert!(r.contains("└─ 11 parent     S  pgid 11  caught TERM"), "{r}");
        assert!(r.contains("   ├─ 12 child      Z  pgid 11"), "{r}");
        assert!(r.contains("   └─ 13 (x)        S  pgid 11"), "{r}");
        assert_eq!(t.life(12), Life::Zombie);
        assert_eq!(t.life(13), Life::Alive('S'));
        assert_eq!(t.life(99), Life::Gone);
        assert_eq!(t.zombies(), vec![12]);
    }

    #[test]
    fn many_alike_children_fold_into_one_line() {
        let mut t = Tree { root: 10, ..Default::default() };
        t.procs.insert(10, proc(10, 1, 10, 'S'));
        t.procs.insert(11, proc(11, 10, 11, 'S'));
        t.roles.insert(11, "parent".into());
        for c in 20..120 {
            t.procs.insert(c, proc(c, 11, 11, 'Z'));
        }
        t.procs.insert(200, proc(200, 11, 11, 'S'));
        let r = t.render();
        assert!(r.contains("├─ 20 (x)"), "{r}");
        assert!(r.contains("├─ 22 (x)"), "{r}");
        assert!(!r.contains(" 23 (x)"), "{r}");
        assert!(r.contains("├─ … 97 more zombies of 11 parent: pids 23–119"), "{r}");
        assert!(r.contains("└─ 200 (x)"), "{r}");
        assert!(r.lines().count() < 10, "{r}");
    }

    #[test]
    fn the_terminals_foreground_group_is_marked() {
        let mut t = Tree { root: 10, ..Default::default() };
        t.procs.insert(10, proc(10, 1, 10, 'S'));
        for (pid, pgid) in [(11, 11), (12, 12)] {
            let mut p = proc(pid, 10, pgid, 'S');
            p.tpgid = 11;
            t.procs.insert(pid, p);
        }
        let r = t.render();
        assert!(r.contains("11 (x)        S  pgid 11  foreground\n"), "{r}");
        assert!(r.contains("12 (x)        S  pgid 12\n"), "{r}");
        assert!(r.starts_with("10 sandbox    S  pgid 10\n"), "no terminal, no mark: {r}");
    }

    #[test]
    fn snapshot_of_our_own_subtree_finds_a_child() {
        let mut child = std::process::Command::new("sleep").arg("5").spawn().unwrap();
        let me = std::process::id() as i32;
        let t = Tree::snapshot(me);
        let kid = child.id() as i32;
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(t.ppid(kid), Some(me), "{}", t.render());
    }

    #[test]
    fn a_snapshot_knows_when_it_began() {
        let before = crate::trace::now_ns();
        let t = Tree::snapshot(std::process::id() as i32);
        let after = crate::trace::now_ns();
        assert!(before <= t.taken_ns && t.taken_ns <= after, "{before} {} {after}", t.taken_ns);
    }
}
