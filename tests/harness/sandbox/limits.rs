//! Limits every scenario runs under, whatever the layers: no core files (soft RLIMIT_CORE 0)
//! and a bound on the number of processes, so that a fork bomb stops at the bound instead of
//! taking the machine's pids.
//!
//! The bound: RLIMIT_NPROC for an ordinary user (counted in the scenario's user namespace when
//! there is one, else over all the user's processes, so it is set to their count plus the
//! bound). The kernel exempts root from RLIMIT_NPROC, so for root the bound is a `pids`
//! cgroup made for the scenario, when a cgroup hierarchy with the pids controller is
//! writable; the cgroup also finds every process of the scenario at the end, wherever it was
//! re-parented.

use super::sys;

/// How many processes (threads count too) a scenario may have at once.
pub const NPROC: u64 = 1024;

/// The bound for this scenario: NPROC, or a smaller one the harness's own tests ask for with
/// `PROCLAB_NPROC` (the fork bomb of the adversarial suite proves the bound holds without
/// making a thousand processes on every `cargo test`).
pub fn bound() -> u64 {
    std::env::var("PROCLAB_NPROC")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| (16..=NPROC).contains(&n))
        .unwrap_or(NPROC)
}

pub fn no_core_files() {
    let mut lim = [0u64; 2];
    // SAFETY: get/setrlimit on a two-word buffer.
    unsafe {
        sys::getrlimit(sys::RLIMIT_CORE, &mut lim);
        lim[0] = 0;
        sys::setrlimit(sys::RLIMIT_CORE, &lim);
    }
}

/// Sets RLIMIT_NPROC for a non-root user; returns a description of the bound, or None for root.
pub fn nproc(in_own_user_ns: bool) -> Option<String> {
    // SAFETY: getuid has no effects.
    if unsafe { sys::getuid() } == 0 {
        return None;
    }
    let uid = unsafe { sys::getuid() };
    let base = if in_own_user_ns { 0 } else { tasks_of_user(uid) };
    let mut lim = [0u64; 2];
    // SAFETY: get/setrlimit on a two-word buffer.
    unsafe {
        sys::getrlimit(sys::RLIMIT_NPROC, &mut lim);
        let want = (base + bound()).min(lim[1]);
        lim = [want, want];
        if sys::setrlimit(sys::RLIMIT_NPROC, &lim) != 0 {
            return Some(format!("nproc unbounded ({})", sys::last_error("setrlimit")));
        }
    }
    Some(if in_own_user_ns {
        format!("nproc {} (RLIMIT_NPROC in the scenario's user namespace)", bound())
    } else {
        format!("nproc {n} (RLIMIT_NPROC = the user's {base} tasks + {n})", n = bound())
    })
}

/// Threads of every process whose real uid is `uid` (what RLIMIT_NPROC counts).
fn tasks_of_user(uid: u32) -> u64 {
    let mut n = 0;
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            if e.file_name().to_str().is_some_and(|s| s.bytes().all(|b| b.is_ascii_digit())) {
                if let Ok(s) = std::fs::read_to_string(e.path().join("status")) {
                    let field = |k: &str| {
                        s.lines()
                            .find_map(|l| l.strip_prefix(k))
                            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
                    };
                    if field("Uid:") == Some(u64::from(uid)) {
                        n += field("Threads:").unwrap_or(1);
                    }
                }
            }
        }
    }
    n
}

/// A `pids` cgroup holding the scenario.
pub struct Cgroup {
    pub dir: String,
    /// cgroup.procs of the cgroup we came from, to step out before removing ours.
    home: String,
}

/// Where the pids controller is: (mount point + our cgroup path, is it cgroup v2).
fn pids_home() -> Option<(String, bool)> {
    let cgroups = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    // v1: a hierarchy with the pids controller.
    for line in mountinfo.lines() {
        let (pre, post) = line.split_once(" - ")?;
        let mut post = post.split_whitespace();
        let fstype = post.next()?;
        let _src = post.next();
        let opts = post.next().unwrap_or("");
        let mnt = pre.split_whitespace().nth(4)?;
        if fstype == "cgroup" && opts.split(',').any(|o| o == "pids") {
            let path = cgroups.lines().find_map(|l| {
                let mut f = l.splitn(3, ':');
                let _id = f.next()?;
                let ctl = f.next()?;
                let p = f.next()?;
                ctl.split(',').any(|c| c == "pids").then(|| p.to_string())
            })?;
            return Some((format!("{mnt}{}", path.trim_end_matches('/')), false));
        }
    }
    // v2: only where our cgroup already hands pids down to its children.
    for line in mountinfo.lines() {
        let (pre, post) = line.split_once(" - ")?;
        if post.split_whitespace().next() == Some("cgroup2") {
            let mnt = pre.split_whitespace().nth(4)?;
            let path = cgroups.lines().find_map(|l| l.strip_prefix("0::"))?;
            let home = format!("{mnt}{}", path.trim_end_matches('/'));
            let sub = std::fs::read_to_string(format!("{home}/cgroup.subtree_control")).unwrap_or_default();
            if sub.split_whitespace().any(|c| c == "pids") {
                return Some((home, true));
            }
        }
    }
    None
}

/// Creates `proclab-<pid>-<starttime>-<pid namespace>` with pids.max = NPROC and moves the
/// caller into it.
/// Root only (others get RLIMIT_NPROC); None where no pids hierarchy is writable.
pub fn cgroup() -> Option<Cgroup> {
    // SAFETY: getuid/getpid have no effects.
    if unsafe { sys::getuid() } != 0 {
        return None;
    }
    let (home, _v2) = pids_home()?;
    clean_stale(&home);
    let me = unsafe { sys::getpid() };
    let dir = format!("{home}/proclab-{me}-{}-{}", starttime(me)?, pid_namespace()?);
    std::fs::create_dir(&dir).ok()?;
    let cg = Cgroup { dir, home: format!("{home}/cgroup.procs") };
    if sys::write_file(&format!("{}/pids.max", cg.dir), &bound().to_string()).is_err()
        || sys::write_file(&format!("{}/cgroup.procs", cg.dir), "0").is_err()
    {
        let _ = std::fs::remove_dir(&cg.dir);
        return None;
    }
    Some(cg)
}

impl Cgroup {
    pub fn procs(&self) -> Vec<sys::Pid> {
        procs_of(&self.dir)
    }
    /// Steps out and removes the (by now empty) cgroup; retries while the last processes die.
    pub fn remove(&self) {
        let _ = sys::write_file(&self.home, "0");
        for _ in 0..2000 {
            if std::fs::remove_dir(&self.dir).is_ok() || !std::path::Path::new(&self.dir).exists() {
                return;
            }
            for p in self.procs() {
                // SAFETY: kill by pid; these are the scenario's processes.
                unsafe { sys::kill(p, sys::SIGKILL) };
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
}

/// The pids of a cgroup as our PID namespace numbers them. A process outside our namespace
/// reads as 0 (never signalled: kill(0) would mean our own group).
fn procs_of(dir: &str) -> Vec<sys::Pid> {
    std::fs::read_to_string(format!("{dir}/cgroup.procs"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .filter(|&p: &sys::Pid| p > 0)
        .collect()
}

/// The inode of our PID namespace (`/proc/self/ns/pid` is `pid:[INODE]`). A pid and its start
/// time name a process only inside one namespace: whether the owner of a stale entry is dead
/// can be judged only by a process of the owner's namespace (runners in a container, in a
/// throw-away namespace and on the host share /tmp and the cgroups).
pub fn pid_namespace() -> Option<u64> {
    let link = std::fs::read_link("/proc/self/ns/pid").ok()?;
    let link = link.to_string_lossy();
    link.strip_prefix("pid:[")?.strip_suffix(']')?.parse().ok()
}

/// Field 22 of /proc/PID/stat: when the process started (with the pid, its identity).
pub fn starttime(pid: sys::Pid) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 1..].split_whitespace().nth(19)?.parse().ok()
}

/// Whether the process `pid` that started at `start` is still running.
pub fn alive(pid: sys::Pid, start: u64) -> bool {
    starttime(pid) == Some(start)
}

/// Cgroups of sandboxes of our PID namespace that died without cleaning up: empty them and
/// remove them. Another namespace's are left alone: their pids mean nothing here.
fn clean_stale(home: &str) {
    let Ok(dir) = std::fs::read_dir(home) else { return };
    let Some(ours) = pid_namespace() else { return };
    for e in dir.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix("proclab-") else { continue };
        let f: Vec<&str> = rest.split('-').collect();
        let [pid, start, ns] = f[..] else { continue };
        let (Ok(pid), Ok(start), Ok(ns)) = (pid.parse(), start.parse(), ns.parse::<u64>()) else { continue };
        if ns == ours && !alive(pid, start) {
            let path = format!("{home}/{name}");
            for p in procs_of(&path) {
                // SAFETY: kill by pid; left over from a dead sandbox's scenario.
                unsafe { sys::kill(p, sys::SIGKILL) };
            }
            let _ = std::fs::remove_dir(&path);
        }
    }
}

/// Pause directories (`proclab-<runner pid>.<starttime>.<pid namespace>-N` in the temp dir)
/// of runners of our PID namespace that died without cleaning up.
pub fn clean_stale_tmp() {
    let tmp = std::env::temp_dir();
    let Ok(dir) = std::fs::read_dir(&tmp) else { return };
    let Some(ours) = pid_namespace() else { return };
    for e in dir.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix("proclab-") else { continue };
        let Some((owner, _n)) = rest.rsplit_once('-') else { continue };
        let f: Vec<&str> = owner.split('.').collect();
        let [pid, start, ns] = f[..] else { continue };
        let (Ok(pid), Ok(start), Ok(ns)) = (pid.parse(), start.parse(), ns.parse::<u64>()) else { continue };
        if ns == ours && !alive(pid, start) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}
