//! Spec of lab 12 — exit status. Judges labs/12-exit-status (`cargo test -p lab12`) and
//! solutions/12-exit-status (`cargo test -p sol12`).
//!
//! Each scenario starts the lab with one ending: a parent and one child that ends that way.
//! The truth is what the kernel says: `waitid`'s `si_code` and `si_status`, which the lab's
//! plumbing reads with WNOWAIT just before the parent reaps, and the raw wait status itself.
//! The lesson is what the parent makes of that status: `decode` (the `ending` note) and
//! Python's `exitcode`.
//!
//! Core dumps depend on the machine (RLIMIT_CORE, /proc/sys/kernel/core_pattern). The spec
//! asserts what is true everywhere — SIGABRT, and a core bit that agrees with `si_code` — and
//! asserts a real core file only where the kernel itself writes one into the dumping
//! process's directory; elsewhere it reports what it saw.

use harness::prelude::*;
use nix::sys::resource::{RLIM_INFINITY, Resource, getrlimit};
use rstest::rstest;
use std::path::Path;

const CHILD_RUNS: &str = "the child runs; its parent has not waited yet";
const PARENT_SIGNALS: &str = "the parent is about to signal its child";

/// What the child does once it goes on, for the narration.
fn story(how: &str) -> &'static str {
    match how {
        "exit3" => "the child goes on: exit(3)",
        "exit256" => "the child goes on: exit(256)",
        "abort" => "the child goes on: soft RLIMIT_CORE to 0 (ulimit -c 0), then abort()",
        "abort-core" => {
            "the child goes on: soft RLIMIT_CORE up to the hard limit, into a directory of its own, abort()"
        }
        "sh-killed" => "the child goes on: it execs sh -c 'kill -9 $$', a shell that kills itself",
        "sh-child-killed" => {
            "the child goes on: it execs sh -c \"sh -c 'kill -9 \\$\\$'; exit \\$?\": the shell's own child is killed, then the shell exits with $?"
        }
        _ => "the child goes on and ends",
    }
}

/// How the kernel said the child ended (waitid's `si_code`, `si_status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kernel {
    /// CLD_EXITED with this exit status.
    Exited(i32),
    /// CLD_KILLED (no core) or CLD_DUMPED (core dumped) by this signal.
    Killed(Signal, bool),
}

impl Kernel {
    fn from_siginfo(si_code: &str, si_status: i32) -> Option<Kernel> {
        let sig = || Signal::try_from(si_status).ok();
        match si_code {
            "CLD_EXITED" => Some(Kernel::Exited(si_status)),
            "CLD_KILLED" => Some(Kernel::Killed(sig()?, false)),
            "CLD_DUMPED" => Some(Kernel::Killed(sig()?, true)),
            _ => None,
        }
    }

    /// The raw wait status says the same as waitid (both come from the kernel).
    fn agrees_with(self, raw: i32) -> bool {
        match self {
            Kernel::Exited(code) => libc::WIFEXITED(raw) && libc::WEXITSTATUS(raw) == code,
            Kernel::Killed(sig, core) => {
                libc::WIFSIGNALED(raw) && libc::WTERMSIG(raw) == sig as i32 && libc::WCOREDUMP(raw) == core
            }
        }
    }

    /// What a correct `decode` says, in the lab's words.
    fn ending(self) -> String {
        match self {
            Kernel::Exited(code) => format!("exited with status {code}"),
            Kernel::Killed(sig, false) => format!("killed by {}", sig.as_str()),
            Kernel::Killed(sig, true) => format!("killed by {}, core dumped", sig.as_str()),
        }
    }

    /// Python's `exitcode` for this ending.
    fn exitcode(self) -> i32 {
        match self {
            Kernel::Exited(code) => code,
            Kernel::Killed(sig, _) => -(sig as i32),
        }
    }
}

/// 003: "an exitcode of -N means ended by signal N". Holds for a run if the kernel reported a
/// signal apart from any exit code (what Python turns into -N), or an exit code and no signal.
fn minus_n_holds(r: &Report) -> bool {
    match r.kernel {
        Kernel::Killed(sig, _) => r.exitcode == format!("-{}", sig as i32),
        Kernel::Exited(code) => code >= 0 && r.exitcode == code.to_string(),
    }
}

/// What one run showed.
struct Report {
    parent: i32,
    child: i32,
    raw: i32,
    kernel: Kernel,
    /// waitid's words, for the failure messages: "CLD_KILLED, si_status 15".
    said: String,
    ending: String,
    exitcode: String,
}

/// Runs the lab with one ending (`how`, which the parent ends with `by_parent` if given) and
/// returns what its parent's wait saw. On the way, checks what holds for every ending: while
/// the child runs its exitcode is None; waitid and the wait status agree; the parent reaps
/// its child itself and exits normally.
#[track_caller]
fn run(how: &str, by_parent: Option<Signal>) -> (Scenario, Report) {
    let sc = Scenario::start(lab!(), &[how]);
    let parent = sc.role("parent");
    let child = sc.role("child");
    sc.paused(if by_parent.is_some() { PARENT_SIGNALS } else { CHILD_RUNS });
    let running = sc.note(parent, "exitcode_running");
    sc.expect_eq(
        running.as_str(),
        "None",
        "while the child runs, waitpid(WNOHANG) returns 0 and the parent's exitcode is None",
    );
    if by_parent.is_some() {
        sc.show("the child works; the parent is held before it signals");
    } else {
        sc.until("the child is held before it ends; its parent waits for it in waitid", |t| {
            t.alive(child) && t.in_waitpid(parent)
        });
    }
    match by_parent {
        Some(sig) => sc.step(&format!("the parent sends {sig} to its child, then waits for it")),
        None => sc.step(story(how)),
    }
    sc.release();
    let raw: i32 = sc.note(parent, "status").parse().unwrap_or(-1);
    let si_code = sc.note(parent, "si_code");
    let si_status: i32 = sc.note(parent, "si_status").parse().unwrap_or(-1);
    let kernel = Kernel::from_siginfo(&si_code, si_status).unwrap_or_else(|| {
        sc.fail(&format!("waitid reports an ending: si_code {si_code}, si_status {si_status}"))
    });
    sc.expect(
        kernel.agrees_with(raw),
        &format!("the wait status {raw:#06x} says what waitid says: {si_code}, si_status {si_status}"),
    );
    let ending = sc.note(parent, "ending");
    let exitcode = sc.note(parent, "exitcode");
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), "the parent exits normally");
    sc.until_empty();
    sc.expect(
        sc.exit_now(child).is_none(),
        &format!("the parent reaped its child {child} itself (the sandbox did not have to)"),
    );
    let said = format!("{si_code}, si_status {si_status}");
    (sc, Report { parent, child, raw, kernel, said, ending, exitcode })
}

/// The exercise: the lab's decoding matches what the kernel said.
#[track_caller]
fn decoded_right(sc: &Scenario, r: &Report) {
    sc.expect_eq(
        r.ending.as_str(),
        r.kernel.ending().as_str(),
        &format!("decode(status {:#06x}) names how the child ended (waitid said {})", r.raw, r.said),
    );
    sc.expect_eq(
        r.exitcode.as_str(),
        r.kernel.exitcode().to_string().as_str(),
        &format!("exitcode (Python's convention) for {}", r.kernel.ending()),
    );
}

/// Where this machine puts a core dump.
struct CoreSetup {
    /// /proc/sys/kernel/core_pattern
    pattern: String,
    /// The hard RLIMIT_CORE is unlimited: a process may raise its soft limit as far as it likes.
    hard_unlimited: bool,
}

impl CoreSetup {
    fn read() -> CoreSetup {
        let pattern = std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap_or_default();
        let hard = getrlimit(Resource::RLIMIT_CORE).map(|(_, h)| h).unwrap_or(0);
        CoreSetup { pattern: pattern.trim().to_string(), hard_unlimited: hard == RLIM_INFINITY }
    }

    /// The kernel writes cores into files itself (not to a helper through a pipe `|…` or a
    /// socket `@…`): then it honours RLIMIT_CORE, and a soft limit of 0 means no core.
    fn kernel_writes_files(&self) -> bool {
        !self.pattern.is_empty() && !self.pattern.starts_with('|') && !self.pattern.starts_with('@')
    }

    /// A plain name (`core`, `core.%p`): the file goes into the dumping process's directory.
    fn in_the_dumpers_directory(&self) -> bool {
        self.kernel_writes_files() && !self.pattern.contains('/')
    }
}

/// Files named core* in a directory.
fn cores_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("core"))
                .collect()
        })
        .unwrap_or_default()
}

/// Post 003: exitcode is None while the child runs, then its exit code. Only the low 8 bits
/// of the code reach the parent: `exit(256)` is seen as 0 — success.
#[rstest]
#[case::exit_3("exit3", 3)]
#[case::exit_256("exit256", 0)]
fn exit_codes_reach_the_parent_modulo_256(#[case] how: &str, #[case] seen: i32) {
    let (sc, r) = run(how, None);
    sc.expect_eq(
        r.kernel,
        Kernel::Exited(seen),
        &format!("after {how}, waitid says CLD_EXITED, si_status {seen}"),
    );
    decoded_right(&sc, &r);
    if how == "exit3" {
        let running = sc.note(r.parent, "exitcode_running");
        sc.claim_verdict(
            "exitcode-none-while-running",
            Verdict::when(running == "None" && r.exitcode == "3"),
            &format!(
                "while child {} ran, waitpid(WNOHANG) gave no status: exitcode {running}; after exit(3): exitcode {}",
                r.child, r.exitcode
            ),
        );
    }
}

/// Post 003: -N when signal N ended it. Rust's `code()` is None then, `signal()` is Some(N);
/// Python makes it -N. `terminate()` and `kill()` differ in the signal only.
#[rstest]
#[case::terminate("terminate", Signal::SIGTERM)]
#[case::kill("kill", Signal::SIGKILL)]
fn killed_children_have_a_signal_and_no_exit_code(#[case] how: &str, #[case] sig: Signal) {
    let (sc, r) = run(how, Some(sig));
    sc.expect_eq(
        r.kernel,
        Kernel::Killed(sig, false),
        &format!("after {sig}, waitid says CLD_KILLED by {sig}"),
    );
    decoded_right(&sc, &r);
    let seen =
        format!("{how}(): parent {} saw child {} {}; exitcode {}", r.parent, r.child, r.ending, r.exitcode);
    sc.claim_verdict("exitcode-minus-n", Verdict::when(minus_n_holds(&r)), &seen);
    // 003: terminate() and kill() differ in the signal they send.
    sc.claim_verdict("terminate-kill", Verdict::when(r.kernel == Kernel::Killed(sig, false)), &seen);
}

/// `abort()` with RLIMIT_CORE at 0: SIGABRT, a signal whose default action dumps core. Where
/// the kernel writes core files itself it honours the limit: no core, CLD_KILLED. Through a
/// pipe to a helper (systemd-coredump, apport) the kernel ignores the limit, so the core bit
/// may be set: the spec then only asks that the parent reports what the status says.
#[test]
fn sigabrt_with_a_core_limit_of_0() {
    let setup = CoreSetup::read();
    let (sc, r) = run("abort", None);
    let Kernel::Killed(sig, core) = r.kernel else {
        sc.fail(&format!("abort() kills the child with a signal; waitid said {:?}", r.kernel))
    };
    sc.expect_eq(sig, Signal::SIGABRT, "abort() kills with SIGABRT");
    if setup.kernel_writes_files() {
        sc.expect(
            !core,
            &format!("with core_pattern {:?} and a soft RLIMIT_CORE of 0, no core is dumped", setup.pattern),
        );
    }
    decoded_right(&sc, &r);
    sc.claim_verdict(
        "exitcode-minus-n",
        Verdict::when(minus_n_holds(&r)),
        &format!("abort(): {}; exitcode {} (core_pattern {:?})", r.ending, r.exitcode, setup.pattern),
    );
}

/// A real core dump: the child raises its soft RLIMIT_CORE to the hard limit and aborts in a
/// temporary directory that the parent removes. The status's core bit is set, `si_code` is
/// CLD_DUMPED — asserted where the kernel writes the core into that directory (core_pattern
/// a plain name, hard limit unlimited), reported elsewhere. Never a core in the working tree.
#[test]
fn sigabrt_with_a_raised_core_limit_dumps_core_outside_the_working_tree() {
    let setup = CoreSetup::read();
    let here = std::env::current_dir().expect("the test's directory");
    let before = cores_in(&here);
    let (sc, r) = run("abort-core", None);
    let Kernel::Killed(sig, core) = r.kernel else {
        sc.fail(&format!("abort() kills the child with a signal; waitid said {:?}", r.kernel))
    };
    sc.expect_eq(sig, Signal::SIGABRT, "abort() kills with SIGABRT");
    let core_file = sc.note(r.parent, "core_file");
    let dir = sc.note(r.parent, "core_dir_removed");
    if setup.in_the_dumpers_directory() && setup.hard_unlimited {
        sc.expect(
            core,
            &format!(
                "with core_pattern {:?} and the soft limit raised, a core is dumped (CLD_DUMPED, core bit set)",
                setup.pattern
            ),
        );
        sc.expect(
            core_file.starts_with("core"),
            &format!("the core file is in the child's directory {dir}: the lab found {core_file:?}"),
        );
    }
    decoded_right(&sc, &r);
    sc.expect(!Path::new(&dir).exists(), &format!("the core's directory {dir} has been removed"));
    let after = cores_in(&here);
    sc.expect(
        after.iter().all(|c| before.contains(c)),
        &format!("no core file appeared in the working directory {} ({after:?})", here.display()),
    );
    sc.claim_verdict(
        "exitcode-minus-n",
        Verdict::when(minus_n_holds(&r)),
        &format!(
            "abort() with the core limit raised: {}; exitcode {}; core file: {core_file} (core_pattern {:?})",
            r.ending, r.exitcode, setup.pattern
        ),
    );
}

/// The shell's convention is not Python's: `sh -c 'kill -9 $$'` is killed itself (the parent
/// sees signal 9), but a shell whose *child* is killed by signal N exits normally with status
/// 128+N. 137 is an exit code, and nothing in the status says a signal was involved.
#[rstest]
#[case::the_shell_is_killed("sh-killed", Kernel::Killed(Signal::SIGKILL, false))]
#[case::the_shells_child_is_killed("sh-child-killed", Kernel::Exited(128 + 9))]
fn the_shell_turns_a_killed_child_into_exit_status_128_plus_n(#[case] how: &str, #[case] kernel: Kernel) {
    let (sc, r) = run(how, None);
    sc.expect_eq(r.kernel, kernel, &format!("after {how}, waitid's si_code and si_status say"));
    decoded_right(&sc, &r);
    sc.claim_verdict(
        "exitcode-minus-n",
        Verdict::when(minus_n_holds(&r)),
        &format!("{how}: {}; exitcode {}", r.ending, r.exitcode),
    );
}
