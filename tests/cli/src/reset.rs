//! `cargo lab reset N`: the starter back, as the kit shipped it — after asking, and with a copy
//! of the student's work kept.

use crate::labs::{Lab, root};
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
            .map_err(|e| format!("cannot run git: {e}"))?;
        if out.status.success() {
            return Ok(out.stdout);
        }
    }
    Err(format!(
        "git has no {path} here (is this a clone of the kit?): download the kit again to get the starter"
    ))
}

pub fn reset(lab: &Lab, yes: bool) -> Result<ExitCode, String> {
    let file = "src/main.rs";
    let path = root().join("labs").join(&lab.dir).join(file);
    let starter = pristine(lab, file)?;
    let mine = std::fs::read(&path).unwrap_or_default();
    if mine == starter {
        println!("labs/{}/{file} is already the starter: nothing to do.", lab.dir);
        return Ok(ExitCode::SUCCESS);
    }
    if !yes {
        if !std::io::stdin().is_terminal() {
            return Err(format!(
                "labs/{}/{file} has your changes; `cargo lab reset {} --yes` discards them (a copy is kept)",
                lab.dir, lab.number
            ));
        }
        print!(
            "Discard your changes to labs/{}/{file} and get the starter back? A copy is kept. [y/N] ",
            lab.dir
        );
        let _ = std::io::stdout().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            println!("Nothing changed.");
            return Ok(ExitCode::SUCCESS);
        }
    }
    let stamp =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let backup_dir = root().join("target").join("proclab").join("backups");
    std::fs::create_dir_all(&backup_dir).map_err(|e| format!("cannot keep a copy: {e}"))?;
    let backup = backup_dir.join(format!("lab{:02}-main-{stamp}.rs", lab.number));
    std::fs::write(&backup, &mine).map_err(|e| format!("cannot keep a copy: {e}"))?;
    std::fs::write(&path, &starter).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let _ = std::fs::remove_file(root().join("target/proclab").join(format!("status-{:02}", lab.number)));
    println!("labs/{}/{file} is the starter again. Your version: {}", lab.dir, backup.display());
    Ok(ExitCode::SUCCESS)
}
