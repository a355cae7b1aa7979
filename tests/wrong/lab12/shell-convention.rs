// wrong: exitcode is the shell's 128+N for a child killed by signal N, not Python's -N
// rejected-by: killed_children_have_a_signal_and_no_exit_code
//! Lab 12 — exit status: what the parent's wait really saw.
//!
//! Post 003 describes multiprocessing's `Process.exitcode`: None while the process runs, -N
//! if signal N ended it. The -N is Python's convention, not the kernel's. What the kernel
//! hands a waiting parent is one int, the *wait status*: either an exit code (0–255) or the
//! number of the signal that killed the child, plus one bit that says whether a core was
//! dumped. Rust's `ExitStatus` unpacks it with `code()`, `signal()` and `core_dumped()`;
//! `waitid` tells the same story in `si_code` (CLD_EXITED, CLD_KILLED, CLD_DUMPED).
//!
//! The parent starts one child per ending (the post's `Process(target=...).start()`), asks
//! whether it has ended while it still runs, signals some of them (`terminate()`, `kill()`),
//! waits for each and reports what its wait saw. The exercise: decode that status.
//!
//! Run the spec: `cargo test -p lab12`. Read `labs/12-exit-status/README.md` first.

use clap::{Parser, ValueEnum};
use nix::sys::resource::{Resource, getrlimit, setrlimit};
use nix::sys::signal::{Signal, kill};
use nix::unistd::{ForkResult, Pid, chdir, execv, fork, getpid};
use std::ffi::CString;
use std::fmt;
use std::io::Write;
use std::os::unix::fs::DirBuilderExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;

/// Start children that end in different ways and report what the parent's wait saw.
#[derive(Parser)]
struct Args {
    /// How the children end, one child each, in this order (all of them if none is given).
    #[arg(value_enum)]
    endings: Vec<How>,
}

/// How one child ends.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum How {
    /// `exit(3)`.
    Exit3,
    /// `exit(256)`.
    Exit256,
    /// The parent sends SIGTERM: Python's `p.terminate()`.
    Terminate,
    /// The parent sends SIGKILL: Python's `p.kill()`.
    Kill,
    /// `abort()` with the core limit at 0, like `ulimit -c 0`.
    Abort,
    /// `abort()` with the core limit raised, in a temporary directory: a real core dump.
    AbortCore,
    /// exec `sh -c 'kill -9 $$'`: the shell kills itself.
    ShKilled,
    /// exec `sh -c "sh -c 'kill -9 \$\$'; exit \$?"`: the shell's child is killed.
    ShChildKilled,
}

/// The script of `sh -c` for the shell that kills itself.
const SH_KILLED: &str = "kill -9 $$";
/// The script of `sh -c` for the shell whose child is killed, and which then exits.
const SH_CHILD_KILLED: &str = "sh -c 'kill -9 $$'; exit $?";

impl How {
    fn label(self) -> &'static str {
        match self {
            How::Exit3 => "exit(3)",
            How::Exit256 => "exit(256)",
            How::Terminate => "terminate: SIGTERM from the parent",
            How::Kill => "kill: SIGKILL from the parent",
            How::Abort => "abort() with ulimit -c 0",
            How::AbortCore => "abort() with the core limit raised",
            How::ShKilled => "sh -c 'kill -9 $$'",
            How::ShChildKilled => "sh -c \"sh -c 'kill -9 \\$\\$'; exit \\$?\"",
        }
    }

    /// The signal the parent sends this child, if it is the parent that ends it.
    fn sent_by_parent(self) -> Option<Signal> {
        match self {
            How::Terminate => Some(Signal::SIGTERM),
            How::Kill => Some(Signal::SIGKILL),
            _ => None,
        }
    }
}

// ANCHOR: ending
/// How a child ended, as its parent's wait saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ending {
    /// It called `exit(code)` or returned from `main`.
    Exited(i32),
    /// Signal number `signal` killed it; `core_dumped`: the kernel wrote a core dump.
    Killed { signal: i32, core_dumped: bool },
}

impl fmt::Display for Ending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Ending::Exited(code) => write!(f, "exited with status {code}"),
            Ending::Killed { signal, core_dumped } => {
                match Signal::try_from(signal) {
                    Ok(s) => write!(f, "killed by {}", s.as_str())?,
                    Err(_) => write!(f, "killed by signal {signal}")?,
                }
                if core_dumped {
                    write!(f, ", core dumped")?;
                }
                Ok(())
            }
        }
    }
}
// ANCHOR_END: ending

// ANCHOR: decode
/// What the parent's wait saw, decoded.
fn decode(status: ExitStatus) -> Ending {
    match status.signal() {
        Some(signal) => Ending::Killed { signal, core_dumped: status.core_dumped() },
        None => Ending::Exited(status.code().expect("not killed by a signal, so it exited")),
    }
}

/// Python's `Process.exitcode` (and `Popen.returncode`): None while the child runs, its exit
/// code if it exited, -N if signal N killed it.
fn exitcode(ending: Option<&Ending>) -> Option<i32> {
    match ending? {
        Ending::Exited(code) => Some(*code),
        Ending::Killed { signal, .. } => Some(128 + signal),
    }
}
// ANCHOR_END: decode

/// Python's way of printing an `Option<int>`.
fn py(code: Option<i32>) -> String {
    code.map_or("None".into(), |c| c.to_string())
}

// ANCHOR: child
/// The child's whole life (the post's `target`): it ends the way `how` says. Never returns.
fn child(how: How) -> ! {
    labkit::role("child");
    if how.sent_by_parent().is_some() {
        // The post's `while True: sleep(1)`: work until the parent's signal ends it.
        loop {
            nix::unistd::pause();
        }
    }
    labkit::pause("the child runs; its parent has not waited yet");
    match how {
        How::Exit3 => std::process::exit(3),
        How::Exit256 => std::process::exit(256),
        How::Abort => {
            // `ulimit -c 0`: no core file (the hard limit stays as it was).
            let (_, hard) = getrlimit(Resource::RLIMIT_CORE).expect("getrlimit");
            setrlimit(Resource::RLIMIT_CORE, 0, hard).expect("setrlimit");
            std::process::abort()
        }
        How::AbortCore => {
            // As big a core as the hard limit allows — written into a directory of its own
            // (core_pattern `core` means "./core"), never into the working tree.
            let (_, hard) = getrlimit(Resource::RLIMIT_CORE).expect("getrlimit");
            setrlimit(Resource::RLIMIT_CORE, hard, hard).expect("setrlimit");
            let dir = core_dir(getpid());
            // Only a dead process with my pid can have left one: it is stale.
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::DirBuilder::new().mode(0o700).create(&dir).expect("create the core directory");
            chdir(&dir).expect("chdir");
            std::process::abort()
        }
        How::ShKilled => exec_sh(SH_KILLED),
        How::ShChildKilled => exec_sh(SH_CHILD_KILLED),
        How::Terminate | How::Kill => unreachable!("the parent signals these"),
    }
}

/// Becomes `sh -c SCRIPT` (same pid: the parent's wait will see the shell's ending).
fn exec_sh(script: &str) -> ! {
    let script = CString::new(script).expect("no NUL in the script");
    let Err(e) = execv(c"/bin/sh", &[c"sh", c"-c", script.as_c_str()]);
    eprintln!("exec /bin/sh: {e}");
    std::process::exit(127)
}
// ANCHOR_END: child

// ANCHOR: wait
/// `waitpid(child, WNOHANG)`: `None` while the child runs.
fn poll(child: Pid) -> Option<ExitStatus> {
    let mut raw = 0;
    // SAFETY: waitpid writes the wait status into `raw`.
    match unsafe { libc::waitpid(child.as_raw(), &mut raw, libc::WNOHANG) } {
        0 => None,
        pid if pid == child.as_raw() => Some(ExitStatus::from_raw(raw)),
        _ => panic!("waitpid: {}", std::io::Error::last_os_error()),
    }
}

/// `waitid(P_PID, child, WEXITED | WNOWAIT)`: how the child ended in the kernel's words,
/// `si_code` and `si_status` — without reaping it (WNOWAIT), so `reap` still can.
fn peek(child: Pid) -> (i32, i32) {
    // SAFETY: an all-zero siginfo_t is valid; waitid fills it in.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: waitid writes into `info`.
    let rc = unsafe {
        libc::waitid(libc::P_PID, child.as_raw() as libc::id_t, &mut info, libc::WEXITED | libc::WNOWAIT)
    };
    assert_eq!(rc, 0, "waitid: {}", std::io::Error::last_os_error());
    // SAFETY: waitid filled in a SIGCHLD siginfo, whose si_status is set.
    (info.si_code, unsafe { info.si_status() })
}

/// `waitpid(child, 0)`: reaps the child and returns its wait status as Rust's `ExitStatus`
/// (the same int that `Command`'s `wait()` wraps).
fn reap(child: Pid) -> ExitStatus {
    let mut raw = 0;
    // SAFETY: waitpid writes the wait status into `raw`.
    let pid = unsafe { libc::waitpid(child.as_raw(), &mut raw, 0) };
    assert_eq!(pid, child.as_raw(), "waitpid: {}", std::io::Error::last_os_error());
    ExitStatus::from_raw(raw)
}

fn si_code_name(si_code: i32) -> &'static str {
    match si_code {
        libc::CLD_EXITED => "CLD_EXITED",
        libc::CLD_KILLED => "CLD_KILLED",
        libc::CLD_DUMPED => "CLD_DUMPED",
        _ => "another si_code",
    }
}
// ANCHOR_END: wait

/// Where the core of a dumping child may go: a private directory named after it, outside the
/// working tree. The child makes it; the parent removes it once it has reaped the child.
fn core_dir(child: Pid) -> PathBuf {
    // A pid names a process only within its PID namespace (the spec runs each scenario in one
    // of its own, where the first child is always 3): the namespace is part of the name.
    let ns = std::fs::read_link("/proc/self/ns/pid").map(|l| l.to_string_lossy().into_owned()).unwrap_or_default();
    let ns: String = ns.chars().filter(char::is_ascii_digit).collect();
    std::env::temp_dir().join(format!("lab12-core-{ns}-{child}"))
}

/// Says what the dumping child left in its directory, then removes the directory.
fn clean_up_core_dir(dir: &Path) {
    let found: Vec<(String, u64)> = std::fs::read_dir(dir)
        .expect("read the core directory")
        .flatten()
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.metadata().map_or(0, |m| m.len())))
        .collect();
    match found.first() {
        Some((name, len)) => {
            println!("   core file {}/{name}: {len} bytes (removed)", dir.display());
            labkit::note("core_file", &format!("{name} {len}"));
        }
        None => {
            let pattern = std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap_or_default();
            println!("   no core file in {}: core_pattern is {:?}", dir.display(), pattern.trim());
            labkit::note("core_file", "none");
        }
    }
    std::fs::remove_dir_all(dir).expect("remove the core directory");
    labkit::note("core_dir_removed", &dir.display().to_string());
}

fn main() {
    let args: Args = labkit::args();
    labkit::role("parent");
    let endings = if args.endings.is_empty() { How::value_variants().to_vec() } else { args.endings };
    for how in endings {
        // ANCHOR: start
        std::io::stdout().flush().expect("flush stdout");
        // SAFETY: one thread; the child runs `child()`, which never returns.
        let pid = match unsafe { fork() }.expect("fork") {
            ForkResult::Child => child(how),
            ForkResult::Parent { child } => child,
        };
        // ANCHOR_END: start

        // ANCHOR: running
        let running = poll(pid).map(decode);
        let code = exitcode(running.as_ref());
        println!("child {pid} [{}] is running: exitcode {}", how.label(), py(code));
        labkit::note("exitcode_running", &py(code));
        if let Some(sig) = how.sent_by_parent() {
            labkit::pause("the parent is about to signal its child");
            kill(pid, sig).expect("kill");
        }
        // ANCHOR_END: running

        // ANCHOR: report
        let (si_code, si_status) = peek(pid);
        let status = reap(pid);
        let ending = decode(status);
        let code = exitcode(Some(&ending));
        println!(
            "child {pid} [{}]: wait status {:#06x}: {ending}; exitcode {}",
            how.label(),
            status.into_raw(),
            py(code)
        );
        println!("   waitid said {} with si_status {si_status}", si_code_name(si_code));
        labkit::note_num("status", status.into_raw());
        labkit::note("si_code", si_code_name(si_code));
        labkit::note_num("si_status", si_status);
        labkit::note("ending", &ending.to_string());
        labkit::note("exitcode", &py(code));
        // ANCHOR_END: report

        if how == How::AbortCore {
            clean_up_core_dir(&core_dir(pid));
        }
    }
}
