//! `cargo lab grade`: every lab's spec against the student's `labs/`, headless, scored with the
//! points in `grading.toml`, written as a Gradescope `results.json`, a JUnit XML report and a
//! plain `Score X/Y` line. The exit status is 0 only when every test passes (what GitHub
//! Classroom's command grader looks at).

use crate::labs::{self, Lab, root};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

/// `grading.toml`: what each lab is worth, and optionally some tests on their own.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Points {
    /// Points of a lab not listed in `labs`.
    #[serde(default = "ten")]
    pub default: f64,
    /// Lab number ("02") → points, shared equally by its spec's tests.
    #[serde(default)]
    pub labs: BTreeMap<String, f64>,
    /// "lab04::test_name" → points of that test (taken out of its lab's share).
    #[serde(default)]
    pub tests: BTreeMap<String, f64>,
    /// Gradescope visibility of every test: visible, hidden, after_due_date, after_published.
    #[serde(default = "visible")]
    pub visibility: String,
}

fn ten() -> f64 {
    10.0
}
fn visible() -> String {
    "visible".into()
}

impl Points {
    pub fn load(path: &Path) -> Result<Points, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let p: Points = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
                if !["visible", "hidden", "after_due_date", "after_published"]
                    .contains(&p.visibility.as_str())
                {
                    return Err(format!(
                        "{}: visibility '{}' (Gradescope knows visible, hidden, after_due_date, after_published)",
                        path.display(),
                        p.visibility
                    ));
                }
                Ok(p)
            }
            Err(_) => Ok(Points { default: ten(), visibility: visible(), ..Default::default() }),
        }
    }

    fn of_lab(&self, n: u32) -> f64 {
        self.labs.get(&format!("{n:02}")).copied().unwrap_or(self.default)
    }

    /// Each test's max score: listed tests get their points, the rest share what is left.
    pub fn share(&self, n: u32, tests: &[String]) -> Vec<f64> {
        let key = |t: &str| format!("lab{n:02}::{t}");
        let fixed: f64 = tests.iter().filter_map(|t| self.tests.get(&key(t))).sum();
        let free = tests.iter().filter(|t| !self.tests.contains_key(&key(t))).count();
        let rest = if free > 0 { (self.of_lab(n) - fixed).max(0.0) / free as f64 } else { 0.0 };
        tests.iter().map(|t| self.tests.get(&key(t)).copied().unwrap_or(rest)).collect()
    }
}

/// One test's outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct TestResult {
    pub lab: u32,
    pub name: String,
    pub passed: bool,
    pub score: f64,
    pub max: f64,
    pub output: String,
    pub seconds: f64,
}

/// The tests a libtest run reports, in order: (name, passed), from `test NAME ... ok|FAILED`.
pub fn outcomes(text: &str) -> Vec<(String, bool)> {
    text.lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("test ")?;
            let (name, verdict) = rest.rsplit_once(" ... ")?;
            match verdict.trim() {
                "ok" => Some((name.to_string(), true)),
                "FAILED" => Some((name.to_string(), false)),
                _ => None,
            }
        })
        .collect()
}

/// Gradescope's results.json (https://gradescope-autograders.readthedocs.io, "Output format").
pub fn results_json(results: &[TestResult], visibility: &str, seconds: f64) -> serde_json::Value {
    let score: f64 = results.iter().map(|r| r.score).sum();
    let max: f64 = results.iter().map(|r| r.max).sum();
    let tests: Vec<serde_json::Value> = results
        .iter()
        .enumerate()
        .map(|(i, r)| {
            serde_json::json!({
                "name": format!("lab {:02}: {}", r.lab, r.name.replace('_', " ")),
                "number": format!("{}.{}", r.lab, i + 1),
                "score": round(r.score),
                "max_score": round(r.max),
                "status": if r.passed { "passed" } else { "failed" },
                "output": r.output,
                "tags": [format!("lab{:02}", r.lab)],
                "visibility": visibility,
            })
        })
        .collect();
    serde_json::json!({
        "score": round(score),
        "execution_time": seconds.round() as u64,
        "output": format!("Score {}/{}", round(score), round(max)),
        "visibility": visibility,
        "stdout_visibility": "hidden",
        "tests": tests,
    })
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn xml(s: &str) -> String {
    s.chars()
        .filter(|&c| c == '\n' || c == '\t' || !c.is_control())
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&apos;".to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// JUnit XML: one `<testsuite>` per lab, one `<testcase>` per test, `<failure>` with the report.
pub fn junit_xml(results: &[TestResult]) -> String {
    let mut by_lab: BTreeMap<u32, Vec<&TestResult>> = BTreeMap::new();
    for r in results {
        by_lab.entry(r.lab).or_default().push(r);
    }
    let failures = results.iter().filter(|r| !r.passed).count();
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(s, "<testsuites name=\"proclab\" tests=\"{}\" failures=\"{failures}\">", results.len());
    for (lab, rs) in by_lab {
        let f = rs.iter().filter(|r| !r.passed).count();
        let t: f64 = rs.iter().map(|r| r.seconds).sum();
        let _ = writeln!(
            s,
            "  <testsuite name=\"lab{lab:02}\" tests=\"{}\" failures=\"{f}\" time=\"{t:.3}\">",
            rs.len()
        );
        for r in rs {
            let _ = write!(
                s,
                "    <testcase classname=\"lab{lab:02}\" name=\"{}\" time=\"{:.3}\"",
                xml(&r.name),
                r.seconds
            );
            if r.passed {
                s.push_str("/>\n");
            } else {
                let headline = r.output.lines().find(|l| l.starts_with("expected:")).unwrap_or("failed");
                let _ = writeln!(
                    s,
                    ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>",
                    xml(headline),
                    xml(&r.output)
                );
            }
        }
        s.push_str("  </testsuite>\n");
    }
    s.push_str("</testsuites>\n");
    s
}

/// The environment a graded run gets: the toolchain's variables and nothing of the caller's.
fn headless(cmd: &mut Command) {
    let keep: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| {
            matches!(
                k.as_str(),
                "PATH" | "HOME" | "CARGO_HOME" | "RUSTUP_HOME" | "RUSTUP_TOOLCHAIN" | "TMPDIR" | "USER"
            )
        })
        .collect();
    cmd.env_clear().envs(keep).env("CI", "true").env("RUST_BACKTRACE", "0").env("CARGO_TERM_COLOR", "never");
    cmd.stdin(Stdio::null());
}

/// Runs lab `lab`'s spec against `labs/` and scores it.
fn grade_lab(lab: &Lab, points: &Points) -> Vec<TestResult> {
    let start = Instant::now();
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(root()).args(["test", "-p", &lab.starter(), "--test", "spec"]);
    headless(&mut cmd);
    let out = cmd.output();
    let seconds = start.elapsed().as_secs_f64();
    let text = match out {
        Ok(o) => format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)),
        Err(e) => format!("cannot run cargo: {e}"),
    };
    let seen = outcomes(&text);
    if seen.is_empty() {
        // It did not build (or did not run): the whole lab is one failed test.
        let why = if text.contains("error[E") || text.contains("could not compile") {
            "labs/ does not compile"
        } else {
            "the spec did not run"
        };
        return vec![TestResult {
            lab: lab.number,
            name: format!("{} ({why})", lab.title),
            passed: false,
            score: 0.0,
            max: points.of_lab(lab.number),
            output: tail(&text, 60),
            seconds,
        }];
    }
    let reports: BTreeMap<String, String> = crate::run::failures(&text).into_iter().collect();
    let names: Vec<String> = seen.iter().map(|(n, _)| n.clone()).collect();
    let shares = points.share(lab.number, &names);
    seen.into_iter()
        .zip(shares)
        .map(|((name, passed), max)| TestResult {
            lab: lab.number,
            output: if passed {
                String::new()
            } else {
                reports.get(&name).map(|r| r.trim().to_string()).unwrap_or_default()
            },
            name,
            passed,
            score: if passed { max } else { 0.0 },
            max,
            seconds: seconds / names.len() as f64,
        })
        .collect()
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

pub fn grade(only: &[String], out_dir: Option<PathBuf>) -> Result<ExitCode, String> {
    let points = Points::load(&root().join("grading.toml"))?;
    let mut labs = labs::all();
    if !only.is_empty() {
        let wanted: Vec<u32> =
            only.iter().map(|a| labs::find(a).map(|l| l.number)).collect::<Result<_, _>>()?;
        labs.retain(|l| wanted.contains(&l.number));
    }
    let out_dir = out_dir.unwrap_or_else(|| root().join("target").join("proclab").join("grade"));
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("cannot create {}: {e}", out_dir.display()))?;
    let started = Instant::now();
    eprintln!("grade: building labs/ ({} labs)…", labs.len());
    let mut build = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    build.current_dir(root()).args(["test", "--no-run"]);
    for l in &labs {
        build.args(["-p", &l.starter()]);
    }
    headless(&mut build);
    // A lab that does not compile fails the build of all: each lab is then built on its own.
    let _ = build.stdout(Stdio::null()).stderr(Stdio::inherit()).status();
    let mut results = Vec::new();
    for (i, lab) in labs.iter().enumerate() {
        eprint!("[{}/{}] lab {:02} {}… ", i + 1, labs.len(), lab.number, lab.title);
        let r = grade_lab(lab, &points);
        let (got, max): (f64, f64) = (r.iter().map(|t| t.score).sum(), r.iter().map(|t| t.max).sum());
        eprintln!("{}/{}", round(got), round(max));
        results.extend(r);
    }
    let seconds = started.elapsed().as_secs_f64();
    let json = results_json(&results, &points.visibility, seconds);
    let write = |name: &str, body: String| -> Result<PathBuf, String> {
        let p = out_dir.join(name);
        std::fs::write(&p, body).map_err(|e| format!("cannot write {}: {e}", p.display()))?;
        Ok(p)
    };
    let j = write("results.json", serde_json::to_string_pretty(&json).unwrap_or_default())?;
    let x = write("junit.xml", junit_xml(&results))?;
    let score: f64 = results.iter().map(|r| r.score).sum();
    let max: f64 = results.iter().map(|r| r.max).sum();
    eprintln!("wrote {} and {} ({:.0} s)", j.display(), x.display(), seconds);
    println!("Score {}/{}", round(score), round(max));
    Ok(if results.iter().all(|r| r.passed) { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(lab: u32, name: &str, passed: bool, max: f64) -> TestResult {
        TestResult {
            lab,
            name: name.into(),
            passed,
            score: if passed { max } else { 0.0 },
            max,
            output: if passed {
                String::new()
            } else {
                "── proclab: lab02 ──\nexpected: a <zombie> & \"more\"\n".into()
            },
            seconds: 0.25,
        }
    }

    #[test]
    fn reads_test_outcomes_from_libtest() {
        let text = "running 3 tests\ntest a_b ... ok\ntest c::case_1 ... FAILED\ntest d ... ignored\n\ntest result: FAILED.";
        assert_eq!(outcomes(text), vec![("a_b".to_string(), true), ("c::case_1".to_string(), false)]);
    }

    #[test]
    fn points_are_shared_and_tests_can_have_their_own() {
        let p: Points =
            toml::from_str("default = 10\n[labs]\n\"04\" = 20\n[tests]\n\"lab04::big\" = 11\n").unwrap();
        assert_eq!(p.share(2, &["x".into(), "y".into()]), vec![5.0, 5.0]);
        assert_eq!(
            p.share(4, &["big".into(), "a".into(), "b".into(), "c".into()]),
            vec![11.0, 3.0, 3.0, 3.0]
        );
        assert!(toml::from_str::<Points>("bogus = 1").is_err(), "unknown keys are mistakes");
    }

    #[test]
    fn results_json_has_gradescopes_fields_and_consistent_scores() {
        let res =
            vec![r(2, "zombie_is_seen", true, 5.0), r(2, "reaped", false, 5.0), r(4, "handler", true, 20.0)];
        let v = results_json(&res, "visible", 12.3);
        let top = v.as_object().unwrap();
        let allowed = [
            "score",
            "execution_time",
            "output",
            "output_format",
            "test_output_format",
            "test_name_format",
            "visibility",
            "stdout_visibility",
            "extra_data",
            "tests",
            "leaderboard",
        ];
        for k in top.keys() {
            assert!(allowed.contains(&k.as_str()), "top-level key {k} is not in Gradescope's format");
        }
        assert_eq!(top["score"], 25.0);
        let tests = top["tests"].as_array().unwrap();
        assert_eq!(tests.len(), 3);
        let test_keys = [
            "score",
            "max_score",
            "status",
            "name",
            "name_format",
            "number",
            "output",
            "output_format",
            "tags",
            "visibility",
            "extra_data",
        ];
        let mut sum = 0.0;
        for t in tests {
            for k in t.as_object().unwrap().keys() {
                assert!(test_keys.contains(&k.as_str()), "test key {k} is not in Gradescope's format");
            }
            let (s, m) = (t["score"].as_f64().unwrap(), t["max_score"].as_f64().unwrap());
            assert!(s <= m);
            sum += s;
            assert!(["passed", "failed"].contains(&t["status"].as_str().unwrap()));
            assert!(
                ["visible", "hidden", "after_due_date", "after_published"]
                    .contains(&t["visibility"].as_str().unwrap())
            );
        }
        assert_eq!(sum, 25.0);
        assert_eq!(top["output"], "Score 25/30");
    }

    #[test]
    fn junit_xml_is_well_formed_and_counts_right() {
        let res =
            vec![r(2, "zombie_is_seen", true, 5.0), r(2, "reaped", false, 5.0), r(4, "handler", true, 20.0)];
        let text = junit_xml(&res);
        let doc = roxmltree::Document::parse(&text).expect("well-formed XML");
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "testsuites");
        assert_eq!(root.attribute("tests"), Some("3"));
        assert_eq!(root.attribute("failures"), Some("1"));
        let suites: Vec<_> = root.children().filter(|n| n.has_tag_name("testsuite")).collect();
        assert_eq!(suites.len(), 2);
        assert_eq!(suites[0].attribute("name"), Some("lab02"));
        assert_eq!(suites[0].attribute("failures"), Some("1"));
        let cases: Vec<_> = suites[0].children().filter(|n| n.has_tag_name("testcase")).collect();
        assert_eq!(cases.len(), 2);
        let failure = cases[1].children().find(|n| n.has_tag_name("failure")).expect("a failure element");
        assert_eq!(failure.attribute("message"), Some("expected: a <zombie> & \"more\""));
        assert!(failure.text().unwrap().contains("── proclab"));
    }
}
