//! End-to-end tests, and the `kinds` test program they run (`kinds.lp`, `src/nodes.rs`).
//! [`support`] locates the workspace's binaries and runs them with a time limit.

pub mod nodes;
pub mod support;

lp::include_generated!();
