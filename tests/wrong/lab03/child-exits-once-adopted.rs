// wrong: the child reports its adopter and exits at once: an orphan does not have to die, it keeps working
// rejected-by: an_orphan_keeps_running_after_its_parent_is_gone
//! Lab 03 — orphan: the parent exits first.
//!
//! Post 002: "if the parent ends before the child, the child is handed to pid 1". On Linux the
//! orphan goes to the nearest ancestor that made itself a *child subreaper*
//! (PR_SET_CHILD_SUBREAPER: systemd --user, container inits, this kit's sandbox), and only
//! without one to pid 1 of the pid namespace. The child can see it happen: getppid() changes.

use nix::unistd::{ForkResult, fork, getpgrp, getpid, getppid};
use std::time::Duration;

fn main() {
    let _: NoArgs = labkit::args();
    labkit::role("parent");
    let parent = getpid();

    // SAFETY: one thread.
    // ANCHOR: fork
    match unsafe { fork() }.expect("fork") {
        ForkResult::Child => {
            labkit::role("child");
            println!("child {}: my parent is {}, my group {}", getpid(), getppid(), getpgrp());
            // Wait until we are orphaned: getppid() stops naming the parent that forked us.
            while getppid() == parent {
                std::thread::sleep(Duration::from_millis(1));
            }
            let adopter = getppid();
            labkit::note_num("new-ppid", adopter.as_raw());
            println!("child {}: orphaned, adopted by {adopter}, still in group {}", getpid(), getpgrp());
            std::process::exit(0);
        }
        ForkResult::Parent { child } => {
            // The parent lingers a moment (the spec decides how long), so the child surely
            // starts while its parent is alive; then it exits without waiting.
            labkit::pause("the parent is about to exit");
            println!("parent {parent}: exiting without waiting for {child}");
        }
    }
    // ANCHOR_END: fork
}

/// Lab 03 takes no arguments.
#[derive(clap::Parser)]
struct NoArgs {}
