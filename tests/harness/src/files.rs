//! Open files: which fds a process holds, and on what. "Who still holds this pipe?" — a
//! pipe's reader sees EOF only when every copy of its write end is closed, and its writer gets
//! SIGPIPE only when every copy of its read end is.

use crate::scenario::Scenario;
use crate::tree::read_proc;

/// How an fd was opened: the access mode (`O_ACCMODE`) of its open file description.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
    ReadWrite,
}

/// One open fd of a process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenFile {
    pub fd: i32,
    /// What it refers to, as /proc/PID/fd shows it: `pipe:[4711]`, `/dev/null`, `socket:[…]`.
    /// Both ends of one pipe show the same `pipe:[inode]`; `access` tells them apart.
    pub target: String,
    pub access: Access,
}

impl OpenFile {
    /// Opened for reading (the read end, for a pipe).
    pub fn reads(&self) -> bool {
        matches!(self.access, Access::Read | Access::ReadWrite)
    }
    /// Opened for writing (the write end, for a pipe).
    pub fn writes(&self) -> bool {
        matches!(self.access, Access::Write | Access::ReadWrite)
    }
}

/// The access mode in the `flags:` line of /proc/PID/fdinfo/FD (octal, as the kernel prints it).
fn access_of(fdinfo: &str) -> Option<Access> {
    let flags = fdinfo.lines().find_map(|l| l.strip_prefix("flags:"))?.trim();
    match u32::from_str_radix(flags, 8).ok()? & libc::O_ACCMODE as u32 {
        m if m == libc::O_RDONLY as u32 => Some(Access::Read),
        m if m == libc::O_WRONLY as u32 => Some(Access::Write),
        _ => Some(Access::ReadWrite),
    }
}

/// The open files of process `host_pid` (the runner's numbering), by fd. `None` when its fds
/// cannot be read: it is gone, or a zombie (which holds no files any more: its exit closed
/// them all).
pub fn open_files(host_pid: i32) -> Option<Vec<OpenFile>> {
    let dir = std::fs::read_dir(format!("/proc/{host_pid}/fd")).ok()?;
    let mut files: Vec<OpenFile> = dir
        .flatten()
        .filter_map(|e| {
            let fd: i32 = e.file_name().to_str()?.parse().ok()?;
            let target = std::fs::read_link(e.path()).ok()?.to_string_lossy().into_owned();
            let info = std::fs::read_to_string(format!("/proc/{host_pid}/fdinfo/{fd}")).ok()?;
            Some(OpenFile { fd, target, access: access_of(&info)? })
        })
        .collect();
    files.sort_by_key(|f| f.fd);
    Some(files)
}

impl Scenario {
    /// The open files of process `pid` of the scenario now, by fd: empty for a zombie or a
    /// process that is gone.
    pub fn open_files(&self, pid: i32) -> Vec<OpenFile> {
        let Some(before) = self.proc(pid) else { return Vec::new() };
        let files = open_files(before.host_pid).unwrap_or_default();
        // Keep it only if it was read from that same process (not a reused pid).
        match self.proc(pid) {
            Some(after) if after.starttime == before.starttime => files,
            _ => Vec::new(),
        }
    }

    /// Every process of the scenario that holds `target` open now (e.g. `pipe:[4711]`), with
    /// the fds it holds it by: "every copy of the read end" is every holder that `reads()`.
    pub fn holders(&self, target: &str) -> Vec<(i32, OpenFile)> {
        let mut out = Vec::new();
        for p in self.snapshot().lab_procs() {
            let files = open_files(p.host_pid).unwrap_or_default();
            if read_proc(p.host_pid).is_none_or(|again| again.starttime != p.starttime) {
                continue; // gone, or its pid reused, while we read
            }
            out.extend(files.into_iter().filter(|f| f.target == target).map(|f| (p.pid, f)));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn access_modes_come_from_the_octal_flags() {
        assert_eq!(access_of("pos:\t0\nflags:\t0100000\nmnt_id:\t15\n"), Some(Access::Read));
        assert_eq!(access_of("pos:\t0\nflags:\t02000001\n"), Some(Access::Write));
        assert_eq!(access_of("flags:\t0100002\n"), Some(Access::ReadWrite));
        assert_eq!(access_of("pos:\t0\n"), None);
    }

    #[test]
    fn both_ends_of_a_pipe_show_one_target_and_their_own_access() {
        let (r, w) = nix::unistd::pipe().expect("pipe");
        let me = std::process::id() as i32;
        let files = open_files(me).expect("our own fds are readable");
        let find = |fd: i32| files.iter().find(|f| f.fd == fd).cloned().expect("the fd is listed");
        let (rf, wf) = (find(r.as_raw_fd()), find(w.as_raw_fd()));
        assert!(rf.target.starts_with("pipe:["), "{rf:?}");
        assert_eq!(rf.target, wf.target, "one pipe, one inode");
        assert!(rf.reads() && !rf.writes(), "{rf:?}");
        assert!(wf.writes() && !wf.reads(), "{wf:?}");
        drop(r);
        let files = open_files(me).expect("our own fds are readable");
        assert!(files.iter().all(|f| f.fd != rf.fd || f.target != rf.target), "a closed fd is not listed");
        drop(w);
    }

    #[test]
    fn a_process_that_is_gone_has_no_files_to_read() {
        let mut child = std::process::Command::new("true").spawn().expect("spawn true");
        let pid = child.id() as i32;
        child.wait().expect("wait");
        assert_eq!(open_files(pid), None);
    }
}
