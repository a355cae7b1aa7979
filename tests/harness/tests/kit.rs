//! The harness's own suites, each in a file of its own, run as one test binary: cargo runs
//! test binaries one after another, and these suites mostly wait on the kernel, so side by
//! side they take the time of the slowest test instead of the sum of the suites.
//! `cargo test -p harness --test kit hostile` runs one suite.

mod gates;
mod hostile;
mod hygiene;
mod language;
mod parts;
mod sandbox;
mod session;
mod terminal;
