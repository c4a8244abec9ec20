//! What generated code uses (hidden from the docs; the contract is `docs/generated-code.md`).
#![doc(hidden)]

use std::future::Future;

pub use serde;

pub use crate::courier::{ClientCore, Courier, Reply};
pub use crate::error::{remote_error, ErrValue, RemoteError, RemoteMessage, RemoteWithValue};
pub use crate::flags::{Flag, FlagError, FlagValues, ParseFlag};
pub use crate::launch::main;
pub use crate::program::{
    group_courier, group_worker, node_courier, node_worker, Env, ErasedNode, IdAlloc, Layout,
    Runner,
};

/// The params of a program: a struct generated from its `param` items.
pub trait Params:
    Clone + serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static
{
    /// One flag per param.
    fn flags() -> Vec<Flag>;
    /// The params from parsed flag values.
    fn from_flags(values: &FlagValues) -> Result<Self, FlagError>;
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
/// method with `.await` there), and outside any runtime when no program was launched.
pub fn block_on<F: Future>(f: F) -> F::Output {
    use tokio::runtime::RuntimeFlavor;
    if let Ok(handle) = tokio::runtime::Handle::try_current() {
        if handle.runtime_flavor() == RuntimeFlavor::CurrentThread {
            panic!(
                "lp: a `*_blocking` client method was called on a current-thread tokio runtime, \
                 where blocking would deadlock: call the async method with `.await`"
            );
        }
        return tokio::task::block_in_place(|| handle.block_on(f));
    }
    match crate::launch::fallback_runtime() {
        Some(handle) => handle.block_on(f),
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
