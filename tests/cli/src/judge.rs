//! The wrong-answer catalogue: proof that each spec rejects the mistakes students really make
//! and accepts the other correct ways.
//!
//! `tests/wrong/labNN/*.rs` are whole `main.rs` files for lab NN. Each opens with comments:
//!
//! ```text
//! // wrong: <the mistake, one line>
//! // rejected-by: <the spec's test fn that must reject it>
//! ```
//!
//! or `// right: <what differs>` for another legitimate way to solve the lab. `cargo lab judge`
//! (and `cargo lab verify`) builds each one in place of the starter — in a scratch copy of the
//! lab's package under `target/proclab/judge/`, never in `labs/` — runs the lab's spec against
//! it and requires: every wrong answer fails **its `rejected-by` test, by a proclab assertion**
//! (not a compile error, not a time-out), every right answer passes the whole spec.

use crate::labs::{Lab, root};
use crate::run::{self, capture, failures, is_assertion_failure};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Longest one catalogue entry may take: build and spec (the spec's own waits have deadlines).
const ENTRY_LIMIT: Duration = Duration::from_secs(300);

/// What a catalogue file says it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A mistake, and the test that must reject it.
    Wrong { mistake: String, rejected_by: String },
    /// Another correct answer: the whole spec must pass.
    Right { what: String },
}

/// One file of the catalogue.
#[derive(Clone, Debug)]
pub struct Entry {
    pub path: PathBuf,
    /// The file's stem: `println-in-handler`.
    pub name: String,
    pub kind: Kind,
}

/// Reads the header comments of a catalogue file.
pub fn parse_header(text: &str) -> Result<Kind, String> {
    let mut lines = text.lines().map(str::trim).take_while(|l| l.starts_with("//"));
    let first = lines.next().ok_or("no header: the first line must be `// wrong: …` or `// right: …`")?;
    let value = |line: &str, key: &str| {
        line.strip_prefix("//")
            .map(str::trim_start)
            .and_then(|l| l.strip_prefix(key))
            .and_then(|l| l.strip_prefix(':'))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    if let Some(what) = value(first, "right") {
        return Ok(Kind::Right { what });
    }
    let Some(mistake) = value(first, "wrong") else {
        return Err(format!("the first line must be `// wrong: …` or `// right: …`, not `{first}`"));
    };
    let rejected_by = lines
        .next()
        .and_then(|l| value(l, "rejected-by"))
        .ok_or("a wrong answer's second line must be `// rejected-by: <spec test fn>`")?;
    if rejected_by.contains(char::is_whitespace) {
        return Err(format!("`rejected-by: {rejected_by}` must name one test fn"));
    }
    Ok(Kind::Wrong { mistake, rejected_by })
}

/// The catalogue of a lab, sorted by name (wrong and right mixed).
pub fn entries(lab: &Lab) -> Result<Vec<Entry>, String> {
    let dir = root().join("tests/wrong").join(format!("lab{:02}", lab.number));
    let Ok(rd) = std::fs::read_dir(&dir) else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for e in rd.flatten() {
        let path = e.path();
        if path.extension().is_none_or(|x| x != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let kind = parse_header(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        out.push(Entry { path, name, kind });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Does libtest's test `name` belong to the spec fn `test_fn`? rstest cases are
/// `test_fn::case_2_child_1`; a plain test is `test_fn` itself.
pub fn belongs_to(name: &str, test_fn: &str) -> bool {
    name == test_fn || name.strip_prefix(test_fn).is_some_and(|rest| rest.starts_with("::"))
}

// ----- the scratch workspace ---------------------------------------------------------------

/// `target/proclab/judge`: a workspace of its own (so cargo never mistakes it for a member of
/// the kit's), building into the kit's target directory so that dependencies are shared.
fn judge_dir() -> PathBuf {
    root().join("target/proclab/judge")
}

fn package(lab: &Lab) -> String {
    format!("judge{:02}", lab.number)
}

/// Makes every relative `path = "…"` in `table` (a dependency table) absolute, from `base`.
fn absolute_paths(table: &mut toml::Table, base: &Path) {
    for (_, dep) in table.iter_mut() {
        if let Some(t) = dep.as_table_mut() {
            if let Some(p) = t.get("path").and_then(|p| p.as_str()) {
                let abs = normalize(&base.join(p));
                t.insert("path".into(), toml::Value::String(abs.to_string_lossy().into_owned()));
            }
        }
    }
}

/// `a/b/../c` → `a/c`, without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Writes `path` only if its content changes (cargo rebuilds what is newer).
fn write_if_changed(path: &Path, text: &str) -> Result<(), String> {
    if std::fs::read_to_string(path).is_ok_and(|t| t == text) {
        return Ok(());
    }
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The scratch workspace's manifest: the kit's, with its members replaced by the judge
/// packages and its path dependencies made absolute (same versions, features and profiles).
fn workspace_manifest(members: &[String]) -> Result<String, String> {
    let kit = root();
    let text = std::fs::read_to_string(kit.join("Cargo.toml")).map_err(|e| format!("Cargo.toml: {e}"))?;
    let mut doc: toml::Table = text.parse().map_err(|e| format!("Cargo.toml: {e}"))?;
    let ws =
        doc.get_mut("workspace").and_then(|w| w.as_table_mut()).ok_or("Cargo.toml has no [workspace]")?;
    ws.insert(
        "members".into(),
        toml::Value::Array(members.iter().cloned().map(toml::Value::String).collect()),
    );
    ws.remove("default-members");
    ws.remove("exclude");
    if let Some(deps) = ws.get_mut("dependencies").and_then(|d| d.as_table_mut()) {
        absolute_paths(deps, &kit);
    }
    Ok(format!(
        "# Written by `cargo lab judge`: scratch copies of the labs' packages, each built with one\n\
         # answer of tests/wrong/ in place of the starter. Never edit; never in labs/.\n{}",
        toml::to_string(&doc).map_err(|e| e.to_string())?
    ))
}

/// The judge package of `lab`: the lab's manifest under another name, its spec and path
/// dependencies by absolute path.
fn package_manifest(lab: &Lab) -> Result<String, String> {
    let dir = root().join("labs").join(&lab.dir);
    let text = std::fs::read_to_string(dir.join("Cargo.toml"))
        .map_err(|e| format!("labs/{}/Cargo.toml: {e}", lab.dir))?;
    let mut doc: toml::Table = text.parse().map_err(|e| format!("labs/{}/Cargo.toml: {e}", lab.dir))?;
    let pkg = doc.get_mut("package").and_then(|p| p.as_table_mut()).ok_or("no [package]")?;
    pkg.insert("name".into(), toml::Value::String(package(lab)));
    for key in ["dependencies", "dev-dependencies", "build-dependencies"] {
        if let Some(deps) = doc.get_mut(key).and_then(|d| d.as_table_mut()) {
            absolute_paths(deps, &dir);
        }
    }
    // The program keeps the package's name, which the spec finds it by (`lab!()`:
    // CARGO_BIN_EXE_<package>).
    if let Some(bins) = doc.get_mut("bin").and_then(|b| b.as_array_mut()) {
        for b in bins.iter_mut().filter_map(|b| b.as_table_mut()) {
            b.insert("name".into(), toml::Value::String(package(lab)));
        }
    }
    if let Some(tests) = doc.get_mut("test").and_then(|t| t.as_array_mut()) {
        for t in tests.iter_mut().filter_map(|t| t.as_table_mut()) {
            if let Some(p) = t.get("path").and_then(|p| p.as_str()) {
                let abs = normalize(&dir.join(p));
                t.insert("path".into(), toml::Value::String(abs.to_string_lossy().into_owned()));
            }
        }
    }
    toml::to_string(&doc).map_err(|e| e.to_string())
}

/// Sets the scratch workspace up for `labs` (idempotent: unchanged files are not rewritten).
fn prepare() -> Result<(), String> {
    let dir = judge_dir();
    let members: Vec<String> = crate::labs::all().iter().map(package).collect();
    write_if_changed(&dir.join("Cargo.toml"), &workspace_manifest(&members)?)?;
    // The kit's lock file: the same versions, and nothing to resolve (works offline).
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).unwrap_or_default();
    write_if_changed(&dir.join("Cargo.lock"), &lock)?;
    for lab in crate::labs::all() {
        let pkg = dir.join(package(&lab));
        write_if_changed(&pkg.join("Cargo.toml"), &package_manifest(&lab)?)?;
        // Every member must build for cargo: until an answer is put in, the starter.
        let main = pkg.join("src/main.rs");
        if !main.exists() {
            let starter = std::fs::read_to_string(root().join("labs").join(&lab.dir).join("src/main.rs"))
                .unwrap_or_default();
            write_if_changed(&main, &starter)?;
        }
    }
    Ok(())
}

/// `cargo test -q -p judgeNN --test spec [-- filter]` in the scratch workspace, into the kit's
/// target directory.
fn spec_cmd(lab: &Lab, filter: Option<&str>) -> std::process::Command {
    let mut c = run::cargo();
    c.current_dir(judge_dir()).env("CARGO_TARGET_DIR", root().join("target")).args([
        "test",
        "-q",
        "-p",
        &package(lab),
        "--test",
        "spec",
    ]);
    if let Some(f) = filter {
        c.args(["--", f]);
    }
    c
}

// ----- judging -----------------------------------------------------------------------------

/// What became of one entry.
#[derive(Debug)]
pub struct Verdict {
    pub ok: bool,
    /// One line: "rejected by X: expected: …" or what went wrong.
    pub line: String,
    /// Details for a problem (the spec's output).
    pub details: String,
    pub elapsed: Duration,
}

/// The first "expected: …" line of a proclab report, shortened, and its "why: …" if it has one.
fn expected_line(report: &str) -> String {
    let short = |line: &str| {
        let mut s: String = line.chars().take(150).collect();
        if s.len() < line.len() {
            s.push('…');
        }
        s
    };
    let find = |key: &str| report.lines().find_map(|l| l.trim().strip_prefix(key)).map(str::trim);
    let mut s = short(find("expected: ").unwrap_or(""));
    if let Some(why) = find("why: ") {
        s.push_str(" — why: ");
        s.push_str(&short(why));
    }
    s
}

/// Judges one entry of `lab` (its scratch package is ready).
pub fn judge(lab: &Lab, entry: &Entry) -> Verdict {
    let start = Instant::now();
    let text = std::fs::read_to_string(&entry.path).unwrap_or_default();
    let main = judge_dir().join(package(lab)).join("src/main.rs");
    if let Err(e) = write_if_changed(&main, &text) {
        return Verdict { ok: false, line: e, details: String::new(), elapsed: start.elapsed() };
    }
    let filter = match &entry.kind {
        Kind::Wrong { rejected_by, .. } => Some(rejected_by.as_str()),
        Kind::Right { .. } => None,
    };
    let out = capture(spec_cmd(lab, filter), ENTRY_LIMIT);
    let elapsed = start.elapsed();
    let v = |ok: bool, line: String, details: &str| Verdict {
        ok,
        line,
        details: if ok { String::new() } else { details.to_string() },
        elapsed,
    };
    if out.timed_out {
        return v(false, format!("did not finish within {} s", ENTRY_LIMIT.as_secs()), &out.text);
    }
    if run::compile_error(&out.text) {
        return v(false, "does not compile".into(), &out.text);
    }
    match &entry.kind {
        Kind::Right { .. } => {
            if out.ok {
                v(true, "accepted: every test passes".into(), "")
            } else {
                let names: Vec<String> = failures(&out.text).into_iter().map(|(n, _)| n).collect();
                v(false, format!("REJECTED, yet it is a right answer: fails {}", names.join(", ")), &out.text)
            }
        }
        Kind::Wrong { rejected_by, .. } => {
            let fails = failures(&out.text);
            let ran = out.text.lines().any(|l| l.starts_with("test result:"))
                && !out.text.contains("running 0 tests");
            if !ran {
                return v(false, format!("the spec has no test `{rejected_by}`"), &out.text);
            }
            let mine: Vec<&(String, String)> =
                fails.iter().filter(|(n, _)| belongs_to(n, rejected_by)).collect();
            match mine.iter().find(|(_, r)| is_assertion_failure(r)) {
                Some((name, report)) => v(true, format!("rejected by {name}: {}", expected_line(report)), ""),
                None if mine.is_empty() => v(
                    false,
                    format!("ACCEPTED by {rejected_by}: a wrong answer passes the test meant to reject it"),
                    &out.text,
                ),
                None => v(
                    false,
                    format!(
                        "{rejected_by} fails, but not by a proclab assertion (a panic or a crash of the harness)"
                    ),
                    &out.text,
                ),
            }
        }
    }
}

/// Judges the catalogues of `labs`, printing progress; returns the number of problems.
pub fn run_catalogues(labs: &[Lab]) -> usize {
    let started = Instant::now();
    if let Err(e) = prepare() {
        println!("✗ judge: cannot set up {}: {e}", judge_dir().display());
        return 1;
    }
    let mut problems = 0;
    let (mut wrong_total, mut right_total) = (0, 0);
    for lab in labs {
        let lab_start = Instant::now();
        let entries = match entries(lab) {
            Ok(e) => e,
            Err(e) => {
                println!("lab {:02} catalogue ✗ {e}", lab.number);
                problems += 1;
                continue;
            }
        };
        let wrong = entries.iter().filter(|e| matches!(e.kind, Kind::Wrong { .. })).count();
        let right = entries.len() - wrong;
        let (mut rejected, mut accepted, mut bad) = (0, 0, Vec::new());
        for (i, entry) in entries.iter().enumerate() {
            let v = judge(lab, entry);
            let word = match entry.kind {
                Kind::Wrong { .. } => "wrong",
                Kind::Right { .. } => "right",
            };
            eprintln!(
                "  [{}/{}] lab {:02} {word} {:<36} {} {} ({:.1} s)",
                i + 1,
                entries.len(),
                lab.number,
                entry.name,
                if v.ok { "✓" } else { "✗" },
                v.line,
                v.elapsed.as_secs_f64()
            );
            if v.ok {
                match entry.kind {
                    Kind::Wrong { .. } => rejected += 1,
                    Kind::Right { .. } => accepted += 1,
                }
            } else {
                bad.push((entry.name.clone(), v));
            }
        }
        // Leave the scratch package on its starter, as a fresh one would be.
        let starter = std::fs::read_to_string(root().join("labs").join(&lab.dir).join("src/main.rs"))
            .unwrap_or_default();
        let _ = write_if_changed(&judge_dir().join(package(lab)).join("src/main.rs"), &starter);
        let short = if wrong < 4 { format!(" (fewer than 4 wrong answers: {wrong})") } else { String::new() };
        println!(
            "lab {:02} catalogue {} {rejected}/{wrong} wrong answers rejected by their test · {accepted}/{right} right answers accepted{short} ({:.1} s)",
            lab.number,
            if bad.is_empty() && wrong >= 4 { "✓" } else { "✗" },
            lab_start.elapsed().as_secs_f64()
        );
        for (name, v) in &bad {
            println!("   ✗ {name}: {}", v.line);
            if !v.details.trim().is_empty() {
                print!("{}", tail(&v.details, 40));
            }
        }
        problems += bad.len() + usize::from(wrong < 4);
        wrong_total += wrong;
        right_total += right;
    }
    println!(
        "catalogue: {wrong_total} wrong and {right_total} right answers in {} lab(s), {problems} problem(s) ({:.1} s)",
        labs.len(),
        started.elapsed().as_secs_f64()
    );
    problems
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let skip = lines.len().saturating_sub(n);
    lines[skip..].iter().map(|l| format!("      {l}\n")).collect()
}

/// `cargo lab judge [N…]`: the catalogues of the named labs (default: all).
pub fn command(only: &[String]) -> Result<ExitCode, String> {
    let labs = if only.is_empty() {
        crate::labs::all()
    } else {
        only.iter().map(|l| crate::labs::find(l)).collect::<Result<Vec<_>, _>>()?
    };
    Ok(if run_catalogues(&labs) == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scratch package builds the lab's program under the package's own name: the spec
    /// finds it as CARGO_BIN_EXE_judgeNN (a [[bin]] keeping "lab01" broke every answer).
    #[test]
    fn a_judge_package_names_its_program_after_itself() {
        let lab = crate::labs::all().into_iter().next().expect("lab 01");
        let doc: toml::Table = package_manifest(&lab).unwrap().parse().unwrap();
        assert_eq!(doc["package"]["name"].as_str(), Some("judge01"));
        let bins = doc.get("bin").and_then(|b| b.as_array()).cloned().unwrap_or_default();
        assert!(bins.iter().all(|b| b["name"].as_str() == Some("judge01")), "{bins:?}");
    }

    #[test]
    fn a_wrong_answer_names_its_mistake_and_its_test() {
        let k = parse_header(
            "// wrong: println! in the handler\n// rejected-by: the_handler_reaps\n//! Lab 04\n",
        );
        assert_eq!(
            k,
            Ok(Kind::Wrong {
                mistake: "println! in the handler".into(),
                rejected_by: "the_handler_reaps".into()
            })
        );
    }

    #[test]
    fn a_right_answer_says_what_differs() {
        assert_eq!(
            parse_header("// right: waitid instead of waitpid\nfn main() {}"),
            Ok(Kind::Right { what: "waitid instead of waitpid".into() })
        );
    }

    #[test]
    fn a_header_missing_a_part_is_refused() {
        assert!(parse_header("//! Lab 04\nfn main() {}").is_err());
        assert!(parse_header("// wrong: x\nfn main() {}").is_err(), "no rejected-by");
        assert!(parse_header("// wrong: x\n// rejected-by: two words\n").is_err());
        assert!(parse_header("// wrong:\n// rejected-by: t\n").is_err(), "an empty mistake");
        assert!(parse_header("fn main() {}").is_err());
    }

    #[test]
    fn rstest_cases_belong_to_their_fn_and_prefixes_do_not() {
        assert!(belongs_to("sigterm_to_a_child", "sigterm_to_a_child"));
        assert!(belongs_to("sigterm_to_a_child::case_2_child_1", "sigterm_to_a_child"));
        assert!(!belongs_to("sigterm_to_a_child_kills", "sigterm_to_a_child"));
        assert!(!belongs_to("other", "sigterm_to_a_child"));
    }

    #[test]
    fn paths_are_made_absolute_and_normal() {
        assert_eq!(
            normalize(Path::new("/k/labs/05-daemon/../../tests/lab05.rs")),
            PathBuf::from("/k/tests/lab05.rs")
        );
        let mut t: toml::Table = "a = { path = \"tests/labkit\" }\nb = \"1\"".parse().unwrap();
        absolute_paths(&mut t, Path::new("/k"));
        assert_eq!(t["a"]["path"].as_str(), Some("/k/tests/labkit"));
        assert_eq!(t["b"].as_str(), Some("1"));
    }

    #[test]
    fn the_expected_line_of_a_report_is_shown_short() {
        let r = "\n── proclab: lab04 ──\nexpected: the parent exits normally: Code(0), observed Signal(6, false)\nobserved:\n";
        assert_eq!(expected_line(r), "the parent exits normally: Code(0), observed Signal(6, false)");
        let long = format!("expected: {}\n", "x".repeat(300));
        assert_eq!(expected_line(&long).chars().count(), 151);
        let why = "expected: the parent exits\nwhy: your handler printed\nobserved:\n";
        assert_eq!(expected_line(why), "the parent exits — why: your handler printed");
    }
}
