//! Word count as MapReduce (`mapreduce.lp`).
//!
//! The [`coordinator::Coordinator`] lists the input files and hands them out one at a time;
//! each [`mapper::Mapper`] counts the words of a file and sends every word's count to the
//! [`reducer::Reducer`] that owns the word ([`words::partition`]); the coordinator then collects
//! every reducer's counts. [`words::count_dir`] is the same count in one process.

#![deny(warnings)]

pub mod coordinator;
pub mod mapper;
pub mod reducer;
pub mod words;

lp::include_generated!();
