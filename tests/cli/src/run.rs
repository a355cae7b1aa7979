//! The subcommands: each runs cargo on the workspace and reads what it prints.

use crate::labs::{self, Lab, root};
use crate::say;
use i18n::t;
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

/// The language of the specs' failure reports (`PROCLAB_LANG` for the harness): 0 English, 1 Chinese.
static REPORT_LANG: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// The student's commands have the specs report in the student's language; the instructors'
/// commands, which read the reports, keep them in English.
pub fn set_report_language(lang: i18n::Lang) {
    REPORT_LANG.store(u8::from(lang == i18n::Lang::Zh), std::sync::atomic::Ordering::Relaxed);
}

fn report_language() -> i18n::Lang {
    if REPORT_LANG.load(std::sync::atomic::Ordering::Relaxed) == 1 { i18n::Lang::Zh } else { i18n::Lang::En }
}

pub(crate) fn cargo() -> Command {
    let mut c = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    c.current_dir(root()).env("RUST_BACKTRACE", "0").env_remove("PROCLAB_NARRATE");
    c.env("PROCLAB_LANG", report_language().code());
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
            eprintln!("\n{}", t!("cli-interrupted"));
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
    if !specs_built_before() {
        eprintln!("{}", t!("build-first", what = what));
    }
    let mut c = cargo();
    c.args(["test", "--no-run"]);
    for p in packages {
        c.args(["-p", p]);
    }
    // cargo's progress and errors go straight to the terminal; stdout (the test binaries'
    // names) is of no use here.
    c.stdout(Stdio::null()).stderr(Stdio::inherit()).stdin(Stdio::null());
    let mut child = c.spawn().map_err(|e| t!("cli-cannot-run-cargo", error = e))?;
    running(&child);
    let status = child.wait().map_err(|e| t!("cli-cannot-run-cargo", error = e))?;
    not_running();
    if status.success() { Ok(()) } else { Err(t!("build-fails", what = what)) }
}

/// Whether the specs' dependencies have been built in this kit's target directory (rstest's
/// macros are built for the specs only, not for `cargo lab` itself): if not, the build about
/// to start is the long first one; a lab not built yet, once they are, takes seconds.
fn specs_built_before() -> bool {
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(t) => root().join(t), // an absolute path stays as it is
        None => root().join("target"),
    };
    std::fs::read_dir(target.join("debug/deps"))
        .is_ok_and(|d| d.flatten().any(|e| e.file_name().to_string_lossy().starts_with("librstest_macros-")))
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
        return Err(t!("lab-none-in", dir = root().join("labs").display()));
    }
    say!(" #  {} {}", crate::style::fit(&t!("list-col-lab"), LIST_TITLE_COLUMNS), t!("list-col-code"));
    let mut done = 0;
    let mut next = None;
    for lab in &labs {
        let saved = std::fs::read_to_string(state_dir().join(format!("status-{:02}", lab.number)))
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        if saved.starts_with('✓') {
            done += 1;
        } else if next.is_none() {
            next = Some(lab);
        }
        say!("{}", list_row(lab.number, &lab.title_here(), &status_text(&saved)));
    }
    say!("\n{}", t!("list-done", done = done, total = labs.len()));
    match next {
        Some(l) => say!(
            "{}",
            t!(
                "list-next",
                lab = format!("{:02}", l.number),
                title = l.title_here(),
                dir = l.dir,
                sheet =
                    l.sheet_here().file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
                number = l.number
            )
        ),
        None => say!("{}", t!("list-all-pass")),
    }
    say!("{}", t!("list-commands"));
    say!("{}", harness::layers::summary());
    Ok(ExitCode::SUCCESS)
}

/// Terminal columns of the title in `cargo lab list`: a longer title is cut with '…', so that
/// every row's status starts in the same column (4 + 48 + 1 + the longest status < 80).
const LIST_TITLE_COLUMNS: usize = 48;

/// One row of `cargo lab list`: number, title fitted to its column (by display width: a
/// Chinese character takes two), status.
fn list_row(number: u32, title: &str, status: &str) -> String {
    format!("{number:02}  {} {status}", crate::style::fit(title, LIST_TITLE_COLUMNS))
}

/// A saved verdict (`target/proclab/status-NN`, written in English) in the student's language.
fn status_text(saved: &str) -> String {
    match saved {
        "" => t!("status-not-checked"),
        s if s.starts_with('✓') => t!("status-passed"),
        s if s.contains("compile") => t!("status-no-compile"),
        s if s.contains("timeout") => t!("status-timeout"),
        _ => t!("status-failing"),
    }
}

// ----- doctor ----------------------------------------------------------------------------

pub fn doctor() -> Result<ExitCode, String> {
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    say!("{}\n", t!("doctor-title", kernel = kernel.trim()));
    print!("{}", harness::layers::explain());
    say!("\n{}", t!("doctor-each-layer"));
    Ok(if harness::layers::chosen().is_ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

// ----- check -----------------------------------------------------------------------------

pub fn check(lab: &Lab) -> Result<ExitCode, String> {
    let num = format!("{:02}", lab.number);
    eprintln!("{}", t!("check-building", lab = num, title = lab.title_here(), dir = lab.dir));
    if build(&[lab.starter()], &format!("labs/{}", lab.dir)).is_err() {
        say!("\n{}", t!("check-no-compile", dir = lab.dir));
        save_status(lab, "✗ does not compile");
        return Ok(ExitCode::FAILURE);
    }
    eprintln!("{}", t!("check-running", lab = num));
    let out = capture(spec(&lab.starter(), &[]), SPEC_LIMIT);
    let (passed, failed) = tally(&out.text);
    if out.ok {
        let secs = format!("{:.1}", out.elapsed.as_secs_f64());
        say!("{}", t!("check-pass", lab = num, passed = passed, secs = secs));
        say!("  {}", t!("check-compare", dir = lab.dir));
        save_status(lab, "✓ passed");
        return Ok(ExitCode::SUCCESS);
    }
    if out.timed_out {
        say!("{}", out.text.trim_end());
        say!("\n{}", t!("check-timeout", secs = SPEC_LIMIT.as_secs()));
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
    let secs = format!("{:.1}", out.elapsed.as_secs_f64());
    say!("{}", t!("check-fail", lab = num, failed = failed, total = passed + failed, secs = secs));
    // The hint for the first failing test, as its spec tags it (hints.rs); else hint 1.
    let spec_path = root().join(format!("tests/lab{:02}.rs", lab.number));
    let spec = std::fs::read_to_string(spec_path).unwrap_or_default();
    let n = fails.first().and_then(|(name, _)| crate::hints::hint_for(&spec, name)).unwrap_or(1);
    let (hints, _) = lab.hints_here();
    if let Some(h) = n.checked_sub(1).and_then(|i| hints.get(i)).or(hints.first()) {
        // A hint that opens with code starts it on a line of its own.
        let h = crate::hints::render(h);
        let h = if h.starts_with(' ') { format!("\n{h}") } else { h };
        say!("\n{}\n{}", t!("check-hint", n = n, hint = h), t!("verdict-hint-more", lab = lab.number));
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
        say!("\n{}", t!("watch-waiting", dir = lab.dir));
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
    let (hints, file_read) = lab.hints_here();
    let num = format!("{:02}", lab.number);
    if hints.is_empty() {
        return Err(t!("hint-none", lab = num, file = lab.hints_file().display()));
    }
    if file_read != lab.hints_file_here() {
        let shown = lab.hints_file_here();
        let rel = shown.strip_prefix(root()).unwrap_or(&shown).display().to_string();
        eprintln!("{}", t!("hint-untranslated", file = rel));
    }
    let file = state_dir().join(format!("hints-{:02}", lab.number));
    if reset {
        let _ = std::fs::remove_file(&file);
        say!("{}", t!("hint-reset", lab = num));
        return Ok(ExitCode::SUCCESS);
    }
    if all {
        for (i, h) in hints.iter().enumerate() {
            say!("{}\n{}\n", t!("hint-of-all", n = i + 1, total = hints.len()), crate::hints::render(h));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let shown: usize = std::fs::read_to_string(&file).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0);
    let next = shown.min(hints.len() - 1);
    say!(
        "{}\n\n{}",
        t!("hint-header", lab = num, n = next + 1, total = hints.len()),
        crate::hints::render(&hints[next])
    );
    if next + 1 == hints.len() {
        say!("\n{}", t!("hint-last", number = lab.number));
    } else {
        say!("\n{}", t!("hint-next", n = next + 2));
    }
    let _ = std::fs::write(&file, (next + 1).to_string());
    Ok(ExitCode::SUCCESS)
}

// ----- demo ------------------------------------------------------------------------------

pub fn demo(lab: &Lab, filter: Option<&str>) -> Result<ExitCode, String> {
    let num = format!("{:02}", lab.number);
    eprintln!("{}", t!("demo-building", lab = num, title = lab.title_here()));
    build(&[lab.solution()], &t!("build-what-solution", lab = num))?;
    say!("{}", t!("demo-title", lab = num, title = lab.title_here()));
    say!("{}", t!("demo-intro", dir = lab.dir));
    let mut args = vec!["--nocapture", "--test-threads=1"];
    if let Some(f) = filter {
        args.push(f);
    }
    let mut cmd = spec(&lab.solution(), &args);
    cmd.env("PROCLAB_NARRATE", "1").stdout(Stdio::piped()).stderr(Stdio::piped()).stdin(Stdio::null());
    let mut child = cmd.spawn().map_err(|e| t!("cli-cannot-run-cargo", error = e))?;
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
        return Err(t!("demo-failed", lab = num));
    }
    if ran == 0 {
        return Err(t!("demo-no-match", lab = num, filter = filter.unwrap_or("")));
    }
    say!("\n{}", t!("demo-done", ran = ran, dir = lab.dir, number = lab.number));
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
        p.push(format!(
            "no hints in {} (### Hint N between ANCHOR: hints markers)",
            lab.hints_file().display()
        ));
    }
    let spec =
        std::fs::read_to_string(root().join(format!("tests/lab{:02}.rs", lab.number))).unwrap_or_default();
    let ids = lab.claim_ids();
    if ids.is_empty() {
        p.push("the lab sheet has no claims table".into());
    }
    for id in ids {
        if !spec.contains(&format!("\"{id}\"")) {
            p.push(format!("claim '{id}' of the lab sheet is never claimed by the spec (sc.claim_verdict)"));
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

pub fn tour() -> Result<ExitCode, String> {
    let labs = labs::all();
    let started = Instant::now();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    eprintln!("{}", t!("tour-start", kernel = kernel.trim(), arch = std::env::consts::ARCH));
    eprintln!("{}", t!("tour-building"));
    build(&labs.iter().map(Lab::solution).collect::<Vec<_>>(), &t!("build-what-solutions"))?;
    let mut sections: Vec<(&Lab, Vec<crate::tour::Judged>)> = Vec::new();
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
        // The verdict of each claim is computed from what the specs recorded (sc.claim_verdict).
        let judged: Vec<crate::tour::Judged> = lab
            .claims_here()
            .into_iter()
            .map(|(claim, shown)| {
                let recs = crate::tour::Records::of(&claim.id, &records);
                crate::tour::judge(&claim, &shown, &recs)
            })
            .collect();
        let unseen = judged.iter().filter(|j| j.computed.is_none()).count();
        let ok = out.ok && unseen == 0;
        eprintln!(
            "{}",
            t!(
                "tour-progress",
                i = i + 1,
                n = labs.len(),
                lab = format!("{:02}", lab.number),
                title = crate::style::fit(&lab.title_here(), 44),
                mark = if ok { "✓" } else { "✗" },
                passed = passed,
                claims = judged.len(),
                secs = format!("{:.1}", out.elapsed.as_secs_f64())
            )
        );
        if !out.ok {
            broken += 1;
            eprintln!("   {}", t!("tour-could-not-run", failed = failed));
            for (name, report) in failures(&out.text) {
                eprintln!("     {name}\n{}", indent(&report));
            }
        } else if unseen > 0 {
            eprintln!("   {}", t!("tour-unseen", unseen = unseen));
        }
        sections.push((lab, judged));
    }

    let heading = t!("tour-heading");
    say!("\n{heading}");
    say!("{}", "=".repeat(crate::style::width(&heading)));
    for (lab, judged) in &sections {
        say!("\n{}", t!("tour-lab", lab = format!("{:02}", lab.number), title = lab.title_here()));
        for j in judged {
            for line in &j.lines {
                say!("  {line}");
            }
        }
    }
    let secs = format!("{:.1}", started.elapsed().as_secs_f64());
    let all: Vec<&crate::tour::Judged> = sections.iter().flat_map(|(_, j)| j.iter()).collect();
    let closing = crate::tour::closing(&all, broken, &secs);
    say!("");
    for line in &closing {
        say!("{line}");
    }
    let unseen = all.iter().filter(|j| j.computed.is_none()).count();
    Ok(if broken > 0 || unseen > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `cargo lab list`: the status of every lab starts in the same column, in English and in
    /// Chinese (whose characters take two columns), however long the title; a title too long
    /// for its column is cut with '…'.
    #[test]
    fn every_row_of_list_has_its_status_in_the_same_column_in_both_languages() {
        let labs = labs::all();
        assert!(labs.len() >= 16, "{labs:?}");
        let column = crate::style::width(&format!("{} ", &list_row(1, "", "x")[..4 + LIST_TITLE_COLUMNS]));
        for sheet in ["README.md", "README.zh-CN.md"] {
            for lab in &labs {
                let text = std::fs::read_to_string(root().join("labs").join(&lab.dir).join(sheet)).unwrap();
                let title = labs::title_of(&text);
                assert!(!title.is_empty(), "{}/{sheet}", lab.dir);
                for status in [t!("status-not-checked"), "✗ failing (timeout)".into(), "✓ 已通过".into()]
                {
                    let row = list_row(lab.number, &title, &status);
                    let before = row.strip_suffix(status.as_str()).expect("the status ends the row");
                    assert_eq!(crate::style::width(before), column, "{row:?}");
                    let cut = crate::style::width(&title) > LIST_TITLE_COLUMNS;
                    assert_eq!(before.trim_end().ends_with('…'), cut, "{row:?}");
                }
            }
        }
        let long = list_row(14, &labs::title_of(&labs[13].sheet_text()), "✓ passed");
        assert!(long.starts_with("14  Pipes and SIGPIPE: who blocks on a full pipe…"), "{long}");
    }
}
