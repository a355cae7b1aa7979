//! The seccomp layer: the floor that works on every kernel the kit supports (≥ 5.5).
//!
//! A filter on the lab sends every signal-sending system call — kill, tkill, tgkill,
//! rt_sigqueueinfo, rt_tgsigqueueinfo, pidfd_send_signal, and fcntl(F_SETOWN), which makes the
//! kernel signal a pid later — to the sandbox as a *user notification*. The sandbox looks at the
//! target and lets the call go on only if every process it would reach is a descendant of the
//! sandbox (an allow list: the scenario, nothing else). System calls of any other ABI (32-bit
//! `int 0x80`, x32) fail with ENOSYS, so they cannot go around the filter; ptrace and the calls
//! that read or write another process's memory or files fail with EPERM.
//!
//! What stays open (said by `cargo lab doctor`): the target of an allowed call is checked, then
//! the kernel runs the call — a pid that dies and is reused by an outside process in those
//! microseconds, or a pidfd swapped by another thread of the lab in between, would be hit.
//! Landlock and the PID namespace have no such window.

use super::sys::{self, Pid};

#[repr(C)]
#[derive(Clone, Copy)]
struct SockFilter {
    code: u16,
    jt: u8,
    jf: u8,
    k: u32,
}

#[repr(C)]
struct SockFprog {
    len: u16,
    filter: *const SockFilter,
}

#[cfg(target_arch = "x86_64")]
mod nr {
    pub const ARCH: u32 = 0xc000_003e;
    pub const X32_BIT: Option<u32> = Some(0x4000_0000);
    pub const KILL: u32 = 62;
    pub const TKILL: u32 = 200;
    pub const TGKILL: u32 = 234;
    pub const RT_SIGQUEUEINFO: u32 = 129;
    pub const RT_TGSIGQUEUEINFO: u32 = 297;
    pub const FCNTL: u32 = 72;
    pub const IOCTL: u32 = 16;
    pub const PTRACE: u32 = 101;
    pub const PROCESS_VM_READV: u32 = 310;
    pub const PROCESS_VM_WRITEV: u32 = 311;
}
#[cfg(target_arch = "aarch64")]
mod nr {
    pub const ARCH: u32 = 0xc000_00b7;
    pub const X32_BIT: Option<u32> = None;
    pub const KILL: u32 = 129;
    pub const TKILL: u32 = 130;
    pub const TGKILL: u32 = 131;
    pub const RT_SIGQUEUEINFO: u32 = 138;
    pub const RT_TGSIGQUEUEINFO: u32 = 240;
    pub const FCNTL: u32 = 25;
    pub const IOCTL: u32 = 29;
    pub const PTRACE: u32 = 117;
    pub const PROCESS_VM_READV: u32 = 270;
    pub const PROCESS_VM_WRITEV: u32 = 271;
}
// The same number on every architecture (the unified table).
const PIDFD_SEND_SIGNAL: u32 = 424;
const PIDFD_GETFD: u32 = 438;
const PROCESS_MADVISE: u32 = 440;

const F_SETOWN: u32 = 8;
const F_SETOWN_EX: u32 = 15;
const FIOSETOWN: u32 = 0x8901;
const SIOCSPGRP: u32 = 0x8902;
const PIDFD_SIGNAL_PROCESS_GROUP: u64 = 4;

const RET_ALLOW: u32 = 0x7fff_0000;
const RET_NOTIFY: u32 = 0x7fc0_0000;
const RET_ERRNO: u32 = 0x0005_0000;

const SECCOMP_SET_MODE_FILTER: u64 = 1;
const SECCOMP_FILTER_FLAG_NEW_LISTENER: u64 = 1 << 3;
const NOTIF_RECV: u64 = 0xc050_2100;
const NOTIF_SEND: u64 = 0xc018_2101;
const NOTIF_ID_VALID: u64 = 0x4008_2102;
const USER_NOTIF_FLAG_CONTINUE: u32 = 1;

/// Where a conditional jump goes.
#[derive(Clone, Copy, PartialEq)]
enum To {
    Next,
    Notify,
    Eperm,
    Enosys,
    Label(usize),
}

/// The filter, assembled: every `To` becomes a relative jump.
fn program() -> Vec<SockFilter> {
    const LD: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
    const JEQ: u16 = 0x15;
    const JSET: u16 = 0x45;
    const RET: u16 = 0x06;
    // (code, k, jump-if-true, jump-if-false, label defined here)
    let mut code: Vec<(u16, u32, To, To, Option<usize>)> = Vec::new();
    const FCNTL_BLOCK: usize = 1;
    const IOCTL_BLOCK: usize = 2;
    code.push((LD, 4, To::Next, To::Next, None)); // arch
    code.push((JEQ, nr::ARCH, To::Next, To::Enosys, None));
    code.push((LD, 0, To::Next, To::Next, None)); // syscall number
    if let Some(bit) = nr::X32_BIT {
        code.push((JSET, bit, To::Enosys, To::Next, None));
    }
    for n in [nr::KILL, nr::TKILL, nr::TGKILL, nr::RT_SIGQUEUEINFO, nr::RT_TGSIGQUEUEINFO, PIDFD_SEND_SIGNAL]
    {
        code.push((JEQ, n, To::Notify, To::Next, None));
    }
    for n in [nr::PTRACE, nr::PROCESS_VM_READV, nr::PROCESS_VM_WRITEV, PIDFD_GETFD, PROCESS_MADVISE] {
        code.push((JEQ, n, To::Eperm, To::Next, None));
    }
    code.push((JEQ, nr::FCNTL, To::Label(FCNTL_BLOCK), To::Next, None));
    code.push((JEQ, nr::IOCTL, To::Label(IOCTL_BLOCK), To::Next, None));
    code.push((RET, RET_ALLOW, To::Next, To::Next, None));
    // fcntl(fd, cmd, arg): the low half of args[1] (offset 16 + 8).
    code.push((LD, 24, To::Next, To::Next, Some(FCNTL_BLOCK)));
    code.push((JEQ, F_SETOWN, To::Notify, To::Next, None));
    code.push((JEQ, F_SETOWN_EX, To::Eperm, To::Next, None));
    code.push((RET, RET_ALLOW, To::Next, To::Next, None));
    // ioctl(fd, request, argp): owners set through a pointer are refused.
    code.push((LD, 24, To::Next, To::Next, Some(IOCTL_BLOCK)));
    code.push((JEQ, FIOSETOWN, To::Eperm, To::Next, None));
    code.push((JEQ, SIOCSPGRP, To::Eperm, To::Next, None));
    code.push((RET, RET_ALLOW, To::Next, To::Next, None));
    let notify = code.len();
    code.push((RET, RET_NOTIFY, To::Next, To::Next, None));
    let eperm = code.len();
    code.push((RET, RET_ERRNO | sys::EPERM as u32, To::Next, To::Next, None));
    let enosys = code.len();
    code.push((RET, RET_ERRNO | sys::ENOSYS as u32, To::Next, To::Next, None));
    let label_at = |l: usize| code.iter().position(|c| c.4 == Some(l)).expect("label");
    let offset = |from: usize, to: To| -> u8 {
        let target = match to {
            To::Next => return 0,
            To::Notify => notify,
            To::Eperm => eperm,
            To::Enosys => enosys,
            To::Label(l) => label_at(l),
        };
        u8::try_from(target - from - 1).expect("jump fits in a byte")
    };
    code.iter()
        .enumerate()
        .map(|(i, &(c, k, jt, jf, _))| SockFilter { code: c, jt: offset(i, jt), jf: offset(i, jf), k })
        .collect()
}

/// Installs the filter on the calling process and returns the listener fd (close-on-exec).
/// Called between fork and exec: no allocation.
fn install(prog: &[SockFilter]) -> i32 {
    let fprog = SockFprog { len: prog.len() as u16, filter: prog.as_ptr() };
    // SAFETY: plain system calls on a filter that lives on the caller's stack frame.
    unsafe {
        if sys::prctl(sys::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
            return -1;
        }
        sys::syscall(
            sys::nr::SECCOMP,
            SECCOMP_SET_MODE_FILTER,
            SECCOMP_FILTER_FLAG_NEW_LISTENER,
            &fprog as *const SockFprog,
        ) as i32
    }
}

/// The filter, built before fork so the child only has to install it.
pub struct Filter(Vec<SockFilter>);

impl Filter {
    pub fn new() -> Filter {
        Filter(program())
    }
    pub fn install(&self) -> i32 {
        install(&self.0)
    }
}

#[repr(C)]
#[derive(Default)]
struct Notif {
    id: u64,
    pid: u32,
    flags: u32,
    nr: i32,
    arch: u32,
    ip: u64,
    args: [u64; 6],
}

#[repr(C)]
struct Resp {
    id: u64,
    val: i64,
    error: i32,
    flags: u32,
}

/// What to do with one notified call.
#[derive(Debug, PartialEq)]
enum Verdict {
    Continue,
    Refuse(String),
}

/// Answers notifications until the lab's last process is gone (the listener then reports an
/// error). Every refusal is written on the trace; with `PROCLAB_FIGURE` set (`cargo lab
/// figures`), so is every signal the lab sends: `signal <sender> <sig> pid|group <id> <call>`.
pub fn supervise(listener: i32, me: Pid) {
    let figure = std::env::var_os("PROCLAB_FIGURE").is_some_and(|v| !v.is_empty());
    loop {
        let mut req = Notif::default();
        // SAFETY: RECV fills a zeroed seccomp_notif of the size its number encodes (80 bytes).
        if unsafe { sys::ioctl(listener, NOTIF_RECV, &mut req as *mut Notif) } != 0 {
            match sys::errno() {
                sys::EINTR | sys::ENOENT => continue,
                _ => return,
            }
        }
        let verdict = judge(&req, me);
        // The caller may have died (and its pid been reused) while we read /proc about it.
        // SAFETY: ID_VALID reads a u64.
        if unsafe { sys::ioctl(listener, NOTIF_ID_VALID, &req.id as *const u64) } != 0 {
            continue;
        }
        let resp = match &verdict {
            Verdict::Continue => {
                if let Some(what) = figure.then(|| sent(&req)).flatten() {
                    super::trace(&what);
                }
                Resp { id: req.id, val: 0, error: 0, flags: USER_NOTIF_FLAG_CONTINUE }
            }
            Verdict::Refuse(why) => {
                super::trace(&format!("refused {} {why}", req.pid));
                Resp { id: req.id, val: 0, error: -sys::EPERM, flags: 0 }
            }
        };
        // SAFETY: SEND reads a seccomp_notif_resp.
        unsafe { sys::ioctl(listener, NOTIF_SEND, &resp as *const Resp) };
    }
}

fn judge(req: &Notif, me: Pid) -> Verdict {
    let a = |i: usize| req.args[i];
    let caller = req.pid as Pid;
    let n = req.nr as u32;
    match n {
        _ if n == nr::KILL => target_of_kill(a(0) as i32, caller, me, "kill"),
        _ if n == nr::TKILL => process(thread_group(a(0) as Pid), me, "tkill"),
        _ if n == nr::TGKILL || n == nr::RT_TGSIGQUEUEINFO => match process(a(0) as Pid, me, "tgkill") {
            Verdict::Continue => process(thread_group(a(1) as Pid), me, "tgkill"),
            refused => refused,
        },
        _ if n == nr::RT_SIGQUEUEINFO => process(a(0) as Pid, me, "rt_sigqueueinfo"),
        PIDFD_SEND_SIGNAL => match pidfd_target(caller, a(0) as i32) {
            None => Verdict::Continue, // not a pidfd: the kernel says EBADF
            Some(t) if a(3) & PIDFD_SIGNAL_PROCESS_GROUP != 0 => {
                group(pgid_of(t).unwrap_or(0), me, "pidfd_send_signal to a group")
            }
            Some(t) => process(t, me, "pidfd_send_signal"),
        },
        _ if n == nr::FCNTL => match a(2) as i32 {
            0 => Verdict::Continue,
            p if p > 0 => process(p, me, "fcntl(F_SETOWN)"),
            g => group(-g, me, "fcntl(F_SETOWN)"),
        },
        _ => Verdict::Continue,
    }
}

/// The signal an allowed call sends, as a trace record (`None` for signal 0, a mere probe, and
/// for fcntl, which sends nothing now).
fn sent(req: &Notif) -> Option<String> {
    let a = |i: usize| req.args[i];
    let caller = req.pid as Pid;
    let n = req.nr as u32;
    let (sig, target, call) = match n {
        _ if n == nr::KILL => {
            let pid = a(0) as i32;
            let target = match pid {
                // SAFETY: getpgid has no memory effects.
                0 => format!("group {}", unsafe { sys::getpgid(caller) }),
                p if p > 0 => format!("pid {p}"),
                g => format!("group {}", -g),
            };
            (a(1), target, "kill")
        }
        _ if n == nr::TKILL => (a(1), format!("pid {}", thread_group(a(0) as Pid)), "tkill"),
        _ if n == nr::TGKILL => (a(2), format!("pid {}", a(0) as i32), "tgkill"),
        _ if n == nr::RT_TGSIGQUEUEINFO => (a(2), format!("pid {}", a(0) as i32), "rt_tgsigqueueinfo"),
        _ if n == nr::RT_SIGQUEUEINFO => (a(1), format!("pid {}", a(0) as i32), "rt_sigqueueinfo"),
        PIDFD_SEND_SIGNAL => {
            let t = pidfd_target(caller, a(0) as i32)?;
            let target = if a(3) & PIDFD_SIGNAL_PROCESS_GROUP != 0 {
                format!("group {}", pgid_of(t)?)
            } else {
                format!("pid {t}")
            };
            (a(1), target, "pidfd_send_signal")
        }
        _ => return None,
    };
    let sig = sig as i32;
    (sig > 0).then(|| format!("signal {caller} {sig} {target} {call}"))
}

/// kill(2)'s first argument: a pid, 0 (my group), -1 (everyone), -pgid.
fn target_of_kill(pid: Pid, caller: Pid, me: Pid, call: &str) -> Verdict {
    match pid {
        -1 => Verdict::Refuse(format!("{call}(-1): a broadcast to every process")),
        // SAFETY: getpgid has no memory effects.
        0 => group(unsafe { sys::getpgid(caller) }, me, call),
        p if p > 0 => process(p, me, call),
        g => group(-g, me, call),
    }
}

fn process(pid: Pid, me: Pid, call: &str) -> Verdict {
    if pid == me || pid == 1 {
        return Verdict::Refuse(format!("{call}({pid}): the sandbox or init"));
    }
    match ancestry(pid, me) {
        Some(true) | None => Verdict::Continue, // ours, or no such process (the kernel says ESRCH)
        Some(false) => Verdict::Refuse(format!("{call}({pid}): not a process of this scenario")),
    }
}

fn group(pgid: Pid, me: Pid, call: &str) -> Verdict {
    if pgid <= 1 || pgid == me {
        return Verdict::Refuse(format!("{call}(-{pgid}): reserved or the sandbox's group"));
    }
    for member in members_of_group(pgid) {
        if member == me || ancestry(member, me) == Some(false) {
            return Verdict::Refuse(format!("{call}(-{pgid}): member {member} is not in this scenario"));
        }
    }
    Verdict::Continue
}

/// Whether `pid` is below `me` in the process tree; None if it does not exist.
pub fn ancestry(pid: Pid, me: Pid) -> Option<bool> {
    let (mut ppid, _) = stat_of(pid)?;
    for _ in 0..4096 {
        if ppid == me {
            return Some(true);
        }
        if ppid <= 1 {
            return Some(false);
        }
        // An ancestor that vanished while we walked: not provably ours.
        let Some((next, _)) = stat_of(ppid) else { return Some(false) };
        ppid = next;
    }
    Some(false)
}

/// (ppid, pgid) from /proc/PID/stat.
fn stat_of(pid: Pid) -> Option<(Pid, Pid)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut f = rest.split_whitespace();
    let _state = f.next();
    let ppid = f.next()?.parse().ok()?;
    let pgid = f.next()?.parse().ok()?;
    Some((ppid, pgid))
}

fn pgid_of(pid: Pid) -> Option<Pid> {
    stat_of(pid).map(|(_, g)| g)
}

/// The process a thread id belongs to (tkill/tgkill name threads).
fn thread_group(tid: Pid) -> Pid {
    std::fs::read_to_string(format!("/proc/{tid}/status"))
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("Tgid:").and_then(|v| v.trim().parse().ok())))
        .unwrap_or(tid)
}

fn members_of_group(pgid: Pid) -> Vec<Pid> {
    let mut out = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            if let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<Pid>().ok()) {
                if pgid_of(pid) == Some(pgid) {
                    out.push(pid);
                }
            }
        }
    }
    out
}

/// The process a pidfd (or an open /proc/PID directory) of `caller` refers to.
fn pidfd_target(caller: Pid, fd: i32) -> Option<Pid> {
    let link = std::fs::read_link(format!("/proc/{caller}/fd/{fd}")).ok()?;
    let link = link.to_string_lossy();
    if link.starts_with("anon_inode:[pidfd]") || link.starts_with("pidfd:") {
        let info = std::fs::read_to_string(format!("/proc/{caller}/fdinfo/{fd}")).ok()?;
        let pid: Pid =
            info.lines().find_map(|l| l.strip_prefix("Pid:").and_then(|v| v.trim().parse().ok()))?;
        return (pid > 0).then_some(pid);
    }
    let n = link.strip_prefix("/proc/")?;
    n.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_jump_lands_inside_the_program() {
        let p = program();
        for (i, insn) in p.iter().enumerate() {
            if insn.code & 0x07 == 0x05 {
                assert!(i + 1 + (insn.jt as usize) < p.len());
                assert!(i + 1 + (insn.jf as usize) < p.len());
            }
        }
        assert_eq!(p.last().map(|i| i.k), Some(RET_ERRNO | sys::ENOSYS as u32));
    }

    #[test]
    fn broadcasts_init_and_the_sandbox_are_refused() {
        let me = std::process::id() as Pid;
        assert!(matches!(target_of_kill(-1, me, me, "kill"), Verdict::Refuse(_)));
        assert!(matches!(process(1, me, "kill"), Verdict::Refuse(_)));
        assert!(matches!(process(me, me, "kill"), Verdict::Refuse(_)));
        assert!(matches!(group(1, me, "kill"), Verdict::Refuse(_)));
        // Our parent is not below us.
        assert!(matches!(
            process(std::os::unix::process::parent_id() as Pid, me, "kill"),
            Verdict::Refuse(_)
        ));
    }

    #[test]
    fn a_child_is_below_us_and_our_parent_is_not() {
        let mut child = std::process::Command::new("sleep").arg("5").spawn().unwrap();
        let me = std::process::id() as Pid;
        let kid = child.id() as Pid;
        assert_eq!(ancestry(kid, me), Some(true));
        assert_eq!(process(kid, me, "kill"), Verdict::Continue);
        assert_eq!(ancestry(std::os::unix::process::parent_id() as Pid, me), Some(false));
        let _ = child.kill();
        let _ = child.wait();
    }
}
