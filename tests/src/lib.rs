//! End-to-end tests, and the test programs they run: `kinds` (`kinds.lp`, `src/nodes.rs`),
//! `restarts` (`restarts.lp`, `src/flaky.rs`), the load programs `correlation`,
//! `backpressure` and `blobs` (`load.lp`, `src/load.rs`), and `cluster_probe` (`cluster.lp`,
//! `src/cluster_nodes.rs`), the soundness programs (`soundness.lp`, `src/soundness/`), and
//! `cluster_long_names` (a program whose names are too long for
//! Kubernetes objects, in `cluster.lp`) for the cluster launch tests, whose pods [`pods`] runs.
//! [`support`] locates the workspace's binaries and runs them with a time limit; [`packages`]
//! builds packages made by `lpc new`; [`http`] asks a dashboard.

pub mod cluster_nodes;
pub mod fault_nodes;
pub mod flaky;
pub mod generator;
pub mod http;
pub mod launched;
pub mod load;
pub mod nodes;
pub mod packages;
pub mod pods;
pub mod soundness;
pub mod support;

lp::include_generated!();
