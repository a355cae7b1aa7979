// right: opens a pidfd for its parent (pidfd_open) and polls it: readable when the parent has died — and by then the orphan has been re-parented
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
            // SAFETY: pidfd_open(2) returns a new fd or -1.
            let fd = unsafe { nix::libc::syscall(nix::libc::SYS_pidfd_open, parent.as_raw(), 0) };
            if fd >= 0 {
                let mut p = nix::libc::pollfd { fd: fd as i32, events: nix::libc::POLLIN, revents: 0 };
                // SAFETY: one pollfd; -1: no timeout.
                while unsafe { nix::libc::poll(&mut p, 1, -1) } < 0 {}
                // SAFETY: our fd.
                unsafe { nix::libc::close(fd as i32) };
            }
            // ESRCH: the parent was already gone; either way it is gone now.
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
