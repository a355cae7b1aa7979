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
    // 002: fork returns 0 in the child, the child's pid in the parent: both branches ran, each
    // in its own process.
    sc.claim_verdict(
        "fork-returns-twice",
        Verdict::of(&[father.is_some(), kid.is_some() && child != parent]),
        &format!(
            "one call, two returns: parent {parent} got {child} from fork() and printed it; process {child} took the child branch (fork() returned 0), its getppid() was {parent}"
        ),
    );
    // 002: the order cannot be predicted. One run shows one order; what the claim needs is that
    // both lines come, the spec assuming neither order (lab 01's demo shows both over runs).
    let first = if father < kid { "the parent's" } else { "the child's" };
    sc.claim_verdict(
        "order-unpredictable",
        Verdict::when(father.is_some() && kid.is_some()),
        &format!("both lines appeared, in this run {first} first; nothing in the program orders them"),
    );
    sc.expect(
        father.is_some(),
        &format!("fork() returned the child's pid in the parent: it prints \"I am the father of {child}\""),
    );
    sc.expect(kid.is_some(), "the child prints its line too (the spec asserts no order between the two)");
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
    let (in_child, in_parent) = (sc.note(child, "var"), sc.note(parent, "var"));
    // 002: the child has all the parent's variables, independent: 9 in the child, 10 kept.
    sc.claim_verdict(
        "var-copied",
        Verdict::of(&[in_child == "9", in_parent == "10"]),
        &format!(
            "child {child} set var = 9 and read {in_child}; parent {parent} read {in_parent} after waitpid"
        ),
    );
    // 003: "they share one and the same memory state" — then the child's write would reach the
    // parent. It did not: this run shows no shared state at all.
    sc.claim_verdict(
        "fork-shares-memory",
        Verdict::when(in_parent == "9"),
        &format!(
            "child {child} wrote 9 into var; parent {parent} read {in_parent}: the write stayed in the child's copy"
        ),
    );
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
    let counter = sc.note(parent, "counter");
    sc.claim_verdict(
        "shared-memory",
        Verdict::when(counter == "1"),
        &format!(
            "parent {parent} read counter = {counter} after its child's fetch_add on the MAP_SHARED page"
        ),
    );
    sc.expect_eq(
        sc.note(parent, "counter"),
        "1".to_string(),
        "the parent reads the child's increment from the MAP_SHARED counter (TODO 2)",
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
    let seen = out.matches("Before the fork").count();
    // 002's transcript shows the line printed before the fork once.
    sc.claim_verdict(
        "before-fork-once",
        Verdict::when(seen == 1),
        &format!(
            "{}: the line printed before fork() appeared {seen} time(s) on a pipe",
            if args.is_empty() {
                "flushed before the fork"
            } else {
                "left in stdout's buffer at the fork (--no-flush)"
            }
        ),
    );
    sc.expect_eq(
        seen,
        times,
        "times the line printed before fork() appears on stdout (TODO 1: flush before forking)",
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
    // 003: "they share one and the same memory state". The pages are shared after the fork
    // (part true); the child's writes went to copies of its own (part false).
    let shared_pages = before.shared_dirty_kib >= region_kib;
    let writes_private = after.private_dirty_kib >= before.private_dirty_kib + region_kib * 15 / 16;
    let parent_said =
        parent_after.map(|m| format!("; the parent then: {}", m.describe())).unwrap_or_default();
    sc.claim_verdict(
        "fork-shares-memory",
        Verdict::of(&[shared_pages, !writes_private]),
        &format!(
            "shared pages, not shared state: after the fork child {child} had {} (the {MIB} MiB region mapped by both); after writing each page: {}{parent_said}",
            before.describe(),
            after.describe()
        ),
    );
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
}
