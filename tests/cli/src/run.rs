//! The subcommands: each runs cargo on the workspace and reads what it prints.

use crate::labs::{self, Lab, root};
use crate::say;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// Longest a spec run may take before `cargo lab` stops it (specs have 3 s deadlines per wait).
const SPEC_LIMIT: Duration = Duration::from_secs(120);

fn state_dir() -> PathBuf {
    let dir = root().join("target").join("proclab");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

pub(crate) fn cargo() -> Command {
    let mut c = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    c.current_dir(root()).env("RUST_BACKTRACE", "0").env_remove("PROCLAB_NARRATE");
    // Our own process group, so that a timeout or a Ctrl-C stops cargo *and* the test binary.
    c.process_group(0);
    c
}

/// What a finished cargo run printed.
pub(crate) struct Output {
    pub(crate) ok: bool,
    code: Option<i32>,
    pub(crate) text: String,
    elapsed: Duration,
    pub(crate) timed_out: bool,
}

/// Kills the whole process group of a child we started in its own group.
fn stop_group(child: &Child) {
    let pgid = child.id() as i32;
    if pgid > 1 {
        let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pgid), nix::sys::signal::Signal::SIGKILL);
    }
}

/// The process group of the cargo run under way (0: none). Ctrl-C or SIGTERM kills it.
static RUNNING_GROUP: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

/// Installs, once for the whole run of `cargo lab`, the handling of Ctrl-C and SIGTERM: stop
/// the cargo run under way (its whole group: cargo, the test binary, the sandboxes see their
/// control pipe close), then exit. signal-hook's handler only writes to a pipe; this thread
/// does the rest.
pub fn stop_children_on_interrupt() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else { return };
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            let pgid = RUNNING_GROUP.load(std::sync::atomic::Ordering::SeqCst);
            if pgid > 1 {
                let _ = nix::sys::signal::killpg(
                    nix::unistd::Pid::from_raw(pgid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            eprintln!("\ncargo lab: interrupted; stopped the run under way");
            std::process::exit(128 + sig);
        }
    });
}

fn running(child: &Child) {
    RUNNING_GROUP.store(child.id() as i32, std::sync::atomic::Ordering::SeqCst);
}

fn not_running() {
    RUNNING_GROUP.store(0, std::sync::atomic::Ordering::SeqCst);
}

/// Runs `cmd` to completion (or to `limit`), capturing stdout and stderr together.
pub(crate) fn capture(mut cmd: Command, limit: Duration) -> Output {
    let start = Instant::now();
    let (r, w) = std::io::pipe().expect("pipe");
    let w2 = w.try_clone().expect("pipe");
    let mut child = cmd.stdout(w).stderr(w2).stdin(Stdio::null()).spawn().expect("cannot run cargo");
    drop(cmd);
    running(&child);
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = BufReader::new(r).read_to_string(&mut text);
        text
    });
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if start.elapsed() < limit => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                timed_out = true;
                stop_group(&child);
                break child.wait().ok();
            }
            Err(_) => break None,
        }
    };
    // The test binary may have left the pipe open only if something leaked; don't hang on it.
    stop_group(&child);
    not_running();
    let text = reader.join().unwrap_or_default();
    Output {
        ok: status.is_some_and(|s| s.success()),
        code: status.and_then(|s| s.code()),
        text,
        elapsed: start.elapsed(),
        timed_out,
    }
}

/// `cargo test -q -p PKG --test spec [-- ARGS]`
fn spec(pkg: &str, test_args: &[&str]) -> Command {
    let mut c = cargo();
    c.args(["test", "-q", "-p", pkg, "--test", "spec"]);
    if !test_args.is_empty() {
        c.arg("--").args(test_args);
    }
    c
}

/// Builds `packages` (their code and their specs) with cargo's own progress and messages on
/// the terminal, and no time limit: a first build takes minutes, and a timeout is not a
/// compile error. Err only when cargo says the code does not build.
fn build(packages: &[String], what: &str) -> Result<(), String> {
    let first = packages.iter().any(|p| !root().join("target/debug").join(p).exists());
    if first {
        eprintln!(
            "First build of {what}: cargo compiles the kit's dependencies once (about 3 minutes on 2 \
             cores); after that a build takes seconds."
        );
    }
    let mut c = cargo();
    c.args(["test", "--no-run"]);
    for p in packages {
        c.args(["-p", p]);
    }
    // cargo's progress and errors go straight to the terminal; stdout (the test binaries'
    // names) is of no use here.
    c.stdout(Stdio::null()).stderr(Stdio::inherit()).stdin(Stdio::null());
    let mut child = c.spawn().map_err(|e| format!("cannot run cargo: {e}"))?;
    running(&child);
    let status = child.wait().map_err(|e| format!("cargo: {e}"))?;
    not_running();
    if status.success() { Ok(()) } else { Err(format!("{what} does not build (cargo's messages are above)")) }
}

/// Counts from libtest's summary line: (passed, failed).
fn tally(text: &str) -> (u32, u32) {
    let mut passed = 0;
    let mut failed = 0;
    for line in text.lines().filter(|l| l.starts_with("test result:")) {
        let num = |word: &str| {
            line.split(';')
                .find(|p| p.trim().ends_with(word))
                .and_then(|p| p.split_whitespace().rev().nth(1)?.parse::<u32>().ok())
        };
        passed += num("passed").unwrap_or(0);
        failed += num("failed").unwrap_or(0);
    }
    (passed, failed)
}

/// The failing tests and, for each, the proclab report (or the raw panic).
pub(crate) fn failures(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut cur: Option<(String, String)> = None;
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("---- ").and_then(|l| l.strip_suffix(" stdout ----")) {
            if let Some(c) = cur.take() {
                out.push(c);
            }
            cur = Some((name.to_string(), String::new()));
        } else if line == "failures:" || line.starts_with("test result:") {
            if let Some(c) = cur.take() {
                out.push(c);
            }
        } else if let Some((_, body)) = cur.as_mut() {
            if line.starts_with("note: run with `RUST_BACKTRACE") || line.starts_with("thread '") {
                continue;
            }
            body.push_str(line);
            body.push('\n');
        }
    }
    if let Some(c) = cur.take() {
        out.push(c);
    }
    out
}

pub(crate) fn is_assertion_failure(text: &str) -> bool {
    text.contains("── proclab:") && text.contains("expected:")
}

pub(crate) fn compile_error(text: &str) -> bool {
    text.contains("error[E") || text.contains("error: could not compile")
}

// ----- list ------------------------------------------------------------------------------

pub fn list() -> Result<ExitCode, String> {
    let labs = labs::all();
    if labs.is_empty() {
        return Err(format!("no labs found in {}", root().join("labs").display()));
    }
    say!(" #  {:<48} your code", "lab");
    let mut done = 0;
    let mut next = None;
    for lab in &labs {
        let status = std::fs::read_to_string(state_dir().join(format!("status-{:02}", lab.number)))
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "· not checked yet".into());
        if status.starts_with('✓') {
            done += 1;
        } else if next.is_none() {
            next = Some(lab);
        }
        say!("{:02}  {:<48} {status}", lab.number, lab.title);
    }
    say!("\n{done} of {} labs done.", labs.len());
    match next {
        Some(l) => say!(
            "Next: lab {:02}, {} — read labs/{}/README.md, then `cargo lab check {}`.",
            l.number,
            l.title,
            l.dir,
            l.number
        ),
        None => say!(
            "Every lab passes its spec. Compare yours with solutions/ and read the book's discussion questions."
        ),
    }
    say!("cargo lab check N · cargo lab hint N · cargo lab demo N · cargo lab reset N");
    say!("{}", harness::layers::summary());
    Ok(ExitCode::SUCCESS)
}

// ----- doctor ----------------------------------------------------------------------------

pub fn doctor() -> Result<ExitCode, String> {
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    say!("Linux {} — what keeps a lab's signals inside its own scenario:\n", kernel.trim());
    print!("{}", harness::layers::explain());
    say!(
        "\nEach layer alone stops every route a lab has to signal a process outside its scenario:\n\
         tests/harness/tests/hostile.rs tries them all (cargo test -p harness --test hostile)."
    );
    Ok(if harness::layers::chosen().is_ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

// ----- check -----------------------------------------------------------------------------

pub fn check(lab: &Lab) -> Result<ExitCode, String> {
    eprintln!("Lab {:02} — {}: building your code (labs/{})…", lab.number, lab.title, lab.dir);
    if build(&[lab.starter()], &format!("labs/{}", lab.dir)).is_err() {
        say!("\n✗ labs/{} does not compile yet: fix the errors above (the first one first).", lab.dir);
        save_status(lab, "✗ does not compile");
        return Ok(ExitCode::FAILURE);
    }
    eprintln!("running the spec (tests/lab{:02}.rs) in the sandbox…", lab.number);
    let out = capture(spec(&lab.starter(), &[]), SPEC_LIMIT);
    let (passed, failed) = tally(&out.text);
    if out.ok {
        say!(
            "✓ Lab {:02} passes its spec: {passed} of {passed} tests ({:.1} s).",
            lab.number,
            out.elapsed.as_secs_f64()
        );
        say!("  Compare with the reference: solutions/{}/src/main.rs", lab.dir);
        save_status(lab, "✓ passed");
        return Ok(ExitCode::SUCCESS);
    }
    if out.timed_out {
        say!("{}", out.text.trim_end());
        say!("\n✗ the spec did not finish within {} s and was stopped.", SPEC_LIMIT.as_secs());
        save_status(lab, "✗ failing (timeout)");
        return Ok(ExitCode::FAILURE);
    }
    let fails = failures(&out.text);
    if fails.is_empty() {
        say!("{}", out.text.trim_end());
    }
    for (name, report) in &fails {
        say!("✗ {}", name.replace('_', " "));
        say!("{}", report.trim_matches('\n'));
        say!();
    }
    say!(
        "✗ Lab {:02}: {failed} of {} tests fail ({:.1} s).",
        lab.number,
        passed + failed,
        out.elapsed.as_secs_f64()
    );
    // The hint for the first failing test, as its spec tags it (hints.rs); else hint 1.
    let spec_path = root().join(format!("tests/lab{:02}.rs", lab.number));
    let spec = std::fs::read_to_string(spec_path).unwrap_or_default();
    let n = fails.first().and_then(|(name, _)| crate::hints::hint_for(&spec, name)).unwrap_or(1);
    let hints = lab.hints();
    if let Some(h) = n.checked_sub(1).and_then(|i| hints.get(i)).or(hints.first()) {
        say!("\nHint {n}: {h}\n(more: cargo lab hint {})", lab.number);
    }
    save_status(lab, "✗ failing");
    Ok(ExitCode::FAILURE)
}

fn save_status(lab: &Lab, status: &str) {
    let _ = std::fs::write(state_dir().join(format!("status-{:02}", lab.number)), status);
}

// ----- watch -----------------------------------------------------------------------------

/// The newest modification time among the lab's sources (src/ and Cargo.toml).
fn newest_change(lab: &Lab) -> std::time::SystemTime {
    fn walk(dir: &std::path::Path, newest: &mut std::time::SystemTime) {
        if let Ok(rd) = std::fs::read_dir(dir) {
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, newest);
                } else if let Ok(m) = e.metadata().and_then(|m| m.modified()) {
                    *newest = (*newest).max(m);
                }
            }
        }
    }
    let dir = root().join("labs").join(&lab.dir);
    let mut newest = std::time::UNIX_EPOCH;
    walk(&dir.join("src"), &mut newest);
    if let Ok(m) = std::fs::metadata(dir.join("Cargo.toml")).and_then(|m| m.modified()) {
        newest = newest.max(m);
    }
    newest
}

pub fn watch(lab: &Lab) -> Result<ExitCode, String> {
    let mut seen = newest_change(lab);
    loop {
        let _ = check(lab)?;
        say!(
            "
watching labs/{}/src — save a change to check again (Ctrl-C to stop)",
            lab.dir
        );
        loop {
            std::thread::sleep(Duration::from_millis(300));
            let now = newest_change(lab);
            if now != seen {
                seen = now;
                say!(
                    "
────────────────────────────────────────────────────────────────"
                );
                break;
            }
        }
    }
}

// ----- hint ------------------------------------------------------------------------------

pub fn hint(lab: &Lab, all: bool, reset: bool) -> Result<ExitCode, String> {
    let hints = lab.hints();
    if hints.is_empty() {
        return Err(format!("lab {:02} has no hints in {}", lab.number, lab.hints_file().display()));
    }
    let file = state_dir().join(format!("hints-{:02}", lab.number));
    if reset {
        let _ = std::fs::remove_file(&file);
        say!("Lab {:02}: hints start again from hint 1.", lab.number);
        return Ok(ExitCode::SUCCESS);
    }
    if all {
        for (i, h) in hints.iter().enumerate() {
            say!("Hint {} of {}:\n{h}\n", i + 1, hints.len());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let shown: usize = std::fs::read_to_string(&file).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0);
    let next = shown.min(hints.len() - 1);
    say!("Lab {:02} — hint {} of {}:\n\n{}", lab.number, next + 1, hints.len(), hints[next]);
    if next + 1 == hints.len() {
        say!("\nThat was the last hint. (cargo lab hint {} --reset to start over)", lab.number);
    } else {
        say!("\n(run it again for hint {})", next + 2);
    }
    let _ = std::fs::write(&file, (next + 1).to_string());
    Ok(ExitCode::SUCCESS)
}

// ----- demo ------------------------------------------------------------------------------

pub fn demo(lab: &Lab, filter: Option<&str>) -> Result<ExitCode, String> {
    eprintln!("Lab {:02} — {}: building the reference solution…", lab.number, lab.title);
    build(&[lab.solution()], &format!("the reference solution of lab {:02}", lab.number))?;
    say!("Lab {:02} — {}", lab.number, lab.title);
    say!("The reference solution (solutions/{}) runs in a sandbox. Each step shows the", lab.dir);
    say!("process tree as /proc reports it: pid, role, state (R/S/Z), process group, signals.");
    let mut args = vec!["--nocapture", "--test-threads=1"];
    if let Some(f) = filter {
        args.push(f);
    }
    let mut cmd = spec(&lab.solution(), &args);
    cmd.env("PROCLAB_NARRATE", "1").stdout(Stdio::piped()).stderr(Stdio::piped()).stdin(Stdio::null());
    let mut child = cmd.spawn().map_err(|e| format!("cannot run cargo: {e}"))?;
    running(&child);
    let out = child.stdout.take().expect("piped");
    let mut ran = 0;
    for line in BufReader::new(out).lines().map_while(Result::ok) {
        let noise = line.starts_with("running ")
            || line.starts_with("test result:")
            || (line.starts_with("test ") && line.contains(" ... "))
            || line == "ok"
            || line.trim() == "."
            || line.trim().is_empty() && ran == 0;
        if line.starts_with("━━") {
            ran += 1;
        }
        if !noise {
            say!("{line}");
        }
    }
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    not_running();
    if !status.success() {
        eprintln!("{err}");
        return Err(format!("the demo of lab {:02} failed (see above)", lab.number));
    }
    if ran == 0 {
        return Err(format!("no spec test of lab {:02} matches '{}'", lab.number, filter.unwrap_or("")));
    }
    say!(
        "\n{ran} scenario(s) shown. Now predict, then try it yourself: labs/{} (cargo lab check {}).",
        lab.dir,
        lab.number
    );
    Ok(ExitCode::SUCCESS)
}

// ----- verify ----------------------------------------------------------------------------

/// `repeat`: run each solution's spec that many times (races show up as a failed run).
pub fn verify(repeat: u32) -> Result<ExitCode, String> {
    let labs = labs::all();
    let repeat = repeat.max(1);
    let started = Instant::now();
    eprintln!("verify: building {} labs and their solutions…", labs.len());
    let mut build = cargo();
    build.args(["test", "-q", "--no-run", "--workspace"]);
    let b = capture(build, Duration::from_secs(1800));
    if !b.ok {
        say!("{}", b.text);
        return Err("the workspace does not build".into());
    }
    say!("{}", harness::layers::summary());
    let mut bad = 0;
    for lab in &labs {
        let mut problems: Vec<String> = Vec::new();
        let mut sol = capture(spec(&lab.solution(), &[]), SPEC_LIMIT);
        let mut failed_runs = u32::from(!sol.ok);
        for run in 2..=repeat {
            eprint!("\r  lab {:02}: solution run {run} of {repeat}…", lab.number);
            let again = capture(spec(&lab.solution(), &[]), SPEC_LIMIT);
            if !again.ok {
                failed_runs += 1;
                if sol.ok {
                    sol = again; // keep a failing run's output to show
                }
            }
        }
        if repeat > 1 {
            eprint!("\r{:60}\r", "");
        }
        let (sp, sf) = tally(&sol.text);
        if failed_runs > 0 {
            let runs = if repeat > 1 { format!(" in {failed_runs} of {repeat} runs") } else { String::new() };
            problems.push(format!("solution fails {sf} test(s){runs}:\n{}", indent(&sol.text)));
        }
        let st = capture(spec(&lab.starter(), &[]), SPEC_LIMIT);
        let (tp, tf) = tally(&st.text);
        let starter_word = if st.ok {
            problems.push("the untouched starter PASSES its spec".into());
            "passes!".to_string()
        } else if st.timed_out {
            problems.push(format!("the starter's spec did not finish within {} s", SPEC_LIMIT.as_secs()));
            "timed out".to_string()
        } else if compile_error(&st.text) {
            problems.push(format!("the starter does not compile:\n{}", indent(&st.text)));
            "does not compile".to_string()
        } else if st.code != Some(101) || !is_assertion_failure(&st.text) {
            problems
                .push(format!("the starter fails, but not by a proclab assertion:\n{}", indent(&st.text)));
            "fails without a verdict".to_string()
        } else {
            format!("fails by assertion in {tf} of {} tests", tp + tf)
        };
        problems.extend(static_checks(lab));
        say!(
            "lab {:02} {:<34} solution {} {sp} passed ({:.1} s) · starter {} {starter_word} ({:.1} s)",
            lab.number,
            lab.dir,
            if failed_runs == 0 { "✓" } else { "✗" },
            sol.elapsed.as_secs_f64(),
            if problems.iter().any(|p| p.contains("starter")) { "✗" } else { "✓" },
            st.elapsed.as_secs_f64(),
        );
        for p in &problems {
            say!("   ✗ {p}");
        }
        if !problems.is_empty() {
            bad += 1;
        }
    }
    // The wrong-answer catalogues: each wrong answer rejected by its test, each right one accepted.
    bad += crate::judge::run_catalogues(&labs);
    // The book as readers get it: built (into target/, not over book/book), links checked on the HTML.
    if crate::site::report(&root(), &state_dir().join("book")) > 0 {
        bad += 1;
    }
    let leaks = leftover_processes();
    if !leaks.is_empty() {
        say!("✗ processes from target/ still running after the runs: {leaks:?}");
        bad += 1;
    }
    let secs = started.elapsed().as_secs_f64();
    if bad == 0 {
        say!(
            "verify: all {} labs good — every solution passes, every starter fails by assertion ({secs:.1} s)",
            labs.len()
        );
        Ok(ExitCode::SUCCESS)
    } else {
        say!("verify: {bad} problem(s) ({secs:.1} s)");
        Ok(ExitCode::FAILURE)
    }
}

/// The parts every lab must have besides code: sheet, hints, claims proven by the spec, chapter.
fn static_checks(lab: &Lab) -> Vec<String> {
    let mut p = Vec::new();
    let sheet = lab.sheet_text();
    if sheet.is_empty() {
        p.push(format!("no lab sheet {}", lab.sheet().display()));
        return p;
    }
    if lab.hints().is_empty() {
        p.push(format!("no hints in {} (### Hint N between ANCHOR: hints markers)", lab.hints_file().display()));
    }
    let spec =
        std::fs::read_to_string(root().join(format!("tests/lab{:02}.rs", lab.number))).unwrap_or_default();
    let ids = lab.claim_ids();
    if ids.is_empty() {
        p.push("the lab sheet has no claims table".into());
    }
    for id in ids {
        if !spec.contains(&format!("\"{id}\"")) {
            p.push(format!("claim '{id}' of the lab sheet is never claimed by the spec (sc.claim)"));
        }
    }
    let chapter = root().join(format!("book/src/labs/{}.md", lab.dir));
    match std::fs::read_to_string(&chapter) {
        Ok(text) if text.lines().count() > 20 => {}
        _ => p.push(format!("no book chapter at {}", chapter.display())),
    }
    p
}

/// Processes still running a binary from this workspace's target/ (anything a run left behind).
pub fn leftover_processes() -> Vec<String> {
    let target = root().join("target");
    let me = std::process::id();
    let mut out = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else { continue };
            if pid == me {
                continue;
            }
            if let Ok(exe) = std::fs::read_link(e.path().join("exe")) {
                if exe.starts_with(&target) {
                    out.push(format!(
                        "{pid} {}",
                        exe.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
                    ));
                }
            }
        }
    }
    out
}

fn indent(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let skip = lines.len().saturating_sub(60);
    lines[skip..].iter().map(|l| format!("      {l}\n")).collect()
}

// ----- tour ------------------------------------------------------------------------------

/// One claim as this machine showed it.
struct Seen {
    claim: labs::Claim,
    observed: Vec<String>,
}

pub fn tour() -> Result<ExitCode, String> {
    let labs = labs::all();
    let started = Instant::now();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    eprintln!(
        "tour: the posts' claims, checked on this machine (Linux {}, {}).",
        kernel.trim(),
        std::env::consts::ARCH
    );
    eprintln!("building the reference solutions…");
    build(&labs.iter().map(Lab::solution).collect::<Vec<_>>(), "the reference solutions")?;
    let mut sections: Vec<(&Lab, Vec<Seen>)> = Vec::new();
    let mut broken = 0;
    for (i, lab) in labs.iter().enumerate() {
        let file = state_dir().join(format!("claims-{:02}-{}.tsv", lab.number, std::process::id()));
        let _ = std::fs::remove_file(&file);
        let mut cmd = spec(&lab.solution(), &[]);
        cmd.env("PROCLAB_CLAIMS", &file);
        let out = capture(cmd, SPEC_LIMIT);
        let records = std::fs::read_to_string(&file).unwrap_or_default();
        let _ = std::fs::remove_file(&file);
        let (passed, failed) = tally(&out.text);
        let mut seen: Vec<Seen> = labs::claims_of(&lab.sheet_text())
            .into_iter()
            .map(|claim| Seen { claim, observed: Vec::new() })
            .collect();
        for line in records.lines() {
            let mut f = line.splitn(3, '\t');
            let (_pkg, id, observed) = (f.next(), f.next().unwrap_or(""), f.next().unwrap_or(""));
            if let Some(s) = seen.iter_mut().find(|s| s.claim.id == id) {
                s.observed.push(observed.to_string());
            }
        }
        let unseen = seen.iter().filter(|s| s.observed.is_empty()).count();
        let ok = out.ok && unseen == 0;
        eprintln!(
            "[{}/{}] lab {:02} {:<44} {} {passed} scenario(s), {} claim(s) ({:.1} s)",
            i + 1,
            labs.len(),
            lab.number,
            lab.title,
            if ok { "✓" } else { "✗" },
            seen.len(),
            out.elapsed.as_secs_f64()
        );
        if !out.ok {
            broken += 1;
            eprintln!("   ✗ {failed} scenario(s) could not run as specified:");
            for (name, report) in failures(&out.text) {
                eprintln!("     {name}\n{}", indent(&report));
            }
        } else if unseen > 0 {
            broken += 1;
            eprintln!("   ✗ {unseen} claim(s) of the lab sheet were not observed by any scenario");
        }
        sections.push((lab, seen));
    }

    say!("\nMyths and facts, as this machine showed them");
    say!("============================================");
    let (mut holds, mut fails, mut partly) = (0, 0, 0);
    for (lab, seen) in &sections {
        say!("\nLab {:02} — {}", lab.number, lab.title);
        for s in seen {
            let v = s.claim.verdict.to_lowercase();
            let word = if v.starts_with("holds") {
                holds += 1;
                "HOLDS"
            } else if v.starts_with("fails") {
                fails += 1;
                "FAILS"
            } else {
                partly += 1;
                "PARTLY"
            };
            let detail =
                s.claim.verdict.split_once(':').map(|(_, d)| format!(" ({})", d.trim())).unwrap_or_default();
            say!("  post {}: {}", s.claim.post, strip_md(&s.claim.claim));
            match s.observed.first() {
                Some(o) => {
                    let more = if s.observed.len() > 1 {
                        format!(" (+{} more runs)", s.observed.len() - 1)
                    } else {
                        String::new()
                    };
                    say!("    {word}{detail} — seen here: {o}{more}");
                }
                None => say!("    {word}{detail} — NOT CONFIRMED on this machine"),
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    say!(
        "\n{} claims: {holds} hold, {fails} fail, {partly} hold only partly — in {secs:.1} s.",
        holds + fails + partly
    );
    if broken > 0 {
        say!("✗ {broken} lab(s) could not confirm their claims (see above).");
        return Ok(ExitCode::FAILURE);
    }
    say!("Every verdict above was asserted by a spec on this machine: tests/labNN.rs.");
    Ok(ExitCode::SUCCESS)
}

fn strip_md(s: &str) -> String {
    s.replace('`', "")
}
