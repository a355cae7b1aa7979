// right: builds and spawns head's Command in one expression, so the temporary Command (and its copy of the read end) is dropped at the end of the statement
//! Lab 14 — pipes and SIGPIPE: who blocks on a full pipe, and who dies when nobody reads.
//!
//! Post 003, on `subprocess`: a pipe is a small buffer in the kernel; a child that fills it
//! blocks until someone reads. `Popen.wait()` reads nothing, so it "may block because the pipe
//! is full"; `communicate()` reads while it waits. And the post's pipeline `p1 | p2`, with
//! `p1.stdout.close()  # Allow p1 to receive a SIGPIPE if p2 exits.`
//!
//! Rust's `Command` is Python's `Popen`: `Stdio::piped()` is `PIPE`, `wait()` is `wait()`,
//! `wait_with_output()` is `communicate()`. Each subcommand runs one of the post's programs:
//! `wait` and `communicate` (a child writing BYTES bytes into a pipe), `pipeline` (`yes | head
//! -n 1`) and `grandchild` (a shell that leaves a background process holding the pipe).
//!
//! Run the spec: `cargo test -p lab14`. Read `labs/14-pipes/README.md` first.

use clap::{Parser, Subcommand, ValueEnum};
use nix::fcntl::{FcntlArg, fcntl};
use nix::sys::signal::Signal;
use nix::sys::stat::fstat;
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};

/// Pipes between a parent and its children: a full pipe, `communicate()`, and SIGPIPE.
#[derive(Parser)]
struct Args {
    #[command(subcommand)]
    run: Run,
}

#[derive(Subcommand)]
enum Run {
    /// The post's `Popen(stdout=PIPE)` then `p.wait()`, and only then read: a child writes
    /// BYTES bytes into the pipe.
    Wait {
        #[arg(long, default_value_t = 1 << 20)]
        bytes: usize,
    },
    /// The post's `p.communicate()`: read what the child writes while waiting for it.
    Communicate {
        #[arg(long, default_value_t = 1 << 20)]
        bytes: usize,
    },
    /// The post's `p1 | p2` as `yes | head -n 1`: does the writer die of SIGPIPE when head exits?
    Pipeline {
        /// The writer: `yes` (a C program), or `printer`, this program printing y forever (Rust).
        #[arg(long, value_enum, default_value_t = Writer::Yes)]
        writer: Writer,
        /// The parent keeps one more copy of the pipe's read end until head has exited (the post
        /// without `p1.stdout.close()`), then closes it.
        #[arg(long)]
        keep_copy: bool,
    },
    /// `sh -c 'sleep 30 & echo started'`, read to EOF: the shell exits at once, its background
    /// child keeps the pipe open.
    Grandchild {
        /// The background child's stdout goes to /dev/null instead of the pipe.
        #[arg(long)]
        detach: bool,
    },
    /// (internal) The child of `wait` and `communicate`: writes BYTES bytes to stdout.
    #[command(hide = true)]
    Writer { bytes: usize },
    /// (internal) `yes` in Rust: prints y forever.
    #[command(hide = true)]
    Printer,
}

/// Who writes into head's stdin in `pipeline`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Writer {
    /// `yes`, from coreutils.
    Yes,
    /// This program, `printer`: a Rust program.
    Printer,
}

/// This program, to start it again as a writer.
fn me() -> PathBuf {
    std::env::current_exe().expect("this program's path")
}

/// How a child ended, in words.
fn ending(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(sig)) => match Signal::try_from(sig) {
            Ok(s) => format!("killed by {}", s.as_str()),
            Err(_) => format!("killed by signal {sig}"),
        },
        _ => status.to_string(),
    }
}

/// `pipe:[inode]`: the pipe an fd refers to, as `ls -l /proc/PID/fd` names it.
fn pipe_name(fd: impl AsFd) -> String {
    format!("pipe:[{}]", fstat(fd).expect("fstat").st_ino)
}

// ANCHOR: writer
/// The child of `wait` and `communicate`: one `write(2)` of `bytes` bytes to its stdout, a
/// pipe. The kernel copies what fits and puts the writer to sleep (in `pipe_write`) until a
/// reader makes room.
fn writer(bytes: usize) {
    labkit::role("writer");
    let data = vec![b'x'; bytes];
    std::io::stdout().lock().write_all(&data).expect("write to the pipe");
    labkit::note_num("wrote", bytes as i64);
}
// ANCHOR_END: writer

// ANCHOR: spawn
/// The post's `Popen([...], stdout=PIPE)`: a child writing `bytes` bytes into a pipe whose read
/// end the parent holds.
fn spawn_writer(bytes: usize) -> Child {
    let child = Command::new(me())
        .args(["writer", &bytes.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn the writer");
    let out = child.stdout.as_ref().expect("stdout is piped");
    // F_GETPIPE_SZ: how many bytes the pipe holds before a writer has to wait for a reader.
    let capacity = fcntl(out, FcntlArg::F_GETPIPE_SZ).expect("F_GETPIPE_SZ");
    println!("parent: writer {} writes {bytes} bytes into a pipe that holds {capacity}", child.id());
    labkit::note_num("capacity", capacity);
    labkit::note("pipe", &pipe_name(out));
    child
}
// ANCHOR_END: spawn

// ANCHOR: wait
/// The post's `p.wait()`, then `p.stdout.read()`: wait until the child has exited, then read
/// what it wrote. The parent reads nothing while it waits.
fn wait_then_read(mut child: Child) -> (ExitStatus, Vec<u8>) {
    println!("parent: waiting for writer {} to exit, then reading", child.id());
    std::io::stdout().flush().expect("flush stdout");
    let status = child.wait().expect("wait"); // waitpid(child, 0)
    let mut out = Vec::new();
    child.stdout.take().expect("stdout is piped").read_to_end(&mut out).expect("read the pipe");
    (status, out)
}
// ANCHOR_END: wait

// ANCHOR: communicate
/// The post's `p.communicate()`: everything the child wrote, and how it ended.
fn communicate(child: Child) -> (ExitStatus, Vec<u8>) {
    // Read to EOF *while* the child runs, and wait only then: `wait_with_output` reads stdout
    // (and stderr, when piped: both at once) to the end, then calls waitpid.
    let out = child.wait_with_output().expect("wait_with_output");
    (out.status, out.stdout)
}
// ANCHOR_END: communicate

/// What the parent got from a writer.
fn report(status: ExitStatus, out: &[u8]) {
    println!("parent: the writer ended: {}; the parent read {} bytes", ending(status), out.len());
    labkit::note("ended", &ending(status));
    labkit::note_num("read", out.len() as i64);
}

// ANCHOR: printer
/// `yes` in Rust. Rust's runtime set SIGPIPE to "ignore" when this program started (even though
/// `Command` reset it to the default for the exec), so a write to a pipe nobody reads fails
/// with EPIPE instead of killing it — and `println!` turns that error into a panic.
fn printer() {
    labkit::role("printer");
    let lines = b"y\n".repeat(2048);
    let mut out = std::io::stdout().lock();
    while out.write_all(&lines).is_ok() {}
    let err = out.write_all(&lines).expect_err("the pipe is broken");
    labkit::note("write_error", &err.to_string());
    println!("{err}"); // never printed: this panics
}
// ANCHOR_END: printer

// ANCHOR: pipeline
/// The post's `p1 | p2`: `yes | head -n 1`, built by the parent.
fn pipeline(kind: Writer, keep_copy: bool) {
    labkit::role("parent");
    // p1 = Popen(["yes"], stdout=PIPE)
    let mut cmd = match kind {
        Writer::Yes => Command::new("yes"),
        Writer::Printer => {
            let mut c = Command::new(me());
            c.arg("printer").env("RUST_BACKTRACE", "0"); // its panic message, without a backtrace
            c
        }
    };
    let mut writer = cmd.stdout(Stdio::piped()).spawn().expect("spawn the writer");
    let writer_out = writer.stdout.take().expect("stdout is piped");
    labkit::note("pipe", &pipe_name(&writer_out));
    // With --keep-copy: one more copy of the read end, that the parent holds on purpose.
    let kept: Option<OwnedFd> = keep_copy.then(|| writer_out.as_fd().try_clone_to_owned().expect("dup"));

    // p2 = Popen(["head", "-n", "1"], stdin=p1.stdout, stdout=PIPE)
    let head = Command::new("head")
        .args(["-n", "1"])
        .stdin(writer_out)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn head");
    println!("parent: writer {} | head {}", writer.id(), head.id());
    labkit::note_num("writer", writer.id());
    labkit::note_num("head", head.id());


    // output = p2.communicate()[0]
    let out = head.wait_with_output().expect("head");
    let line = String::from_utf8_lossy(&out.stdout).trim_end().to_string();
    println!("parent: head printed {line:?} and ended: {}", ending(out.status));
    labkit::note("head_output", &line);
    labkit::note("head_ended", &ending(out.status));

    labkit::pause("head has exited; the parent has not waited for the writer yet");
    if let Some(fd) = kept {
        println!("parent: closing the copy of the read end it kept");
        drop(fd);
    }
    let status = writer.wait().expect("wait for the writer");
    println!("parent: the writer ended: {}", ending(status));
    labkit::note("writer_ended", &ending(status));
}
// ANCHOR_END: pipeline

// ANCHOR: grandchild
/// A child that leaves a background process behind, read to EOF (`communicate()`).
fn grandchild(detach: bool) {
    labkit::role("parent");
    let script = if detach { "sleep 30 >/dev/null & echo started" } else { "sleep 30 & echo started" };
    let child = Command::new("sh").args(["-c", script]).stdout(Stdio::piped()).spawn().expect("spawn sh");
    println!("parent: child {} is sh -c '{script}'; reading its stdout to EOF", child.id());
    std::io::stdout().flush().expect("flush stdout");
    labkit::note_num("child", child.id());
    labkit::note("pipe", &pipe_name(child.stdout.as_ref().expect("stdout is piped")));
    // EOF comes when *every* copy of the write end is closed — the shell's, and its children's.
    let out = child.wait_with_output().expect("wait_with_output");
    let text = String::from_utf8_lossy(&out.stdout).trim_end().to_string();
    println!("parent: read {text:?}; the child ended: {}", ending(out.status));
    labkit::note("output", &text);
    labkit::note("child_ended", &ending(out.status));
}
// ANCHOR_END: grandchild

fn main() {
    let args: Args = labkit::args();
    match args.run {
        Run::Writer { bytes } => writer(bytes),
        Run::Printer => printer(),
        Run::Wait { bytes } => {
            labkit::role("parent");
            let (status, out) = wait_then_read(spawn_writer(bytes));
            report(status, &out);
        }
        Run::Communicate { bytes } => {
            labkit::role("parent");
            let (status, out) = communicate(spawn_writer(bytes));
            report(status, &out);
        }
        Run::Pipeline { writer, keep_copy } => pipeline(writer, keep_copy),
        Run::Grandchild { detach } => grandchild(detach),
    }
}
