//! Calls that start when made: [`Start::start`] turns a call into one in flight.
//!
//! A call (`handle.work(x)`) is a future, and like every Rust future it does nothing until it
//! is first polled: `let a = h.work(1); slow().await; a.await` runs `work` after `slow`.
//! Launchpad's `futures.work(x)` and Ray's `.remote()` start at once; `h.work(1).start()` does
//! too, and the [`InFlight`] it returns is awaited for the result later.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Starts a call now (on the current tokio runtime, else the launch's), rather than when it is
/// first awaited. Implemented for every call of a handle (and every `Send + 'static` future).
pub trait Start: Future + Sized + Send + 'static
where
    Self::Output: Send + 'static,
{
    /// Starts it; await the [`InFlight`] for its result. Dropping the `InFlight` cancels the
    /// call, as dropping the call itself would.
    fn start(self) -> InFlight<Self::Output> {
        let task = match (
            tokio::runtime::Handle::try_current(),
            crate::launch::fallback_runtime(),
        ) {
            (Ok(current), _) => current.spawn(self),
            (Err(_), Some(launch)) => launch.spawn(self),
            // No runtime at all: it starts when first awaited, inside the awaiting one.
            (Err(_), None) => return InFlight(Pending::Later(Box::pin(self))),
        };
        InFlight(Pending::Running(task))
    }
}

impl<F> Start for F
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
}

/// A call in flight, started by [`Start::start`]: await it for the call's result.
#[must_use = "a call in flight is cancelled when dropped; await it"]
pub struct InFlight<T>(Pending<T>);

enum Pending<T> {
    /// Running as a task of its own.
    Running(tokio::task::JoinHandle<T>),
    /// Not started: there was no runtime to start it on.
    Later(Pin<Box<dyn Future<Output = T> + Send>>),
}

impl<T> Future for InFlight<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        match &mut self.0 {
            Pending::Later(call) => call.as_mut().poll(cx),
            Pending::Running(task) => match Pin::new(task).poll(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(Ok(value)) => Poll::Ready(value),
                // The call panicked (calls return their errors, so only a bug does): the
                // awaiting task panics with it, as it would have awaiting the call itself.
                Poll::Ready(Err(e)) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                // Only `Drop` aborts the task, and then no one polls it.
                Poll::Ready(Err(_)) => Poll::Pending,
            },
        }
    }
}

impl<T> Drop for InFlight<T> {
    fn drop(&mut self) {
        if let Pending::Running(task) = &self.0 {
            task.abort();
        }
    }
}

impl<T> std::fmt::Debug for InFlight<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match &self.0 {
            Pending::Running(task) if task.is_finished() => "InFlight(done)",
            Pending::Running(_) => "InFlight(running)",
            Pending::Later(_) => "InFlight(not started)",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    #[tokio::test]
    async fn a_started_call_runs_before_it_is_awaited() {
        let order = Arc::new(AtomicUsize::new(0));
        let started = {
            let order = order.clone();
            async move { order.fetch_add(1, Ordering::SeqCst) }
        }
        .start();
        tokio::time::sleep(Duration::from_millis(20)).await;
        // It ran during the sleep: it saw 0, and the counter is 1 before the await.
        assert_eq!(order.load(Ordering::SeqCst), 1);
        assert_eq!(started.await, 0);
    }

    #[tokio::test]
    async fn dropping_it_cancels_the_call() {
        let ran = Arc::new(AtomicUsize::new(0));
        let call = {
            let ran = ran.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                ran.fetch_add(1, Ordering::SeqCst);
            }
        }
        .start();
        drop(call);
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(ran.load(Ordering::SeqCst), 0);
    }
}
