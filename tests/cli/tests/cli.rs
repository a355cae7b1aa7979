//! `cargo lab` answers mistakes with one clear line and status 2, and reads the lab sheets.

use assert_cmd::Command;
use predicates::prelude::*;

/// `cargo lab` in English whatever the caller's locale (`zh()` for Chinese).
fn lab() -> Command {
    let mut c = Command::cargo_bin("proclab").unwrap();
    c.env_remove("LC_ALL").env_remove("LC_MESSAGES").env("LANG", "C.UTF-8");
    c
}

/// stderr is exactly one line.
fn one_line() -> impl Predicate<str> {
    predicate::function(|s: &str| s.trim_end().lines().count() == 1)
}

#[test]
fn help_lists_every_command() {
    lab().arg("--help").assert().success().stdout(
        predicate::str::contains("list")
            .and(predicate::str::contains("check"))
            .and(predicate::str::contains("hint"))
            .and(predicate::str::contains("demo"))
            .and(predicate::str::contains("watch"))
            .and(predicate::str::contains("tour"))
            .and(predicate::str::contains("verify")),
    );
}

#[test]
fn mistakes_get_one_line_and_status_2() {
    let cases: &[(&[&str], &str)] = &[
        (&[], "which command?"),
        (&["frob"], "unrecognized subcommand 'frob'"),
        (&["check"], "<LAB>"),
        (&["check", "42"], "there is no lab 42"),
        (&["watch"], "<LAB>"),
        (&["watch", "0"], "there is no lab 0"),
        (&["hint", "zombie"], "'zombie' is not a lab number"),
        (&["demo", "2", "x", "y"], "unexpected argument"),
        (&["list", "--nope"], "unexpected argument '--nope'"),
    ];
    for (args, says) in cases {
        lab().args(*args).assert().code(2).stdout("").stderr(
            predicate::str::starts_with("cargo lab: ").and(predicate::str::contains(*says)).and(one_line()),
        );
    }
}

#[test]
fn list_shows_every_lab_with_its_title() {
    lab()
        .arg("list")
        .assert()
        .success()
        .stdout(predicate::str::contains("02  Zombie: a child nobody has waited for"));
}

#[test]
fn hint_all_shows_the_hints_of_the_sheet() {
    lab()
        .args(["hint", "02", "--all"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Hint 1 of").and(predicate::str::contains("waitpid")));
}

#[test]
fn the_kit_is_found_where_cargo_lab_runs_not_where_it_was_built() {
    // A kit elsewhere (a copy, a renamed clone): `list` must read *its* labs.
    let dir = std::env::temp_dir().join(format!("proclab-cli-kit-{}", std::process::id()));
    let lab42 = dir.join("labs/42-elsewhere");
    std::fs::create_dir_all(lab42.join("src")).unwrap();
    std::fs::write(dir.join("Cargo.toml"), "[workspace]\nmembers = [\"labs/*\"]\n").unwrap();
    std::fs::write(lab42.join("README.md"), "# Lab 42 — Elsewhere: the copy's own lab\n").unwrap();
    let out = lab().arg("list").current_dir(dir.join("labs")).env_remove("PROCLAB_ROOT").assert().success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(text.contains("Elsewhere: the copy's own lab"), "{text}");
    assert!(!text.contains("Zombie"), "listed the labs of the kit it was built in:\n{text}");
}
