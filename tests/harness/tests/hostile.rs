//! The adversarial suite: a hostile lab tries every route out of its scenario, and the harness
//! must hold with each sandbox layer alone and with all of them.
//!
//! Targets outside the scenario: the test runner, cargo (the runner's parent), and three
//! *sentinels* the test starts — one in the runner's process group, one in the runner's session
//! but a group of its own, one in a session of its own. The hostile lab (`harness-probe
//! hostile`) sends a signal to each of them, and to everyone, by every route: kill, killpg(1),
//! 32-bit `int 0x80`, x32, tkill, tgkill, rt_(tg)sigqueueinfo, pidfds, /proc/PID directory fds,
//! F_SETOWN + SIGIO, ptrace. Then the test checks that nobody outside got anything.
//!
//! The signal is SIGWINCH by default — ignored by default by every program, so that even a
//! broken layer cannot hurt the machine the suite runs on — and SIGKILL with
//! `PROCLAB_HOSTILE_LETHAL=1`, which CI uses inside a throw-away PID namespace: there, a
//! broken layer kills the runner or cargo, and the run fails.

use harness::layers::{self, Chosen};
use harness::prelude::*;
use harness::scenario::cleanup::{spawn_spared, sweep_adopted, unregister};
use harness::tree::read_proc;
use rstest::rstest;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

fn probe() -> Lab {
    Lab { bin: env!("CARGO_BIN_EXE_harness-probe"), package: "harness-probe" }
}

fn lethal() -> bool {
    std::env::var("PROCLAB_HOSTILE_LETHAL").as_deref() == Ok("1")
}

/// The layers of one case, or None (the case is skipped, and says so) where this machine
/// lacks one of them.
fn layers_of(case: &str) -> Option<Chosen> {
    match layers::choose(Some(case), layers::probe()) {
        Ok(c) => Some(c),
        Err(e) => {
            eprintln!("SKIPPED on this machine: {e}");
            None
        }
    }
}

/// A process outside every scenario that reports each signal it receives.
struct Sentinel {
    name: &'static str,
    child: Child,
    out: std::process::ChildStdout,
    pgid: i32,
}

#[derive(Clone, Copy)]
enum Where {
    RunnersGroup,
    RunnersSession,
    OwnSession,
}

impl Sentinel {
    fn start(name: &'static str, place: Where) -> Sentinel {
        let mut cmd = Command::new(probe().bin);
        cmd.arg("sentinel").stdin(Stdio::null()).stdout(Stdio::piped());
        match place {
            Where::RunnersGroup => {}
            Where::RunnersSession => {
                cmd.process_group(0);
            }
            Where::OwnSession => unsafe {
                // SAFETY: setsid is async-signal-safe.
                cmd.pre_exec(|| {
                    nix::unistd::setsid()?;
                    Ok(())
                });
            },
        }
        let mut child = spawn_spared(&mut cmd).expect("start a sentinel");
        let mut out = child.stdout.take().expect("sentinel stdout");
        let mut ready = [0u8; 1];
        out.read_exact(&mut ready).expect("the sentinel says it is ready");
        assert_eq!(&ready, b"R");
        let pgid =
            nix::unistd::getpgid(Some(nix::unistd::Pid::from_raw(child.id() as i32))).unwrap().as_raw();
        Sentinel { name, child, out, pgid }
    }

    fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    fn target(&self) -> String {
        format!("{}={}/{}", self.name, self.pid(), self.pgid)
    }

    /// Every signal the sentinel received, up to a marker (SIGUSR1) that the test sends now:
    /// any signal sent before the marker has been handled by the time the marker has.
    /// None if it is dead.
    fn received(&mut self) -> Option<Vec<u8>> {
        if self.child.try_wait().ok().flatten().is_some() {
            return None;
        }
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid()), Signal::SIGUSR1).ok()?;
        let mut got = Vec::new();
        let mut b = [0u8; 1];
        while self.out.read_exact(&mut b).is_ok() {
            if b[0] == Signal::SIGUSR1 as u8 {
                return Some(got);
            }
            got.push(b[0]);
        }
        None
    }
}

impl Drop for Sentinel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        unregister(self.child.id() as i32);
    }
}

fn pgid_of(pid: i32) -> i32 {
    nix::unistd::getpgid(Some(nix::unistd::Pid::from_raw(pid))).map(|p| p.as_raw()).unwrap_or(-1)
}

#[rstest]
#[case::landlock("landlock")]
#[case::pid_namespace("pidns")]
#[case::seccomp("seccomp")]
#[case::all("all")]
fn a_hostile_lab_signals_nothing_outside_its_scenario(#[case] layers: &str) {
    let Some(layers) = layers_of(layers) else { return };
    let sig = if lethal() { Signal::SIGKILL } else { Signal::SIGWINCH };
    let runner_got = Arc::new(AtomicBool::new(false));
    if !lethal() {
        signal_hook::flag::register(Signal::SIGWINCH as i32, runner_got.clone()).unwrap();
    }
    let mut sentinels = [
        Sentinel::start("group-sentinel", Where::RunnersGroup),
        Sentinel::start("session-sentinel", Where::RunnersSession),
        Sentinel::start("other-session", Where::OwnSession),
    ];
    let me = std::process::id() as i32;
    let cargo = std::os::unix::process::parent_id() as i32;
    let mut args = vec!["hostile".to_string(), (sig as i32).to_string()];
    args.push(format!("runner={me}/{}", pgid_of(me)));
    args.push(format!("cargo={cargo}/{}", pgid_of(cargo)));
    args.extend(sentinels.iter().map(Sentinel::target));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();

    let sc = Scenario::start_with_layers(probe(), &args, layers.clone());
    let p = sc.role("probe");
    sc.expect_eq(sc.note(p, "attack"), "done".to_string(), "the hostile lab tried every route");
    sc.paused("attacked");
    for s in &mut sentinels {
        let name = s.name;
        match s.received() {
            Some(got) => assert!(got.is_empty(), "[{layers}] {name} received signals {got:?} from the lab"),
            None => panic!("[{layers}] {name} was killed by the lab"),
        }
    }
    assert!(!runner_got.load(Ordering::SeqCst), "[{layers}] the runner received {sig} from the lab");
    // What the routes returned, for the record (`--nocapture` shows it).
    let refused: Vec<String> = sc
        .events()
        .iter()
        .filter_map(|e| match &e.kind {
            harness::Kind::Note(k, v) if k.contains(':') && v != "ok" => Some(format!("{k}={v}")),
            _ => None,
        })
        .collect();
    let succeeded: Vec<String> = sc
        .events()
        .iter()
        .filter_map(|e| match &e.kind {
            harness::Kind::Note(k, v) if k.contains(':') && v == "ok" => Some(k.clone()),
            _ => None,
        })
        .collect();
    println!(
        "[{layers}] {}\n  returned an error: {}\n  returned 0 (and reached nobody outside): {}",
        sc.layers(),
        refused.join(" "),
        succeeded.join(" ")
    );
    sc.finish();
}

#[rstest]
#[case::landlock("landlock")]
#[case::pid_namespace("pidns")]
#[case::seccomp("seccomp")]
#[case::all("all")]
fn a_lab_cannot_kill_its_sandbox_and_its_escaped_grandchild_is_cleaned_up(#[case] layers: &str) {
    let Some(layers) = layers_of(layers) else { return };
    let sc = Scenario::start_with_layers(probe(), &["kill-sandbox"], layers.clone());
    let p = sc.role("probe");
    let escapee = sc.role("escapee");
    let esc = sc.until("the escapee runs in a session of its own", |t| {
        t.get(escapee).is_some_and(|e| e.sid == escapee)
    });
    let (host, start) = (esc.get(escapee).unwrap().host_pid, esc.get(escapee).unwrap().starttime);
    sc.expect_eq(
        sc.note(p, "attack"),
        "done".to_string(),
        "the lab tried to SIGKILL its sandbox by every route",
    );
    sc.paused("attacked");
    let t = sc.snapshot();
    assert!(t.alive(sc.sandbox_pid()), "[{layers}] the sandbox was killed:\n{}", t.render());
    sc.finish();
    assert!(
        read_proc(host).is_none_or(|p| p.starttime != start),
        "[{layers}] the escaped grandchild {host} (ignoring SIGTERM, own session) survived the cleanup"
    );
}

#[rstest]
#[case::landlock("landlock")]
#[case::pid_namespace("pidns")]
#[case::seccomp("seccomp")]
fn a_sandbox_killed_from_outside_leaks_nothing_and_the_test_says_so(#[case] layers: &str) {
    let Some(layers) = layers_of(layers) else { return };
    let mut escapee_host = (0, 0);
    let failure = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let sc = Scenario::start_with_layers(probe(), &["escape"], layers.clone());
        let escapee = sc.role("escapee");
        sc.paused("escapee started");
        let t = sc.until("the escapee has a session of its own", |t| {
            t.get(escapee).is_some_and(|e| e.sid == escapee)
        });
        let e = t.get(escapee).unwrap();
        escapee_host = (e.host_pid, e.starttime);
        let sandbox = sc.host_pid(sc.sandbox_pid()).expect("the sandbox's pid");
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(sandbox), Signal::SIGKILL).unwrap();
        // Dropping the scenario must notice, clean up, and fail.
    }))
    .expect_err("the scenario must fail when its sandbox was killed");
    let msg = failure.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        msg.contains("died before the scenario ended"),
        "[{layers}] the failure says what happened: {msg}"
    );
    let (host, start) = escapee_host;
    assert!(
        read_proc(host).is_none_or(|p| p.starttime != start),
        "[{layers}] the escapee {host} outlived its killed sandbox"
    );
}

#[test]
fn a_fork_bomb_stops_at_the_bound_and_is_cleaned_up() {
    // The sandbox's bound is 1024; 64 here proves the same mechanism (pids cgroup or
    // RLIMIT_NPROC) without a thousand forks on every cargo test (1.3 s of the whole kit's).
    let sc = Scenario::start_with(probe(), &["forkbomb"], Setup::default().nproc(64));
    if !sc.layers().contains("nproc 64") {
        eprintln!(
            "SKIPPED on this machine: no process bound ({}); a fork bomb would take every pid",
            sc.layers()
        );
        return;
    }
    let (pid, errno, _) = sc.notes("fork-refused", 1).remove(0);
    let t = sc.snapshot();
    let n = t.lab_procs().count();
    println!("fork bomb: {n} processes when {pid} was refused ({errno}); bound: {}", sc.layers());
    assert!(n <= 64, "{n} processes: more than the bound");
    sc.finish();
}

/// Not a test of its own: a scenario run by a child test runner that the next test kills.
#[test]
#[ignore = "run by nothing_is_left_when_the_runner_is_killed, in a child runner"]
fn inner_scenario_that_outlives_its_runner() {
    if std::env::var_os("PROCLAB_INNER").is_none() {
        return;
    }
    let sc = Scenario::start(probe(), &["escape"]);
    let escapee = sc.role("escapee");
    sc.paused("escapee started");
    let t = sc
        .until("the escapee has a session of its own", |t| t.get(escapee).is_some_and(|e| e.sid == escapee));
    let e = t.get(escapee).unwrap();
    let sandbox = t.get(sc.sandbox_pid()).unwrap().host_pid;
    println!("READY {} {} {} {}", e.host_pid, e.starttime, sandbox, sc.pause_dir().display());
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

#[rstest]
#[case::sigkill(Signal::SIGKILL)]
#[case::ctrl_c(Signal::SIGINT)]
fn nothing_is_left_when_the_runner_is_killed(#[case] sig: Signal) {
    // As when scenarios ran here before: what the dead runner leaves comes to us.
    harness::scenario::cleanup::become_subreaper();
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    // The test's full name, as this binary knows it (`hostile::…` inside tests/kit.rs).
    let inner = format!(
        "{}::inner_scenario_that_outlives_its_runner",
        module_path!().split_once("::").map_or("", |(_, m)| m)
    );
    let inner = inner.trim_start_matches("::");
    cmd.args(["--exact", inner, "--ignored", "--nocapture"])
        .env("PROCLAB_INNER", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .process_group(0);
    let mut inner = spawn_spared(&mut cmd).unwrap();
    let out = BufReader::new(inner.stdout.take().unwrap());
    let mut ready = None;
    for line in out.lines() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("READY ") {
            ready = Some(rest.to_string());
            break;
        }
    }
    let ready = ready.expect("the inner runner started its scenario");
    let f: Vec<&str> = ready.split(' ').collect();
    let (escapee, start, sandbox, dir): (i32, u64, i32, &str) =
        (f[0].parse().unwrap(), f[1].parse().unwrap(), f[2].parse().unwrap(), f[3]);
    match sig {
        // ^C in a terminal: SIGINT to the runner's whole (foreground) group.
        Signal::SIGINT => {
            nix::sys::signal::killpg(nix::unistd::Pid::from_raw(inner.id() as i32), sig).unwrap()
        }
        _ => nix::sys::signal::kill(nix::unistd::Pid::from_raw(inner.id() as i32), sig).unwrap(),
    }
    let status = inner.wait().unwrap();
    unregister(inner.id() as i32);
    let end = Instant::now() + Duration::from_secs(5);
    let gone = |pid: i32, start: Option<u64>| {
        read_proc(pid).is_none_or(|p| p.state == 'Z' || start.is_some_and(|s| p.starttime != s))
    };
    while Instant::now() < end
        && !(gone(escapee, Some(start)) && gone(sandbox, None) && !std::path::Path::new(dir).exists())
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    let swept = sweep_adopted();
    // The sandbox removes the pause directory on its way out; if it was killed first (here,
    // another test's sweep may kill its stub), the next scenario to start removes the
    // directories of dead runners.
    let removed_by_sandbox = !std::path::Path::new(dir).exists();
    if !removed_by_sandbox {
        Scenario::start(probe(), &["die"]).until_empty();
    }
    assert!(
        gone(escapee, Some(start)),
        "after the runner died of {sig} ({status}), the escapee {escapee} lives on"
    );
    assert!(gone(sandbox, None), "after the runner died of {sig}, its sandbox {sandbox} lives on");
    assert!(
        !std::path::Path::new(dir).exists(),
        "after the runner died of {sig}, {dir} is left in the temp dir"
    );
    println!(
        "runner killed by {sig}: scenario gone; pause dir removed by {}; reaped as orphans: {swept:?}",
        if removed_by_sandbox { "the sandbox" } else { "the next scenario's start" }
    );
}
