//! End-to-end tests, and the test programs they run: `kinds` (`kinds.lp`, `src/nodes.rs`) and
//! `restarts` (`restarts.lp`, `src/flaky.rs`).
//! [`support`] locates the workspace's binaries and runs them with a time limit.

pub mod flaky;
pub mod nodes;
pub mod support;

lp::include_generated!();
