//! The runtime of Launchpad-for-Rust programs.
//!
//! A program is a graph of nodes described in a `.lp` file; the `lpc` compiler turns it into Rust
//! code (handles, dispatch, `make_program`, `main`) that links against this crate. User code sees
//! [`Handle`], [`CallError`], [`Context`], the run traits [`Run`] / [`BlockingRun`] and the
//! launcher entry points [`launch`] / [`launch_with`]. Generated code also uses the hidden
//! [`codegen`] module; the contract between the two is `docs/generated-code.md`.
//!
//! Launch types (see [`LaunchType`]): `local_mt` and `test_mt` run every node in the calling
//! process and call through an in-process transport; `local_mp` and `test_mp` spawn the program
//! binary once per node and call over authenticated Unix sockets.

#![warn(missing_docs)]

mod blocking;
pub mod codegen;
mod context;
mod courier;
mod dashboard;
mod error;
mod flags;
mod handle;
mod launch;
mod log;
mod metrics;
mod program;
#[cfg(feature = "sim")]
pub mod sim;
mod supervise;
pub mod testing;
mod transport;
mod values;

pub use anyhow::{bail, ensure, Error, Result};
pub use context::{BlockingRun, Context, Run};
pub use courier::batch::Batch;
pub use courier::start::{InFlight, Start};
pub use error::{CallError, CallResultExt, LaunchError, NodeFailure};
pub use futures::future::{join_all, try_join_all};
pub use handle::Handle;
pub use launch::{
    launch, launch_with, LaunchOptions, LaunchType, Running, Terminal, UnknownLaunchType,
};
/// Marks a synchronous courier method that never blocks: lp runs it on the thread that serves
/// its call, as it runs an `async` method, rather than on a blocking thread. Over a socket that
/// saves the hop to another thread and back: about half of a `local_mp` call's latency.
///
/// It is a promise: the method must not wait — no sleep, no blocking I/O, no lock that others
/// hold for long, no `*_blocking` call. While it runs, the calls behind it on its connection
/// (and its process's async work on that thread) wait; one that waited for such a call would
/// never return. Unmarked synchronous methods run on blocking threads, where they may block.
/// `lpc check` rejects it on an `async` method.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
///
/// pub struct Counter {
///     count: AtomicU64,
/// }
///
/// impl Counter {
///     /// Reads the count: an atomic load never waits.
///     #[lp::nonblocking]
///     pub fn get(&self) -> u64 {
///         self.count.load(Ordering::Relaxed)
///     }
/// }
/// ```
///
/// An `async` method already runs where its call is served; marking one does not compile:
///
/// ```compile_fail
/// pub struct Counter;
///
/// impl Counter {
///     #[lp::nonblocking]
///     pub async fn get(&self) -> u64 {
///         1
///     }
/// }
/// ```
///
/// Nor does a mark with arguments:
///
/// ```compile_fail
/// pub struct Counter;
///
/// impl Counter {
///     #[lp::nonblocking(fast)]
///     pub fn get(&self) -> u64 {
///         1
///     }
/// }
/// ```
#[doc(inline)]
pub use lp_macros::nonblocking;
pub use program::{Group, GroupRef, Node, NodeRef, Nodes, Program, Resources, Restart, Settings};
pub use supervise::NodeOutcome;
pub use tracing;

/// Includes the code `lpc` generated for this package (`$OUT_DIR/lp_generated.rs`).
///
/// Write it once at the crate root (`src/lib.rs`) of a package whose `build.rs` runs
/// `lpc::Build`.
#[macro_export]
macro_rules! include_generated {
    () => {
        include!(concat!(env!("OUT_DIR"), "/lp_generated.rs"));
    };
}
