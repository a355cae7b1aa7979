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
    sc.step(&say!(
        "the child exits; the parent is paused and has not called waitpid",
        "子进程退出；父进程被暂停，还没有调用 waitpid"
    ));
    let t = sc.until(
        &say!(
            "the child has exited: a zombie (Z) of the parent, or gone",
            "子进程已退出：成了父进程的僵尸进程（Z），或已消失"
        ),
        |t| t.zombie(child) || t.gone(child),
    );
    let zombie = t.zombie(child) && t.ppid(child) == Some(parent);
    let state = t.get(child).map_or(say!("gone", "已消失"), |p| {
        let what =
            if p.state == 'Z' { "<defunct>".to_string() } else { say!("not a zombie", "不是僵尸进程") };
        say!("{} ({what})", "{}（{what}）", p.state)
    });
    let ppid = t.ppid(child).map_or("-".to_string(), |p| p.to_string());
    sc.claim_verdict(
        "zombie-visible",
        Verdict::when(zombie && t.alive(parent)),
        &say!(
            "child {child} had ended, its parent {parent} had not: ps showed {child} as {state} with ppid {ppid}",
            "子进程 {child} 已经结束，它的父进程 {parent} 还没有结束：ps 显示 {child} 的状态为 {state}，ppid 为 {ppid}"
        ),
    );
    sc.expect(
        zombie,
        &say!(
            "the child is a zombie (Z) whose parent is still the parent: nobody has waited for it yet",
            "子进程是僵尸进程（Z），它的父进程仍是原来的父进程：还没有谁等待（wait）过它"
        ),
    );
    sc.step(&say!("the parent goes on and calls waitpid", "父进程继续执行，调用 waitpid"));
    sc.release();
    sc.paused("the parent has reaped the child");
    let t = sc.snapshot();
    let was = if t.gone(child) { say!("gone", "已不在") } else { say!("still", "仍在") };
    sc.claim_verdict(
        "zombie-reaped",
        Verdict::when(t.gone(child) && t.alive(parent)),
        &say!(
            "once the parent's waitpid returned, child {child} was {was} in /proc; parent {parent} lived on",
            "父进程的 waitpid 返回之后，子进程 {child} {was} /proc 中；父进程 {parent} 继续运行"
        ),
    );
    sc.expect(
        t.gone(child) && t.alive(parent),
        &say!(
            "after waitpid returned, child {child} is gone (reaped) while the parent {parent} is still alive",
            "waitpid 返回之后，子进程 {child} 已消失（已被回收），而父进程 {parent} 仍然活着"
        ),
    );
    sc.release();
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), &say!("the parent exits normally", "父进程正常退出"));
    let out = sc.final_stdout();
    let told = out.lines().find(|l| l.starts_with(&format!("reaped {child}: "))).map(str::to_string);
    let got = told.clone().unwrap_or_else(|| say!("nothing", "（什么也没有）"));
    // 002: the zombie keeps exit information for the parent to collect.
    sc.claim_verdict(
        "zombie-keeps-status",
        Verdict::when(told.as_deref() == Some(&format!("reaped {child}: Exited(Pid({child}), 0)"))),
        &say!(
            "the child exited with status 0 and was a zombie meanwhile; the parent's waitpid returned: {got}",
            "子进程以状态 0 退出，其间一直是僵尸进程；父进程的 waitpid 返回：{got}"
        ),
    );
    sc.expect(
        out.contains(&format!("reaped {child}: ")),
        &say!(
            "the parent prints \"reaped {child}: <status>\", the status waitpid gave it",
            "父进程打印 \"reaped {child}: <status>\"，即 waitpid 交给它的状态"
        ),
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
    sc.until(&say!("the child is a zombie of the parent", "子进程是父进程的僵尸进程"), |t| {
        t.zombie(child) && t.ppid(child) == Some(parent)
    });
    sc.step(&say!("the parent exits without waiting", "父进程不等待（wait）子进程就退出"));
    sc.release();
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), &say!("the parent exits normally", "父进程正常退出"));
    let status = sc.exit_of(child);
    let sandbox = sc.sandbox_pid();
    let also = if sandbox == 1 {
        say!(", and pid 1 of the scenario's PID namespace", "，也是场景的 PID 命名空间中的 1 号进程")
    } else {
        String::new()
    };
    sc.claim_verdict(
        "zombie-keeps-status",
        Verdict::when(status == Exit::Code(0)),
        &say!(
            "left behind by its parent, zombie {child} was adopted and reaped by the sandbox {sandbox} (the nearest child subreaper{also}), which got its status: {status}",
            "被父进程丢下的僵尸进程 {child} 由沙箱 {sandbox}（离它最近的子进程收割者{also}）收养并回收，沙箱得到了它的状态：{status}"
        ),
    );
    sc.expect_eq(
        status,
        Exit::Code(0),
        &say!(
            "the sandbox (the child subreaper) reaps the orphaned zombie and sees its status",
            "沙箱（子进程收割者）回收这个成了孤儿的僵尸进程，并看到它的状态"
        ),
    );
    sc.until(&say!("no zombie is left", "不再有僵尸进程"), |t| {
        t.gone(child) && t.zombies().is_empty()
    });
}
