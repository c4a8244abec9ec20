//! Couriers: nodes whose methods are called through handles.
//!
//! The generated code implements [`Courier`] for each interface (a courier type's own methods,
//! or a courier trait's): a request enum, a response enum and a client type; and, for each
//! courier type, [`Serve`] per interface it answers, which turns one request into a [`Reply`] —
//! the work to do. The runtime decides where that work runs (a blocking thread or a task),
//! catches its panics, and carries the result back, in process ([`client`]) or over a socket
//! ([`server`]).

pub(crate) mod batch;
pub(crate) mod client;
pub(crate) mod interface;
pub(crate) mod server;
pub(crate) mod start;
pub(crate) mod trace;

use std::future::Future;
use std::sync::Arc;

use std::panic::AssertUnwindSafe;

use futures::future::BoxFuture;
use futures::FutureExt;

use crate::error::{panic_message, CallError, RemoteError};
use crate::transport::frame::Trace;
pub use client::ClientCore;
pub use interface::{Courier, Interfaces, Serve, Served};

/// The work that answers one call, as returned by [`Serve::serve`].
pub struct Reply<R>(ReplyKind<R>);

enum ReplyKind<R> {
    /// A synchronous method: run on a blocking thread so it never stalls other nodes — or,
    /// when its method is marked `#[lp::nonblocking]` (`in_place`), where the call is served.
    Blocking {
        work: Box<dyn FnOnce() -> Result<R, RemoteError> + Send>,
        in_place: bool,
    },
    /// An `async` method: polled by the call's task, so dropping the call cancels it.
    Spawn(BoxFuture<'static, Result<R, RemoteError>>),
    /// A batched method: the call joins the node's batch queue (see [`batch`]).
    Batch(JoinBatch<R>),
}

/// Queues a batched call on its node and waits for its answer.
type JoinBatch<R> = Box<dyn FnOnce(&Host) -> BoxFuture<'static, Result<R, CallError>> + Send>;

/// The node a call is served by: its label, its span, its batch queues.
pub(crate) struct Host {
    /// The node's id: the handles its requests carry are its.
    pub(crate) id: usize,
    /// The node's label, for errors.
    pub(crate) node: Arc<str>,
    /// The node's span: handlers log with its label.
    pub(crate) span: tracing::Span,
    /// The node's batched methods.
    pub(crate) batches: batch::Batches,
    /// The counters of the calls it serves, found on its first counted call.
    served: std::sync::OnceLock<Arc<crate::metrics::Methods>>,
    /// Its slowest recent calls, found on its first traced call.
    slowest: std::sync::OnceLock<Arc<crate::metrics::Slowest>>,
}

impl Host {
    pub(crate) fn new(
        id: usize,
        node: Arc<str>,
        span: tracing::Span,
        batches: Vec<batch::Batch>,
    ) -> Self {
        Host {
            id,
            node,
            span,
            batches: batch::Batches::new(batches),
            served: std::sync::OnceLock::new(),
            slowest: std::sync::OnceLock::new(),
        }
    }

    /// Counts a call of `method` that took `took`.
    fn count(&self, method: &str, took: std::time::Duration, ok: bool) {
        let served = self
            .served
            .get_or_init(|| crate::metrics::served(&self.node));
        served.counter(method).add(took, ok);
    }

    /// Keeps a traced call among the node's slowest recent ones, if it is.
    fn offer(&self, method: &str, took: std::time::Duration, ok: bool, trace: &Trace) {
        let slowest = self
            .slowest
            .get_or_init(|| crate::metrics::slowest(&self.node));
        slowest.offer(took, || crate::metrics::SlowCall {
            method: method.to_string(),
            seconds: took.as_secs_f64(),
            ok,
            trace: trace.trace,
            chain: trace.chain.then(self.id).ids().to_vec(),
        });
    }
}

impl<R: Send + 'static> Reply<R> {
    /// A synchronous method's work, run on a blocking thread (inline on a simulated host, and on
    /// the thread of a `*_blocking` caller in this process: see [`crate::blocking`]).
    pub fn blocking(work: impl FnOnce() -> Result<R, RemoteError> + Send + 'static) -> Self {
        Reply(ReplyKind::Blocking {
            work: Box::new(work),
            in_place: false,
        })
    }

    /// A synchronous method's work that never blocks (`#[lp::nonblocking]`), run where the
    /// call is served: in the task serving its connection, or in its caller's in this process.
    pub fn nonblocking(work: impl FnOnce() -> Result<R, RemoteError> + Send + 'static) -> Self {
        Reply(ReplyKind::Blocking {
            work: Box::new(work),
            in_place: true,
        })
    }

    /// An `async` method's work, polled by the call's task.
    pub fn spawn(work: impl Future<Output = Result<R, RemoteError>> + Send + 'static) -> Self {
        Reply(ReplyKind::Spawn(Box::pin(work)))
    }
}

/// Runs a reply where it belongs, inside the serving node's span, as a step of `trace`,
/// turning its error or panic into the caller's [`CallError`]; counted for the dashboard when
/// it is on (a call dropped before it ends is not), and kept among the node's slowest recent
/// calls if it is one.
pub(crate) async fn execute<R: Send + 'static>(
    reply: Reply<R>,
    host: &Host,
    method: &str,
    trace: Option<&Trace>,
) -> Result<R, CallError> {
    // One await, counted or not: a second one would hold a second copy of the call's
    // future.
    let started = crate::metrics::enabled().then(std::time::Instant::now);
    let result = execute_unobserved(reply, host, method, trace).await;
    if let Some(started) = started {
        let took = started.elapsed();
        host.count(method, took, result.is_ok());
        if let Some(trace) = trace {
            host.offer(method, took, result.is_ok(), trace);
        }
    }
    result
}

/// [`execute`], uncounted.
async fn execute_unobserved<R: Send + 'static>(
    reply: Reply<R>,
    host: &Host,
    method: &str,
    trace: Option<&Trace>,
) -> Result<R, CallError> {
    let own_span = trace::span(&host.span, method, trace);
    let joined = match reply.0 {
        ReplyKind::Blocking { work, in_place } => {
            let (span, node) = (own_span.unwrap_or_else(|| host.span.clone()), host.id);
            let trace = trace.copied();
            let run = move || {
                let _entered = span.enter();
                trace::serving(trace.as_ref(), node, || {
                    std::panic::catch_unwind(AssertUnwindSafe(work))
                })
            };
            // A method that never blocks runs here; and a caller blocked in a `*_blocking`
            // call waits for this either way: its thread runs it, saving the hop to another.
            if in_place || crate::blocking::may_block() {
                run()
            } else {
                match crate::blocking::off_runtime(run).await {
                    Some(outcome) => outcome,
                    // The runtime is shutting down.
                    None => return Err(CallError::Cancelled),
                }
            }
        }
        // Inside the node's span at each poll, borrowed rather than cloned (a clone and its
        // drop cost the subscriber more than the call).
        ReplyKind::Spawn(mut work) => {
            let span = own_span.as_ref().unwrap_or(&host.span);
            let polled = std::future::poll_fn(|cx| {
                span.in_scope(|| trace::serving(trace, host.id, || work.as_mut().poll(cx)))
            });
            AssertUnwindSafe(polled).catch_unwind().await
        }
        ReplyKind::Batch(join) => return join(host).await,
    };
    match joined {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(e.into_call_error(&host.node, method)),
        Err(panic) => Err(CallError::Panicked {
            node: host.node.to_string(),
            method: method.to_string(),
            message: panic_message(&*panic),
        }),
    }
}

#[cfg(test)]
mod tests;
