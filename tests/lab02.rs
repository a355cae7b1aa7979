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
    sc.expect(
        t.zombie(child) && t.ppid(child) == Some(parent),
        "the child is a zombie (Z) whose parent is still the parent: nobody has waited for it yet",
    );
    sc.step("the parent goes on and calls waitpid");
    sc.release();
    sc.paused("the parent has reaped the child");
    let t = sc.snapshot();
    sc.expect(
        t.gone(child) && t.alive(parent),
        &format!(
            "after waitpid returned, child {child} is gone (reaped) while the parent {parent} is still alive"
        ),
    );
    sc.release();
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), "the parent exits normally");
    let out = sc.final_stdout();
    sc.expect(
        out.contains(&format!("reaped {child}: ")),
        &format!("the parent prints \"reaped {child}: <status>\", the status waitpid gave it"),
    );
    sc.claim(
        "zombie-visible",
        &format!("child {child} was Z with ppid {parent} while the parent had not waited"),
    );
    sc.claim(
        "zombie-reaped",
        &format!("child {child} left /proc when waitpid returned; parent {parent} lived on"),
    );
}

/// When the parent exits without waiting, its zombie is reparented to the nearest subreaper —
/// here the sandbox — which reaps it. Not to pid 1.
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
    sc.expect_eq(
        sc.exit_of(child),
        Exit::Code(0),
        "the sandbox (the child subreaper) reaps the orphaned zombie and sees its status",
    );
    sc.until("no zombie is left", |t| t.gone(child) && t.zombies().is_empty());
    let sandbox = sc.sandbox_pid();
    sc.claim(
        "zombie-pid1",
        &format!("zombie {child} was reaped by the sandbox {sandbox} (a child subreaper), not pid 1"),
    );
}
