//! harness-probe: misbehaving on purpose, so the harness's own tests can prove the sandbox
//! holds. Not a lab.

use nix::sys::signal::{Signal, kill};
use nix::unistd::{ForkResult, Pid, fork, getpgrp, getppid, setsid};
use std::io::Write;

fn errno_of(r: nix::Result<()>) -> String {
    match r {
        Ok(()) => "ok".into(),
        Err(e) => format!("{e:?}"),
    }
}

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    labkit::role("probe");
    match mode.as_str() {
        // Spins forever: the spec's next wait must fail within its deadline.
        "hang" => loop {
            std::hint::spin_loop();
        },
        // A child that leaves the sandbox's session and would live forever.
        "escape" => {
            // SAFETY: one thread.
            if let ForkResult::Child = unsafe { fork() }.expect("fork") {
                setsid().expect("setsid");
                labkit::role("escapee");
                loop {
                    std::thread::sleep(std::time::Duration::from_secs(1));
                }
            }
            labkit::pause("escapee started");
        }
        // Tries what a broken lab might: broadcast, init, its own sandbox. Signal 0 only checks.
        "broadcast" => {
            labkit::note("kill-minus-1", &errno_of(kill(Pid::from_raw(-1), None)));
            labkit::note("kill-1", &errno_of(kill(Pid::from_raw(1), None)));
            labkit::note("kill-parent", &errno_of(kill(getppid(), None)));
            labkit::note("kill-own-group", &errno_of(nix::sys::signal::killpg(getpgrp(), None)));
            labkit::pause("done");
        }
        // Parent and child both stop at the same pause; each notes when it goes on.
        "pair" => {
            // SAFETY: one thread.
            let kid = matches!(unsafe { fork() }.expect("fork"), ForkResult::Child);
            if kid {
                labkit::role("kid");
            }
            labkit::pause("both");
            labkit::note("went", if kid { "kid" } else { "probe" });
            if !kid {
                let _ = nix::sys::wait::wait();
            }
        }
        // Sits still so its signal state can be read.
        "sit" => labkit::pause("sitting"),
        // Reports whether stdin is a terminal whose foreground group is ours, then waits for ^C.
        "tty" => {
            let fg = nix::unistd::tcgetpgrp(std::io::stdin()).map(|p| p.as_raw()).unwrap_or(-1);
            labkit::note_num("foreground", fg);
            labkit::note_num("pgrp", getpgrp().as_raw());
            loop {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
        // Writes far more than the harness keeps, then exits.
        "flood" => {
            let line = [b'x'; 1023];
            let mut out = std::io::stdout().lock();
            for _ in 0..3072 {
                let _ = out.write_all(&line);
                let _ = out.write_all(b"\n");
            }
        }
        // Dies by the signal named.
        "die" => {
            let _ = kill(nix::unistd::getpid(), Signal::SIGABRT);
        }
        other => {
            eprintln!("harness-probe: unknown mode '{other}'");
            std::process::exit(2);
        }
    }
}
