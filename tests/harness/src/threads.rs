//! The threads of a process, one by one: their ids, names, and where each sleeps. `Proc::threads`
//! counts them; this says which they are — "the child of fork() has one thread, the one that
//! called fork()".

use crate::scenario::Scenario;

/// One thread of a process, as /proc/PID/task/TID shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Thread {
    /// Its id, numbered like the process's pid (in the scenario's PID namespace, when it has
    /// one). The main thread's id is the pid.
    pub tid: i32,
    /// Its name (`comm`): the program's name for the main thread unless renamed; a Rust
    /// thread started with `thread::Builder::name` carries that name (cut to 15 bytes).
    pub name: String,
    /// R running, S sleeping, D disk, T stopped, Z zombie …
    pub state: char,
    /// The kernel function it sleeps in (`futex_do_wait`: a lock or a condition variable; `do_wait`:
    /// waitpid); "" when running or unknown.
    pub wchan: String,
}

/// The threads of process `host_pid` (the runner's pid), main thread first, their ids numbered
/// like the process's own pid `pid` (so: in the scenario's numbering when `pid` is). `None`
/// when the process is gone.
pub fn threads_of(host_pid: i32, pid: i32) -> Option<Vec<Thread>> {
    let p = procfs::process::Process::new(host_pid).ok()?;
    // Which level of NSpid holds `pid`: the thread ids are read at the same level.
    let nspid = p.status().ok()?.nspid.unwrap_or_else(|| vec![host_pid]);
    let level = nspid.iter().rposition(|&n| n == pid)?;
    let mut out = Vec::new();
    for task in p.tasks().ok()?.flatten() {
        let Ok(stat) = task.stat() else { continue }; // exited meanwhile
        let tid = task
            .status()
            .ok()
            .and_then(|s| s.nspid)
            .and_then(|ids| ids.get(level).copied())
            .unwrap_or(if level == 0 { task.tid } else { 0 });
        let wchan = match stat.state {
            'S' | 'D' => std::fs::read_to_string(format!("/proc/{host_pid}/task/{}/wchan", task.tid))
                .ok()
                .filter(|w| w != "0")
                .unwrap_or_default(),
            _ => String::new(),
        };
        out.push(Thread { tid, name: stat.comm, state: stat.state, wchan });
    }
    out.sort_by_key(|t| (t.tid != pid, t.tid));
    Some(out)
}

impl Scenario {
    /// The threads of process `pid` of the scenario now, main thread first: empty when it is
    /// gone. A zombie shows its main thread alone, in state Z.
    pub fn threads(&self, pid: i32) -> Vec<Thread> {
        let Some(before) = self.proc(pid) else { return Vec::new() };
        let threads = threads_of(before.host_pid, pid).unwrap_or_default();
        // Keep it only if it was read from that same process (not a reused pid).
        match self.proc(pid) {
            Some(after) if after.starttime == before.starttime => threads,
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn a_named_thread_is_listed_with_its_id_name_and_sleep() {
        let (tid_tx, tid_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let t = std::thread::Builder::new()
            .name("probe-sleeper".into())
            .spawn(move || {
                tid_tx.send(nix::unistd::gettid().as_raw()).expect("send");
                let _ = stop_rx.recv();
            })
            .expect("spawn");
        let tid = tid_rx.recv().expect("the thread's id");
        let me = std::process::id() as i32;
        // Until it sleeps in recv (it may still be on its way there).
        let mut found = None;
        for _ in 0..2000 {
            found = threads_of(me, me).expect("our own threads").into_iter().find(|t| t.tid == tid);
            if found.as_ref().is_some_and(|t| t.state == 'S' && !t.wchan.is_empty()) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        stop_tx.send(()).expect("stop");
        t.join().expect("join");
        let found = found.expect("the thread is listed");
        assert_eq!(found.name, "probe-sleeper");
        assert_eq!(found.state, 'S', "{found:?}");
        assert!(found.wchan.starts_with("futex"), "a channel's recv sleeps on a futex: {found:?}");
        let all = threads_of(me, me).expect("our own threads");
        assert_eq!(all[0].tid, me, "the main thread comes first: {all:?}");
    }

    #[test]
    fn a_process_that_is_gone_has_no_threads_to_read() {
        let mut child = std::process::Command::new("true").spawn().expect("spawn true");
        let pid = child.id() as i32;
        child.wait().expect("wait");
        assert_eq!(threads_of(pid, pid), None);
    }
}
