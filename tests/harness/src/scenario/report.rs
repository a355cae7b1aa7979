//! Verdicts and narration: steps, demos, claims, and the failure report.

use super::{Scenario, indent};
use crate::trace::Kind;
use crate::tree::Tree;
use std::fmt::Write as _;
use std::io::Write as _;

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
            println!("  ✓ {what}   (+{} ms)", self.started.elapsed().as_millis());
            print!("{}", indent(&t.render(), "    "));
        }
    }

    pub(super) fn narrate_stdout(&self) {
        let out = self.stdout();
        let from = self.narrated_stdout.get().min(out.len());
        let fresh = &out[from..];
        if let Some(end) = fresh.rfind('\n') {
            for line in fresh[..end].lines() {
                println!("  lab printed │ {line}");
            }
            self.narrated_stdout.set(from + end + 1);
        }
    }

    /// Records what this run showed about one claim of the posts. `id` names a row of a lab
    /// sheet's claims table; `observed` says what was seen ("child 4242 was Z for 3 ms").
    /// Call it once the spec has asserted the facts: `cargo lab tour` collects these records
    /// (through `PROCLAB_CLAIMS`) and prints them beside the claims.
    pub fn claim(&self, id: &str, observed: &str) {
        if self.narrate {
            println!("  ★ claim {id}: {observed}");
        }
        let Some(path) = std::env::var_os("PROCLAB_CLAIMS") else { return };
        let line = format!("{}\t{}\t{}\n", self.lab.package, id, observed.replace(['\t', '\n'], " "));
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
            self.fail(&format!("{what}: {expected:?}, observed {observed:?}"));
        } else if self.narrate {
            println!("  ✓ {what}: {observed:?}");
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
        let mut r = String::new();
        let mut args =
            if self.args.is_empty() { String::new() } else { format!(" with {}", self.args.join(" ")) };
        let how = self.setup.describe();
        if !how.is_empty() {
            args.push_str(&format!(" ({how})"));
        }
        let _ = writeln!(r, "\n── proclab: {}{args} ──", self.lab.describe());
        let _ = writeln!(r, "expected: {expected}");
        if let Some(why) = self.abort_diagnosis() {
            let _ = writeln!(r, "why: {why}");
        }
        let _ = writeln!(r, "observed (+{} ms):", self.started.elapsed().as_millis());
        r.push_str(&indent(&t.render(), "  "));
        let events = self.events();
        let exits: Vec<String> =
            events.iter().filter(|e| matches!(e.kind, Kind::Exited(..))).map(|e| e.to_string()).collect();
        if !exits.is_empty() {
            let _ = writeln!(r, "reaped by the sandbox:\n  {}", exits.join("\n  "));
        }
        let steps = self.steps.borrow();
        if !steps.is_empty() {
            let _ = writeln!(r, "steps:");
            for (i, s) in steps.iter().enumerate() {
                let _ = writeln!(r, "  {}. {s}", i + 1);
            }
        }
        for (name, text, keep) in [("stdout", self.stdout(), 30), ("stderr", self.stderr(), 15)] {
            if !text.trim().is_empty() {
                let lines: Vec<&str> = text.lines().collect();
                let skip = lines.len().saturating_sub(keep);
                let _ = writeln!(
                    r,
                    "lab {name}{}:",
                    if skip > 0 {
                        format!(" (the last {keep} of {} lines)", lines.len())
                    } else {
                        String::new()
                    }
                );
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
            let _ = writeln!(r, "trace{}:", if skip > 0 { " (last 20)" } else { "" });
            for n in &notes[skip..] {
                let _ = writeln!(r, "  {n}");
            }
        }
        r
    }
}
