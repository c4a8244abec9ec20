//! What a node's `run` sees: its identity and the program's stop signal.

use std::future::Future;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::LaunchType;

/// A node's view of the running program, passed to [`Run::run`] / [`BlockingRun::run`].
///
/// Cloning is cheap; every clone refers to the same node.
#[derive(Clone)]
pub struct Context {
    inner: Arc<ContextInner>,
}

struct ContextInner {
    /// The node's label (`consumer`, `producer/3`), for logs and errors.
    label: String,
    /// The node's index in its group, `None` for a single node.
    replica: Option<usize>,
    /// Cancelled when the program stops (whoever asked); what `wait_for_stop` waits on.
    stop: CancellationToken,
    /// How `stop()` reaches every other node: in-process it is the same token, in a child
    /// process it is a message to the launcher.
    stopper: Stopper,
    /// How the program was launched.
    launch_type: LaunchType,
}

/// How a node asks the whole program to stop.
#[derive(Clone)]
pub(crate) enum Stopper {
    /// Every node is in this process: cancelling the program token reaches all of them.
    Local,
    /// A process of a multi-process launch: tell the launcher (or the cluster coordinator),
    /// which stops every process, this one included. Returns whether the request got there.
    Launcher(Arc<dyn Fn() -> bool + Send + Sync>),
}

impl Context {
    pub(crate) fn new(
        label: String,
        replica: Option<usize>,
        stop: CancellationToken,
        stopper: Stopper,
        launch_type: LaunchType,
    ) -> Self {
        Context {
            inner: Arc::new(ContextInner {
                label,
                replica,
                stop,
                stopper,
                launch_type,
            }),
        }
    }

    /// Stops the whole program (every node of it), like Launchpad's `lp.stop()`.
    ///
    /// Returns at once; nodes see [`is_stopping`](Self::is_stopping) and have the grace period
    /// (`--lp_termination_notice_secs`) to return from `run` before they are killed.
    pub fn stop(&self) {
        if let Stopper::Launcher(tell) = &self.inner.stopper {
            // The launcher stops every process, this one included. Until then this process
            // keeps serving, so that no other node finds it gone before it hears of the stop.
            if self.inner.stop.is_cancelled() || tell() {
                return;
            }
        }
        self.inner.stop.cancel();
    }

    /// Waits until the program is stopping.
    pub async fn wait_for_stop(&self) {
        self.inner.stop.cancelled().await
    }

    /// Waits until the program is stopping or `timeout` has passed; true when it is stopping
    /// (Launchpad's `wait_for_stop(timeout)`: a `run` loop that works every `timeout`).
    pub async fn wait_for_stop_timeout(&self, timeout: std::time::Duration) -> bool {
        tokio::time::timeout(timeout, self.inner.stop.cancelled())
            .await
            .is_ok()
    }

    /// Whether the program is stopping; a `run` loop should return soon once it is.
    pub fn is_stopping(&self) -> bool {
        self.inner.stop.is_cancelled()
    }

    /// The program's stop signal as a token, e.g. for `tokio::select!` or child tasks.
    pub fn stop_token(&self) -> CancellationToken {
        self.inner.stop.clone()
    }

    /// This node's label, e.g. `consumer` or `producer/3`.
    pub fn label(&self) -> &str {
        &self.inner.label
    }

    /// This node's index in its group, or `None` for a node that is not in a group.
    pub fn replica(&self) -> Option<usize> {
        self.inner.replica
    }

    /// How the program was launched (Launchpad's `launch_type`): e.g. a node that writes
    /// files may put them elsewhere on a cluster.
    pub fn launch_type(&self) -> LaunchType {
        self.inner.launch_type
    }

    /// Calls `hook` once, as soon as the program starts stopping (Launchpad's
    /// `register_stop_handler`): to close a file, wake a blocked thread, flush a buffer. It
    /// runs on the runtime, so it should be quick; a `run` may still be running meanwhile.
    pub fn on_stop(&self, hook: impl FnOnce() + Send + 'static) {
        let stop = self.inner.stop.clone();
        let wait = async move {
            stop.cancelled().await;
            hook();
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn(wait)),
            Err(_) => {
                if let Some(runtime) = crate::launch::fallback_runtime() {
                    drop(runtime.spawn(wait));
                }
            }
        }
    }
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("label", &self.inner.label)
            .field("replica", &self.inner.replica)
            .field("stopping", &self.is_stopping())
            .field("launch_type", &self.inner.launch_type)
            .finish()
    }
}

/// An asynchronous `run`, called once at program entry (concurrently with serving, for a
/// courier). Users write `async fn run(&self, ctx: lp::Context) -> lp::Result<()>`.
///
/// Returning `Err` or panicking stops the program with a failure naming this node.
pub trait Run: Send + Sync + 'static {
    /// The node's main loop.
    fn run(&self, ctx: Context) -> impl Future<Output = crate::Result<()>> + Send;
}

/// A synchronous `run`, called once at program entry on a blocking thread, where the
/// `*_blocking` client methods may be used.
///
/// Returning `Err` or panicking stops the program with a failure naming this node.
pub trait BlockingRun: Send + Sync + 'static {
    /// The node's main loop.
    fn run(&self, ctx: Context) -> crate::Result<()>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn wait_for_stop_with_a_timeout() {
        let ctx = Context::new(
            "n".into(),
            None,
            CancellationToken::new(),
            Stopper::Local,
            LaunchType::TestMt,
        );
        assert!(!ctx.wait_for_stop_timeout(Duration::from_secs(5)).await);
        let other = ctx.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            other.stop();
        });
        assert!(ctx.wait_for_stop_timeout(Duration::from_secs(5)).await);
        assert!(ctx.is_stopping());
    }
}
