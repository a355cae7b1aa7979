//! The harness's own suites, each in a file of its own, run as one test binary: cargo runs
//! test binaries one after another, and these suites mostly wait on the kernel, so side by
//! side they take the time of the slowest test instead of the sum of the suites.
//! `cargo test -p harness --test kit hostile` runs one suite. (tests/language.rs is a binary
//! of its own: it switches the process's report language.)

mod gates;
mod hostile;
mod hygiene;
mod parts;
mod sandbox;
mod session;
mod terminal;
