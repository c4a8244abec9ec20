//! `ledger.lp`: tellers deposit into a bank over the network and retry late deposits — a
//! classic distributed bug (a retry after a late reply counts twice) that only a partition or a
//! delay shows. `tests/explore.rs` finds it with `lp::sim::explore` and checks the fix.

#![deny(warnings)]

pub mod nodes;

lp::include_generated!();
