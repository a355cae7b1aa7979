//! Verdicts and narration: steps, demos, claims (with the verdicts their facts give), and the
//! failure report.

use super::{Scenario, indent};
use crate::trace::Kind;
use crate::tree::Tree;
use i18n::t;
use std::fmt::Write as _;
use std::io::Write as _;
use std::time::{Duration, Instant};

/// What the facts a spec observed say about a claim of the posts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every part of the claim was observed true.
    Holds,
    /// No part of the claim was observed true.
    Fails,
    /// Some parts were observed true, others not (or true in some cases, not in others).
    Partly,
}

impl Verdict {
    /// The verdict of a claim from its parts, each observed true or false: all true holds,
    /// none fails, some: partly. (`Verdict::of(&[])` holds: nothing contradicts the claim.)
    pub fn of(parts: &[bool]) -> Verdict {
        match (parts.iter().all(|&p| p), parts.iter().any(|&p| p)) {
            (true, _) => Verdict::Holds,
            (false, true) => Verdict::Partly,
            (false, false) => Verdict::Fails,
        }
    }
    /// A claim with one part: holds if it was observed, fails if not.
    pub fn when(observed: bool) -> Verdict {
        Verdict::of(&[observed])
    }
    /// Several records of one claim (several scenarios, several cases) together: the same
    /// verdict everywhere is that verdict, different ones make it partly.
    pub fn combine(all: impl IntoIterator<Item = Verdict>) -> Option<Verdict> {
        all.into_iter().reduce(|a, b| if a == b { a } else { Verdict::Partly })
    }
    /// `holds`, `fails` or `partly`: the words of the sheets' verdict column.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::Fails => "fails",
            Verdict::Partly => "partly",
        }
    }
    /// The verdict a sheet's verdict cell starts with (`partly: …` is partly).
    pub fn from_word(cell: &str) -> Option<Verdict> {
        let w = cell.trim_start().to_lowercase();
        [Verdict::Holds, Verdict::Fails, Verdict::Partly].into_iter().find(|v| w.starts_with(v.word()))
    }
}

/// A claim's record as `cargo lab demo` narrates it, in the student's language.
fn claim_line(id: &str, verdict: Verdict, evidence: &str) -> String {
    let word = match verdict {
        Verdict::Holds => t!("claim-holds"),
        Verdict::Fails => t!("claim-fails"),
        Verdict::Partly => t!("claim-partly"),
    };
    t!("narrate-claim", id = id, verdict = word, evidence = evidence)
}

/// Records a claim's verdict for `lab` from facts observed outside a scenario (what this
/// machine's Python does, say): the same record as [`Scenario::claim_verdict`].
pub fn claim_verdict_of(lab: super::Lab, id: &str, verdict: Verdict, evidence: &str) {
    if std::env::var_os("PROCLAB_NARRATE").is_some() {
        println!("  {}", claim_line(id, verdict, evidence));
    }
    let Some(path) = std::env::var_os("PROCLAB_CLAIMS") else { return };
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        let _ = f.write_all(claim_record(lab.package, id, verdict, evidence).as_bytes());
    }
}

/// Runs `python3 -c script` on this machine (outside any sandbox: the kit's own script, never
/// a lab), for at most 10 s. `Some((version, stdout))`, or None where there is no python3 or
/// it did not finish. For claims about Python that the machine can answer.
pub fn python3(script: &str) -> Option<(String, String)> {
    use std::process::{Command, Stdio};
    fn wait_for(child: &mut std::process::Child) -> Option<String> {
        // Read while waiting (lab 14's lesson: a child filling a pipe nobody reads never ends).
        let mut stdout = child.stdout.take()?;
        let reader = std::thread::spawn(move || {
            let mut out = String::new();
            std::io::Read::read_to_string(&mut stdout, &mut out).ok().map(|_| out)
        });
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            match child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(5))
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let _ = reader.join();
                    return None;
                }
            }
        }
        reader.join().ok().flatten()
    }
    let run = |args: &[&str]| -> Option<String> {
        let mut cmd = Command::new("python3");
        cmd.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null());
        // Spared: the orphan sweep of a scenario ending meanwhile must not take it for an orphan.
        let mut child = super::cleanup::spawn_spared(&mut cmd).ok()?;
        let pid = child.id() as i32;
        let out = wait_for(&mut child);
        super::cleanup::unregister(pid);
        out
    };
    let version = run(&["-c", "import platform; print(platform.python_version())"])?;
    Some((version.trim().to_string(), run(&["-c", script])?))
}

/// One line of a `PROCLAB_CLAIMS` file: `package TAB id TAB verdict TAB evidence`.
pub fn claim_record(package: &str, id: &str, verdict: Verdict, evidence: &str) -> String {
    format!("{package}\t{id}\t{}\t{}\n", verdict.word(), evidence.replace(['\t', '\n'], " "))
}

/// Reads one line of a `PROCLAB_CLAIMS` file: `(id, verdict, evidence)`.
pub fn parse_claim_record(line: &str) -> Option<(String, Verdict, String)> {
    let mut f = line.splitn(4, '\t');
    let (_package, id, verdict, evidence) = (f.next()?, f.next()?, f.next()?, f.next()?);
    Some((id.to_string(), Verdict::from_word(verdict)?, evidence.to_string()))
}

impl Scenario {
    /// Records a step of the scenario (shown in failure reports and narrated by `cargo lab demo`).
    pub fn step(&self, text: &str) {
        self.steps.borrow_mut().push(text.to_string());
        self.figure_mark("step", text, None);
        if self.narrate {
            self.narrate_stdout();
            println!("\n▶ {text}");
        }
    }

    /// In a demo, draws the tree now under `title`.
    pub fn show(&self, title: &str) {
        self.figure_mark("show", title, None);
        if self.narrate {
            let t = self.snapshot();
            self.narrate_stdout();
            println!("  {title}:");
            print!("{}", indent(&t.render(), "    "));
        }
    }

    pub(super) fn narrate_ok(&self, what: &str, t: &Tree) {
        self.figure_mark("ok", what, Some(t));
        if self.narrate {
            self.narrate_stdout();
            println!("  {}", t!("narrate-ok", what = what, ms = self.started.elapsed().as_millis()));
            print!("{}", indent(&t.render(), "    "));
        }
    }

    pub(super) fn narrate_stdout(&self) {
        let out = self.stdout();
        let from = self.narrated_stdout.get().min(out.len());
        let fresh = &out[from..];
        if let Some(end) = fresh.rfind('\n') {
            for line in fresh[..end].lines() {
                println!("  {}", t!("narrate-printed", line = line));
            }
            self.narrated_stdout.set(from + end + 1);
        }
    }

    /// Records what this run showed about one claim of the posts, and the verdict those facts
    /// give. `id` names a row of a lab sheet's claims table; `verdict` is computed by the spec
    /// from what it observed (never copied from the sheet: see [`Verdict::of`]); `evidence`
    /// says what was seen ("child 5 was Z with ppid 2 while the parent had not waited").
    /// Call it as soon as the facts are observed — before the assertions that depend on this
    /// machine, so that a machine that behaves otherwise still gets its verdict recorded.
    /// `cargo lab tour` collects these records (through `PROCLAB_CLAIMS`), combines the
    /// verdicts of every record of a claim, and prints the result beside the sheet's word.
    pub fn claim_verdict(&self, id: &str, verdict: Verdict, evidence: &str) {
        if self.narrate {
            println!("  {}", claim_line(id, verdict, evidence));
        }
        let Some(path) = std::env::var_os("PROCLAB_CLAIMS") else { return };
        let line = claim_record(self.lab.package, id, verdict, evidence);
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
            let _ = f.write_all(line.as_bytes());
        }
    }

    /// Fails the spec unless `ok`, saying what was expected and showing the tree.
    #[track_caller]
    pub fn expect(&self, ok: bool, expected: &str) {
        if !ok {
            self.fail(expected);
        } else if self.narrate {
            println!("  ✓ {expected}");
        }
    }

    /// Fails the spec unless `observed == expected`.
    #[track_caller]
    pub fn expect_eq<T: PartialEq + std::fmt::Debug>(&self, observed: T, expected: T, what: &str) {
        if observed != expected {
            self.fail(&t!(
                "report-expect-eq",
                what = what,
                expected = format!("{expected:?}"),
                observed = format!("{observed:?}")
            ));
        } else if self.narrate {
            let colon = if crate::say::chinese() { "：" } else { ": " };
            println!("  ✓ {what}{colon}{observed:?}");
        }
    }

    /// Waits (200 ms at most) until what the lab has written to stdout and stderr so far is in
    /// the log: no byte left unread in the pipes, none in a reader's hands. A report shows
    /// everything the lab printed before it was written.
    fn let_output_arrive(&self) {
        use std::os::fd::AsRawFd;
        let end = Instant::now() + Duration::from_millis(200);
        let unread = |fd: &std::os::fd::OwnedFd| {
            let mut n: libc::c_int = 0;
            // SAFETY: FIONREAD writes one int.
            let rc = unsafe { libc::ioctl(fd.as_raw_fd(), libc::FIONREAD, &mut n) };
            rc == 0 && n > 0
        };
        while Instant::now() < end
            && (self.output_pipes.iter().any(unread)
                || self.shared.in_hand.load(std::sync::atomic::Ordering::SeqCst) > 0)
        {
            std::thread::sleep(Duration::from_micros(200));
        }
    }

    /// Fails the spec: what was expected, the tree observed now, the steps, the output.
    #[track_caller]
    pub fn fail(&self, expected: &str) -> ! {
        let t = self.snapshot();
        self.fail_with(expected, &t)
    }

    #[track_caller]
    pub(super) fn fail_with(&self, expected: &str, t: &Tree) -> ! {
        panic!("{}", self.report(expected, t))
    }

    /// The failure report (public so specs and tools can show it).
    pub fn report(&self, expected: &str, t: &Tree) -> String {
        self.let_output_arrive();
        let mut r = String::new();
        // The marker `── proclab:` is the same in every language (cargo lab finds reports by
        // it); the rest of the report is in the student's language (PROCLAB_LANG).
        let mut args =
            if self.args.is_empty() { String::new() } else { t!("report-args", args = self.args.join(" ")) };
        let how = self.setup.describe();
        if !how.is_empty() {
            args.push_str(&t!("report-setup", how = how));
        }
        let _ = writeln!(r, "\n── proclab: {}{args} ──", self.lab.describe());
        let _ = writeln!(r, "{}", t!("report-expected", what = expected));
        if let Some(why) = self.abort_diagnosis() {
            let _ = writeln!(r, "{}", t!("report-why", why = why));
        }
        let _ = writeln!(r, "{}", t!("report-observed", ms = self.started.elapsed().as_millis()));
        r.push_str(&indent(&t.render(), "  "));
        let events = self.events();
        let exits: Vec<String> =
            events.iter().filter(|e| matches!(e.kind, Kind::Exited(..))).map(|e| e.to_string()).collect();
        if !exits.is_empty() {
            let _ = writeln!(r, "{}\n  {}", t!("report-reaped"), exits.join("\n  "));
        }
        let steps = self.steps.borrow();
        if !steps.is_empty() {
            let _ = writeln!(r, "{}", t!("report-steps"));
            for (i, s) in steps.iter().enumerate() {
                let _ = writeln!(r, "  {}. {s}", i + 1);
            }
        }
        for (name, text, keep) in [("stdout", self.stdout(), 30), ("stderr", self.stderr(), 15)] {
            if !text.trim().is_empty() {
                let lines: Vec<&str> = text.lines().collect();
                let skip = lines.len().saturating_sub(keep);
                let heading = if skip > 0 {
                    t!("report-output-last", stream = name, keep = keep, total = lines.len())
                } else {
                    t!("report-output", stream = name)
                };
                let _ = writeln!(r, "{heading}");
                for l in &lines[skip..] {
                    let _ = writeln!(r, "  │ {l}");
                }
            }
        }
        let notes: Vec<String> = events
            .iter()
            .filter(|e| !matches!(e.kind, Kind::Exited(..) | Kind::Spawn(_) | Kind::Synced(_)))
            .map(|e| e.to_string())
            .collect();
        if !notes.is_empty() {
            let skip = notes.len().saturating_sub(20);
            let heading = if skip > 0 { t!("report-trace-last", n = 20) } else { t!("report-trace") };
            let _ = writeln!(r, "{heading}");
            for n in &notes[skip..] {
                let _ = writeln!(r, "  {n}");
            }
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verdict_is_computed_from_the_parts_observed() {
        assert_eq!(Verdict::of(&[true, true]), Verdict::Holds);
        assert_eq!(Verdict::of(&[true, false]), Verdict::Partly);
        assert_eq!(Verdict::of(&[false, false]), Verdict::Fails);
        assert_eq!(Verdict::when(false), Verdict::Fails);
        assert_eq!(Verdict::combine([Verdict::Holds, Verdict::Holds]), Some(Verdict::Holds));
        assert_eq!(Verdict::combine([Verdict::Holds, Verdict::Fails]), Some(Verdict::Partly));
        assert_eq!(Verdict::combine([]), None);
        assert_eq!(Verdict::from_word("partly: to the nearest subreaper"), Some(Verdict::Partly));
        assert_eq!(Verdict::from_word("Holds"), Some(Verdict::Holds));
        assert_eq!(Verdict::from_word("部分成立"), None);
    }

    #[test]
    fn a_claim_record_reads_back() {
        let line = claim_record("sol03", "orphan-pid1", Verdict::Fails, "adopted by 4711\tnot 1\n");
        assert_eq!(line.matches('\n').count(), 1);
        assert_eq!(
            parse_claim_record(line.strip_suffix('\n').unwrap_or(&line)),
            Some(("orphan-pid1".to_string(), Verdict::Fails, "adopted by 4711 not 1 ".to_string()))
        );
        assert_eq!(parse_claim_record("sol03\torphan-pid1\tseen here"), None);
    }
}
