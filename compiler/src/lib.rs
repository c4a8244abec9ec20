//! `lpc`: the compiler for Launchpad-for-Rust `.lp` programs.
//!
//! The pipeline, one module per stage: [`syntax`] (pest → AST with owned spans) →
//! [`rust`] (syn → model of the user's crate) → [`check`] (resolve names, check topology and
//! types against the Rust model) → [`codegen`] (quote → formatted Rust) — driven by [`driver`].
//! Every stage reports all of its problems as [`diag::Diagnostic`]s; the driver stops between
//! stages when there are errors. [`Build`] is the build-script API.
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

mod build;
pub mod check;
pub mod codegen;
pub mod diag;
pub mod driver;
pub mod fmt;
pub mod graph;
pub mod lsp;
pub mod new;
pub mod rust;
pub mod syntax;

pub use build::{Build, BuildError};
