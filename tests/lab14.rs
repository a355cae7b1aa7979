//! Spec of lab 14 — pipes and SIGPIPE. Judges labs/14-pipes (`cargo test -p lab14`) and
//! solutions/14-pipes (`cargo test -p sol14`).
//!
//! A pipe holds a fixed number of bytes (F_GETPIPE_SZ; the spec measures a fresh pipe of its
//! own). A writer that finds it full sleeps in the kernel's pipe write until a reader makes
//! room; a reader sees EOF only when *every* copy of the write end is closed; a writer gets
//! SIGPIPE (or EPIPE, if it ignores SIGPIPE) only when *every* copy of the read end is closed.
//! The spec asserts each from the kernel's side: where each process sleeps (state and wchan),
//! and who holds which end of the pipe (`Scenario::holders`).
//!
//! A deadlock is certain once seen: a single-threaded parent asleep in waitpid is the only
//! reader of a pipe whose writer sleeps waiting for room — nothing can ever wake either. The
//! spec then watches it for a short window (to show it), and breaks it by killing the writer,
//! as Python's `wait(timeout=…)` then `kill()` would.

use harness::Proc;
use harness::prelude::*;
use rstest::rstest;

/// How long a blocked state is watched to show that it does not change. Nothing in the
/// scenario can unblock it, so any window would show the same.
const WINDOW: Duration = Duration::from_millis(50);

const HEAD_EXITED: &str = "head has exited; the parent has not waited for the writer yet";

/// The capacity of a new pipe on this machine (F_GETPIPE_SZ), measured on a pipe of the spec's
/// own: 65536 (16 pages of 4 KiB) by default on Linux.
fn capacity() -> usize {
    let (r, _w) = nix::unistd::pipe().expect("pipe");
    nix::fcntl::fcntl(&r, nix::fcntl::FcntlArg::F_GETPIPE_SZ).expect("F_GETPIPE_SZ") as usize
}

/// Asleep in the kernel's pipe write, waiting for room (`anon_pipe_write` on Linux 6.18,
/// `pipe_write` on older kernels).
fn in_pipe_write(p: &Proc) -> bool {
    p.state == 'S' && p.wchan.ends_with("pipe_write")
}

/// Asleep in the kernel's pipe read, waiting for data or EOF.
fn in_pipe_read(p: &Proc) -> bool {
    p.state == 'S' && p.wchan.ends_with("pipe_read")
}

/// The writer fills the pipe while a single-threaded parent waits in waitpid: nothing reads,
/// nothing can.
fn deadlocked(t: &Tree, parent: i32, writer: i32) -> bool {
    t.get(writer).is_some_and(in_pipe_write)
        && t.get(parent).is_some_and(|p| p.in_waitpid() && p.threads == 1)
}

fn number(sc: &Scenario, pid: i32, key: &str) -> usize {
    let v = sc.note(pid, key);
    v.parse().unwrap_or_else(|_| sc.fail(&format!("process {pid} notes a number under \"{key}\", not {v:?}")))
}

/// Who holds `pipe`'s read end now, in words: "the parent 2 (fd 4)".
fn readers(sc: &Scenario, pipe: &str, parent: i32) -> Vec<String> {
    sc.holders(pipe)
        .into_iter()
        .filter(|(_, f)| f.reads())
        .map(|(pid, f)| {
            let who = if pid == parent { "the parent" } else { "process" };
            format!("{who} {pid} (fd {})", f.fd)
        })
        .collect()
}

/// How big a write is, in the cases' words.
#[derive(Clone, Copy, Debug)]
enum Size {
    /// Exactly what the pipe holds.
    Capacity,
    /// One byte more.
    OneMore,
    /// 1 MiB (the post's "a lot of output").
    Mib,
}

impl Size {
    fn bytes(self, capacity: usize) -> usize {
        match self {
            Size::Capacity => capacity,
            Size::OneMore => capacity + 1,
            Size::Mib => 1 << 20,
        }
    }
}

/// Post 003: the pipe is limited; `Popen.wait()` takes no data, so it may block when the pipe
/// is full. A writer whose output fits finishes while nobody reads; one byte more and it sleeps
/// in pipe_write while its parent sleeps in waitpid — for good. Killed, it leaves exactly one
/// pipe's worth of bytes behind for the parent to read.
#[rstest]
#[case::exactly_the_capacity(Size::Capacity)]
#[case::one_byte_more(Size::OneMore)]
#[case::one_mib(Size::Mib)]
fn wait_blocks_once_the_child_has_filled_the_pipe(#[case] size: Size) {
    let cap = capacity();
    let bytes = size.bytes(cap);
    let sc = Scenario::start(lab!(), &["wait", "--bytes", &bytes.to_string()]);
    let parent = sc.role("parent");
    let writer = sc.role("writer");
    sc.expect_eq(
        number(&sc, parent, "capacity"),
        cap,
        "F_GETPIPE_SZ on the parent's read end: the pipe holds as much as any new pipe here",
    );
    if bytes <= cap {
        sc.step(&format!("the writer writes {bytes} bytes into a pipe that holds {cap}; the parent waits"));
        sc.expect_eq(
            sc.note(parent, "ended").as_str(),
            "exited with status 0",
            "the writer finishes and exits",
        );
        sc.expect_eq(number(&sc, writer, "wrote"), bytes, "the writer wrote everything while nobody read");
        sc.expect_eq(number(&sc, parent, "read"), bytes, "the parent then reads it all from the pipe");
        sc.expect_eq(sc.exit_of(parent), Exit::Code(0), "the parent exits normally");
        return;
    }
    sc.step(&format!(
        "the writer writes {bytes} bytes into a pipe that holds {cap}; the parent waits in waitpid and reads nothing"
    ));
    let mut t = sc.until(
        "the writer sleeps in pipe_write (the pipe is full) while its parent sleeps in waitpid",
        |t| deadlocked(t, parent, writer),
    );
    let blocked = deadlocked(&t, parent, writer);
    // Certain once seen; watched for a window in the 1 MiB case, to show it.
    let window = if let Size::Mib = size { WINDOW } else { Duration::ZERO };
    if !window.is_zero() {
        t = sc.stays(
            "neither moves: the writer waits for a reader, the only reader waits for the writer to exit",
            window,
            |t| deadlocked(t, parent, writer),
        );
    }
    sc.expect(sc.notes_now("wrote").is_empty(), "the writer has not finished its write");
    let w = t.get(writer).map(|p| format!("state {} in {}", p.state, p.wchan)).unwrap_or_default();
    sc.step("the spec kills the writer, as Python's wait(timeout=…) then p.kill() would");
    sc.signal(writer, Signal::SIGKILL);
    sc.expect_eq(sc.note(parent, "ended").as_str(), "killed by SIGKILL", "the parent's wait returns at last");
    let read = number(&sc, parent, "read");
    // 003: PIPE is an integer naming a pipe (an fd); a pipe's size is limited; when it is full
    // and nobody takes the data the process blocks (or the data is lost). Asked of Python: what
    // subprocess.PIPE is. Seen here: the capacity, the writer asleep, every byte kept.
    let python = harness::python3("import subprocess; print(subprocess.PIPE)");
    let pipe_value = python.as_ref().map(|(_, out)| out.trim().to_string());
    let mut parts = vec![blocked, read == cap];
    if let Some(v) = &pipe_value {
        parts.push(v.parse::<i64>().is_ok_and(|n| n >= 0));
    }
    let seen = format!(
        "{bytes} bytes into a pipe of {cap} (F_GETPIPE_SZ): writer {writer} {w}, parent {parent} in do_wait (watched {} ms); killed, it left {read} bytes — nothing lost{}",
        window.as_millis(),
        match (&python, &pipe_value) {
            (Some((version, _)), Some(v)) =>
                format!("; Python {version}: subprocess.PIPE is {v}, a request for a new pipe, not an fd"),
            _ => "; no python3 here to ask what subprocess.PIPE is".to_string(),
        }
    );
    sc.claim_verdict("pipe-full-blocks", Verdict::of(&parts), &seen);
    // 003: wait() takes no data, so it may block because the pipe is full.
    sc.claim_verdict("wait-may-block", Verdict::when(blocked), &seen);
    sc.expect_eq(
        read,
        cap,
        "what the parent then finds in the pipe: exactly its capacity, what the writer got in before it blocked",
    );
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), "the parent exits normally");
}

/// Post 003: `communicate()` reads until EOF, then waits. `wait_with_output` does: the parent
/// gets every byte of 1 MiB and the writer exits normally.
#[test]
fn communicate_reads_while_it_waits() {
    let bytes = Size::Mib.bytes(capacity());
    let sc = Scenario::start(lab!(), &["communicate", "--bytes", &bytes.to_string()]);
    let parent = sc.role("parent");
    let writer = sc.role("writer");
    sc.step(&format!("the writer writes {bytes} bytes; the parent communicates (reads while it waits)"));
    sc.until("the parent has read everything — or is stuck for good", |t| {
        !sc.notes_now("read").is_empty() || deadlocked(t, parent, writer)
    });
    if sc.notes_now("read").is_empty() {
        sc.fail(
            "communicate() reads while it waits — but the parent sleeps in waitpid (do_wait) while the writer \
             sleeps in pipe_write with the pipe full: neither can ever move (this is wait_then_read)",
        );
    }
    let (read, ended) = (number(&sc, parent, "read"), sc.note(parent, "ended"));
    // 003: communicate() reads stdout until EOF, then waits for the child.
    sc.claim_verdict(
        "communicate-reads",
        Verdict::when(read == bytes && ended == "exited with status 0"),
        &format!("wait_with_output (Rust's communicate()) read {read} of {bytes} bytes; the writer {ended}"),
    );
    sc.expect_eq(read, bytes, "the parent read every byte the writer wrote");
    sc.expect_eq(ended.as_str(), "exited with status 0", "the writer finished and exited");
    sc.expect_eq(number(&sc, writer, "wrote"), bytes, "the writer's one write of it all completed");
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), "the parent exits normally");
    sc.until_empty();
}

/// What kills the writer of `yes | head -n 1` once head has exited, and how the parent sees it.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// `yes`: Command reset SIGPIPE to the default for it, and the default action kills.
    Yes,
    /// The lab itself: Rust's runtime ignores SIGPIPE; the write fails with EPIPE and
    /// `println!` panics (exit status 101).
    Printer,
}

impl Kind {
    fn arg(self) -> &'static str {
        match self {
            Kind::Yes => "yes",
            Kind::Printer => "printer",
        }
    }
    fn ending(self) -> &'static str {
        match self {
            Kind::Yes => "killed by SIGPIPE",
            Kind::Printer => "exited with status 101",
        }
    }
}

/// Starts `yes | head -n 1` (or the Rust printer), waits until head has exited and the parent
/// is held before it waits for the writer. Returns (parent, writer, pipe).
fn head_has_exited(sc: &Scenario) -> (i32, i32, String) {
    let parent = sc.role("parent");
    let pipe = sc.note(parent, "pipe");
    let writer = number(sc, parent, "writer") as i32;
    let head = number(sc, parent, "head") as i32;
    sc.paused(HEAD_EXITED);
    sc.expect_eq(sc.note(parent, "head_output").as_str(), "y", "head printed the first line");
    sc.expect_eq(sc.note(parent, "head_ended").as_str(), "exited with status 0", "head exited normally");
    sc.step(&format!("head {head} has exited; the parent is held before it waits for the writer {writer}"));
    (parent, writer, pipe)
}

/// Post 003: `p1.stdout.close()  # Allow p1 to receive a SIGPIPE if p2 exits.` Once head has
/// exited and the parent has closed its copy, nobody holds the read end: the writer's next
/// write kills `yes` with SIGPIPE (Command restored the default for it), and fails with EPIPE
/// in a Rust writer, whose runtime ignores SIGPIPE — `println!` then panics.
#[rstest]
#[case::yes(Kind::Yes)]
#[case::rust_printer(Kind::Printer)]
fn the_writer_dies_once_every_read_end_is_closed(#[case] kind: Kind) {
    let sc = Scenario::start(lab!(), &["pipeline", "--writer", kind.arg()]);
    let (parent, writer, pipe) = head_has_exited(&sc);
    let left = readers(&sc, &pipe, parent);
    let closed = format!(
        "head has exited and the parent has closed its copy (p1.stdout.close()): nobody holds the read end \
         of {pipe} any more, so the writer's next write cannot succeed"
    );
    if !left.is_empty() {
        sc.fail(&format!("{closed} — but it is still held by {}", left.join(", ")));
    }
    sc.expect(true, &closed);
    sc.until("the writer has ended (a zombie: its parent has not waited yet)", |t| t.zombie(writer));
    if let Kind::Printer = kind {
        sc.expect_eq(
            sc.note(writer, "write_error").as_str(),
            "Broken pipe (os error 32)",
            "the Rust writer's write failed with EPIPE: it ignores SIGPIPE",
        );
        // Its stderr travels on a pipe of its own: wait for it while the parent is still held.
        sc.until(
            "its println! then panicked: \"failed printing to stdout: Broken pipe (os error 32)\" on stderr",
            |_| sc.stderr().contains("failed printing to stdout: Broken pipe"),
        );
    }
    sc.release();
    let ended = sc.note(parent, "writer_ended");
    if let Kind::Yes = kind {
        // 003: p1.stdout.close() lets p1 receive a SIGPIPE if p2 exits. (p1 is a C program,
        // like yes; a Rust writer ignores SIGPIPE — its write fails with EPIPE instead.)
        sc.claim_verdict(
            "close-for-sigpipe",
            Verdict::when(ended == "killed by SIGPIPE"),
            &format!("yes | head -n 1, the parent's copy closed: yes was {ended} once head exited"),
        );
    }
    sc.expect_eq(ended.as_str(), kind.ending(), &format!("how the {} writer ended", kind.arg()));
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), "the parent exits normally");
}

/// Without `p1.stdout.close()`: head has exited, but the parent still holds a copy of the read
/// end, so the pipe still has a reader — one that never reads. `yes` fills the pipe and sleeps
/// in pipe_write, alive. It dies of SIGPIPE the moment the parent closes that last copy.
#[test]
fn a_copy_of_the_read_end_in_the_parent_keeps_yes_running() {
    let sc = Scenario::start(lab!(), &["pipeline", "--keep-copy"]);
    let (parent, writer, pipe) = head_has_exited(&sc);
    let left = readers(&sc, &pipe, parent);
    sc.expect(
        left.len() == 1 && left[0].starts_with("the parent "),
        &format!(
            "the copy the parent kept on purpose is the only read end of {pipe} left: {}",
            left.join(", ")
        ),
    );
    sc.until("yes has filled the pipe and sleeps in pipe_write", |t| {
        t.get(writer).is_some_and(in_pipe_write)
    });
    let t = sc.stays("yes stays alive, asleep in pipe_write: the pipe still has a reader", WINDOW, |t| {
        t.get(writer).is_some_and(in_pipe_write)
    });
    let (p, y) = (t.get(parent).cloned(), t.get(writer).cloned());
    sc.expect(
        p.as_ref().is_some_and(|p| p.ignores(Signal::SIGPIPE)),
        "the parent, a Rust program, ignores SIGPIPE (Rust's runtime does that at startup)",
    );
    sc.expect(
        y.as_ref().is_some_and(|y| !y.ignores(Signal::SIGPIPE) && !y.catches(Signal::SIGPIPE)),
        "yes has SIGPIPE at its default action: Command reset it between fork and exec",
    );
    sc.step("the parent closes the copy it kept: the pipe has no reader left");
    sc.release();
    let ended = sc.note(parent, "writer_ended");
    // Without the close, no SIGPIPE while the parent's copy lives; once it is closed, SIGPIPE.
    sc.claim_verdict(
        "close-for-sigpipe",
        Verdict::when(ended == "killed by SIGPIPE" && t.get(writer).is_some_and(in_pipe_write)),
        &format!(
            "the parent kept a copy: yes {writer} stayed in {} for {} ms after head exited; {ended} when the copy was closed",
            y.as_ref().map(|y| y.wchan.clone()).unwrap_or_default(),
            WINDOW.as_millis()
        ),
    );
    sc.expect_eq(ended.as_str(), "killed by SIGPIPE", "yes dies of SIGPIPE once the last read end is closed");
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), "the parent exits normally");
}

/// The grandchild of `sh -c 'sleep 30 & echo started'`, once it is `sleep`.
fn sleeper(t: &Tree) -> Option<i32> {
    t.lab_procs().find(|p| p.comm == "sleep").map(|p| p.pid)
}

/// The trap behind the post's "until EOF": the shell has printed and exited, but its
/// background `sleep` inherited the write end of the pipe. The parent's read waits for EOF —
/// which comes only when every copy of the write end is closed — long after its child died.
#[test]
fn a_grandchild_holding_the_pipe_keeps_the_reader_waiting_after_the_child_died() {
    let sc = Scenario::start(lab!(), &["grandchild"]);
    let parent = sc.role("parent");
    let child = number(&sc, parent, "child") as i32;
    let pipe = sc.note(parent, "pipe");
    sc.step("sh starts sleep in the background, prints \"started\" and exits; the parent reads to EOF");
    let stuck = |t: &Tree| {
        t.zombie(child) && sleeper(t).is_some_and(|s| t.alive(s)) && t.get(parent).is_some_and(in_pipe_read)
    };
    let t = sc.until(
        "the shell has exited (a zombie: its parent has not waited), sleep lives on, the parent sleeps in pipe_read",
        stuck,
    );
    let sleep = sleeper(&t).unwrap_or(0);
    sc.expect_eq(t.ppid(sleep), Some(sc.sandbox_pid()), "the orphaned sleep was adopted by the sandbox");
    let writers: Vec<i32> =
        sc.holders(&pipe).into_iter().filter(|(_, f)| f.writes()).map(|(p, _)| p).collect();
    sc.expect_eq(writers, vec![sleep], &format!("who holds the write end of {pipe}: sleep alone"));
    sc.stays("the parent still waits for EOF although its child is dead", WINDOW, stuck);
    sc.step("the spec kills sleep: the last write end closes");
    sc.signal(sleep, Signal::SIGKILL);
    sc.expect_eq(
        sc.note(parent, "output").as_str(),
        "started",
        "the parent gets EOF and what the shell printed",
    );
    sc.expect_eq(sc.note(parent, "child_ended").as_str(), "exited with status 0", "then it reaps its child");
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), "the parent exits normally");
    // Until EOF means until every copy of the write end is closed: it came only with sleep's end.
    sc.claim_verdict(
        "communicate-reads",
        Verdict::when(sc.note(parent, "output") == "started"),
        &format!(
            "sh exited, but communicate() went on reading — no EOF — while the orphaned sleep {sleep} held the pipe ({} ms watched); EOF came when sleep was killed",
            WINDOW.as_millis()
        ),
    );
}

/// The fix for the trap: the background process's stdout goes elsewhere (`>/dev/null`), so the
/// shell held the last copy of the write end and the parent sees EOF when it exits — while
/// sleep still runs.
#[test]
fn a_grandchild_without_the_pipe_lets_the_reader_see_eof() {
    let sc = Scenario::start(lab!(), &["grandchild", "--detach"]);
    let parent = sc.role("parent");
    let pipe = sc.note(parent, "pipe");
    sc.expect_eq(sc.note(parent, "output").as_str(), "started", "the parent reads what the shell printed");
    sc.expect_eq(sc.note(parent, "child_ended").as_str(), "exited with status 0", "and reaps the shell");
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), "the parent exits normally");
    let t = sc.until("sleep still runs, adopted by the sandbox", |t| sleeper(t).is_some_and(|s| t.alive(s)));
    let sleep = sleeper(&t).unwrap_or(0);
    sc.expect(sc.holders(&pipe).is_empty(), &format!("nobody holds {pipe} any more"));
    sc.signal(sleep, Signal::SIGKILL);
    sc.until_empty();
    sc.claim_verdict(
        "communicate-reads",
        Verdict::when(sc.note(parent, "output") == "started"),
        "with sleep's stdout on /dev/null, EOF came when sh exited: the output read, then the shell reaped",
    );
}
