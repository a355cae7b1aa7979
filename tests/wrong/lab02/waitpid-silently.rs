// wrong: reaps the child but never says so: the "reaped <pid>: <status>" line is missing
// rejected-by: an_exited_child_is_a_zombie_until_its_parent_waits
//! Lab 02 — zombie: a child that has exited but has not been waited for.
//!
//! Post 002: the parent forks, the child prints and exits, the parent sleeps 100 s. During
//! that sleep `ps` shows the child as `Z` / `<defunct>`: the kernel keeps its exit status until
//! the parent collects it with waitpid(). This program stops at the same point (a pause stands
//! for the post's sleep), then reaps the child — or, with `--no-wait`, exits without reaping.

use clap::Parser;
use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, fork, getpid};

/// Make a zombie, look at it, then reap it (or leave it to whoever adopts it).
#[derive(Parser)]
struct Args {
    /// The parent exits without ever calling waitpid().
    #[arg(long)]
    no_wait: bool,
}

fn main() {
    let args: Args = labkit::args();
    labkit::role("parent");

    // SAFETY: one thread; the child only prints and exits.
    // ANCHOR: fork
    match unsafe { fork() }.expect("fork") {
        ForkResult::Child => {
            labkit::role("child");
            println!("I am a child {}", getpid());
            std::process::exit(0);
        }
        ForkResult::Parent { child } => {
            // The post sleeps 100 s here. Meanwhile: `ps -o pid,ppid,stat,cmd` shows Z.
            labkit::pause("the child has exited; the parent has not waited");
            if args.no_wait {
                println!("done, without waiting for {child}");
                return;
            }
            let _status = waitpid(child, None).expect("waitpid");
            labkit::pause("the parent has reaped the child");
            println!("done");
        }
    }
    // ANCHOR_END: fork
}
