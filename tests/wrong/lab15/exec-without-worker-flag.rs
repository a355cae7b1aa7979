// wrong: spawns this program with Command but without --worker: the new process runs main again, a second parent with a logger of its own
// rejected-by: spawn_starts_a_fresh_program_whatever_the_threads_hold
//! Lab 15 — fork in a multithreaded process: the child gets one thread, and every lock.
//!
//! Post 003 lists multiprocessing's start methods: *fork* copies the parent, "including its
//! memory state and resources"; *spawn* starts a fresh interpreter; *forkserver* has a server
//! process fork the children, "more safely". What the post leaves out is why: `fork()` copies
//! every byte of memory — locks included — but only the thread that called it. A lock that
//! another thread held at that instant is held in the child forever: its owner was not copied.
//!
//! The parent has a logger thread that writes records into `LOG` under a mutex. It starts one
//! worker the way `--start` says while the logger is in the middle of a record (`--logger
//! holding`, the default) or between two (`--logger idle`); the worker writes one record too.
//!
//! Run the spec: `cargo test -p lab15`. Read `labs/15-fork-threads/README.md` first.

use clap::{Parser, ValueEnum};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork, getpid};
use std::io::{BufRead, BufReader, Write};
use std::os::fd::OwnedFd;
use std::sync::mpsc::{Sender, channel};
use std::sync::{Mutex, PoisonError};
use std::thread::JoinHandle;

/// Start a worker while another thread holds a lock: with fork, spawn or a fork server.
#[derive(Parser)]
struct Args {
    /// How the worker is started: Python's start methods.
    #[arg(long, value_enum, default_value_t = Start::Fork)]
    start: Start,
    /// What the logger thread is doing when the worker starts.
    #[arg(long, value_enum, default_value_t = Logger::Holding)]
    logger: Logger,
    /// (internal) Run as the worker: what `spawn` execs.
    #[arg(long, hide = true)]
    worker: bool,
}

/// Python's start methods.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Start {
    /// `fork()` this process, threads and all (only the calling thread is copied).
    Fork,
    /// A fresh program: fork + exec of this program with `--worker`.
    Spawn,
    /// Ask a server process, forked before any thread started, to fork the worker.
    Forkserver,
}

/// What the logger thread is doing when the worker starts.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Logger {
    /// In the middle of a record: it holds the lock.
    Holding,
    /// Between two records: the lock is free.
    Idle,
}

// ANCHOR: log
/// The program's log, shared by its threads: one lock around it.
static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Writes one record: takes the lock, appends, lets go. Returns how many records the log holds.
fn log(record: String) -> usize {
    let mut log = LOG.lock().unwrap_or_else(PoisonError::into_inner);
    log.push(record);
    log.len()
}
// ANCHOR_END: log

// ANCHOR: logger
/// Starts the logger thread and returns once it is where `logger` says: in the middle of a
/// record (holding the lock) or between two (the lock free). It stays there until told to go on.
fn start_logger(logger: Logger) -> (JoinHandle<()>, Sender<()>) {
    let (there, is_there) = channel();
    let (go_on, wait) = channel::<()>();
    let thread = std::thread::Builder::new()
        .name("logger".into())
        .spawn(move || {
            let mut log = LOG.lock().unwrap_or_else(PoisonError::into_inner);
            log.push("logger: the first half of a record".into());
            if logger == Logger::Idle {
                drop(log); // the record is done; the lock is free
                there.send(()).expect("tell the main thread");
                let _ = wait.recv();
                return;
            }
            there.send(()).expect("tell the main thread");
            let _ = wait.recv(); // still inside the record, the lock held
            log.push("logger: the second half".into());
        })
        .expect("start the logger thread");
    is_there.recv().expect("the logger thread is there");
    (thread, go_on)
}
// ANCHOR_END: logger

// ANCHOR: worker
/// The worker's whole life: it writes one record into the log, like any code that logs, and
/// exits. Never returns.
fn worker() -> ! {
    labkit::role("worker");
    let records = log(format!("worker {}: hello", getpid()));
    println!("worker {}: wrote a record; the log holds {records}", getpid());
    labkit::note_num("records", records as i64);
    std::process::exit(0)
}
// ANCHOR_END: worker

/// A worker, and who waits for it.
enum Worker {
    /// A child of this process (from `fork()`, or `Command`): this process waits for it.
    Child(Pid),
    /// A child of the fork server, which waits for it and reports.
    Served(Pid),
}

// ANCHOR: fork
/// Python's *fork*: the worker is a copy of this process — of its memory, and of the one thread
/// that calls `fork()`.
fn fork_worker() -> Worker {
    std::io::stdout().flush().expect("flush stdout");
    // SAFETY: the child runs `worker()` and exits; what it may safely do there is the lesson.
    match unsafe { fork() }.expect("fork") {
        ForkResult::Child => worker(),
        ForkResult::Parent { child } => Worker::Child(child),
    }
}
// ANCHOR_END: fork

// ANCHOR: spawn
/// Python's *spawn*: a fresh program, not a copy of this one.
fn spawn_worker() -> Worker {
    let me = std::env::current_exe().expect("this program's path");
    #[allow(clippy::zombie_processes)] // waited for below, with waitpid on its pid
    let child = std::process::Command::new(me).spawn().expect("spawn the worker");
    Worker::Child(Pid::from_raw(child.id() as i32))
}
// ANCHOR_END: spawn

// ANCHOR: forkserver
/// Python's *forkserver*: a process forked while the program still had one thread. It forks a
/// worker whenever asked, waits for it, and reports how it ended.
struct ForkServer {
    pid: Pid,
    requests: std::fs::File,
    replies: BufReader<std::fs::File>,
}

impl ForkServer {
    fn start() -> ForkServer {
        let (req_r, req_w) = nix::unistd::pipe().expect("pipe");
        let (rep_r, rep_w) = nix::unistd::pipe().expect("pipe");
        std::io::stdout().flush().expect("flush stdout");
        // SAFETY: the child runs `serve()` and exits.
        match unsafe { fork() }.expect("fork") {
            ForkResult::Child => {
                drop((req_w, rep_r));
                serve(req_r, rep_w)
            }
            ForkResult::Parent { child } => {
                println!("parent: fork server {child} started");
                ForkServer { pid: child, requests: req_w.into(), replies: BufReader::new(rep_r.into()) }
            }
        }
    }

    /// Asks the server for a worker; returns its pid.
    fn fork_worker(&mut self) -> Worker {
        self.requests.write_all(b"w").expect("ask the fork server");
        Worker::Served(self.reply().parse().map(Pid::from_raw).expect("a pid from the fork server"))
    }

    /// How the server's last worker ended, once the server has waited for it.
    fn ending(&mut self) -> String {
        self.reply()
    }

    fn reply(&mut self) -> String {
        let mut line = String::new();
        self.replies.read_line(&mut line).expect("read the fork server's reply");
        line.trim_end().to_string()
    }

    /// Tells the server to exit (EOF on its requests), and waits for it.
    fn stop(self) {
        let ForkServer { pid, requests, .. } = self;
        drop(requests);
        waitpid(pid, None).expect("wait for the fork server");
    }
}

/// The fork server's loop: one byte in, one worker out. Never returns.
fn serve(requests: OwnedFd, replies: OwnedFd) -> ! {
    labkit::role("forkserver");
    let mut requests = std::fs::File::from(requests);
    let mut replies = std::fs::File::from(replies);
    let mut byte = [0u8; 1];
    while std::io::Read::read(&mut requests, &mut byte).expect("read a request") == 1 {
        // SAFETY: the child runs `worker()` and exits.
        let child = match unsafe { fork() }.expect("fork") {
            ForkResult::Child => worker(),
            ForkResult::Parent { child } => child,
        };
        writeln!(replies, "{child}").expect("reply");
        let status = waitpid(child, None).expect("wait for the worker");
        writeln!(replies, "{}", ending(status)).expect("reply");
    }
    std::process::exit(0)
}
// ANCHOR_END: forkserver

/// How a worker ended, in words.
fn ending(status: WaitStatus) -> String {
    match status {
        WaitStatus::Exited(_, code) => format!("exited with status {code}"),
        WaitStatus::Signaled(_, sig, _) => format!("killed by {}", sig.as_str()),
        other => format!("{other:?}"),
    }
}

fn main() {
    let args: Args = labkit::args();
    if args.worker {
        worker(); // the program `spawn` started: fresh memory, one thread
    }
    labkit::role("parent");
    // ANCHOR: main
    // Python's forkserver: the server is forked now, while this process has one thread and
    // holds no lock; it forks every worker later.
    let mut server = (args.start == Start::Forkserver).then(ForkServer::start);
    let (logger, go_on) = start_logger(args.logger);
    // ANCHOR_END: main
    println!(
        "parent {}: the logger thread is {}",
        getpid(),
        match args.logger {
            Logger::Holding => "in the middle of a record (it holds the lock)",
            Logger::Idle => "between two records (the lock is free)",
        }
    );
    labkit::pause("the logger thread is where it should be; the parent starts a worker");

    // ANCHOR: start
    let worker = match args.start {
        Start::Fork => fork_worker(),
        Start::Spawn => spawn_worker(),
        Start::Forkserver => server.as_mut().expect("the fork server").fork_worker(),
    };
    // ANCHOR_END: start
    go_on.send(()).expect("let the logger go on");
    logger.join().expect("the logger thread");

    // ANCHOR: wait
    let (pid, ended) = match worker {
        Worker::Child(pid) => {
            println!("parent: worker {pid} started; waiting for it");
            std::io::stdout().flush().expect("flush stdout");
            (pid, ending(waitpid(pid, None).expect("wait for the worker")))
        }
        Worker::Served(pid) => {
            println!("parent: worker {pid} forked by the fork server; waiting for its report");
            std::io::stdout().flush().expect("flush stdout");
            (pid, server.as_mut().expect("the fork server").ending())
        }
    };
    // ANCHOR_END: wait
    println!("parent: worker {pid} ended: {ended}");
    labkit::note("worker_ended", &ended);
    if let Some(server) = server {
        server.stop();
    }
}
