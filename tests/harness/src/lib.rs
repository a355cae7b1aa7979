//! # proclab's harness
//!
//! A spec starts a lab with [`Scenario::start`]`(`[`lab!`]`(), &[args])`. The lab runs inside
//! its own sandbox process (session leader, child subreaper), reports who is who through
//! `labkit` on a private pipe, and the spec asserts on the process tree that `/proc` reports:
//!
//! ```text
//! let sc = Scenario::start(lab!(), &[]);
//! let parent = sc.role("parent");
//! let child = sc.role("child");
//! sc.until("the child is a zombie of the parent", |t| t.zombie(child) && t.ppid(child) == Some(parent));
//! ```
//!
//! Every wait has a deadline ([`default_deadline`]); a failure prints what was expected, the
//! tree that was observed, the steps taken and the lab's output. Dropping the scenario kills
//! and reaps everything it started, on every path.
//!
//! Read in this order: [`scenario`] (what a spec can do), [`tree`] (what it sees),
//! [`trace`] (what the lab reports), [`safety`] (what it may signal).

pub mod files;
pub mod layers;
pub mod safety;
pub mod say;
pub mod scenario;
pub mod threads;
pub mod trace;
pub mod tree;

mod pause;

pub use files::{Access, OpenFile};
pub use nix::sys::signal::Signal;
pub use safety::{Refusal, Target};
pub use scenario::{
    Lab, Scenario, Setup, Verdict, Where, claim_record, claim_verdict_of, default_deadline,
    parse_claim_record, python3,
};
pub use threads::Thread;
pub use trace::{Event, Exit, Kind};
pub use tree::{Life, Proc, Tree};

/// Everything a spec usually needs.
pub mod prelude {
    pub use crate::{Exit, Lab, Life, Scenario, Setup, Signal, Target, Tree, Verdict, Where};
    pub use crate::{lab, say};
    pub use std::time::Duration;
}

/// The sandbox's source is built by build.rs with plain rustc; compiling it here too (in tests)
/// puts it under clippy and the compiler's warnings like the rest of the harness.
#[cfg(test)]
#[allow(dead_code)]
#[path = "../sandbox/main.rs"]
mod sandbox_source;
