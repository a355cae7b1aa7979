//! Every process plays its part once. When a passing spec ends, the harness checks the trace
//! for processes the scenario did not expect — the usual trace of a child that, after its
//! branch, returned into `main` and acted out the parent's code a second time:
//!
//! - a process that announced a part twice (`labkit::role` called again, or a second role);
//! - more processes announcing a role than the spec asked for (`role` asks for one,
//!   `roles(name, n)` for n): a child that forked children of its own in the parent's loop;
//! - more processes stopping at a pause than the spec waited for there (`paused`);
//! - a process still running once the program's first process has ended, which the spec never
//!   met (by `role`, `roles` or `paused`): a child that outlived its part.
//!
//! On by default in every spec. A spec that means it opts out: [`Scenario::role_may_repeat`]
//! for one role, [`Scenario::parts_unchecked`] for all.

use super::Scenario;
use crate::trace::{Event, Kind};
use i18n::t;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// What the spec said it expects.
#[derive(Default)]
pub(super) struct Parts {
    /// The most processes the spec asked for under each role.
    asked: RefCell<HashMap<String, usize>>,
    /// Roles any number of processes may play (the spec said so).
    free: RefCell<HashSet<String>>,
    /// The processes the spec met: returned by `role`, `roles` or `paused`.
    met: RefCell<BTreeSet<i32>>,
    off: Cell<bool>,
}

impl Parts {
    pub(super) fn met(&self, pids: &[i32]) {
        self.met.borrow_mut().extend(pids.iter().copied());
    }

    pub(super) fn asked_for(&self, role: &str, n: usize) {
        let mut a = self.asked.borrow_mut();
        let e = a.entry(role.to_string()).or_insert(0);
        *e = (*e).max(n);
    }
}

impl Scenario {
    /// Any number of processes may announce `role` (the spec counts them itself, or does not
    /// care); the others are still checked.
    pub fn role_may_repeat(&self, role: &str) {
        self.parts.free.borrow_mut().insert(role.to_string());
    }

    /// Turns the "every process plays its part once" check off for this scenario.
    pub fn parts_unchecked(&self) {
        self.parts.off.set(true);
    }

    /// What is wrong with the parts played so far, if anything (see the module).
    pub(super) fn parts_problem(&self) -> Option<String> {
        if self.parts.off.get() {
            return None;
        }
        let asked = self.parts.asked.borrow().clone();
        let free = self.parts.free.borrow().clone();
        let taken = self.pauses_taken.borrow().clone();
        let pids_at_pauses = self.pids_paused.borrow().clone();
        let events = self.events();
        if let Some(p) = problems(&events, &asked, &free, &taken, &pids_at_pauses) {
            return Some(p);
        }
        let met = self.parts.met.borrow().clone();
        outlived(&events, &met, &free, &self.snapshot())
    }
}

/// The check itself, on the trace: `asked` roles (most processes asked for), `free` roles,
/// `paused` the pids the spec saw stop at each pause label.
pub(super) fn problems(
    events: &[Event],
    asked: &HashMap<String, usize>,
    free: &HashSet<String>,
    taken: &HashMap<String, usize>,
    paused: &HashMap<String, BTreeSet<i32>>,
) -> Option<String> {
    // Roles, by process, in order.
    let mut by_pid: BTreeMap<i32, Vec<&str>> = BTreeMap::new();
    let mut by_role: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
    for e in events {
        if let Kind::Role(r) = &e.kind {
            by_pid.entry(e.pid).or_default().push(r);
            let pids = by_role.entry(r).or_default();
            if !pids.contains(&e.pid) {
                pids.push(e.pid);
            }
        }
    }
    for (pid, roles) in &by_pid {
        if roles.len() > 1 && !roles.iter().all(|r| free.contains(*r)) {
            let said: Vec<String> = roles.iter().map(|r| t!("parts-quoted", role = r)).collect();
            return Some(t!("parts-twice", pid = pid, roles = said.join(&t!("parts-then"))));
        }
    }
    // The processes the spec met at a pause: expected, whatever part they announce later.
    let met: BTreeSet<i32> = paused.values().flatten().copied().collect();
    for (role, pids) in &by_role {
        let Some(&n) = asked.get(*role) else { continue };
        let extra: Vec<i32> = pids.iter().skip(n).copied().filter(|p| !met.contains(p)).collect();
        if !extra.is_empty() && !free.contains(*role) {
            return Some(t!(
                "parts-extra",
                n = n,
                role = role,
                count = pids.len(),
                pids = format!("{pids:?}"),
                extra = extra[0]
            ));
        }
    }
    // Pauses: each label the spec waited at, reached by processes it never waited for.
    for e in events {
        if let Kind::Pause(label) = &e.kind {
            if taken.get(label).copied().unwrap_or(0) == 0 {
                continue;
            }
            let seen = paused.get(label);
            if seen.is_some_and(|s| !s.contains(&e.pid))
                && !by_pid.get(&e.pid).is_some_and(|r| r.iter().any(|r| free.contains(*r)))
            {
                let role = by_pid
                    .get(&e.pid)
                    .and_then(|r| r.first())
                    .map(|r| t!("parts-role", role = r))
                    .unwrap_or_default();
                let pids = seen.map(|s| s.iter().copied().collect::<Vec<_>>()).unwrap_or_default();
                return Some(t!(
                    "parts-pause",
                    pids = format!("{pids:?}"),
                    label = label,
                    pid = e.pid,
                    role = role
                ));
            }
        }
    }
    None
}

/// A process still running once the program's first process has ended and been reaped, that
/// the spec never met and whose part (role) is not one it left free.
pub(super) fn outlived(
    events: &[Event],
    met: &BTreeSet<i32>,
    free: &HashSet<String>,
    t: &crate::tree::Tree,
) -> Option<String> {
    let main = events.iter().find_map(|e| match e.kind {
        Kind::Spawn(p) => Some(p),
        _ => None,
    })?;
    if !events.iter().any(|e| matches!(e.kind, Kind::Exited(p, _) if p == main)) {
        return None;
    }
    let stray = t.lab_procs().find(|p| {
        !p.is_zombie() && !met.contains(&p.pid) && !t.roles.get(&p.pid).is_some_and(|r| free.contains(r))
    })?;
    let part = t.roles.get(&stray.pid).map(|r| t!("parts-role", role = r)).unwrap_or_default();
    Some(t!("parts-outlived", main = main, pid = stray.pid, role = part, comm = stray.comm))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(pid: i32, r: &str) -> Event {
        Event { pid, t_ns: 0, kind: Kind::Role(r.into()) }
    }
    fn pause(pid: i32, l: &str) -> Event {
        Event { pid, t_ns: 0, kind: Kind::Pause(l.into()) }
    }
    fn asked(v: &[(&str, usize)]) -> HashMap<String, usize> {
        v.iter().map(|(r, n)| (r.to_string(), *n)).collect()
    }

    #[test]
    fn one_part_each_is_fine() {
        let ev = [role(2, "parent"), role(3, "child"), role(4, "child")];
        let none = HashMap::new();
        assert_eq!(
            problems(&ev, &asked(&[("parent", 1), ("child", 2)]), &HashSet::new(), &none, &HashMap::new()),
            None
        );
    }

    #[test]
    fn a_second_announcement_by_one_process_is_flagged() {
        let ev = [role(2, "parent"), role(3, "child"), role(3, "parent")];
        let p = problems(&ev, &asked(&[("parent", 1)]), &HashSet::new(), &HashMap::new(), &HashMap::new());
        assert!(p.unwrap().contains("process 3 announced \"child\" then \"parent\""));
    }

    #[test]
    fn more_players_than_asked_are_flagged_unless_free() {
        let ev = [role(2, "parent"), role(3, "child"), role(5, "child")];
        let a = asked(&[("child", 1)]);
        let p = problems(&ev, &a, &HashSet::new(), &HashMap::new(), &HashMap::new()).unwrap();
        assert!(p.contains("Process 5 was not expected"), "{p}");
        let free: HashSet<String> = ["child".to_string()].into();
        assert_eq!(problems(&ev, &a, &free, &HashMap::new(), &HashMap::new()), None);
        // A process the spec met at a pause is expected, whatever it announces later.
        let seen: HashMap<String, BTreeSet<i32>> = [("born".to_string(), [5].into())].into();
        assert_eq!(problems(&ev, &a, &HashSet::new(), &HashMap::new(), &seen), None);
        // A role the spec never asked about is not counted.
        assert_eq!(problems(&ev, &asked(&[]), &HashSet::new(), &HashMap::new(), &HashMap::new()), None);
    }

    #[test]
    fn a_process_left_running_after_the_program_ended_is_flagged_unless_met() {
        use crate::tree::{Tree, fake_proc};
        let ev = [
            Event { pid: 1, t_ns: 0, kind: Kind::Spawn(2) },
            role(2, "parent"),
            role(3, "child"),
            Event { pid: 1, t_ns: 0, kind: Kind::Exited(2, crate::trace::Exit::Code(0)) },
        ];
        let mut t = Tree { root: 1, ..Default::default() };
        t.procs.insert(1, fake_proc(1, 0, 1, 1, 'S'));
        t.procs.insert(3, fake_proc(3, 1, 2, 1, 'S'));
        t.roles.insert(3, "child".into());
        let p = outlived(&ev, &BTreeSet::new(), &HashSet::new(), &t).unwrap();
        assert!(p.contains("process 3 (\"child\")"), "{p}");
        assert_eq!(outlived(&ev, &[3].into(), &HashSet::new(), &t), None, "the spec met it");
        assert_eq!(outlived(&ev[..3], &BTreeSet::new(), &HashSet::new(), &t), None, "the program still runs");
    }

    #[test]
    fn a_stranger_at_a_pause_the_spec_waited_at_is_flagged() {
        let ev = [role(2, "parent"), role(3, "child"), pause(2, "work"), pause(3, "work")];
        let taken: HashMap<String, usize> = [("work".to_string(), 1)].into();
        let seen: HashMap<String, BTreeSet<i32>> = [("work".to_string(), [2].into())].into();
        let p = problems(&ev, &asked(&[]), &HashSet::new(), &taken, &seen).unwrap();
        assert!(p.contains("process 3 (\"child\") stopped there too"), "{p}");
        // A pause the spec never waited at is its own business.
        assert_eq!(problems(&ev, &asked(&[]), &HashSet::new(), &HashMap::new(), &HashMap::new()), None);
    }
}
