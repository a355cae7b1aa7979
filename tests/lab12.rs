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
fn story(how: &str) -> String {
    match how {
        "exit3" => say!("the child goes on: exit(3)", "子进程继续执行：exit(3)"),
        "exit256" => say!("the child goes on: exit(256)", "子进程继续执行：exit(256)"),
        "abort" => say!(
            "the child goes on: soft RLIMIT_CORE to 0 (ulimit -c 0), then abort()",
            "子进程继续执行：把软 RLIMIT_CORE 设为 0（ulimit -c 0），然后 abort()"
        ),
        "abort-core" => say!(
            "the child goes on: soft RLIMIT_CORE up to the hard limit, into a directory of its own, abort()",
            "子进程继续执行：把软 RLIMIT_CORE 提高到硬限制，进入一个自己的目录，然后 abort()"
        ),
        "sh-killed" => say!(
            "the child goes on: it execs sh -c 'kill -9 $$', a shell that kills itself",
            "子进程继续执行：它 exec 了 sh -c 'kill -9 $$'，一个杀死自己的 shell"
        ),
        "sh-child-killed" => say!(
            "the child goes on: it execs sh -c \"sh -c 'kill -9 \\$\\$'; exit \\$?\": the shell's own child is killed, then the shell exits with $?",
            "子进程继续执行：它 exec 了 sh -c \"sh -c 'kill -9 \\$\\$'; exit \\$?\"：shell 自己的子进程被杀死，然后 shell 以 $? 退出"
        ),
        _ => say!("the child goes on and ends", "子进程继续执行，然后结束"),
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
        &say!(
            "while the child runs, waitpid(WNOHANG) returns 0 and the parent's exitcode is None",
            "子进程运行期间，waitpid(WNOHANG) 返回 0，父进程得到的 exitcode 是 None"
        ),
    );
    if by_parent.is_some() {
        sc.show(&say!(
            "the child works; the parent is held before it signals",
            "子进程在工作；父进程停在发送信号之前"
        ));
    } else {
        sc.until(
            &say!(
                "the child is held before it ends; its parent waits for it in waitid",
                "子进程停在结束之前；它的父进程在 waitid 中等待它"
            ),
            |t| t.alive(child) && t.in_waitpid(parent),
        );
    }
    match by_parent {
        Some(sig) => sc.step(&say!(
            "the parent sends {sig} to its child, then waits for it",
            "父进程向它的子进程发送 {sig}，然后等待它"
        )),
        None => sc.step(&story(how)),
    }
    sc.release();
    let raw: i32 = sc.note(parent, "status").parse().unwrap_or(-1);
    let si_code = sc.note(parent, "si_code");
    let si_status: i32 = sc.note(parent, "si_status").parse().unwrap_or(-1);
    let kernel = Kernel::from_siginfo(&si_code, si_status).unwrap_or_else(|| {
        sc.fail(&say!(
            "waitid reports an ending: si_code {si_code}, si_status {si_status}",
            "waitid 报告了一种结束方式：si_code {si_code}，si_status {si_status}"
        ))
    });
    sc.expect(
        kernel.agrees_with(raw),
        &say!(
            "the wait status {raw:#06x} says what waitid says: {si_code}, si_status {si_status}",
            "wait 状态 {raw:#06x} 与 waitid 所说的一致：{si_code}，si_status {si_status}"
        ),
    );
    let ending = sc.note(parent, "ending");
    let exitcode = sc.note(parent, "exitcode");
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), &say!("the parent exits normally", "父进程正常退出"));
    sc.until_empty();
    sc.expect(
        sc.exit_now(child).is_none(),
        &say!(
            "the parent reaped its child {child} itself (the sandbox did not have to)",
            "父进程自己回收了它的子进程 {child}（无须沙箱代劳）"
        ),
    );
    let said = format!("{si_code}, si_status {si_status}");
    (sc, Report { parent, child, raw, kernel, said, ending, exitcode })
}

/// The exercise: the lab's decoding matches what the kernel said.
#[track_caller]
fn decoded_right(sc: &Scenario, r: &Report) {
    let (raw, said, ending) = (r.raw, &r.said, r.kernel.ending());
    sc.expect_eq(
        r.ending.as_str(),
        r.kernel.ending().as_str(),
        &say!(
            "decode(status {raw:#06x}) names how the child ended (waitid said {said})",
            "decode(status {raw:#06x}) 给出子进程的结束方式（waitid 报告的是 {said}）"
        ),
    );
    sc.expect_eq(
        r.exitcode.as_str(),
        r.kernel.exitcode().to_string().as_str(),
        &say!("exitcode (Python's convention) for {ending}", "“{ending}”对应的 exitcode（Python 的约定）"),
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
        &say!(
            "after {how}, waitid says CLD_EXITED, si_status {seen}",
            "{how} 之后，waitid 报告 CLD_EXITED，si_status {seen}"
        ),
    );
    decoded_right(&sc, &r);
    if how == "exit3" {
        let running = sc.note(r.parent, "exitcode_running");
        let (child, exitcode) = (r.child, &r.exitcode);
        sc.claim_verdict(
            "exitcode-none-while-running",
            Verdict::when(running == "None" && r.exitcode == "3"),
            &say!(
                "while child {child} ran, waitpid(WNOHANG) gave no status: exitcode {running}; after exit(3): exitcode {exitcode}",
                "子进程 {child} 运行期间，waitpid(WNOHANG) 没有给出状态：exitcode {running}；exit(3) 之后：exitcode {exitcode}"
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
        &say!(
            "after {sig}, waitid says CLD_KILLED by {sig}",
            "{sig} 之后，waitid 报告 CLD_KILLED（被 {sig} 杀死）"
        ),
    );
    decoded_right(&sc, &r);
    let (parent, child, ending, exitcode) = (r.parent, r.child, &r.ending, &r.exitcode);
    let seen = say!(
        "{how}(): parent {parent} saw child {child} {ending}; exitcode {exitcode}",
        "{how}()：父进程 {parent} 看到子进程 {child} 的结束方式为“{ending}”；exitcode {exitcode}"
    );
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
    let (kernel, pattern, ending, exitcode) = (r.kernel, &setup.pattern, &r.ending, &r.exitcode);
    let Kernel::Killed(sig, core) = r.kernel else {
        sc.fail(&say!(
            "abort() kills the child with a signal; waitid said {kernel:?}",
            "abort() 用一个信号杀死子进程；waitid 报告的是 {kernel:?}"
        ))
    };
    sc.expect_eq(sig, Signal::SIGABRT, &say!("abort() kills with SIGABRT", "abort() 用 SIGABRT 杀死进程"));
    if setup.kernel_writes_files() {
        sc.expect(
            !core,
            &say!(
                "with core_pattern {pattern:?} and a soft RLIMIT_CORE of 0, no core is dumped",
                "core_pattern 为 {pattern:?}、软 RLIMIT_CORE 为 0 时，不转储 core"
            ),
        );
    }
    decoded_right(&sc, &r);
    sc.claim_verdict(
        "exitcode-minus-n",
        Verdict::when(minus_n_holds(&r)),
        &say!(
            "abort(): {ending}; exitcode {exitcode} (core_pattern {pattern:?})",
            "abort()：“{ending}”；exitcode {exitcode}（core_pattern {pattern:?}）"
        ),
    );
}

/// A real core dump: the child raises its soft RLIMIT_CORE to the hard limit and aborts in a
/// temporary directory that the parent removes. The status's core bit is set, `si_code` is
/// CLD_DUMPED — asserted where the kernel writes the core into that directory (core_pattern
/// a plain name, hard limit unlimited), reported elsewhere. Never a core in the working tree.
#[test]
fn sigabrt_with_a_raised_core_limit_dumps_core_outside_the_working_tree() {
    let setup = CoreSetup::read();
    let here = std::env::current_dir()
        .unwrap_or_else(|e| panic!("{}: {e:?}", say!("the test's directory", "测试所在的目录")));
    let before = cores_in(&here);
    let (sc, r) = run("abort-core", None);
    let (kernel, pattern, ending, exitcode) = (r.kernel, &setup.pattern, &r.ending, &r.exitcode);
    let Kernel::Killed(sig, core) = r.kernel else {
        sc.fail(&say!(
            "abort() kills the child with a signal; waitid said {kernel:?}",
            "abort() 用一个信号杀死子进程；waitid 报告的是 {kernel:?}"
        ))
    };
    sc.expect_eq(sig, Signal::SIGABRT, &say!("abort() kills with SIGABRT", "abort() 用 SIGABRT 杀死进程"));
    let core_file = sc.note(r.parent, "core_file");
    let dir = sc.note(r.parent, "core_dir_removed");
    if setup.in_the_dumpers_directory() && setup.hard_unlimited {
        sc.expect(
            core,
            &say!(
                "with core_pattern {pattern:?} and the soft limit raised, a core is dumped (CLD_DUMPED, core bit set)",
                "core_pattern 为 {pattern:?}、软限制已提高时，会转储 core（CLD_DUMPED，core 位被置上）"
            ),
        );
        sc.expect(
            core_file.starts_with("core"),
            &say!(
                "the core file is in the child's directory {dir}: the lab found {core_file:?}",
                "core 文件在子进程的目录 {dir} 中：实验程序找到的是 {core_file:?}"
            ),
        );
    }
    decoded_right(&sc, &r);
    sc.expect(
        !Path::new(&dir).exists(),
        &say!("the core's directory {dir} has been removed", "core 所在的目录 {dir} 已被删除"),
    );
    let after = cores_in(&here);
    let cwd = here.display();
    sc.expect(
        after.iter().all(|c| before.contains(c)),
        &say!(
            "no core file appeared in the working directory {cwd} ({after:?})",
            "工作目录 {cwd} 中没有出现 core 文件（{after:?}）"
        ),
    );
    sc.claim_verdict(
        "exitcode-minus-n",
        Verdict::when(minus_n_holds(&r)),
        &say!(
            "abort() with the core limit raised: {ending}; exitcode {exitcode}; core file: {core_file} (core_pattern {pattern:?})",
            "提高 core 限制后 abort()：“{ending}”；exitcode {exitcode}；core 文件：{core_file}（core_pattern {pattern:?}）"
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
    let (ending, exitcode) = (&r.ending, &r.exitcode);
    sc.expect_eq(
        r.kernel,
        kernel,
        &say!(
            "after {how}, waitid's si_code and si_status say",
            "{how} 之后，waitid 的 si_code 和 si_status 报告"
        ),
    );
    decoded_right(&sc, &r);
    sc.claim_verdict(
        "exitcode-minus-n",
        Verdict::when(minus_n_holds(&r)),
        &say!("{how}: {ending}; exitcode {exitcode}", "{how}：“{ending}”；exitcode {exitcode}"),
    );
}
