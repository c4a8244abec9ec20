//! End-to-end tests, and the test programs they run: `kinds` (`kinds.lp`, `src/nodes.rs`),
//! `restarts` (`restarts.lp`, `src/flaky.rs`), and the load programs `correlation`,
//! `backpressure` and `blobs` (`load.lp`, `src/load.rs`).
//! [`support`] locates the workspace's binaries and runs them with a time limit.

pub mod flaky;
pub mod load;
pub mod nodes;
pub mod support;

lp::include_generated!();
