//! harness-probe: misbehaving on purpose, so the harness's own tests can prove the sandbox
//! holds. Not a lab.

mod hostile;

use nix::sys::signal::{Signal, kill};
use nix::unistd::{ForkResult, fork, getpgrp, getppid, setsid};
use std::io::Write;

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    if mode != "sentinel" {
        labkit::role("probe");
    }
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
        // Every route to signal what is outside the scenario, against the targets given as
        // `name=pid/pgid` (the runner's numbers): `hostile SIG TARGET...`.
        "hostile" => {
            let args: Vec<String> = std::env::args().skip(2).collect();
            let sig: i32 = args.first().and_then(|s| s.parse().ok()).unwrap_or(libc::SIGWINCH);
            let targets: Vec<hostile::Target> =
                args.iter().skip(1).filter_map(|a| hostile::parse(a)).collect();
            hostile::attack(&targets, sig, true);
            labkit::pause("attacked");
        }
        // Leaves a grandchild that ignores SIGTERM in a session of its own, then tries to
        // kill its own sandbox by every route (with SIGKILL): `kill-sandbox`.
        "kill-sandbox" => {
            // SAFETY: one thread.
            let ForkResult::Parent { child } = unsafe { fork() }.expect("fork") else {
                labkit::role("escapee");
                // SAFETY: ignoring SIGTERM in this process only.
                unsafe { libc::signal(libc::SIGTERM, libc::SIG_IGN) };
                setsid().expect("setsid");
                loop {
                    std::thread::sleep(std::time::Duration::from_secs(1));
                }
            };
            // Attack once the escapee has left our session.
            while nix::unistd::getsid(Some(child)).ok() != Some(child) {
                std::thread::yield_now();
            }
            let sandbox = getppid().as_raw();
            let group = nix::unistd::getpgid(Some(getppid())).map(|g| g.as_raw()).unwrap_or(sandbox);
            hostile::attack(
                &[hostile::Target { name: "sandbox".into(), pid: sandbox, pgid: group }],
                libc::SIGKILL,
                false,
            );
            labkit::pause("attacked");
        }
        // Forks until the kernel says no (every process forks, each child too), then sleeps;
        // the first to be refused notes it.
        "forkbomb" => loop {
            // SAFETY: a fork bomb, single-threaded.
            match unsafe { libc::fork() } {
                0 | 1.. => continue,
                _ => {
                    let e = nix::errno::Errno::last();
                    labkit::note("fork-refused", &format!("{e:?}"));
                    loop {
                        std::thread::sleep(std::time::Duration::from_secs(1));
                    }
                }
            }
        },
        // A process outside every scenario that reports each signal it gets on stdout (one
        // byte, the signal number) and lives on: `sentinel`.
        "sentinel" => {
            // It catches every signal it can, so only SIGKILL ends it: the test's Drop sends
            // that, and if the test runner dies first, PDEATHSIG does (three sentinels were once
            // found alive an hour after the runner that started them had gone).
            // SAFETY: prctl with integer arguments.
            unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
            if getppid().as_raw() == 1 {
                return; // the runner had already gone
            }
            extern "C" fn got(sig: i32) {
                let b = [sig as u8];
                // SAFETY: write(2) is async-signal-safe.
                unsafe { libc::write(1, b.as_ptr().cast(), 1) };
            }
            for sig in 1..32 {
                if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                    // SAFETY: installing an async-signal-safe handler.
                    unsafe { libc::signal(sig, got as *const () as libc::sighandler_t) };
                }
            }
            let _ = std::io::stdout().write_all(b"R");
            let _ = std::io::stdout().flush();
            loop {
                // SAFETY: pause(2) sleeps until a signal.
                unsafe { libc::pause() };
            }
        }
        // A SIGUSR1 handler that prints (`handler print`), allocates (`handler alloc`) or only
        // writes with write(2) (`handler say`); then it sits at a pause, twice.
        "handler" => {
            extern "C" fn print(_: i32) {
                println!("handler: println!");
            }
            extern "C" fn alloc(_: i32) {
                let msg = format!("handler: formatted {}\n", 42);
                // SAFETY: write(2) of our own bytes.
                unsafe { libc::write(1, msg.as_ptr().cast(), msg.len()) };
            }
            extern "C" fn say(_: i32) {
                let msg = b"handler: write(2)\n";
                // SAFETY: write(2) of our own bytes.
                unsafe { libc::write(1, msg.as_ptr().cast(), msg.len()) };
            }
            let h: extern "C" fn(i32) = match std::env::args().nth(2).as_deref() {
                Some("print") => print,
                Some("alloc") => alloc,
                _ => say,
            };
            // SAFETY: installing a handler (whether it is async-signal-safe is the test).
            unsafe { libc::signal(libc::SIGUSR1, h as *const () as libc::sighandler_t) };
            print!("before the pause, no newline; ");
            labkit::pause("sitting");
            println!("between the pauses");
            labkit::pause("sitting again");
            println!("after the pauses");
        }
        // Arms PR_SET_PDEATHSIG (SIGTERM), then notes its parent: `pdeathsig`.
        "pdeathsig" => {
            nix::sys::prctl::set_pdeathsig(Signal::SIGTERM).expect("prctl");
            labkit::note_num("armed-with-parent", getppid().as_raw());
        }
        // Says whether it leads its session and its group.
        "whoami" => {
            let me = nix::unistd::getpid();
            labkit::note("session-leader", &(nix::unistd::getsid(None).ok() == Some(me)).to_string());
            labkit::note("group-leader", &(getpgrp() == me).to_string());
            labkit::note_num("setpgid", nix::unistd::setpgid(me, me).map(|_| 0).unwrap_or_else(|e| e as i32));
        }
        // The child forgets to exit after its part and runs the parent's code too.
        "fall-through" => {
            // SAFETY: one thread.
            if let ForkResult::Child = unsafe { fork() }.expect("fork") {
                labkit::role("kid");
            }
            labkit::pause("the parent's work");
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
