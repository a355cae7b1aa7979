//! `cargo lab` answers mistakes with one clear line and status 2, and reads the lab sheets.

use assert_cmd::Command;
use predicates::prelude::*;

/// `cargo lab figures --check` (a module here so that its test runs beside the others).
mod figures;

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

/// Writes `bytes` to `path` unless it holds them already (an unchanged file keeps its mtime,
/// so cargo does not build it again).
fn write_if_changed(path: &std::path::Path, bytes: &[u8]) {
    if std::fs::read(path).ok().as_deref() != Some(bytes) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}

/// Copies `from` into `to` (files and directories), leaving out `target/`; `edit` may change
/// each file's text.
fn copy_tree(from: &std::path::Path, to: &std::path::Path, edit: &dyn Fn(Vec<u8>) -> Vec<u8>) {
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if src.is_dir() {
            if e.file_name() != "target" {
                copy_tree(&src, &dst, edit);
            }
        } else {
            write_if_changed(&dst, &edit(std::fs::read(&src).unwrap()));
        }
    }
}

/// `cargo lab check` on the untouched starter of lab 02 in a scratch kit (target/proclab/kit-92)
/// where lab 02 is lab 92 — a package of its own, so that the kit's own lab02 binary and the
/// student's verdicts are never touched. The scratch kit's workspace has only that lab and its
/// solution, and takes the harness, labkit and i18n from the kit itself by absolute path: built
/// in the kit's target/, they are packages outside that workspace (their own artifacts, never
/// the kit's), and everything else is built already. The copy is kept, so later runs build
/// nothing. Returns stdout.
fn check_starter_02(args: &[&str], lang_env: &str) -> String {
    let (root, kit) = kit_92();
    let out = lab()
        .args(args)
        .args(["check", "92"])
        .env("LANG", lang_env)
        .env("PROCLAB_ROOT", kit)
        .env("CARGO_TARGET_DIR", root.join("target"))
        .current_dir(kit)
        .assert();
    let output = out.get_output();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    stdout
}

/// The kit's root, and a copy of the kit whose only lab is 02 renamed 92 (written once).
fn kit_92() -> &'static (std::path::PathBuf, std::path::PathBuf) {
    static KIT: std::sync::OnceLock<(std::path::PathBuf, std::path::PathBuf)> = std::sync::OnceLock::new();
    KIT.get_or_init(make_kit_92)
}

fn make_kit_92() -> (std::path::PathBuf, std::path::PathBuf) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap();
    let kit = root.join("target/proclab/kit-92");
    let renamed = |b: Vec<u8>| {
        String::from_utf8_lossy(&b).replace("lab02", "lab92").replace("sol02", "sol92").into_bytes()
    };
    let manifest: String = std::fs::read_to_string(root.join("Cargo.toml"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("default-members"))
        .map(|l| {
            if l.starts_with("members") {
                "members = [\"labs/*\", \"solutions/*\"]".to_string()
            } else {
                l.replace("path = \"tests/", &format!("path = \"{}/tests/", root.display()))
            }
        })
        .map(|l| l + "\n")
        .collect();
    write_if_changed(&kit.join("Cargo.toml"), manifest.as_bytes());
    write_if_changed(&kit.join("Cargo.lock"), &std::fs::read(root.join("Cargo.lock")).unwrap());
    copy_tree(&root.join(".cargo"), &kit.join(".cargo"), &|b| b);
    copy_tree(&root.join("labs/02-zombie"), &kit.join("labs/92-zombie"), &renamed);
    copy_tree(&root.join("solutions/02-zombie"), &kit.join("solutions/92-zombie"), &renamed);
    write_if_changed(&kit.join("tests/lab92.rs"), &std::fs::read(root.join("tests/lab02.rs")).unwrap());
    // The starter as the kit ships it (the student's own may be solved by now).
    if let Some(out) = std::process::Command::new("git")
        .current_dir(&root)
        .args(["show", "HEAD:labs/02-zombie/src/main.rs"])
        .output()
        .ok()
        .filter(|o| o.status.success())
    {
        write_if_changed(&kit.join("labs/92-zombie/src/main.rs"), &out.stdout);
    }
    (root, kit)
}

/// `cargo lab --lang zh check` speaks Chinese on the untouched starter — verdict, report, hint —
/// with the report's lines where the English has them; `LANG=zh_CN.UTF-8` alone does the same.
#[test]
fn check_reports_in_chinese_with_the_layout_of_the_english() {
    // The three runs side by side (cargo builds lab 92 once; each then runs its spec).
    kit_92();
    let (zh, en, by_locale) = std::thread::scope(|s| {
        let zh = s.spawn(|| check_starter_02(&["--lang", "zh"], "C.UTF-8"));
        let en = s.spawn(|| check_starter_02(&[], "C.UTF-8"));
        let by_locale = s.spawn(|| check_starter_02(&["--color", "never"], "zh_CN.UTF-8"));
        (zh.join().unwrap(), en.join().unwrap(), by_locale.join().unwrap())
    });
    for says in [
        "── proclab: lab92（你在 labs/ 中的代码） ──\n预期：",
        "\n实际观察到（+",
        "\n步骤：\n  1. ",
        "\n跟踪记录：\n",
        " 是 parent\n",
        "✗ 实验 92：2 个测试中有 1 个未通过",
        "（更多提示：cargo lab hint 92）",
    ] {
        assert!(zh.contains(says), "no {says:?} in:\n{zh}");
    }
    for english in ["expected:", "observed", "steps:", "trace:", "tests fail", "(more: "] {
        assert!(!zh.contains(english), "{english:?} left in English:\n{zh}");
    }
    assert!(en.contains("\nexpected: ") && en.contains("✗ Lab 92: 1 of 2 tests fail"), "{en}");
    // The same lines: a report's layout does not depend on its language (the hints after the
    // verdict are the lab's own text, in each language's file).
    let shape = |s: &str| -> Vec<bool> {
        let report = s.rsplit_once("\n\n✗ ").map_or(s, |(r, _)| r);
        report.lines().map(|l| l.contains("  pgid ")).collect()
    };
    assert_eq!(shape(&en), shape(&zh), "English:\n{en}\nChinese:\n{zh}");
    assert!(by_locale.contains("\n预期：") && by_locale.contains("✗ 实验 92"), "{by_locale}");
}
