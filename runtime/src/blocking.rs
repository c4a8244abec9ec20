//! Where synchronous user code (a constructor, a synchronous method or `run`) runs: on a
//! blocking thread of the runtime, so it cannot stall the async tasks of its process — or, on a
//! simulated host, inline on the simulation's one thread, so the schedule stays a function of
//! the seed (a slow synchronous method then holds its host, as a slow one holds a thread).

/// Runs `work` off the async tasks' threads (inline under `sim`); `None` when the runtime shut
/// down before it ran.
pub(crate) async fn off_runtime<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    if crate::transport::simulated() {
        return Some(work());
    }
    // Waiting for the thread spends none of the task's cooperative budget: a task awaiting
    // thousands of calls at once (`try_join_all`) would otherwise be woken once per 128 of them,
    // each time polling them all.
    tokio::task::unconstrained(tokio::task::spawn_blocking(work))
        .await
        .ok()
}
