//! `cargo lab reset N`: the starter back, as the kit shipped it — after asking, and with a copy
//! of the student's work kept.

use crate::labs::{Lab, root};
use i18n::t;
use std::io::{BufRead, IsTerminal, Write};
use std::process::{Command, ExitCode};

/// The starter's sources as the kit has them in git: the upstream branch if there is one
/// (a student's own commits are not the starter), else the last commit.
fn pristine(lab: &Lab, file: &str) -> Result<Vec<u8>, String> {
    let path = format!("labs/{}/{file}", lab.dir);
    for rev in ["@{upstream}", "origin/HEAD", "HEAD"] {
        let out = Command::new("git")
            .current_dir(root())
            .args(["show", &format!("{rev}:{path}")])
            .output()
            .map_err(|e| t!("reset-cannot-run-git", error = e))?;
        if out.status.success() {
            return Ok(out.stdout);
        }
    }
    Err(t!("reset-no-git", path = path))
}

pub fn reset(lab: &Lab, yes: bool) -> Result<ExitCode, String> {
    let file = "src/main.rs";
    let path = root().join("labs").join(&lab.dir).join(file);
    let starter = pristine(lab, file)?;
    let mine = std::fs::read(&path).unwrap_or_default();
    if mine == starter {
        println!("{}", t!("reset-already", dir = lab.dir, file = file));
        return Ok(ExitCode::SUCCESS);
    }
    if !yes {
        if !std::io::stdin().is_terminal() {
            return Err(t!("reset-needs-yes", dir = lab.dir, file = file, number = lab.number));
        }
        print!("{} ", t!("reset-ask", dir = lab.dir, file = file));
        let _ = std::io::stdout().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "是") {
            println!("{}", t!("reset-nothing"));
            return Ok(ExitCode::SUCCESS);
        }
    }
    let stamp =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let backup_dir = root().join("target").join("proclab").join("backups");
    std::fs::create_dir_all(&backup_dir).map_err(|e| t!("reset-cannot-copy", error = e))?;
    let backup = backup_dir.join(format!("lab{:02}-main-{stamp}.rs", lab.number));
    std::fs::write(&backup, &mine).map_err(|e| t!("reset-cannot-copy", error = e))?;
    std::fs::write(&path, &starter)
        .map_err(|e| t!("reset-cannot-write", path = path.display(), error = e))?;
    let _ = std::fs::remove_file(root().join("target/proclab").join(format!("status-{:02}", lab.number)));
    println!("{}", t!("reset-done", dir = lab.dir, file = file, backup = backup.display()));
    Ok(ExitCode::SUCCESS)
}
