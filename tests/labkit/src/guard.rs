//! The allocation guard: while a pause holds stdout ([`crate::hold`]), any allocation on the
//! paused thread can only come from a signal handler running on top of the pause — and
//! malloc is not async-signal-safe (a handler that interrupts malloc can deadlock on its
//! lock). The guard aborts the process at once with a message that says so, every time,
//! instead of by luck.
//!
//! It is the global allocator of every program that links labkit: the system allocator plus
//! one relaxed load per allocation. Outside a held pause it does nothing.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The thread (pthread_self) waiting in a held pause, or 0.
static HOLDER: AtomicUsize = AtomicUsize::new(0);

/// Marks this thread as (not) waiting in a held pause. Async-signal-safe.
pub(crate) fn hold(on: bool) {
    // SAFETY: pthread_self cannot fail.
    let me = if on { (unsafe { libc::pthread_self() }) as usize } else { 0 };
    HOLDER.store(me, Ordering::SeqCst);
}

/// What the guard writes on stderr before it aborts (the harness looks for it).
pub const MESSAGE: &str = "labkit: a signal handler allocated memory (format!, String, Vec, Box …) while the \
                           program was paused: malloc is not async-signal-safe — aborting";

fn check() {
    let h = HOLDER.load(Ordering::Relaxed);
    // SAFETY: pthread_self cannot fail.
    if h == 0 || h != (unsafe { libc::pthread_self() }) as usize {
        return;
    }
    // A panic in the handler (println! finding stdout's buffer borrowed) allocates on its way:
    // let it go on; it cannot leave the handler and aborts with its own message.
    if std::thread::panicking() {
        return;
    }
    // SAFETY: write(2) and abort(3) are async-signal-safe.
    unsafe {
        let line = [MESSAGE.as_bytes(), b"\n"];
        for part in line {
            libc::write(2, part.as_ptr().cast(), part.len());
        }
        libc::abort();
    }
}

struct Guarded;

// SAFETY: forwards to the system allocator; `check` never returns a pointer of its own.
unsafe impl GlobalAlloc for Guarded {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        check();
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        check();
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        check();
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GUARDED: Guarded = Guarded;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_a_held_pause_allocation_is_untouched() {
        hold(false);
        let v: Vec<u8> = vec![1; 4096];
        assert_eq!(v.len(), 4096);
    }

    #[test]
    fn another_thread_may_allocate_while_one_holds() {
        // A holder that is not this thread (no thread has the id 1): our allocations go through.
        HOLDER.store(1, Ordering::SeqCst);
        let s = format!("{}", 42);
        HOLDER.store(0, Ordering::SeqCst);
        assert_eq!(s, "42");
    }
}
