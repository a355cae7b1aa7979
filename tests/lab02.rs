//! Spec of lab 02 — zombie. Judges labs/02-zombie (`cargo test -p lab02`) and
//! solutions/02-zombie (`cargo test -p sol02`).

use harness::prelude::*;

/// Post 002 holds: an exited child is a zombie (Z) of its parent until the parent waits.
// hint: 2
#[test]
fn an_exited_child_is_a_zombie_until_its_parent_waits() {
    let sc = Scenario::start(lab!(), &[]);
    let parent = sc.role("parent");
    let child = sc.role("child");
    sc.paused("the child has exited; the parent has not waited");
    sc.step("the child exits; the parent is paused and has not called waitpid");
    let t = sc.until("the child has exited: a zombie (Z) of the parent, or gone", |t| {
        t.zombie(child) || t.gone(child)
    });
    let zombie = t.zombie(child) && t.ppid(child) == Some(parent);
    sc.claim_verdict(
        "zombie-visible",
        Verdict::when(zombie && t.alive(parent)),
        &format!(
            "child {child} had ended, its parent {parent} had not: ps showed {child} as {} with ppid {}",
            t.get(child).map_or("gone".to_string(), |p| format!(
                "{} ({})",
                p.state,
                if p.state == 'Z' { "<defunct>" } else { "not a zombie" }
            )),
            t.ppid(child).map_or("-".to_string(), |p| p.to_string())
        ),
    );
    sc.expect(
        zombie,
        "the child is a zombie (Z) whose parent is still the parent: nobody has waited for it yet",
    );
    sc.step("the parent goes on and calls waitpid");
    sc.release();
    sc.paused("the parent has reaped the child");
    let t = sc.snapshot();
    sc.claim_verdict(
        "zombie-reaped",
        Verdict::when(t.gone(child) && t.alive(parent)),
        &format!(
            "once the parent's waitpid returned, child {child} was {} in /proc; parent {parent} lived on",
            if t.gone(child) { "gone" } else { "still" }
        ),
    );
    sc.expect(
        t.gone(child) && t.alive(parent),
        &format!(
            "after waitpid returned, child {child} is gone (reaped) while the parent {parent} is still alive"
        ),
    );
    sc.release();
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), "the parent exits normally");
    let out = sc.final_stdout();
    let told = out.lines().find(|l| l.starts_with(&format!("reaped {child}: "))).map(str::to_string);
    // 002: the zombie keeps exit information for the parent to collect.
    sc.claim_verdict(
        "zombie-keeps-status",
        Verdict::when(told.as_deref() == Some(&format!("reaped {child}: Exited(Pid({child}), 0)"))),
        &format!(
            "the child exited with status 0 and was a zombie meanwhile; the parent's waitpid returned: {}",
            told.as_deref().unwrap_or("nothing")
        ),
    );
    sc.expect(
        out.contains(&format!("reaped {child}: ")),
        &format!("the parent prints \"reaped {child}: <status>\", the status waitpid gave it"),
    );
}

/// When the parent exits without waiting, its zombie is reparented to the nearest subreaper —
/// here the sandbox — which reaps it, and gets the status the zombie kept.
// hint: 1
#[test]
fn a_zombie_left_behind_is_reaped_by_the_subreaper() {
    let sc = Scenario::start(lab!(), &["--no-wait"]);
    let parent = sc.role("parent");
    let child = sc.role("child");
    sc.paused("the child has exited; the parent has not waited");
    sc.until("the child is a zombie of the parent", |t| t.zombie(child) && t.ppid(child) == Some(parent));
    sc.step("the parent exits without waiting");
    sc.release();
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), "the parent exits normally");
    let status = sc.exit_of(child);
    let sandbox = sc.sandbox_pid();
    sc.claim_verdict(
        "zombie-keeps-status",
        Verdict::when(status == Exit::Code(0)),
        &format!(
            "left behind by its parent, zombie {child} was adopted and reaped by the sandbox {sandbox} (the nearest child subreaper{}), which got its status: {status}",
            if sandbox == 1 { ", and pid 1 of the scenario's PID namespace" } else { "" }
        ),
    );
    sc.expect_eq(
        status,
        Exit::Code(0),
        "the sandbox (the child subreaper) reaps the orphaned zombie and sees its status",
    );
    sc.until("no zombie is left", |t| t.gone(child) && t.zombies().is_empty());
}
