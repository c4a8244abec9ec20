//! Where synchronous user code (a constructor, a synchronous method or `run`) runs: on a
//! blocking thread of the runtime, so it cannot stall the async tasks of its process — or, on a
//! simulated host, inline on the simulation's one thread, so the schedule stays a function of
//! the seed (a slow synchronous method then holds its host, as a slow one holds a thread).

/// Runs `work` off the async tasks' threads (inline under `sim`), starting it at once; `None`
/// when the runtime shut down before it ran. Started here rather than when first polled, the
/// future holds only the thread's handle, not `work`: it is part of every in-process call's.
pub(crate) fn off_runtime<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> impl std::future::Future<Output = Option<T>> + Send {
    let started = match crate::transport::simulated() {
        true => Err(work()),
        // Waiting for the thread spends none of the task's cooperative budget: a task
        // awaiting thousands of calls at once (`try_join_all`) would otherwise be woken once
        // per 128 of them, each time polling them all.
        false => Ok(tokio::task::unconstrained(tokio::task::spawn_blocking(
            work,
        ))),
    };
    async move {
        match started {
            Ok(thread) => thread.await.ok(),
            Err(done) => Some(done),
        }
    }
}
