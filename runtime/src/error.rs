//! The errors a call or a launch can end with.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Why a call through a [`Handle`](crate::Handle) did not return the method's value.
///
/// Every message names the node and the method involved, so that an error that travels up
/// through several nodes still says where it started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// The method ran and returned `Err(e)`; `message` is `e`'s message (`{:#}`, so an
    /// `anyhow` chain is kept). When `e`'s type is `Serialize`, `value` holds it: get it back
    /// with [`remote_value`](Self::remote_value).
    #[error("`{method}` on `{node}` returned an error: {message}")]
    Remote {
        /// The node that served the call.
        node: String,
        /// The method that was called.
        method: String,
        /// The error's message.
        message: String,
        /// The error value, encoded, when its type is `Serialize`.
        value: Option<Vec<u8>>,
    },
    /// The method panicked; the server keeps serving other calls.
    #[error("`{method}` on `{node}` panicked: {message}")]
    Panicked {
        /// The node that served the call.
        node: String,
        /// The method that was called.
        method: String,
        /// The panic's message.
        message: String,
    },
    /// The node could not be reached: it never came up within the ready deadline, it died, or
    /// the program is stopping.
    #[error("node `{node}` is unavailable: {reason}")]
    Unavailable {
        /// The node that was called.
        node: String,
        /// What went wrong, in words.
        reason: String,
    },
    /// The call's deadline (see [`Handle::with_deadline`](crate::Handle::with_deadline)) passed
    /// before the reply arrived.
    #[error("deadline exceeded calling `{method}` on `{node}`")]
    DeadlineExceeded {
        /// The node that was called.
        node: String,
        /// The method that was called.
        method: String,
    },
    /// The peer sent something this side cannot understand (e.g. a mismatched binary).
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The call was abandoned before it finished (e.g. its task was cancelled).
    #[error("call cancelled")]
    Cancelled,
    /// The program is stopping (a node called `stop()`, a node failed, or the launcher got a
    /// signal), and the call was cut short or refused: not a failure of the callee. A node
    /// ends quietly with [`CallResultExt::ok_if_stopping`].
    #[error("the call to `{node}` was cut short: the program is stopping")]
    Stopping {
        /// The node that was called.
        node: String,
    },
}

impl CallError {
    /// Whether the call failed because the program is stopping ([`CallError::Stopping`]).
    pub fn is_stopping(&self) -> bool {
        matches!(self, CallError::Stopping { .. })
    }

    /// The error value a method returned (`Err(e)`), decoded as `E`, when the error is
    /// [`Remote`](Self::Remote) and `e`'s type is `Serialize`. `None` otherwise, or when the
    /// value does not decode as an `E` (ask for the method's own error type).
    pub fn remote_value<E: DeserializeOwned>(&self) -> Option<E> {
        match self {
            CallError::Remote {
                value: Some(value), ..
            } => crate::transport::frame::decode(value).ok(),
            _ => None,
        }
    }
}

/// What a node does with a call's result while the program may be stopping.
pub trait CallResultExt<T> {
    /// `Ok(Some(value))` for a value, `Ok(None)` when the call was cut short because the
    /// program is stopping (so the node can end quietly), and any other error as it is:
    ///
    /// ```ignore
    /// let Some(item) = producer.work(i).await.ok_if_stopping()? else {
    ///     return Ok(()); // the program is stopping
    /// };
    /// ```
    fn ok_if_stopping(self) -> Result<Option<T>, CallError>;
}

impl<T> CallResultExt<T> for Result<T, CallError> {
    fn ok_if_stopping(self) -> Result<Option<T>, CallError> {
        match self {
            Ok(value) => Ok(Some(value)),
            Err(e) if e.is_stopping() => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Whether an error a node returned is, at its root, a call cut short by the stop: such a
/// node ends quietly.
pub(crate) fn is_stopping(error: &anyhow::Error) -> bool {
    error.chain().any(|e| {
        e.downcast_ref::<CallError>()
            .is_some_and(CallError::is_stopping)
    })
}

/// Why a launch, or a launched program, failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum LaunchError {
    /// The program cannot be built from its params: a value computed from them does not
    /// compute or fit (a group size, an argument, an index), or the params cannot be encoded.
    #[error("invalid program: {}", joined(.0))]
    Layout(Vec<crate::program::LayoutError>),
    /// A node's constructor or `run` failed (returned `Err`, panicked, or its process exited
    /// with a failure status). The first failing node is reported; `failures` lists every node
    /// that failed before the program was down, in order (the first included).
    #[error("node `{node}` failed: {error}{}", also(failures))]
    NodeFailed {
        /// The label of the first node that failed, e.g. `producer/1`.
        node: String,
        /// What it reported.
        error: String,
        /// Every failure, the first included.
        failures: Vec<NodeFailure>,
    },
    /// A cluster launch type asked of [`launch`](crate::launch): a cluster engine starts the
    /// processes, from what the program binary writes (`--lp_launch_type k8s|slurm`).
    #[error(
        "`{kind}` launches from the program binary (`--lp_launch_type {kind}`), not from `lp::launch`{hint}",
        kind = .0,
        hint = elsewhere(.0)
    )]
    NotHere(crate::LaunchType),
    /// The launcher itself could not do its job (spawn a process, bind a socket, ...).
    #[error("the launcher cannot go on: {what}")]
    Launcher {
        /// What it was doing, e.g. "cannot bind the control socket".
        what: String,
        /// Why it could not.
        #[source]
        source: std::sync::Arc<dyn std::error::Error + Send + Sync>,
    },
}

/// One node that failed, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeFailure {
    /// The node's label.
    pub node: String,
    /// What it reported.
    pub error: String,
}

fn joined(errors: &[crate::program::LayoutError]) -> String {
    let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
    errors.join("; ")
}

/// ` (then also failed: a, b)` after the first failure, when there were more.
fn also(failures: &[NodeFailure]) -> String {
    if failures.len() < 2 {
        return String::new();
    }
    let others: Vec<&str> = failures[1..].iter().map(|f| f.node.as_str()).collect();
    format!(" (then also failed: {})", others.join(", "))
}

impl LaunchError {
    /// `node` failed with `error`, and no other node did.
    pub(crate) fn node_failed(node: String, error: String) -> Self {
        LaunchError::NodeFailed {
            failures: vec![NodeFailure {
                node: node.clone(),
                error: error.clone(),
            }],
            node,
            error,
        }
    }

    pub(crate) fn launcher(
        what: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        LaunchError::Launcher {
            what: what.into(),
            source: std::sync::Arc::new(source),
        }
    }
}

/// What a courier method's `Err(e)` becomes on the wire: `e`'s message, and `e` itself when its
/// type is `Serialize`.
///
/// Generated dispatch code makes one with `lp::__remote_error!(e)` (see [`ErrValue`]).
#[derive(Debug, Clone)]
pub struct RemoteError {
    /// The error's message.
    pub(crate) message: String,
    /// The encoded error value, when its type is `Serialize`.
    pub(crate) value: Option<Vec<u8>>,
}

impl RemoteError {
    /// The caller's error for this method's `Err`, served by `node`.
    pub(crate) fn into_call_error(self, node: &str, method: &str) -> CallError {
        CallError::Remote {
            node: node.to_string(),
            method: method.to_string(),
            message: self.message,
            value: self.value,
        }
    }
}

/// Any error value on its way to [`RemoteError`]: a courier method's `Err(e)`, a constructor's,
/// a `fn` node's.
///
/// `lp::__remote_error!(e)` makes one with `(&&&&ErrValue(e)).into_remote()`: method
/// resolution picks the first that applies of [`ErrWithValue`] (`E: Display + Serialize`:
/// message and value), [`ErrDisplay`] (its message), [`ErrDebug`] (its `Debug` text) and
/// [`ErrOpaque`] (its type's name), so any error type works.
pub struct ErrValue<E>(pub E);

/// `Err(e)` with a `Display + Serialize` error type: message and value.
pub trait ErrWithValue {
    /// The error for the wire.
    fn into_remote(self) -> RemoteError;
}

/// `Err(e)` with a `Display` error type: its message.
pub trait ErrDisplay {
    /// The error for the wire.
    fn into_remote(self) -> RemoteError;
}

/// `Err(e)` with a `Debug` error type: its `Debug` text.
pub trait ErrDebug {
    /// The error for the wire.
    fn into_remote(self) -> RemoteError;
}

/// `Err(e)` with any other error type: the type's name.
pub trait ErrOpaque {
    /// The error for the wire.
    fn into_remote(self) -> RemoteError;
}

impl<E: std::fmt::Display + Serialize> ErrWithValue for &&&&ErrValue<E> {
    fn into_remote(self) -> RemoteError {
        RemoteError {
            message: format!("{:#}", self.0),
            value: crate::transport::frame::encode(&self.0)
                .ok()
                .map(|bytes| bytes.to_vec()),
        }
    }
}

impl<E: std::fmt::Display> ErrDisplay for &&&ErrValue<E> {
    fn into_remote(self) -> RemoteError {
        remote_error(&self.0)
    }
}

impl<E: std::fmt::Debug> ErrDebug for &&ErrValue<E> {
    fn into_remote(self) -> RemoteError {
        RemoteError {
            message: format!("{:?}", self.0),
            value: None,
        }
    }
}

impl<E> ErrOpaque for &ErrValue<E> {
    fn into_remote(self) -> RemoteError {
        RemoteError {
            message: format!("an error of type `{}`", std::any::type_name::<E>()),
            value: None,
        }
    }
}

/// Turns any error value into a [`RemoteError`] (used by generated code): its message and, when
/// its type is `Serialize`, the value itself.
#[doc(hidden)]
#[macro_export]
macro_rules! __remote_error {
    ($e:expr) => {{
        #[allow(unused_imports)]
        use $crate::codegen::errors::{
            ErrDebug as _, ErrDisplay as _, ErrOpaque as _, ErrWithValue as _,
        };
        (&&&&$crate::codegen::ErrValue($e)).into_remote()
    }};
}

/// Turns a courier method's error into the [`RemoteError`] sent back to the caller (its message
/// only).
pub fn remote_error<E: std::fmt::Display>(e: E) -> RemoteError {
    RemoteError {
        message: format!("{e:#}"),
        value: None,
    }
}

/// The message of a panic payload, for [`CallError::Panicked`] and node failures.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-string payload".to_string()
    }
}

/// An error and its sources, `outer: inner: innermost`: how an error becomes a line of text
/// (a failure report, a process's last word). Errors of this crate keep their sources out of
/// their own message, so nothing is said twice.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

/// Where else a launch type refused by `lp::launch` runs, for its error.
fn elsewhere(launch_type: &crate::LaunchType) -> &'static str {
    match launch_type {
        crate::LaunchType::Sim { .. } => "; a test runs it with `lp::sim::Sim`",
        _ => "",
    }
}
