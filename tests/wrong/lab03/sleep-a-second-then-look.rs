// wrong: sleeps a whole second, then asks getppid() once: right when the parent dies within the second, and a second late when it dies at once
// rejected-by: an_orphan_is_adopted_by_the_nearest_subreaper_not_pid_1
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
            std::thread::sleep(Duration::from_secs(1));
            let _ = parent;
            let adopter = getppid();
            labkit::note_num("new-ppid", adopter.as_raw());
            println!("child {}: orphaned, adopted by {adopter}, still in group {}", getpid(), getpgrp());
            // An orphan is not dead: it keeps running until its work is done.
            labkit::pause("the orphan keeps running");
            println!("child {}: done", getpid());
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
