//! What generated code uses (hidden from the docs; the contract is `docs/generated-code.md`).
#![doc(hidden)]

use std::future::Future;

pub use serde;

pub use crate::courier::{ClientCore, Courier, Interfaces, Reply, Serve, Served};
pub use crate::error::{remote_error, ErrValue, RemoteError};
pub use crate::flags::{Flag, FlagError, FlagValues, ParseFlag, ParseFlagError};
pub use crate::launch::main;
pub use crate::program::{
    erase_all, group_courier, group_worker, node_courier, node_worker, Count, Env, ErasedNode,
    IdAlloc, Layout, Runner, Selection, MAX_REPLICAS,
};
pub use crate::values::{Expr, FromNum, Num, Op, Site, Target, ValueError};

/// The traits that turn any error value into a [`RemoteError`] (see `lp::__remote_error!`).
pub mod errors {
    pub use crate::error::{ErrDebug, ErrDisplay, ErrOpaque, ErrWithValue};
}

/// The version of the contract between generated code and this runtime; `lpc` writes the one
/// it generates for.
pub const GENERATED_ABI: u32 = 5;

/// Fails the build (at compile time, in a `const`) when the generated code was made by an
/// `lpc` for another version of this runtime.
pub const fn check_abi(generated: u32) {
    if generated != GENERATED_ABI {
        panic!(
            "lp: the generated code does not match this version of the `lp` runtime: use the \
             `lpc` of the same version as `lp` (in `[build-dependencies]`) and rebuild"
        );
    }
}

/// The params of a program: a struct generated from its `param` items.
pub trait Params:
    Clone + serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static
{
    /// One flag per param.
    fn flags() -> Vec<Flag>;
    /// The params from parsed flag values.
    fn from_flags(values: &FlagValues) -> Result<Self, FlagError>;
    /// The value of numeric param number `index` (`0` for any other).
    fn number(&self, index: usize) -> Num;
}

/// A program without params.
impl Params for () {
    fn flags() -> Vec<Flag> {
        Vec::new()
    }

    fn from_flags(_: &FlagValues) -> Result<Self, FlagError> {
        Ok(())
    }

    fn number(&self, _: usize) -> Num {
        Num::Int(0)
    }
}

/// A value of the program computed from its params in a node's factory (checked before any
/// factory runs, so this does not fail in a launched program).
pub fn value<T: FromNum, P: Params>(
    site: &'static Site,
    params: &P,
    env: &Env,
) -> Result<T, crate::Error> {
    let numbers = |i: usize| params.number(i);
    let scope = crate::values::Scope {
        numbers: &numbers,
        replica: env.replica,
        replicas: env.replicas,
    };
    site.value(scope).map_err(|e| anyhow::anyhow!("{e}"))
}

/// A node's error (its constructor's or its function's `Err`), as it fails the node.
pub fn node_error(error: RemoteError) -> crate::Error {
    anyhow::anyhow!("{}", error.message)
}

/// Runs a future to completion from synchronous code: the `*_blocking` client methods.
///
/// Works on a blocking thread of the runtime (a synchronous `run` or method), inside async code
/// on a multi-threaded runtime (the worker thread hands its other tasks over while it blocks),
/// and on any thread outside a runtime once a program is launched in this process.
///
/// # Panics
///
/// On a current-thread runtime (blocking its only thread would deadlock: call the async
/// method with `.await` there) — so under `sim` as well — and outside any runtime when no
/// program was launched.
pub fn block_on<F: Future>(f: F) -> F::Output {
    use tokio::runtime::RuntimeFlavor;
    if let Ok(handle) = tokio::runtime::Handle::try_current() {
        if crate::transport::simulated() {
            panic!(
                "lp: a `*_blocking` client method was called under `sim`, where every node runs \
                 on the simulation's one thread and blocking it would stop the simulated world: \
                 make the calling method or `run` async and call the async method with `.await` \
                 (see docs/sim.md)"
            );
        }
        if handle.runtime_flavor() == RuntimeFlavor::CurrentThread {
            panic!(
                "lp: a `*_blocking` client method was called on a current-thread tokio runtime, \
                 where blocking would deadlock: call the async method with `.await`"
            );
        }
        return tokio::task::block_in_place(|| crate::blocking::waiting(|| handle.block_on(f)));
    }
    match crate::launch::fallback_runtime() {
        Some(handle) => crate::blocking::waiting(|| handle.block_on(f)),
        None => panic!(
            "lp: a `*_blocking` client method was called outside a launched program's runtime"
        ),
    }
}

/// The result of integer arithmetic in an argument, converted to the parameter's type.
///
/// # Panics
///
/// When the value does not fit, naming `what` (e.g. "argument `seed` of `actor`").
pub fn int<T: TryFrom<i128>>(value: i128, what: &str) -> T {
    match T::try_from(value) {
        Ok(v) => v,
        Err(_) => panic!(
            "{what} is {value}, which does not fit in `{}`",
            std::any::type_name::<T>()
        ),
    }
}
