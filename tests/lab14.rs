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
    v.parse().unwrap_or_else(|_| {
        sc.fail(&say!(
            "process {pid} notes a number under \"{key}\", not {v:?}",
            "进程 {pid} 在“{key}”下记下的应是一个数，而不是 {v:?}"
        ))
    })
}

/// Who holds `pipe`'s read end now, in words: "the parent 2 (fd 4)" ("父进程 2（fd 4）").
fn readers(sc: &Scenario, pipe: &str, parent: i32) -> Vec<String> {
    sc.holders(pipe)
        .into_iter()
        .filter(|(_, f)| f.reads())
        .map(|(pid, f)| {
            let who = if pid == parent { say!("the parent", "父进程") } else { say!("process", "进程") };
            let fd = f.fd;
            say!("{who} {pid} (fd {fd})", "{who} {pid}（fd {fd}）")
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
        &say!(
            "F_GETPIPE_SZ on the parent's read end: the pipe holds as much as any new pipe here",
            "父进程读端上的 F_GETPIPE_SZ：这个管道的容量与本机任何一个新建的管道相同"
        ),
    );
    if bytes <= cap {
        sc.step(&say!(
            "the writer writes {bytes} bytes into a pipe that holds {cap}; the parent waits",
            "写者向一个容量为 {cap} 字节的管道写入 {bytes} 字节；父进程等待它"
        ));
        sc.expect_eq(
            sc.note(parent, "ended").as_str(),
            "exited with status 0",
            &say!("the writer finishes and exits", "写者写完并退出"),
        );
        sc.expect_eq(
            number(&sc, writer, "wrote"),
            bytes,
            &say!("the writer wrote everything while nobody read", "没有人读的时候，写者就写完了全部数据"),
        );
        sc.expect_eq(
            number(&sc, parent, "read"),
            bytes,
            &say!("the parent then reads it all from the pipe", "父进程随后从管道中读出全部数据"),
        );
        sc.expect_eq(sc.exit_of(parent), Exit::Code(0), &say!("the parent exits normally", "父进程正常退出"));
        return;
    }
    sc.step(&say!(
        "the writer writes {bytes} bytes into a pipe that holds {cap}; the parent waits in waitpid and reads nothing",
        "写者向一个容量为 {cap} 字节的管道写入 {bytes} 字节；父进程在 waitpid 中等待，什么也不读"
    ));
    let mut t = sc.until(
        &say!(
            "the writer sleeps in pipe_write (the pipe is full) while its parent sleeps in waitpid",
            "写者睡在 pipe_write 中（管道已满），而它的父进程睡在 waitpid 中"
        ),
        |t| deadlocked(t, parent, writer),
    );
    let blocked = deadlocked(&t, parent, writer);
    // Certain once seen; watched for a window in the 1 MiB case, to show it.
    let window = if let Size::Mib = size { WINDOW } else { Duration::ZERO };
    if !window.is_zero() {
        t = sc.stays(
            &say!(
                "neither moves: the writer waits for a reader, the only reader waits for the writer to exit",
                "两者都不动：写者在等读者，而唯一的读者在等写者退出"
            ),
            window,
            |t| deadlocked(t, parent, writer),
        );
    }
    sc.expect(
        sc.notes_now("wrote").is_empty(),
        &say!("the writer has not finished its write", "写者还没有完成它的写入"),
    );
    let w = t
        .get(writer)
        .map(|p| say!("state {} in {}", "状态 {}，在 {} 中", p.state, p.wchan))
        .unwrap_or_default();
    sc.step(&say!(
        "the spec kills the writer, as Python's wait(timeout=…) then p.kill() would",
        "规约杀死写者，就像 Python 先 wait(timeout=…) 再 p.kill() 那样"
    ));
    sc.signal(writer, Signal::SIGKILL);
    sc.expect_eq(
        sc.note(parent, "ended").as_str(),
        "killed by SIGKILL",
        &say!("the parent's wait returns at last", "父进程的 wait 终于返回"),
    );
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
    let seen = say!(
        "{bytes} bytes into a pipe of {cap} (F_GETPIPE_SZ): writer {writer} {w}, parent {parent} in do_wait (watched {} ms); killed, it left {read} bytes — nothing lost{}",
        "向容量为 {cap} 字节（F_GETPIPE_SZ）的管道写入 {bytes} 字节：写者 {writer} {w}，父进程 {parent} 在 do_wait 中（观察了 {} 毫秒）；写者被杀死后留下了 {read} 字节——没有丢失任何数据{}",
        window.as_millis(),
        match (&python, &pipe_value) {
            (Some((version, _)), Some(v)) => say!(
                "; Python {version}: subprocess.PIPE is {v}, a request for a new pipe, not an fd",
                "；Python {version}：subprocess.PIPE 是 {v}，它表示“请新建一个管道”，而不是一个 fd"
            ),
            _ => say!(
                "; no python3 here to ask what subprocess.PIPE is",
                "；本机没有 python3，无法查看 subprocess.PIPE 是什么"
            ),
        }
    );
    sc.claim_verdict("pipe-full-blocks", Verdict::of(&parts), &seen);
    // 003: wait() takes no data, so it may block because the pipe is full.
    sc.claim_verdict("wait-may-block", Verdict::when(blocked), &seen);
    sc.expect_eq(
        read,
        cap,
        &say!(
            "what the parent then finds in the pipe: exactly its capacity, what the writer got in before it blocked",
            "父进程随后在管道中读到的字节数：恰好是管道的容量，即写者在阻塞之前写进去的量"
        ),
    );
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), &say!("the parent exits normally", "父进程正常退出"));
}

/// Post 003: `communicate()` reads until EOF, then waits. `wait_with_output` does: the parent
/// gets every byte of 1 MiB and the writer exits normally.
#[test]
fn communicate_reads_while_it_waits() {
    let bytes = Size::Mib.bytes(capacity());
    let sc = Scenario::start(lab!(), &["communicate", "--bytes", &bytes.to_string()]);
    let parent = sc.role("parent");
    let writer = sc.role("writer");
    sc.step(&say!(
        "the writer writes {bytes} bytes; the parent communicates (reads while it waits)",
        "写者写入 {bytes} 字节；父进程调用 communicate（一边等待一边读取）"
    ));
    sc.until(
        &say!(
            "the parent has read everything — or is stuck for good",
            "父进程读完了全部数据——或者永远卡住了"
        ),
        |t| !sc.notes_now("read").is_empty() || deadlocked(t, parent, writer),
    );
    if sc.notes_now("read").is_empty() {
        sc.fail(&say!(
            "communicate() reads while it waits — but the parent sleeps in waitpid (do_wait) while the writer \
             sleeps in pipe_write with the pipe full: neither can ever move (this is wait_then_read)",
            "communicate() 应当一边等待一边读取——但父进程睡在 waitpid（do_wait）中，而写者在管道已满时睡在 \
             pipe_write 中：两者都永远动不了（这是 wait_then_read：先等待，后读取）"
        ));
    }
    let (read, ended) = (number(&sc, parent, "read"), sc.note(parent, "ended"));
    // 003: communicate() reads stdout until EOF, then waits for the child.
    sc.claim_verdict(
        "communicate-reads",
        Verdict::when(read == bytes && ended == "exited with status 0"),
        &say!(
            "wait_with_output (Rust's communicate()) read {read} of {bytes} bytes; the writer {ended}",
            "wait_with_output（Rust 的 communicate()）读到了 {bytes} 字节中的 {read} 字节；写者：{ended}"
        ),
    );
    sc.expect_eq(
        read,
        bytes,
        &say!("the parent read every byte the writer wrote", "父进程读到了写者写出的每一个字节"),
    );
    sc.expect_eq(
        ended.as_str(),
        "exited with status 0",
        &say!("the writer finished and exited", "写者写完并退出了"),
    );
    sc.expect_eq(
        number(&sc, writer, "wrote"),
        bytes,
        &say!("the writer's one write of it all completed", "写者那一次写入全部数据的 write 完成了"),
    );
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), &say!("the parent exits normally", "父进程正常退出"));
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
    sc.expect_eq(
        sc.note(parent, "head_output").as_str(),
        "y",
        &say!("head printed the first line", "head 打印了第一行"),
    );
    sc.expect_eq(
        sc.note(parent, "head_ended").as_str(),
        "exited with status 0",
        &say!("head exited normally", "head 正常退出"),
    );
    sc.step(&say!(
        "head {head} has exited; the parent is held before it waits for the writer {writer}",
        "head {head} 已经退出；父进程被暂停在等待写者 {writer} 之前"
    ));
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
    let closed = say!(
        "head has exited and the parent has closed its copy (p1.stdout.close()): nobody holds the read end \
         of {pipe} any more, so the writer's next write cannot succeed",
        "head 已经退出，父进程也关闭了它的副本（p1.stdout.close()）：再也没有谁持有 {pipe} 的读端，\
         所以写者的下一次写入不可能成功"
    );
    if !left.is_empty() {
        let holders = left.join(&say!(", ", "、"));
        sc.fail(&say!("{closed} — but it is still held by {holders}", "{closed}——但读端仍被{holders}持有"));
    }
    sc.expect(true, &closed);
    sc.until(
        &say!(
            "the writer has ended (a zombie: its parent has not waited yet)",
            "写者已经结束（成了僵尸进程：它的父进程还没有等待它）"
        ),
        |t| t.zombie(writer),
    );
    if let Kind::Printer = kind {
        sc.expect_eq(
            sc.note(writer, "write_error").as_str(),
            "Broken pipe (os error 32)",
            &say!(
                "the Rust writer's write failed with EPIPE: it ignores SIGPIPE",
                "Rust 写者的写入以 EPIPE 失败：它忽略 SIGPIPE"
            ),
        );
        // Its stderr travels on a pipe of its own: wait for it while the parent is still held.
        sc.until(
            &say!(
                "its println! then panicked: \"failed printing to stdout: Broken pipe (os error 32)\" on stderr",
                "它的 println! 随后 panic 了：stderr 上出现“failed printing to stdout: Broken pipe (os error 32)”"
            ),
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
            &say!(
                "yes | head -n 1, the parent's copy closed: yes was {ended} once head exited",
                "yes | head -n 1，父进程的副本已关闭：head 退出后，yes 的结局是 {ended}"
            ),
        );
    }
    let arg = kind.arg();
    sc.expect_eq(
        ended.as_str(),
        kind.ending(),
        &say!("how the {arg} writer ended", "{arg} 写者是怎样结束的"),
    );
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), &say!("the parent exits normally", "父进程正常退出"));
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
        left.len() == 1 && left[0].starts_with(&say!("the parent ", "父进程 ")),
        &say!(
            "the copy the parent kept on purpose is the only read end of {pipe} left: {}",
            "父进程有意保留的那份副本是 {pipe} 仅剩的读端：{}",
            left.join(&say!(", ", "、"))
        ),
    );
    sc.until(
        &say!("yes has filled the pipe and sleeps in pipe_write", "yes 已经写满管道，睡在 pipe_write 中"),
        |t| t.get(writer).is_some_and(in_pipe_write),
    );
    let t = sc.stays(
        &say!(
            "yes stays alive, asleep in pipe_write: the pipe still has a reader",
            "yes 一直活着，睡在 pipe_write 中：管道仍然有一个读者"
        ),
        WINDOW,
        |t| t.get(writer).is_some_and(in_pipe_write),
    );
    let (p, y) = (t.get(parent).cloned(), t.get(writer).cloned());
    sc.expect(
        p.as_ref().is_some_and(|p| p.ignores(Signal::SIGPIPE)),
        &say!(
            "the parent, a Rust program, ignores SIGPIPE (Rust's runtime does that at startup)",
            "父进程是 Rust 程序，它忽略 SIGPIPE（Rust 的运行时在启动时就这样设置）"
        ),
    );
    sc.expect(
        y.as_ref().is_some_and(|y| !y.ignores(Signal::SIGPIPE) && !y.catches(Signal::SIGPIPE)),
        &say!(
            "yes has SIGPIPE at its default action: Command reset it between fork and exec",
            "yes 的 SIGPIPE 是默认动作：Command 在 fork 与 exec 之间把它恢复成了默认"
        ),
    );
    sc.step(&say!(
        "the parent closes the copy it kept: the pipe has no reader left",
        "父进程关闭它保留的副本：管道再也没有读者了"
    ));
    sc.release();
    let ended = sc.note(parent, "writer_ended");
    // Without the close, no SIGPIPE while the parent's copy lives; once it is closed, SIGPIPE.
    sc.claim_verdict(
        "close-for-sigpipe",
        Verdict::when(ended == "killed by SIGPIPE" && t.get(writer).is_some_and(in_pipe_write)),
        &say!(
            "the parent kept a copy: yes {writer} stayed in {} for {} ms after head exited; {ended} when the copy was closed",
            "父进程保留了一份副本：head 退出后，yes {writer} 在 {} 中停留了 {} 毫秒；副本关闭时，它 {ended}",
            y.as_ref().map(|y| y.wchan.clone()).unwrap_or_default(),
            WINDOW.as_millis()
        ),
    );
    sc.expect_eq(
        ended.as_str(),
        "killed by SIGPIPE",
        &say!("yes dies of SIGPIPE once the last read end is closed", "最后一个读端关闭后，yes 死于 SIGPIPE"),
    );
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), &say!("the parent exits normally", "父进程正常退出"));
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
    sc.step(&say!(
        "sh starts sleep in the background, prints \"started\" and exits; the parent reads to EOF",
        "sh 在后台启动 sleep，打印“started”后退出；父进程一直读到 EOF"
    ));
    let stuck = |t: &Tree| {
        t.zombie(child) && sleeper(t).is_some_and(|s| t.alive(s)) && t.get(parent).is_some_and(in_pipe_read)
    };
    let t = sc.until(
        &say!(
            "the shell has exited (a zombie: its parent has not waited), sleep lives on, the parent sleeps in pipe_read",
            "shell 已经退出（成了僵尸进程：它的父进程还没有等待它），sleep 仍然活着，父进程睡在 pipe_read 中"
        ),
        stuck,
    );
    let sleep = sleeper(&t).unwrap_or(0);
    sc.expect_eq(
        t.ppid(sleep),
        Some(sc.sandbox_pid()),
        &say!("the orphaned sleep was adopted by the sandbox", "成了孤儿进程的 sleep 被沙箱收养"),
    );
    let writers: Vec<i32> =
        sc.holders(&pipe).into_iter().filter(|(_, f)| f.writes()).map(|(p, _)| p).collect();
    sc.expect_eq(
        writers,
        vec![sleep],
        &say!("who holds the write end of {pipe}: sleep alone", "谁持有 {pipe} 的写端：只有 sleep"),
    );
    sc.stays(
        &say!(
            "the parent still waits for EOF although its child is dead",
            "尽管子进程已经死了，父进程仍在等待 EOF"
        ),
        WINDOW,
        stuck,
    );
    sc.step(&say!("the spec kills sleep: the last write end closes", "规约杀死 sleep：最后一个写端关闭"));
    sc.signal(sleep, Signal::SIGKILL);
    sc.expect_eq(
        sc.note(parent, "output").as_str(),
        "started",
        &say!("the parent gets EOF and what the shell printed", "父进程得到 EOF，以及 shell 打印的内容"),
    );
    sc.expect_eq(
        sc.note(parent, "child_ended").as_str(),
        "exited with status 0",
        &say!("then it reaps its child", "然后回收它的子进程"),
    );
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), &say!("the parent exits normally", "父进程正常退出"));
    // Until EOF means until every copy of the write end is closed: it came only with sleep's end.
    sc.claim_verdict(
        "communicate-reads",
        Verdict::when(sc.note(parent, "output") == "started"),
        &say!(
            "sh exited, but communicate() went on reading — no EOF — while the orphaned sleep {sleep} held the pipe ({} ms watched); EOF came when sleep was killed",
            "sh 已经退出，但 communicate() 还在继续读取——没有 EOF——因为成了孤儿进程的 sleep {sleep} 持有管道（观察了 {} 毫秒）；sleep 被杀死时 EOF 才到来",
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
    sc.expect_eq(
        sc.note(parent, "output").as_str(),
        "started",
        &say!("the parent reads what the shell printed", "父进程读到 shell 打印的内容"),
    );
    sc.expect_eq(
        sc.note(parent, "child_ended").as_str(),
        "exited with status 0",
        &say!("and reaps the shell", "并回收了 shell"),
    );
    sc.expect_eq(sc.exit_of(parent), Exit::Code(0), &say!("the parent exits normally", "父进程正常退出"));
    let t = sc.until(
        &say!("sleep still runs, adopted by the sandbox", "sleep 仍在运行，已被沙箱收养"),
        |t| sleeper(t).is_some_and(|s| t.alive(s)),
    );
    let sleep = sleeper(&t).unwrap_or(0);
    sc.expect(sc.holders(&pipe).is_empty(), &say!("nobody holds {pipe} any more", "再也没有谁持有 {pipe}"));
    sc.signal(sleep, Signal::SIGKILL);
    sc.until_empty();
    sc.claim_verdict(
        "communicate-reads",
        Verdict::when(sc.note(parent, "output") == "started"),
        &say!(
            "with sleep's stdout on /dev/null, EOF came when sh exited: the output read, then the shell reaped",
            "sleep 的 stdout 接到 /dev/null 上，sh 一退出 EOF 就到来：先读到输出，再回收 shell"
        ),
    );
}
