//! `cargo lab figures`: the book's diagrams, drawn from real runs. For each figure below, the
//! reference solution's scenario runs under the harness with `PROCLAB_FIGURE` set (the harness
//! records its looks at the tree, the signals and the trace: `harness/src/scenario/figure.rs`),
//! and the record becomes `book/src/figures/labNN-<name>.svg` (model.rs takes the run-to-run
//! noise out, svg.rs draws). `--check` draws into a scratch directory and fails if any
//! committed figure differs, is missing, or has no scenario any more.

mod model;
mod svg;

use crate::labs::{self, root};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// One figure: the lab, the file's name, the spec test (exact name) it is drawn from, and what
/// it shows (its title for screen readers).
pub struct Spec {
    pub lab: u32,
    pub name: &'static str,
    pub test: &'static str,
    pub title: &'static str,
}

/// The figures of the book, one per scenario a chapter teaches with.
pub const FIGURES: &[Spec] = &[
    Spec {
        lab: 1,
        name: "map-shared",
        test: "a_map_shared_counter_is_seen_by_both",
        title: "fork: parent and child, a MAP_SHARED counter the parent reads after waitpid",
    },
    Spec {
        lab: 4,
        name: "blocked-sigchld",
        test: "n_exits_while_sigchld_is_blocked_make_one_signal_so_the_handler_must_loop::case_2_ten_children",
        title: "ten children exit while SIGCHLD is blocked; the handler loops and reaps them all",
    },
    Spec {
        lab: 5,
        name: "daemon-sigkill",
        test: "daemon_workers_outlive_a_killed_parent::case_1_sigkill",
        title: "kill -9 of the parent: its daemon workers live on, adopted by the sandbox",
    },
    Spec {
        lab: 7,
        name: "cascade",
        test: "the_posts_loop_is_a_finite_cascade_and_then_nothing_stops::case_1_to_the_parent",
        title: "the post's terminate loop: one SIGTERM to the parent, a finite cascade, nobody stops",
    },
    Spec {
        lab: 8,
        name: "fixed",
        test: "the_fix_stops_its_own_group_gracefully_and_spares_the_launcher::case_3_to_child_1",
        title: "the fix: SIGTERM to one child, its handler signals the program's own group",
    },
    Spec {
        lab: 9,
        name: "ctrl-c",
        test: "posts_program_ctrl_c_signals_every_process_of_the_foreground_group_at_once",
        title: "Ctrl-C on the terminal: SIGINT to every process of the foreground group",
    },
    Spec {
        lab: 10,
        name: "flag",
        test: "with_a_flag_the_worker_finishes_its_record_then_stops",
        title: "SIGTERM sets a flag: the worker finishes its record, then stops",
    },
    Spec {
        lab: 11,
        name: "stopped",
        test: "a_stopped_process_keeps_sigterm_pending_until_sigcont::case_1_with_a_handler",
        title: "a stopped process keeps SIGTERM pending until SIGCONT",
    },
    Spec {
        lab: 12,
        name: "killed",
        test: "killed_children_have_a_signal_and_no_exit_code::case_1_terminate",
        title: "a child killed by SIGTERM: its parent's wait sees the signal, no exit code",
    },
    Spec {
        lab: 13,
        name: "subtree",
        test: "terminating_the_whole_subtree_leaves_no_orphan::case_1_two_grandchildren",
        title: "terminating the whole subtree leaves no orphan",
    },
    Spec {
        lab: 14,
        name: "full-pipe",
        test: "wait_blocks_once_the_child_has_filled_the_pipe::case_2_one_byte_more",
        title: "one byte more than the pipe holds: the writer waits for a reader, the parent for the writer",
    },
    Spec {
        lab: 15,
        name: "fork-hangs",
        test: "the_child_of_fork_has_one_thread_and_a_lock_nobody_will_release",
        title: "fork in a threaded process: the child has one thread and a lock nobody will release",
    },
    Spec {
        lab: 16,
        name: "stubborn",
        test: "a_worker_that_ignores_sigterm_is_killed_when_the_grace_period_ends",
        title: "the supervisor stops its workers: SIGTERM, then SIGKILL for the one that ignores it",
    },
];

impl Spec {
    pub fn file(&self) -> String {
        format!("lab{:02}-{}.svg", self.lab, self.name)
    }
    fn package(&self) -> String {
        format!("sol{:02}", self.lab)
    }
}

/// Where the committed figures are (`PROCLAB_FIGURES_DIR` overrides, for tests).
fn figures_dir() -> PathBuf {
    std::env::var_os("PROCLAB_FIGURES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("book/src/figures"))
}

/// `cargo lab figures [--check] [LAB...]`.
pub fn command(check: bool, only: &[String]) -> Result<ExitCode, String> {
    let started = Instant::now();
    let wanted: Vec<u32> = only.iter().map(|a| labs::find(a).map(|l| l.number)).collect::<Result<_, _>>()?;
    let specs: Vec<&Spec> = FIGURES.iter().filter(|s| wanted.is_empty() || wanted.contains(&s.lab)).collect();
    if specs.is_empty() {
        return Err("no figure is drawn from these labs".into());
    }
    let mut packages: Vec<String> = specs.iter().map(|s| s.package()).collect();
    packages.dedup();
    eprintln!("figures: building {} reference solutions…", packages.len());
    let mut build = crate::run::cargo();
    build.args(["test", "-q", "--no-run"]);
    for p in &packages {
        build.args(["-p", p]);
    }
    let out = crate::run::capture(build, Duration::from_secs(1800));
    if !out.ok {
        return Err(format!("the reference solutions do not build:\n{}", out.text));
    }
    let scratch = std::env::temp_dir().join(format!("proclab-figures-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let drawn = scratch.join("svg");
    std::fs::create_dir_all(&drawn).map_err(|e| format!("cannot create {}: {e}", drawn.display()))?;
    let result = draw_all(&specs, &scratch, &drawn);
    let outcome = result.and_then(|()| {
        if check {
            let problems = compare(&drawn, &figures_dir(), &specs, wanted.is_empty());
            if problems.is_empty() {
                println!(
                    "figures: {} figure(s) in {} are fresh: drawn again from real runs, byte for byte the same ({:.1} s)",
                    specs.len(),
                    figures_dir().display(),
                    started.elapsed().as_secs_f64()
                );
                Ok(ExitCode::SUCCESS)
            } else {
                for p in &problems {
                    println!("✗ {p}");
                }
                println!("figures: {} stale; `cargo lab figures` draws them again", problems.len());
                Ok(ExitCode::FAILURE)
            }
        } else {
            let dir = figures_dir();
            std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            for s in &specs {
                let from = drawn.join(s.file());
                std::fs::copy(&from, dir.join(s.file())).map_err(|e| format!("cannot write {}: {e}", s.file()))?;
            }
            println!(
                "figures: {} figure(s) drawn into {} ({:.1} s)",
                specs.len(),
                dir.display(),
                started.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
    });
    let _ = std::fs::remove_dir_all(&scratch);
    outcome
}

/// Runs each figure's scenario and draws it into `drawn`.
fn draw_all(specs: &[&Spec], scratch: &Path, drawn: &Path) -> Result<(), String> {
    for s in specs {
        let t = Instant::now();
        // PROCLAB_FIGURES_RECORDS keeps the records there, and draws from a record already
        // there without running its scenario again (for work on the drawing).
        let kept = std::env::var_os("PROCLAB_FIGURES_RECORDS").map(PathBuf::from);
        let records = match &kept {
            Some(k) => k.join(format!("records-{}", s.file())),
            None => scratch.join(format!("records-{}", s.file())),
        };
        if kept.is_some() && records.is_dir() {
            let svg = draw_from(s, &records)?;
            std::fs::write(drawn.join(s.file()), svg)
                .map_err(|e| format!("cannot write {}: {e}", s.file()))?;
            continue;
        }
        let mut c = crate::run::cargo();
        c.args([
            "test",
            "-q",
            "-p",
            &s.package(),
            "--test",
            "spec",
            "--",
            "--exact",
            s.test,
            "--test-threads=1",
        ])
        .env("PROCLAB_FIGURE", &records)
        // Every layer the machine has, whatever the caller chose (the default leaves seccomp
        // out where Landlock and the namespace are both there): the seccomp layer traces the
        // lab's own signals, and a figure must not depend on who drew it.
        .env("PROCLAB_LAYERS", harness::layers::probe().available().join(","));
        let out = crate::run::capture(c, Duration::from_secs(120));
        if !out.ok {
            return Err(format!("the scenario of {} failed:\n{}", s.file(), out.text));
        }
        let svg = draw_from(s, &records)?;
        std::fs::write(drawn.join(s.file()), svg).map_err(|e| format!("cannot write {}: {e}", s.file()))?;
        eprintln!("  {} ({:.1} s)", s.file(), t.elapsed().as_secs_f64());
    }
    Ok(())
}

/// The SVG of figure `s` from the record its scenario left in `records`.
fn draw_from(s: &Spec, records: &Path) -> Result<String, String> {
    let test = s.test.replace("::", ".");
    let name = format!("{}--{test}--1.json", s.package());
    let path = records.join(&name);
    let json = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "{}: the scenario left no record {name} ({e}): is the test name right, and did it run?",
            s.file()
        )
    })?;
    let record = model::Record::parse(&json).map_err(|e| format!("{}: {e}", s.file()))?;
    if !record.layers.contains("seccomp") {
        return Err(format!(
            "{}: the run had no seccomp layer ({}), which traces the lab's own signals; figures need it \
             (PROCLAB_LAYERS must include seccomp)",
            s.file(),
            record.layers
        ));
    }
    render(s, &record)
}

/// Draws a record as figure `s`.
pub fn render(s: &Spec, record: &model::Record) -> Result<String, String> {
    let fig = record.figure();
    let id = format!("fig-lab{:02}-{}", s.lab, s.name);
    let title = format!("Lab {:02}, drawn from a real run: {}", s.lab, s.title);
    svg::render(&fig, &id, &title).map_err(|e| format!("{}: {e}", s.file()))
}

/// What differs between the freshly drawn figures and the committed ones. With `all`, a
/// committed figure that no scenario draws any more is stale too.
fn compare(drawn: &Path, committed: &Path, specs: &[&Spec], all: bool) -> Vec<String> {
    let mut problems = Vec::new();
    for s in specs {
        let fresh = std::fs::read(drawn.join(s.file())).unwrap_or_default();
        match std::fs::read(committed.join(s.file())) {
            Err(_) => problems.push(format!("{} is missing from {}", s.file(), committed.display())),
            Ok(old) if old != fresh => {
                let old = String::from_utf8_lossy(&old).into_owned();
                let new = String::from_utf8_lossy(&fresh).into_owned();
                let line = old.lines().zip(new.lines()).position(|(a, b)| a != b).map(|i| i + 1);
                let at = match line {
                    Some(l) => format!("first difference at line {l}"),
                    None => format!("{} lines committed, {} drawn", old.lines().count(), new.lines().count()),
                };
                problems.push(format!("{} differs from a fresh run ({at})", s.file()));
            }
            Ok(_) => {}
        }
    }
    if all {
        if let Ok(dir) = std::fs::read_dir(committed) {
            let mut extra: Vec<String> = dir
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".svg") && !specs.iter().any(|s| s.file() == *n))
                .collect();
            extra.sort();
            for n in extra {
                problems.push(format!("{n} is drawn by no scenario (remove it, or add it to figures.rs)"));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests;
