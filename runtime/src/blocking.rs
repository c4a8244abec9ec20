//! Where synchronous user code (a constructor, a synchronous method or `run`) runs: on a
//! blocking thread of the runtime, so it cannot stall the async tasks of its process — or, on a
//! simulated host, inline on the simulation's one thread, so the schedule stays a function of
//! the seed (a slow synchronous method then holds its host, as a slow one holds a thread).
//!
//! A synchronous *method* known to be fast runs inline on the task serving its call: the hop to
//! a blocking thread costs several microseconds, many times what most methods take. Each
//! method's running time is learned from its calls ([`Clock`]); a method that has taken
//! [`INLINE_BELOW`] or more on average, or once took [`SLOW`], runs on a blocking thread again.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{OnceLock, PoisonError, RwLock};
use std::time::{Duration, Instant};

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

/// Runs a synchronous method's `work` inside `span`: inline when its [`Clock`] says it is fast
/// and the runtime has other worker threads to run the other tasks meanwhile; otherwise as
/// [`off_runtime`]. `None` when the runtime shut down before it ran.
pub(crate) async fn method<T: Send + 'static>(
    clock: &'static Clock,
    span: &tracing::Span,
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    if clock.is_fast() && other_workers() {
        let started = Instant::now();
        let done = span.in_scope(work);
        clock.record(started.elapsed());
        return Some(done);
    }
    let span = span.clone();
    off_runtime(move || {
        let _entered = span.enter();
        let started = Instant::now();
        let done = work();
        clock.record(started.elapsed());
        done
    })
    .await
}

/// Whether this thread is a worker of a multi-threaded runtime: a method run inline on it
/// leaves the other tasks to the other workers (on a current-thread runtime it would stall
/// them all).
fn other_workers() -> bool {
    tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread)
}

/// Below this average running time a method runs inline.
pub(crate) const INLINE_BELOW: Duration = Duration::from_micros(50);

/// One call this long sends its method back to blocking threads at once.
pub(crate) const SLOW: Duration = Duration::from_millis(1);

/// The learned running time of one synchronous method of one node type, shared by every node
/// of the type: an exponentially weighted moving average, in nanoseconds (`u64::MAX` until a
/// first call returned: an unknown method runs on a blocking thread).
pub(crate) struct Clock {
    average_ns: AtomicU64,
}

impl Clock {
    /// The clock of the method whose work has the type `site` (each generated dispatch arm is
    /// a closure type of its own), created on first use and kept for the process's life.
    pub(crate) fn of(site: TypeId) -> &'static Clock {
        static CLOCKS: OnceLock<RwLock<HashMap<TypeId, &'static Clock>>> = OnceLock::new();
        let clocks = CLOCKS.get_or_init(Default::default);
        if let Some(clock) = clocks
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&site)
        {
            return clock;
        }
        let mut clocks = clocks.write().unwrap_or_else(PoisonError::into_inner);
        clocks.entry(site).or_insert_with(|| {
            Box::leak(Box::new(Clock {
                average_ns: AtomicU64::new(u64::MAX),
            }))
        })
    }

    /// Whether the method is known to be fast.
    fn is_fast(&self) -> bool {
        self.average_ns.load(Ordering::Relaxed) < INLINE_BELOW.as_nanos() as u64
    }

    /// Folds one call's running time into the average (weight 1/8); a call of [`SLOW`] or more
    /// sets it.
    fn record(&self, took: Duration) {
        let took = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX - 1);
        let _ = self
            .average_ns
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |average| {
                Some(match average {
                    u64::MAX => took,
                    _ if took >= SLOW.as_nanos() as u64 => took.max(average),
                    average => average - average / 8 + took / 8,
                })
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_method_runs_inline_once_known_fast_and_leaves_once_slow() {
        struct Site;
        let clock = Clock::of(TypeId::of::<Site>());
        assert!(std::ptr::eq(clock, Clock::of(TypeId::of::<Site>())));
        assert!(!clock.is_fast(), "unknown: a blocking thread");
        clock.record(Duration::from_micros(2));
        assert!(clock.is_fast());
        clock.record(Duration::from_millis(5));
        assert!(!clock.is_fast(), "one slow call is enough");
        for _ in 0..64 {
            clock.record(Duration::from_micros(2));
        }
        assert!(clock.is_fast(), "fast again on average");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_fast_method_runs_on_the_calling_thread_a_slow_one_elsewhere() {
        struct Fast;
        struct Sleepy;
        let here = std::thread::current().id();
        let (fast, sleepy) = (
            Clock::of(TypeId::of::<Fast>()),
            Clock::of(TypeId::of::<Sleepy>()),
        );
        let thread = || std::thread::current().id();
        // The first call learns; the next ones run where their clock says.
        let span = tracing::Span::none();
        method(fast, &span, thread).await;
        assert_eq!(method(fast, &span, thread).await, Some(here));
        let nap = || std::thread::sleep(Duration::from_millis(2));
        method(sleepy, &span, nap).await;
        assert_ne!(method(sleepy, &span, thread).await, Some(here));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn nothing_runs_inline_on_a_current_thread_runtime() {
        struct OneThread;
        let clock = Clock::of(TypeId::of::<OneThread>());
        let here = std::thread::current().id();
        let thread = || std::thread::current().id();
        let span = tracing::Span::none();
        method(clock, &span, thread).await;
        assert_ne!(method(clock, &span, thread).await, Some(here));
    }
}
