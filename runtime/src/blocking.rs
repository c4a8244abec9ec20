//! Where synchronous user code (a constructor, a synchronous method or `run`) runs: on a
//! blocking thread of the runtime, so it cannot stall the async tasks of its process — or, on a
//! simulated host, inline on the simulation's one thread, so the schedule stays a function of
//! the seed (a slow synchronous method then holds its host, as a slow one holds a thread); or,
//! for a synchronous method called by a thread that blocks until it returns (a `*_blocking`
//! client call), inline on that thread ([`waiting`]): it waits either way, and the hop to
//! another thread (6–10 µs) is saved.

use std::cell::Cell;

thread_local! {
    /// Whether this thread is blocked in a `*_blocking` call (see [`waiting`]).
    static WAITING: Cell<bool> = const { Cell::new(false) };
}

/// Runs `wait` (a `block_on` of a `*_blocking` client call) with this thread marked as one that
/// may block: a synchronous method the call reaches in this process runs inline on it.
pub(crate) fn waiting<T>(wait: impl FnOnce() -> T) -> T {
    /// Restores the mark on the way out, even when unwinding.
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            WAITING.with(|w| w.set(self.0));
        }
    }
    let _restore = Restore(WAITING.with(|w| w.replace(true)));
    wait()
}

/// Whether this thread is blocked waiting for a `*_blocking` call to return: then a
/// synchronous method may run on it rather than on another thread.
pub(crate) fn may_block() -> bool {
    WAITING.with(Cell::get)
}

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
