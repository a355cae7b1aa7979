// wrong: the child's branch does not end with exit: the child falls through into the parent's code after the match and reports var and the counter a second time, as a second parent
// rejected-by: a_variable_is_copied_not_shared
//! Lab 01 — fork: one process becomes two.
//!
//! Post 002 forks and lets the child change `var` to 9 while the parent keeps 10. Post 003
//! says the forked child "shares the same memory state" as its parent. Which is it? This
//! program answers with a private variable, a counter in MAP_SHARED memory, a region whose
//! pages the child first shares and then copies (`--touch-mib`), and a line that was still in
//! stdout's buffer when `fork()` duplicated the process.

use clap::Parser;
use nix::sys::mman::{MapFlags, ProtFlags, mmap_anonymous};
use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, fork, getpid, getppid};
use std::io::Write;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU32, Ordering};

/// Fork once; compare a private variable with a MAP_SHARED counter.
#[derive(Parser)]
struct Args {
    /// Leave the "before the fork" line in stdout's buffer when forking (to see it twice).
    #[arg(long)]
    no_flush: bool,
    /// Fill this many MiB before forking; the child pauses before and after writing one byte
    /// in each of their pages (watch them go from shared to private in /proc/PID/smaps_rollup).
    #[arg(long, value_name = "MIB")]
    touch_mib: Option<usize>,
}

// ANCHOR: shared_counter
/// A counter in memory that both processes map: an anonymous MAP_SHARED page.
fn shared_counter() -> &'static AtomicU32 {
    let len = NonZeroUsize::new(std::mem::size_of::<AtomicU32>()).unwrap();
    // SAFETY: a fresh anonymous mapping, zero-filled, never unmapped: valid for 'static.
    let page = unsafe {
        mmap_anonymous(None, len, ProtFlags::PROT_READ | ProtFlags::PROT_WRITE, MapFlags::MAP_SHARED)
    }
    .expect("mmap");
    // SAFETY: the page is zeroed, aligned, and an AtomicU32 of 0 is all zero bits.
    unsafe { page.cast::<AtomicU32>().as_ref() }
}
// ANCHOR_END: shared_counter

fn main() {
    let args: Args = labkit::args();
    labkit::role("parent");

    // ANCHOR: flush
    // `print!` without a newline: the text waits in stdout's buffer.
    print!("Before the fork my PID is {}. ", getpid());
    if !args.no_flush {
        std::io::stdout().flush().expect("flush");
    }
    // ANCHOR_END: flush

    // ANCHOR: fork
    let mut var = 10;
    let counter = shared_counter();
    // ANCHOR: region
    // Private memory, every page written (resident and dirty) before the fork.
    let mut region = args.touch_mib.map(|mib| vec![1u8; mib << 20]);
    // ANCHOR_END: region

    // SAFETY: this program has one thread, so the child may do anything after fork.
    match unsafe { fork() }.expect("fork") {
        ForkResult::Child => {
            labkit::role("child");
            println!("I am a child: pid {}, parent {}", getpid(), getppid());
            labkit::note_num("ppid", getppid().as_raw());
            // ANCHOR: pages
            if let Some(region) = region.as_mut() {
                // Look now: every page of the region is mapped by both processes.
                labkit::pause("forked: the child has written nothing yet");
                for page in region.chunks_mut(4096) {
                    page[0] = 2; // the kernel copies the page for the child: copy-on-write
                }
                labkit::pause("the child wrote one byte in every page of the region");
            }
            // ANCHOR_END: pages
            var = 9;
            counter.fetch_add(1, Ordering::SeqCst);
            labkit::note_num("var", var);
        }
        ForkResult::Parent { child } => {
            println!("I am the father of {child}");
            waitpid(child, None).expect("waitpid");
        }
    }
    println!("parent: var = {var}, shared counter = {}", counter.load(Ordering::SeqCst));
    labkit::note_num("var", var);
    labkit::note_num("counter", counter.load(Ordering::SeqCst));
    // ANCHOR_END: fork
}
