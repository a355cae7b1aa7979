//! The labs' side of the proclab harness. **Plumbing, never the lesson.**
//!
//! A lab calls [`role`] so the spec knows which pid is the parent and which the child,
//! [`note`] to report a value it saw (a variable, a pid, a count), and [`pause`] where the
//! post's program sleeps for a long time so that a human can look at it with `ps`.
//!
//! Under the harness these go to a private pipe (fd named by `PROCLAB_TRACE_FD`) that the
//! lab's own `println!`s cannot disturb. Run by hand, they are silent (set `PROCLAB_TRACE=1`
//! to see them on stderr) and [`pause`] waits for Enter on the terminal.
//!
//! [`role`], [`note`] and [`note_num`] are **async-signal-safe**: no allocation, no lock,
//! one `write(2)`. You may call them from a signal handler.

use std::sync::atomic::{AtomicI32, Ordering};

pub mod guard;
mod hold;

const UNKNOWN: i32 = -2;
const NONE: i32 = -1;
static TRACE_FD: AtomicI32 = AtomicI32::new(UNKNOWN);
/// fd 2 stands for "print to stderr, readable" (PROCLAB_TRACE=1, no harness).
const STDERR: i32 = 2;

/// Reads an fd number from the environment without allocating (getenv only reads `environ`).
fn env_fd(name: &core::ffi::CStr) -> i32 {
    // SAFETY: getenv returns null or a pointer to a NUL-terminated string in `environ`.
    let ptr = unsafe { libc::getenv(name.as_ptr()) };
    if ptr.is_null() {
        return NONE;
    }
    // SAFETY: non-null, NUL-terminated.
    let bytes = unsafe { core::ffi::CStr::from_ptr(ptr) }.to_bytes();
    let mut fd: i32 = 0;
    if bytes.is_empty() || bytes.len() > 6 {
        return NONE;
    }
    for &b in bytes {
        if !b.is_ascii_digit() {
            return NONE;
        }
        fd = fd * 10 + i32::from(b - b'0');
    }
    fd
}

/// Where records go: the harness's pipe, stderr (PROCLAB_TRACE=1 by hand), or nowhere.
/// Decided once, without allocating, so the first call may come from a signal handler.
fn trace_fd() -> i32 {
    let fd = TRACE_FD.load(Ordering::Relaxed);
    if fd != UNKNOWN {
        return fd;
    }
    let mut fd = env_fd(c"PROCLAB_TRACE_FD");
    // SAFETY: as in env_fd.
    if fd == NONE && unsafe { !libc::getenv(c"PROCLAB_TRACE".as_ptr()).is_null() } {
        fd = STDERR;
    }
    TRACE_FD.store(fd, Ordering::Relaxed);
    fd
}

/// A line assembled on the stack: no allocation, so usable in a signal handler.
struct Line {
    buf: [u8; 512],
    len: usize,
}

impl Line {
    fn new() -> Self {
        Line { buf: [0; 512], len: 0 }
    }
    fn push(&mut self, s: &[u8]) -> &mut Self {
        for &b in s {
            // Keep one line one record: newlines inside a value become spaces.
            let b = if b == b'\n' || b == b'\r' { b' ' } else { b };
            if self.len < self.buf.len() - 1 {
                self.buf[self.len] = b;
                self.len += 1;
            }
        }
        self
    }
    fn num(&mut self, n: i64) -> &mut Self {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        let mut v = n.unsigned_abs();
        loop {
            i -= 1;
            digits[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        if n < 0 {
            self.push(b"-");
        }
        self.push(&digits[i..])
    }
    fn send(&mut self, fd: i32) {
        self.buf[self.len] = b'\n';
        let mut off = 0;
        let total = self.len + 1;
        while off < total {
            // SAFETY: writing bytes we own to an fd; write(2) is async-signal-safe.
            let n = unsafe { libc::write(fd, self.buf[off..].as_ptr().cast(), total - off) };
            if n < 0 {
                // SAFETY: reading errno is async-signal-safe.
                if unsafe { *libc::__errno_location() } == libc::EINTR {
                    continue;
                }
                return;
            }
            off += n as usize;
        }
    }
}

fn monotonic_ns() -> i64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime is async-signal-safe and writes into `ts`.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec * 1_000_000_000 + ts.tv_nsec
}

pub(crate) fn record(kind: &[u8], key: &[u8], value: Option<&[u8]>, num: Option<i64>) {
    let fd = trace_fd();
    if fd < 0 {
        return;
    }
    // SAFETY: getpid is async-signal-safe and cannot fail.
    let pid = unsafe { libc::getpid() };
    let mut line = Line::new();
    if fd == STDERR {
        line.push(b"[trace ").num(pid.into()).push(b"] ");
    } else {
        line.num(pid.into()).push(b" ").num(monotonic_ns()).push(b" ");
    }
    line.push(kind).push(b" ").push(key);
    if let Some(v) = value {
        line.push(b" ").push(v);
    }
    if let Some(n) = num {
        line.push(b" ").num(n);
    }
    line.send(fd);
}

/// Tells the spec which part this process plays ("parent", "child", "worker 2" …).
/// Async-signal-safe.
pub fn role(name: &str) {
    record(b"role", name.as_bytes(), None, None);
}

/// Reports a value this process saw, e.g. `note("var", "10")`. The key is one word.
/// Async-signal-safe.
pub fn note(key: &str, value: &str) {
    record(b"note", key.as_bytes(), Some(value.as_bytes()), None);
}

/// Reports a number this process saw, e.g. `note_num("ppid", getppid())`.
/// Async-signal-safe.
pub fn note_num(key: &str, value: impl Into<i64>) {
    record(b"note", key.as_bytes(), None, Some(value.into()));
}

/// Stands for the post's long `sleep()`: the program stops here so its process tree can be
/// looked at. Under the harness it waits until the spec releases *this* process (through a FIFO
/// named after its pid in `PROCLAB_GO_DIR`). Run by hand it asks for Enter on the terminal (and
/// goes on at once when there is no terminal).
///
/// When the spec asks (`PROCLAB_HOLD_STDOUT`), the wait happens inside a write to stdout: a
/// signal handler that runs meanwhile and prints or allocates aborts the process every time
/// (see `hold.rs`). Correct handlers notice nothing.
///
/// Not async-signal-safe: call it from ordinary code only.
pub fn pause(label: &str) {
    use std::io::Read;
    if let Some(dir) = std::env::var_os("PROCLAB_GO_DIR") {
        let fifo = std::path::Path::new(&dir).join(std::process::id().to_string());
        if let Ok(path) = std::ffi::CString::new(std::os::unix::ffi::OsStrExt::as_bytes(fifo.as_os_str())) {
            // SAFETY: a NUL-terminated path; EEXIST (an earlier pause) is fine.
            unsafe { libc::mkfifo(path.as_ptr(), 0o600) };
        }
        // The spec may ask that the pause wait inside a write to stdout, so that a signal
        // handler that prints or allocates fails every time (see hold.rs).
        if hold::wanted() && hold::pause_holding_stdout(&fifo, label) {
            return;
        }
        record(b"pause", label.as_bytes(), None, None);
        // Blocks until the spec opens the FIFO and writes the release byte. An open that
        // returns because the spec's previous release still held the FIFO reads EOF instead:
        // that is no release, so open it again.
        loop {
            match std::fs::File::open(&fifo) {
                Ok(mut f) => loop {
                    let mut byte = [0u8; 1];
                    match f.read(&mut byte) {
                        Ok(1) => return,
                        Ok(_) => break,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(_) => return,
                    }
                },
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => return,
            }
        }
    }
    record(b"pause", label.as_bytes(), None, None);
    use std::io::{BufRead, Write};
    if let Ok(tty) = std::fs::File::open("/dev/tty") {
        let pid = std::process::id();
        let _ = write!(
            std::io::stderr(),
            "[{pid}] paused: {label} (look with `ps -o pid,ppid,pgid,stat,cmd --forest`; Enter to go on) "
        );
        let mut line = String::new();
        let _ = std::io::BufReader::new(tty).read_line(&mut line);
    }
}

/// Parses the lab's command line with clap. `--help` prints help and exits 0; any other
/// mistake prints one clear line on stderr and exits with status 2.
pub fn args<T: clap::Parser>() -> T {
    match T::try_parse() {
        Ok(t) => t,
        Err(e) => match e.kind() {
            clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => e.exit(),
            _ => {
                let name = std::env::args()
                    .next()
                    .and_then(|a| a.rsplit('/').next().map(str::to_owned))
                    .unwrap_or_else(|| "lab".into());
                let msg = e.to_string();
                let first = msg.lines().next().unwrap_or("bad arguments");
                let first = first.trim_start_matches("error: ");
                eprintln!("{name}: {first} (try --help)");
                std::process::exit(2);
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_format_like_display() {
        for n in [0i64, 7, -7, 1234567890123, i64::MIN, i64::MAX] {
            let mut l = Line::new();
            l.num(n);
            assert_eq!(std::str::from_utf8(&l.buf[..l.len]).unwrap(), n.to_string());
        }
    }

    #[test]
    fn newlines_inside_values_cannot_split_a_record() {
        let mut l = Line::new();
        l.push(b"a\nb\rc");
        assert_eq!(&l.buf[..l.len], b"a b c");
    }

    #[test]
    fn an_overlong_value_is_cut_not_overflowed() {
        let mut l = Line::new();
        l.push(&[b'x'; 2000]);
        assert_eq!(l.len, 511);
    }
}
