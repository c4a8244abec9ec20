//! Launchpad's batching example (see `batching.lp`): a server whose `compute` is a batched
//! handler, and clients calling it concurrently.

#![deny(warnings)]

pub mod nodes;

lp::include_generated!();
