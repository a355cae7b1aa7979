//! Spec of lab 01 — fork. Judges labs/01-fork (`cargo test -p lab01`) and
//! solutions/01-fork (`cargo test -p sol01`).

use harness::prelude::*;
use rstest::rstest;

/// fork() returns twice: the child is a new process whose parent is the caller.
// hint: 1
#[test]
fn the_child_is_a_new_process_whose_parent_is_the_caller() {
    let sc = Scenario::start(lab!(), &[]);
    let parent = sc.role("parent");
    let child = sc.role("child");
    sc.step("the parent forks once");
    sc.expect(child != parent, "the child has a pid of its own");
    sc.expect_eq(sc.note(child, "ppid"), parent.to_string(), "the child's getppid() is the parent's pid");
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), "the parent exits normally");
    let out = sc.final_stdout();
    let father = out.find(&format!("I am the father of {child}"));
    let kid = out.find(&format!("I am a child: pid {child}"));
    sc.expect(
        father.is_some(),
        &format!("fork() returned the child's pid in the parent: it prints \"I am the father of {child}\""),
    );
    sc.expect(kid.is_some(), "the child prints its line too (the spec asserts no order between the two)");
    sc.claim(
        "fork-returns-twice",
        &format!(
            "one call, two returns: parent {parent} got {child} from fork(); process {child} took the child branch and its getppid() was {parent}"
        ),
    );
    let first = if father < kid { "the parent's" } else { "the child's" };
    sc.claim("order-unpredictable", &format!("both lines appeared; in this run {first} line came first"));
}

/// Post 002 holds; post 003's "shares the same memory state" does not hold for state: a
/// write lands in the writer's own copy of the page.
// hint: 2
#[test]
fn a_variable_is_copied_not_shared() {
    let sc = Scenario::start(lab!(), &[]);
    let parent = sc.role("parent");
    let child = sc.role("child");
    sc.step("the child sets var = 9; the parent waits for it, then reads var");
    sc.expect_eq(sc.note(child, "var"), "9".to_string(), "the child sees its own change");
    sc.expect_eq(
        sc.note(parent, "var"),
        "10".to_string(),
        "the parent still sees 10 after the child changed its copy",
    );
    // Each process plays its part once: a child that, after its branch, falls through into the
    // parent's code reports var a second time and prints the parent's line.
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), "the parent exits normally");
    let out = sc.final_stdout();
    let vars: Vec<(i32, String)> = sc.notes_now("var").into_iter().map(|(p, v, _)| (p, v)).collect();
    sc.expect_eq(
        vars,
        vec![(child, "9".to_string()), (parent, "10".to_string())],
        "var is reported once by the child (9), then once by the parent (10) — nobody else, nothing twice",
    );
    sc.expect_eq(
        out.matches("parent: var = ").count(),
        1,
        "the parent's line \"parent: var = …\" is printed once: the child never runs the parent's code",
    );
    sc.claim(
        "var-copied",
        &format!("child {child} set var = 9; parent {parent} still read 10 after waitpid"),
    );
    sc.claim(
        "fork-shares-memory",
        &format!(
            "no shared state: child {child} wrote 9 into its own copy of var's page, parent {parent} kept 10 (copy-on-write)"
        ),
    );
}

/// Only memory mapped MAP_SHARED is shared: the child's increment reaches the parent. The
/// child is held (its pauses) before it adds 1, so a parent that reads the counter before
/// waitpid has returned reads 0 — every run, not only when the child happens to be slow.
// hint: 2
#[test]
fn a_map_shared_counter_is_seen_by_both() {
    let sc = Scenario::start(lab!(), &["--touch-mib", "1"]);
    let parent = sc.role("parent");
    sc.paused("forked: the child has written nothing yet");
    sc.release();
    sc.paused("the child wrote one byte in every page of the region");
    sc.step("the child is held before it adds 1 to the counter");
    sc.until("the parent is blocked in waitpid for its child", |t| t.in_waitpid(parent));
    sc.sync_trace();
    sc.expect(
        sc.notes_now("counter").is_empty(),
        "the parent has not read the counter yet: it waits for the child (waitpid) before it reads",
    );
    sc.release();
    sc.step("the child adds 1 to the counter; the parent reads it after waitpid");
    sc.expect_eq(
        sc.note(parent, "counter"),
        "1".to_string(),
        "the parent reads the child's increment from the MAP_SHARED counter (TODO 2)",
    );
    sc.claim(
        "shared-memory",
        &format!("parent {parent} read counter = 1 after its child's fetch_add on the MAP_SHARED page"),
    );
}

/// Text still buffered at fork() is in both copies of the buffer: printed twice when stdout
/// is a pipe, unless flushed before forking.
// hint: 1
#[rstest]
#[case::flushed(&[], 1)]
#[case::not_flushed(&["--no-flush"], 2)]
fn buffered_output_is_duplicated_only_when_not_flushed(#[case] args: &[&str], #[case] times: usize) {
    let sc = Scenario::start(lab!(), args);
    let out = sc.final_stdout();
    sc.expect_eq(
        out.matches("Before the fork").count(),
        times,
        "times the line printed before fork() appears on stdout (TODO 1: flush before forking)",
    );
    sc.claim(
        "before-fork-once",
        &format!(
            "{}: the line printed before fork() appeared {times} time(s) on a pipe",
            if args.is_empty() { "flushed before fork" } else { "left in the buffer (--no-flush)" }
        ),
    );
}

/// Copy-on-write, observed: right after fork() the region's pages are the parent's pages,
/// mapped by both (shared, half of each in each one's Pss); once the child writes them, each
/// process has its own copy (private). Post 003's "shares the same memory state" is half
/// true: the *pages* are shared until a write — no write is ever seen by the other.
// hint: 2
#[test]
fn pages_are_shared_after_fork_until_the_child_writes_them() {
    const MIB: u64 = 16;
    let region_kib = MIB * 1024;
    let sc = Scenario::start(lab!(), &["--touch-mib", &MIB.to_string()]);
    let parent = sc.role("parent");
    let child = sc.role("child");
    sc.paused("forked: the child has written nothing yet");
    sc.step(&format!("the parent filled {MIB} MiB and forked; the child has written nothing yet"));
    let Some(before) = sc.smaps_rollup(child) else { sc.fail("the child's smaps_rollup can be read") };
    sc.show(&format!("child {child}: {}", before.describe()));
    sc.expect(
        before.shared_dirty_kib >= region_kib,
        &format!(
            "right after fork the child's {MIB} MiB region is the parent's pages, mapped by both: Shared_Dirty ≥ {MIB} MiB — observed {}",
            before.describe()
        ),
    );
    sc.expect(
        before.rss_kib - before.pss_kib >= region_kib / 2,
        &format!(
            "each shared page counts half in Pss: Rss − Pss ≥ {} MiB — observed {}",
            MIB / 2,
            before.describe()
        ),
    );
    sc.release();
    sc.paused("the child wrote one byte in every page of the region");
    sc.step("the child wrote one byte in each page of the region");
    let Some(after) = sc.smaps_rollup(child) else { sc.fail("the child's smaps_rollup can be read") };
    let parent_after = sc.smaps_rollup(parent);
    sc.show(&format!("child {child}: {}", after.describe()));
    sc.expect(
        after.private_dirty_kib >= before.private_dirty_kib + region_kib * 15 / 16,
        &format!(
            "each page the child wrote is now its own copy: Private_Dirty grew by ≈ {MIB} MiB — observed before: {}; after: {}",
            before.describe(),
            after.describe()
        ),
    );
    sc.expect(
        after.pss_kib >= before.pss_kib + region_kib * 7 / 16,
        &format!(
            "a private page counts whole in Pss: the child's Pss grew by ≈ {} MiB — observed before: {}; after: {}",
            MIB / 2,
            before.describe(),
            after.describe()
        ),
    );
    sc.release();
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), "the parent exits normally");
    let parent_said =
        parent_after.map(|m| format!("; the parent then: {}", m.describe())).unwrap_or_default();
    sc.claim(
        "fork-shares-memory",
        &format!(
            "shared pages, not shared state: after fork child {child} had {} (the {MIB} MiB region mapped by both); after writing: {}{parent_said}",
            before.describe(),
            after.describe()
        ),
    );
}
