//! `cargo lab` answers mistakes with one clear line and status 2, and reads the lab sheets.

use assert_cmd::Command;
use predicates::prelude::*;

fn lab() -> Command {
    Command::cargo_bin("proclab").unwrap()
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
