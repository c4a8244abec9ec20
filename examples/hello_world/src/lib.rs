//! Launchpad's `hello_world` example (`hello_world.lp`): one worker says hello, and the program
//! ends when it returns.

#![deny(warnings)]

pub mod nodes;

lp::include_generated!();
