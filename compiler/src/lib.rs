//! `lpc`: the command for Launchpad-for-Rust `.lp` programs, built on the compiler library
//! [`lpc_build`] (which a package's build script uses on its own). This crate adds the tools a
//! person or an editor needs: [`fmt`] (`lpc fmt`), [`graph`] (`lpc graph`), [`new`] (`lpc new`),
//! [`lsp`] (`lpc lsp`) and [`json`] (`lpc check --format json`).
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

pub mod fmt;
pub mod graph;
pub mod json;
pub mod lsp;
pub mod new;
pub mod top;
