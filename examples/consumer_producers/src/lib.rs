//! The seed program: one consumer sends work to every producer (see `consumer_producers.lp`),
//! and the same with slow producers (`slow_consumer_producers.lp`).

#![deny(warnings)]

pub mod nodes;

lp::include_generated!();
