//! Handler hygiene, made certain: a pause that waits *inside a write to stdout*.
//!
//! A signal handler that calls `println!` fails only if the signal interrupts the main code
//! while stdout's buffer is borrowed, i.e. in the middle of a `println!` — by luck. When the
//! spec asks for it (`PROCLAB_HOLD_STDOUT`, set by the harness), [`crate::pause`] waits for its
//! release in exactly that place, so a handler that runs during the pause fails every time:
//!
//! - `println!` in the handler finds stdout's `RefCell` already borrowed, panics, and the
//!   panic cannot leave the handler: the process aborts (SIGABRT), "already borrowed";
//! - any allocation in the handler (`format!`, `String`, `Vec`, `Box`) aborts at once with
//!   labkit's message ([`crate::guard`]): malloc is not async-signal-safe.
//!
//! How: with stdout locked and flushed, fd 1 is pointed for one `write_all` at a pipe nobody
//! reads. The write fails with EPIPE and the kernel sends SIGPIPE, which is delivered as the
//! system call returns — still inside the borrow. Its handler (ours, for this one write) puts
//! fd 1 and SIGPIPE's disposition back, announces the pause and waits for the release. While
//! it waits, the process looks like any paused one: same masks, asleep in the FIFO's open.
//! The handlers the spec triggers now run on top of it; a correct one (write(2), atomics,
//! `labkit::note`, kill, waitpid) writes to the real stdout and returns.

use std::cell::UnsafeCell;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

/// State handed to the SIGPIPE handler (one pause at a time, on one thread).
struct Slot<T>(UnsafeCell<T>);
// SAFETY: written before the write that raises SIGPIPE, read only by its handler on the same
// thread; pause() is not reentrant.
unsafe impl<T> Sync for Slot<T> {}

static SAVED_STDOUT: AtomicI32 = AtomicI32::new(-1);
static HELD: AtomicBool = AtomicBool::new(false);
static OLD_PIPE: Slot<MaybeUninit<libc::sigaction>> = Slot(UnsafeCell::new(MaybeUninit::zeroed()));
/// The FIFO's path and the pause's label, NUL-terminated, for the handler (no allocation).
static FIFO: Slot<[u8; 1024]> = Slot(UnsafeCell::new([0; 1024]));
static LABEL: Slot<[u8; 256]> = Slot(UnsafeCell::new([0; 256]));

/// Whether the spec asked that pauses hold stdout (decided by the environment, read once).
pub fn wanted() -> bool {
    // SAFETY: getenv reads `environ`; no allocation.
    unsafe { !libc::getenv(c"PROCLAB_HOLD_STDOUT".as_ptr()).is_null() }
}

fn copy_cstr(dst: &mut [u8], src: &[u8]) -> bool {
    if src.len() >= dst.len() || src.contains(&0) {
        return false;
    }
    dst[..src.len()].copy_from_slice(src);
    dst[src.len()] = 0;
    true
}

fn cstr_len(buf: &[u8]) -> usize {
    buf.iter().position(|&b| b == 0).unwrap_or(buf.len())
}

/// Waits on the FIFO for the spec's release byte; an EOF (a stale opener) means "open again".
/// Only open/read/close: async-signal-safe.
pub(crate) fn wait_release_raw(path: *const libc::c_char) {
    loop {
        // SAFETY: a NUL-terminated path.
        let fd = unsafe { libc::open(path, libc::O_RDONLY | libc::O_CLOEXEC) };
        if fd < 0 {
            // SAFETY: reading errno.
            if unsafe { *libc::__errno_location() } == libc::EINTR {
                continue;
            }
            return;
        }
        loop {
            let mut b = 0u8;
            // SAFETY: one byte into `b`.
            let n = unsafe { libc::read(fd, (&raw mut b).cast(), 1) };
            if n == 1 {
                // SAFETY: our fd.
                unsafe { libc::close(fd) };
                return;
            }
            // SAFETY: reading errno.
            if n < 0 && unsafe { *libc::__errno_location() } == libc::EINTR {
                continue;
            }
            // SAFETY: our fd.
            unsafe { libc::close(fd) };
            if n == 0 {
                break; // EOF: no release, open again
            }
            return;
        }
    }
}

extern "C" fn on_sigpipe(_: libc::c_int) {
    // SAFETY: async-signal-safe calls only; the slots were filled before the write.
    unsafe {
        let saved = SAVED_STDOUT.swap(-1, Ordering::SeqCst);
        if saved >= 0 {
            libc::dup2(saved, 1);
            libc::close(saved);
        }
        libc::sigaction(libc::SIGPIPE, (*OLD_PIPE.0.get()).as_ptr(), std::ptr::null_mut());
        HELD.store(true, Ordering::SeqCst);
        let label = &*LABEL.0.get();
        // The guard first, then the announcement: the spec signals as soon as it reads the
        // pause, and a handler that allocates must meet the guard every time (record itself
        // does not allocate).
        crate::guard::hold(true);
        crate::record(b"pause", &label[..cstr_len(label)], None, None);
        wait_release_raw((*FIFO.0.get()).as_ptr().cast());
        crate::guard::hold(false);
    }
}

/// Announces the pause and waits for the release inside a write to stdout (see the module).
/// Returns false, having done nothing, when it cannot (then the caller pauses as usual).
pub fn pause_holding_stdout(fifo: &std::path::Path, label: &str) -> bool {
    use std::io::Write;
    use std::os::unix::ffi::OsStrExt;
    // A blocked SIGPIPE would stay pending past the write: don't.
    // SAFETY: sigprocmask with a valid out-pointer.
    let blocked = unsafe {
        let mut cur = MaybeUninit::<libc::sigset_t>::zeroed();
        libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), cur.as_mut_ptr());
        libc::sigismember(cur.as_ptr(), libc::SIGPIPE) == 1
    };
    // SAFETY: this thread alone touches the slots (pause is not reentrant).
    let filled = unsafe {
        copy_cstr(&mut *FIFO.0.get(), fifo.as_os_str().as_bytes())
            && copy_cstr(&mut *LABEL.0.get(), label.as_bytes())
    };
    if blocked || !filled {
        return false;
    }
    let mut out = std::io::stdout().lock();
    let _ = out.flush();
    // SAFETY: plain fd and signal calls; fd 1 is restored by the handler (or below).
    unsafe {
        let saved = libc::fcntl(1, libc::F_DUPFD_CLOEXEC, 10);
        let mut p = [-1i32; 2];
        if saved < 0 || libc::pipe2(p.as_mut_ptr(), libc::O_CLOEXEC) != 0 {
            if saved >= 0 {
                libc::close(saved);
            }
            return false;
        }
        libc::close(p[0]);
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_sigpipe as extern "C" fn(libc::c_int) as usize;
        // SA_NODEFER: SIGPIPE is not added to the mask while we wait (the masks look as usual).
        sa.sa_flags = libc::SA_NODEFER;
        libc::sigemptyset(&mut sa.sa_mask);
        if libc::sigaction(libc::SIGPIPE, &sa, (*OLD_PIPE.0.get()).as_mut_ptr()) != 0 {
            libc::close(p[1]);
            libc::close(saved);
            return false;
        }
        SAVED_STDOUT.store(saved, Ordering::SeqCst);
        HELD.store(false, Ordering::SeqCst);
        libc::dup2(p[1], 1);
        libc::close(p[1]);
    }
    // EPIPE, and SIGPIPE delivered on the way out of write(2), inside stdout's borrow.
    let _ = out.write_all(b"\n");
    // SAFETY: as above. If the handler did not run, put things back ourselves.
    unsafe {
        let saved = SAVED_STDOUT.swap(-1, Ordering::SeqCst);
        if saved >= 0 {
            libc::dup2(saved, 1);
            libc::close(saved);
            libc::sigaction(libc::SIGPIPE, (*OLD_PIPE.0.get()).as_ptr(), std::ptr::null_mut());
        }
    }
    HELD.load(Ordering::SeqCst)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_copied_with_their_nul_or_refused() {
        let mut buf = [0xffu8; 8];
        assert!(copy_cstr(&mut buf, b"abc"));
        assert_eq!(&buf[..4], b"abc\0");
        assert_eq!(cstr_len(&buf), 3);
        assert!(!copy_cstr(&mut buf, b"12345678"), "no room for the NUL");
        assert!(!copy_cstr(&mut buf, b"a\0b"), "an inner NUL");
    }
}
