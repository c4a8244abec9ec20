//! The launch's parent thread: every process a `local_mp` launch starts (its fork server, or
//! each node's when spawned from the binary) is started from it. `PR_SET_PDEATHSIG`, which
//! makes those processes die with the launcher, follows the *thread* that started a process:
//! started from whichever thread launched, they would die when that thread exits (a
//! blocking-pool thread, after its keep-alive), however long the launch runs. This thread lives
//! until the last holder of the launch's [`Parent`] lets go, once its processes are gone.

use std::sync::mpsc;

use tokio::sync::oneshot;

/// Work for the parent thread.
type Job = Box<dyn FnOnce() + Send>;

/// The launch's parent thread; it ends once every holder dropped this.
pub(crate) struct Parent {
    jobs: mpsc::Sender<Job>,
}

impl Parent {
    /// Starts the thread, in the current runtime's context (a process spawned there with
    /// `tokio::process` is reaped by this runtime).
    pub(crate) fn start() -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let runtime = tokio::runtime::Handle::current();
        std::thread::Builder::new()
            .name("lp-launch".into())
            .spawn(move || {
                let _runtime = runtime.enter();
                for job in queue {
                    job();
                }
            })?;
        Ok(Parent { jobs })
    }

    /// Runs `work` on the parent thread after what came before it, without waiting for it.
    pub(crate) fn post(&self, work: impl FnOnce() + Send + 'static) {
        let _ = self.jobs.send(Box::new(work));
    }

    /// Runs `work` on the parent thread and returns what it returned.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> std::io::Result<T> {
        let (tx, rx) = oneshot::channel();
        self.post(move || {
            let _ = tx.send(work());
        });
        rx.await
            .map_err(|_| std::io::Error::other("the launch's parent thread is gone"))
    }
}
