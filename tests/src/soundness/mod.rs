//! Node types of the soundness programs (`tests/soundness.lp`): one shape per hole there was
//! between `lpc check`, rustc and launch. Every program here must check, build, launch and
//! deliver the values the `.lp` file gives (`tests/tests/soundness.rs`).
#![allow(clippy::new_without_default)] // constructors shaped as the `.lp` calls them

pub mod calls;
pub mod cold;
pub mod fns;
pub mod hot;
pub mod names;
pub mod privilege;
pub mod reusable;
pub mod traits;
pub mod values;
