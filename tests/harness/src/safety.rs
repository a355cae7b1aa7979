//! Signals sent by a spec go through here. A spec may signal only what its scenario created:
//! never pid or group ≤ 1 (`kill(-1)` is a broadcast, and glibc's `killpg(1, …)` is `kill(-1, …)`),
//! never the test runner, its group or its session, never the sandbox, never a process outside
//! the scenario's tree. Single processes are signalled through a pidfd, so a pid that was
//! reaped and reused in between cannot be hit.

use crate::tree::{Tree, read_proc};
use nix::sys::signal::Signal;
use std::fmt;

/// The process running the specs, and the group and session it belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Runner {
    pub pid: i32,
    pub pgid: i32,
    pub sid: i32,
}

impl Runner {
    pub fn current() -> Runner {
        Runner {
            pid: nix::unistd::getpid().as_raw(),
            pgid: nix::unistd::getpgrp().as_raw(),
            sid: nix::unistd::getsid(None).map(|p| p.as_raw()).unwrap_or(-1),
        }
    }
}

/// What a spec asks to signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Pid(i32),
    Group(i32),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Pid(p) => write!(f, "{}", i18n::t!("target-pid", pid = p)),
            Target::Group(g) => write!(f, "{}", i18n::t!("target-group", pgid = g)),
        }
    }
}

/// Why a signal was not sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// pid or group ≤ 1: 0 is "my group", -1 and 1 mean everything or init.
    Reserved(Target),
    /// The test runner itself, its group or its session.
    Runner(Target),
    /// The sandbox belongs to the harness, not to the scenario.
    Sandbox(Target),
    /// Not a process of this scenario (never was, or already reaped).
    Outside(Target),
    /// A process group with no member, or with a member outside the scenario.
    Group(i32, String),
    /// The kernel refused.
    Os(Target, String),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use i18n::t;
        let text = match self {
            Refusal::Reserved(t) => t!("refused-reserved", target = t),
            Refusal::Runner(t) => t!("refused-runner", target = t),
            Refusal::Sandbox(t) => t!("refused-sandbox", target = t),
            Refusal::Outside(t) => t!("refused-outside", target = t),
            Refusal::Group(g, why) => t!("refused-group", pgid = g, why = why),
            Refusal::Os(t, e) => t!("refused-os", target = t, error = e),
        };
        f.write_str(&text)
    }
}

impl std::error::Error for Refusal {}

/// Decides whether `target` may be signalled. Ids in `target` and the tree are the scenario's
/// (its PID namespace's, when it has one); `group_members` is every process in the system whose
/// group is the target group, by the pids the runner sees (ignored for a single pid).
pub fn vet(target: Target, runner: Runner, tree: &Tree, group_members: &[i32]) -> Result<(), Refusal> {
    match target {
        Target::Pid(p) | Target::Group(p) if p <= 1 => Err(Refusal::Reserved(target)),
        Target::Pid(p) => {
            if p == tree.root {
                return Err(Refusal::Sandbox(target));
            }
            let Some(proc) = tree.get(p) else {
                return Err(Refusal::Outside(target));
            };
            if proc.host_pid == runner.pid || proc.host_pgid == runner.pgid || proc.host_sid == runner.sid {
                return Err(Refusal::Runner(target));
            }
            Ok(())
        }
        Target::Group(g) => {
            if g == tree.root {
                return Err(Refusal::Sandbox(target));
            }
            let Some(host_g) = host_group(tree, g) else {
                if g == runner.pgid || g == runner.pid || g == runner.sid {
                    return Err(Refusal::Runner(target));
                }
                return Err(Refusal::Group(g, i18n::t!("group-no-member")));
            };
            if host_g == runner.pgid || host_g == runner.pid || host_g == runner.sid {
                return Err(Refusal::Runner(target));
            }
            if group_members.is_empty() {
                return Err(Refusal::Group(g, i18n::t!("group-no-member")));
            }
            for &m in group_members {
                if m == runner.pid {
                    return Err(Refusal::Group(g, i18n::t!("group-harness-member", pid = m)));
                }
                match tree.by_host(m) {
                    Some(p) if p.pid == tree.root => {
                        return Err(Refusal::Group(g, i18n::t!("group-harness-member", pid = p.pid)));
                    }
                    Some(p) if p.host_sid != runner.sid => {}
                    _ => {
                        return Err(Refusal::Group(g, i18n::t!("group-outside-member", pid = m)));
                    }
                }
            }
            Ok(())
        }
    }
}

/// The runner's number for the scenario's process group `g`.
fn host_group(tree: &Tree, g: i32) -> Option<i32> {
    tree.procs.values().find(|p| p.pgid == g).map(|p| p.host_pgid)
}

/// Every process in the system whose process group is `pgid` (the runner's numbers).
pub fn members_of_group(pgid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    if let Ok(iter) = procfs::process::all_processes() {
        for p in iter.flatten() {
            if let Ok(stat) = p.stat() {
                if stat.pgrp == pgid {
                    out.push(stat.pid);
                }
            }
        }
    }
    out
}

/// Vets `target` against a fresh view of the tree, then signals it. Returns when the signal
/// was sent: the trace's clock ([`crate::trace::now_ns`]) read just before the system call.
pub fn send(target: Target, sig: Signal, runner: Runner, tree: &Tree) -> Result<i128, Refusal> {
    match target {
        Target::Pid(p) => {
            vet(target, runner, tree, &[])?;
            let then = tree.get(p).ok_or(Refusal::Outside(target))?;
            let pid = rustix::process::Pid::from_raw(then.host_pid).ok_or(Refusal::Reserved(target))?;
            let fd = rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty())
                .map_err(|_| Refusal::Outside(target))?;
            // The pidfd now pins the process. Make sure it is still the one we vetted.
            let same = read_proc(then.host_pid).is_some_and(|now| now.starttime == then.starttime);
            if !same {
                return Err(Refusal::Outside(target));
            }
            let rsig = rustix::process::Signal::from_named_raw(sig as i32)
                .ok_or_else(|| Refusal::Os(target, format!("unknown signal {sig}")))?;
            let at = crate::trace::now_ns();
            rustix::process::pidfd_send_signal(&fd, rsig)
                .map(|()| at)
                .map_err(|e| Refusal::Os(target, e.to_string()))
        }
        Target::Group(g) => {
            let host_g = host_group(tree, g).ok_or_else(|| Refusal::Group(g, i18n::t!("group-no-member")))?;
            let members = members_of_group(host_g);
            vet(target, runner, tree, &members)?;
            let at = crate::trace::now_ns();
            nix::sys::signal::killpg(nix::unistd::Pid::from_raw(host_g), sig)
                .map(|()| at)
                .map_err(|e| Refusal::Os(target, e.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUNNER: Runner = Runner { pid: 100, pgid: 90, sid: 80 };

    fn tree() -> Tree {
        let mut t = Tree { root: 200, ..Default::default() };
        let p = |pid, ppid, pgid, sid| crate::tree::fake_proc(pid, ppid, pgid, sid, 'S');
        t.procs.insert(200, p(200, 100, 200, 200)); // sandbox
        t.procs.insert(201, p(201, 200, 201, 200)); // lab parent, own group
        t.procs.insert(202, p(202, 201, 201, 200)); // lab child
        t.procs.insert(203, p(203, 201, 90, 80)); // something that joined the runner's world
        t
    }

    #[test]
    fn refuses_reserved_ids_everywhere() {
        for id in [-1, 0, 1] {
            assert_eq!(vet(Target::Pid(id), RUNNER, &tree(), &[]), Err(Refusal::Reserved(Target::Pid(id))));
            assert_eq!(
                vet(Target::Group(id), RUNNER, &tree(), &[201]),
                Err(Refusal::Reserved(Target::Group(id)))
            );
        }
    }

    #[test]
    fn refuses_the_runner_its_group_and_its_session() {
        // The runner is not in the scenario's tree at all.
        assert!(matches!(vet(Target::Pid(100), RUNNER, &tree(), &[]), Err(Refusal::Outside(_))));
        assert!(matches!(vet(Target::Group(90), RUNNER, &tree(), &[203]), Err(Refusal::Runner(_))));
        assert!(matches!(vet(Target::Group(80), RUNNER, &tree(), &[203]), Err(Refusal::Runner(_))));
        // A process in the tree that shares the runner's group is not fair game either.
        assert!(matches!(vet(Target::Pid(203), RUNNER, &tree(), &[]), Err(Refusal::Runner(_))));
    }

    #[test]
    fn refuses_the_sandbox_and_outsiders() {
        assert!(matches!(vet(Target::Pid(200), RUNNER, &tree(), &[]), Err(Refusal::Sandbox(_))));
        assert!(matches!(vet(Target::Group(200), RUNNER, &tree(), &[200]), Err(Refusal::Sandbox(_))));
        assert!(matches!(vet(Target::Pid(4242), RUNNER, &tree(), &[]), Err(Refusal::Outside(_))));
        assert!(matches!(
            vet(Target::Group(201), RUNNER, &tree(), &[201, 202, 4242]),
            Err(Refusal::Group(..))
        ));
        assert!(matches!(vet(Target::Group(201), RUNNER, &tree(), &[]), Err(Refusal::Group(..))));
    }

    #[test]
    fn allows_what_the_scenario_created() {
        assert_eq!(vet(Target::Pid(201), RUNNER, &tree(), &[]), Ok(()));
        assert_eq!(vet(Target::Pid(202), RUNNER, &tree(), &[]), Ok(()));
        assert_eq!(vet(Target::Group(201), RUNNER, &tree(), &[201, 202]), Ok(()));
    }

    #[test]
    fn in_a_pid_namespace_the_scenarios_numbers_are_vetted_by_the_runners() {
        // The sandbox is pid 1 of the scenario's namespace (host 5001); the lab is 2 (5002),
        // its child 3 (5003). The runner's own pid happens to be 2 in its namespace.
        let runner = Runner { pid: 2, pgid: 2, sid: 2 };
        let mut t = Tree { root: 1, ..Default::default() };
        let mut p = |pid, ppid, pgid, host| {
            let mut x = crate::tree::fake_proc(pid, ppid, pgid, 1, 'S');
            x.host_pid = host;
            x.host_pgid = if pgid == 1 { 5001 } else { 5002 };
            x.host_sid = 5001;
            t.procs.insert(pid, x);
        };
        p(1, 0, 1, 5001);
        p(2, 1, 2, 5002);
        p(3, 2, 2, 5003);
        assert_eq!(vet(Target::Pid(2), runner, &t, &[]), Ok(()), "lab pid 2 is not the runner's pid 2");
        assert_eq!(vet(Target::Group(2), runner, &t, &[5002, 5003]), Ok(()));
        assert!(matches!(vet(Target::Pid(1), runner, &t, &[]), Err(Refusal::Reserved(_))));
        assert!(matches!(vet(Target::Group(2), runner, &t, &[5002, 5003, 77]), Err(Refusal::Group(..))));
    }

    #[test]
    fn send_refuses_real_reserved_and_foreign_targets() {
        let runner = Runner::current();
        let t = Tree::snapshot(runner.pid);
        for target in [
            Target::Pid(1),
            Target::Group(1),
            Target::Pid(-1),
            Target::Group(0),
            Target::Pid(runner.pid),
            Target::Group(runner.pgid),
        ] {
            assert!(send(target, Signal::SIGCONT, runner, &t).is_err(), "{target} was not refused");
        }
    }
}
