//! Launchpad's `program_wait` example (`program_wait.lp`): nodes that wait for the program to
//! stop, each in one supported way, and one that stops it after a delay.

#![deny(warnings)]

pub mod nodes;

lp::include_generated!();
