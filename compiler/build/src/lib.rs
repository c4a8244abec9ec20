//! `lpc-build`: checks Launchpad-for-Rust `.lp` programs against the Rust crate of their package
//! and generates their launch code — the compiler as a build script uses it.
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), lpc_build::BuildError> {
//!     lpc_build::Build::new().compile()
//! }
//! ```
//!
//! The pipeline, one module per stage: [`syntax`] (pest → AST with owned spans) →
//! [`rust`] (syn → model of the user's crate) → [`check`] (resolve names, check topology and
//! types against the Rust model) → [`codegen`] (quote → formatted Rust) — driven by [`driver`].
//! Every stage reports all of its problems as [`diag::Diagnostic`]s; the driver stops between
//! stages when there are errors. [`Build`] is the build-script API. The `lpc` command (crate
//! `lpc`) is built on this crate, and adds what only a person or an editor needs: `lpc fmt`,
//! `lpc graph`, `lpc new`, the language server, JSON diagnostics.
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

mod build;
pub mod check;
pub mod codegen;
pub mod diag;
pub mod driver;
pub mod rust;
pub mod syntax;
pub mod vocabulary;

pub use build::{Build, BuildError};
