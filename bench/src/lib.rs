//! The benchmark program (`bench.lp`, [`nodes`]) that `lp-bench` launches; the harness itself is
//! the `lp-bench` binary (`src/main.rs`).

#![deny(warnings)]

pub mod nodes;

lp::include_generated!();
