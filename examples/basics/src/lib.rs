//! Launchpad's `hello_world` and `program_wait` examples (`hello_world.lp`, `program_wait.lp`).
#![deny(warnings)]

pub mod nodes;

lp::include_generated!();
