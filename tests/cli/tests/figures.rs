//! `cargo lab figures --check` draws a figure again from a real run and fails on a committed
//! copy that differs from it by a byte — and passes on the committed figure itself.

use assert_cmd::Command;
use predicates::prelude::*;

#[test]
fn check_fails_on_a_stale_figure_and_passes_on_the_committed_one() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let name = "lab12-killed.svg";
    let committed = std::fs::read_to_string(root.join("book/src/figures").join(name)).unwrap();
    let dir = std::env::temp_dir().join(format!("proclab-figures-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    // One character changed, as a hand edit or an older run would leave it.
    let stale = committed.replacen("1 sandbox", "1 sandbax", 1);
    assert_ne!(stale, committed);
    std::fs::write(dir.join(name), &stale).unwrap();
    Command::cargo_bin("proclab")
        .unwrap()
        .args(["figures", "--check", "12"])
        .env("PROCLAB_FIGURES_DIR", &dir)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(format!("✗ {name} differs from a fresh run")));

    std::fs::write(dir.join(name), &committed).unwrap();
    Command::cargo_bin("proclab")
        .unwrap()
        .args(["figures", "--check", "12"])
        .env("PROCLAB_FIGURES_DIR", &dir)
        .assert()
        .success()
        .stdout(predicate::str::contains("are fresh"));
    let _ = std::fs::remove_dir_all(&dir);
}
