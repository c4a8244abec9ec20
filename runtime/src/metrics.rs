//! Per-method call counters of the nodes of this process: calls, errors and a latency
//! histogram per (node label, method) of the calls each served, measured on the serving side,
//! and per (node, callee, method) of the calls each made, measured on the calling side.
//!
//! Off by default: a call then costs one relaxed atomic load here. A launcher that serves a
//! dashboard turns them on ([`enable`]) in its own process (`local_mt`), through the
//! environment variable [`ENV`] in its children (`local_mp`) or its units (`k8s`, `slurm`,
//! whose coordinator serves the dashboard). Every [`PUBLISH_EVERY`], a child's host writes them to
//! `<launch dir>/<node id>.metrics.json` for the launcher to read ([`publish_to_dir`]); a
//! unit's reports them to the coordinator over its control link ([`publish_to_link`]; the
//! coordinator keeps what [`NodeStats::from_report`] accepts).
//!
//! The courier server counts each call it ran on its node's [`Methods`] ([`served`]), and keeps its node's slowest
//! recent ones ([`Slowest`]); a client
//! counts the calls its node makes on the [`Methods`] it finds once ([`made`]).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// Set (to `1`) in a child's environment when its launcher wants its counters.
pub(crate) const ENV: &str = "LP_METRICS";

/// How often a child process publishes its counters to the launch directory.
pub(crate) const PUBLISH_EVERY: Duration = Duration::from_millis(500);

/// The upper bounds of the latency histogram's buckets, in seconds (a last bucket, `+Inf`,
/// takes the rest).
pub(crate) const BUCKETS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// Whether calls are counted in this process.
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Starts counting calls in this process.
pub(crate) fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

/// Whether calls are counted in this process.
pub(crate) fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// The counters of one method.
#[derive(Default)]
pub(crate) struct Counter {
    calls: AtomicU64,
    errors: AtomicU64,
    /// The sum of the calls' times, in nanoseconds.
    nanos: AtomicU64,
    /// Calls per bucket (not cumulative), the last one past every bound.
    buckets: [AtomicU64; BUCKETS.len() + 1],
}

impl Counter {
    /// Counts one call that took `took`.
    pub(crate) fn add(&self, took: Duration, ok: bool) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if !ok {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_add(nanos, Ordering::Relaxed);
        let secs = took.as_secs_f64();
        let bucket = BUCKETS
            .iter()
            .position(|bound| secs <= *bound)
            .unwrap_or(BUCKETS.len());
        if let Some(b) = self.buckets.get(bucket) {
            b.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn stats(&self, method: &str) -> MethodStats {
        let mut cumulative = 0;
        let buckets = self
            .buckets
            .iter()
            .map(|b| {
                cumulative += b.load(Ordering::Relaxed);
                cumulative
            })
            .collect();
        MethodStats {
            method: method.to_string(),
            calls: self.calls.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            seconds: Duration::from_nanos(self.nanos.load(Ordering::Relaxed)).as_secs_f64(),
            buckets,
        }
    }
}

/// What one method of a node served so far.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct MethodStats {
    /// The method's name.
    pub(crate) method: String,
    /// Calls served (answered or failed).
    pub(crate) calls: u64,
    /// Calls that failed (the method returned `Err`, panicked, or the call was cut).
    pub(crate) errors: u64,
    /// The calls' total time, in seconds.
    pub(crate) seconds: f64,
    /// Calls that took at most each of [`BUCKETS`] (cumulative), then all of them.
    pub(crate) buckets: Vec<u64>,
}

impl MethodStats {
    /// An estimate of the `q` quantile of the calls' times (the bound of the bucket it falls
    /// in), in seconds; `None` without calls or past the last bound.
    pub(crate) fn quantile(&self, q: f64) -> Option<f64> {
        let total = *self.buckets.last()?;
        if total == 0 {
            return None;
        }
        let rank = (q * total as f64).ceil().max(1.0) as u64;
        let bucket = self.buckets.iter().position(|&n| n >= rank)?;
        BUCKETS.get(bucket).copied()
    }
}

/// What a node made of calls to one callee, by method.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct CallStats {
    /// The node called.
    pub(crate) callee: String,
    #[serde(flatten)]
    pub(crate) stats: MethodStats,
}

/// What a node served and called so far: what a child publishes, and the views show.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct NodeStats {
    /// The calls it served, by method.
    pub(crate) served: Vec<MethodStats>,
    /// The calls it made, by callee, then method.
    pub(crate) made: Vec<CallStats>,
    /// Its slowest recent traced calls, slowest first.
    pub(crate) slowest: Vec<SlowCall>,
}

/// The most a cluster unit's report of a node's counters may weigh, in bytes of JSON: the
/// coordinator keeps no report past it. A node's own counters stay far below (16 methods served
/// and 16 per callee made: about 250 bytes each).
pub(crate) const MAX_REPORTED: usize = 256 << 10;

impl NodeStats {
    /// The counters in the encoding of a `local_mp` child's file, JSON, for a cluster unit's
    /// report (the frames' encoding cannot carry the flattened fields of [`CallStats`]).
    pub(crate) fn to_report(&self) -> Option<Vec<u8>> {
        serde_json::to_vec(self).ok()
    }

    /// The counters a cluster unit reported as `json`, if the coordinator, which trusts no
    /// unit, may keep them: at most [`MAX_REPORTED`] bytes, no more methods or slow calls than
    /// a node keeps, histograms of [`BUCKETS`], chains no longer than a call's frame carries.
    pub(crate) fn from_report(json: &[u8]) -> Option<NodeStats> {
        if json.len() > MAX_REPORTED {
            return None;
        }
        let stats: NodeStats = serde_json::from_slice(json).ok()?;
        let histogram = |m: &MethodStats| m.buckets.len() == BUCKETS.len() + 1;
        let chain = |c: &SlowCall| c.chain.len() <= crate::transport::frame::MAX_CHAIN;
        let fits = stats.served.len() <= METHODS + 1
            && stats.slowest.len() <= SLOWEST
            && stats.served.iter().all(histogram)
            && stats.made.iter().all(|c| histogram(&c.stats))
            && stats.slowest.iter().all(chain);
        fits.then_some(stats)
    }
}

/// A call a node served, among its slowest recent ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SlowCall {
    pub(crate) method: String,
    /// How long it took to serve.
    pub(crate) seconds: f64,
    /// Whether it succeeded.
    pub(crate) ok: bool,
    /// The id of its trace.
    pub(crate) trace: u64,
    /// The nodes its trace went through, by id, ending with the node that served it.
    pub(crate) chain: Vec<u32>,
}

/// How many of its slowest calls a node keeps per [`WINDOW`].
const SLOWEST: usize = 5;

/// The slowest calls shown are those of the last window or two.
pub(crate) const WINDOW: Duration = Duration::from_secs(30);

/// A node's slowest recent calls: each call is compared with the fastest kept one without a
/// lock, and only a slower one takes the lock.
#[derive(Default)]
pub(crate) struct Slowest {
    /// The fastest kept call's time, in nanoseconds, once the window is full: calls no slower
    /// are not kept.
    floor: AtomicU64,
    windows: Mutex<Windows>,
}

/// The slow calls of the current window and of the one before.
#[derive(Default)]
struct Windows {
    /// When the current window started (`None`: none yet).
    started: Option<Instant>,
    current: Vec<SlowCall>,
    previous: Vec<SlowCall>,
}

impl Slowest {
    /// Keeps the call that took `took` (made by `call`, only if kept) if it is among the
    /// window's slowest.
    pub(crate) fn offer(&self, took: Duration, call: impl FnOnce() -> SlowCall) {
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        if nanos <= self.floor.load(Ordering::Relaxed) {
            return;
        }
        let mut windows = self.lock();
        let windows = &mut *windows;
        let calls = &mut windows.current;
        calls.push(call());
        calls.sort_by(|a, b| b.seconds.total_cmp(&a.seconds));
        calls.truncate(SLOWEST);
        if let (SLOWEST, Some(fastest)) = (calls.len(), calls.last()) {
            let floor = Duration::from_secs_f64(fastest.seconds).as_nanos();
            self.floor
                .store(u64::try_from(floor).unwrap_or(u64::MAX), Ordering::Relaxed);
        }
    }

    /// The window, started anew once it is over.
    fn lock(&self) -> std::sync::MutexGuard<'_, Windows> {
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        let age = windows.started.map(|started| now.duration_since(started));
        if age.is_none_or(|age| age >= WINDOW) {
            let previous = std::mem::take(&mut windows.current);
            windows.previous = match age {
                Some(age) if age < 2 * WINDOW => previous,
                _ => Vec::new(),
            };
            windows.started = Some(now);
            self.floor.store(0, Ordering::Relaxed);
        }
        windows
    }

    /// The slowest calls of the last window or two, slowest first.
    fn recent(&self) -> Vec<SlowCall> {
        let windows = self.lock();
        let mut calls: Vec<SlowCall> = windows
            .current
            .iter()
            .chain(&windows.previous)
            .cloned()
            .collect();
        calls.sort_by(|a, b| b.seconds.total_cmp(&a.seconds));
        calls.truncate(SLOWEST);
        calls
    }
}

/// How many methods a node's counters (of the calls it served, or made to one callee) tell
/// apart; calls of any further method are counted together, as [`OTHER`].
const METHODS: usize = 16;

/// The name the calls past [`METHODS`] methods are counted under.
pub(crate) const OTHER: &str = "(other methods)";

/// Counters by method: found once per node or client ([`served`], [`made`]), then each call
/// scans the few methods it has counted, without a lock.
#[derive(Default)]
pub(crate) struct Methods {
    /// Each method counted so far in the first free slot, never moved.
    slots: [OnceLock<Box<Named>>; METHODS],
    /// The calls of methods past the slots.
    other: Counter,
}

/// A method's name and counter.
type Named = (Box<str>, Counter);

impl Methods {
    /// The counter of `method`'s calls.
    pub(crate) fn counter(&self, method: &str) -> &Counter {
        for slot in &self.slots {
            let (name, counter) =
                &**slot.get_or_init(|| Box::new((method.into(), Counter::default())));
            // Taken by another method, maybe a moment ago: the next slot.
            if **name == *method {
                return counter;
            }
        }
        &self.other
    }

    /// What was counted, per method, in order of name, then [`OTHER`]'s.
    fn stats(&self) -> Vec<MethodStats> {
        let named = self.slots.iter().filter_map(OnceLock::get);
        let mut stats: Vec<MethodStats> = named.map(|slot| slot.1.stats(&slot.0)).collect();
        stats.sort_by(|a, b| a.method.cmp(&b.method));
        if self.other.calls.load(Ordering::Relaxed) > 0 {
            stats.push(self.other.stats(OTHER));
        }
        stats
    }
}

/// Every counter of this process, by node label, then method (served) or callee (made).
#[derive(Default)]
struct Registry {
    served: Mutex<HashMap<String, Arc<Methods>>>,
    /// By caller, then callee (ordered: the views list callees in order).
    made: Mutex<HashMap<String, BTreeMap<String, Arc<Methods>>>>,
    /// By node.
    slowest: Mutex<HashMap<String, Arc<Slowest>>>,
}

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Registry::default)
}

/// The counters of the calls node `node` serves (to be kept: found once per node).
pub(crate) fn served(node: &str) -> Arc<Methods> {
    let mut served = registry()
        .served
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    served.entry(node.to_string()).or_default().clone()
}

/// The counters of the calls node `caller` makes to node `callee` (to be kept: found once
/// per client).
pub(crate) fn made(caller: &str, callee: &str) -> Arc<Methods> {
    let mut made = registry()
        .made
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let callees = made.entry(caller.to_string()).or_default();
    callees.entry(callee.to_string()).or_default().clone()
}

/// The slowest recent calls node `node` served (to be kept: found once per node).
pub(crate) fn slowest(node: &str) -> Arc<Slowest> {
    let mut slowest = registry()
        .slowest
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    slowest.entry(node.to_string()).or_default().clone()
}

/// What node `node` served and called in this process so far, by method name (and callee).
pub(crate) fn snapshot(node: &str) -> NodeStats {
    let served = registry()
        .served
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(node)
        .map(|methods| methods.stats())
        .unwrap_or_default();
    let made = registry()
        .made
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let made = made
        .get(node)
        .into_iter()
        .flatten()
        .flat_map(|(callee, made)| {
            made.stats().into_iter().map(|stats| CallStats {
                callee: callee.clone(),
                stats,
            })
        })
        .collect();
    let slowest = registry()
        .slowest
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let slowest = slowest.get(node).map(|s| s.recent()).unwrap_or_default();
    NodeStats {
        served,
        made,
        slowest,
    }
}

/// Where a child publishes node `id`'s counters in the launch directory `dir`.
pub(crate) fn file(dir: &Path, id: usize) -> PathBuf {
    dir.join(format!("{id}.metrics.json"))
}

/// Reads what a child published for node `id` (nothing yet: no calls counted).
pub(crate) fn read_published(dir: &Path, id: usize) -> NodeStats {
    std::fs::read(file(dir, id))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// Starts counting calls in this process if its launcher asked for them ([`ENV`]); whether it
/// did.
pub(crate) fn enable_if_asked() -> bool {
    let asked = std::env::var_os(ENV).is_some_and(|v| v == "1");
    if asked {
        enable();
    }
    asked
}

/// In a child process whose launcher asked for counters ([`ENV`]): counts calls and publishes
/// node `id`'s (labelled `label`) to the launch directory `dir` until `stop`.
pub(crate) fn publish_to_dir(
    dir: &Path,
    id: usize,
    label: &str,
    stop: tokio_util::sync::CancellationToken,
) {
    if !enable_if_asked() {
        return;
    }
    let path = file(dir, id);
    let temporary = path.with_extension("tmp");
    publish(label, stop, move |stats| {
        // Whole files only: written aside, then renamed over the last one.
        let written = serde_json::to_vec(stats).map(|json| {
            std::fs::write(&temporary, json).and_then(|()| std::fs::rename(&temporary, &path))
        });
        matches!(written, Ok(Ok(())))
    });
}

/// In a cluster unit that counts calls (its coordinator serves a dashboard: [`ENV`]): sends
/// node `id`'s counters (labelled `label`) over the unit's control link until `stop`.
pub(crate) fn publish_to_link(
    id: usize,
    label: &str,
    stop: tokio_util::sync::CancellationToken,
    link: crate::launch::control::Reporter,
) {
    if !enabled() {
        return;
    }
    publish(label, stop, move |stats| {
        let json = stats.to_report();
        json.is_some_and(|json| link.send(crate::launch::control::Report::Stats { node: id, json }))
    });
}

/// Gives node `label`'s counters to `put` every [`PUBLISH_EVERY`] when they changed since
/// they were last put (`put` says whether they were), until `stop`.
fn publish(
    label: &str,
    stop: tokio_util::sync::CancellationToken,
    mut put: impl FnMut(&NodeStats) -> bool + Send + 'static,
) {
    let label = label.to_string();
    tokio::spawn(async move {
        let mut last = NodeStats::default();
        loop {
            let stats = snapshot(&label);
            if stats != last && put(&stats) {
                last = stats;
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(PUBLISH_EVERY) => {}
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts one call of `method` served by `node` that took `took`.
    fn record(node: &str, method: &str, took: Duration, ok: bool) {
        served(node).counter(method).add(took, ok);
    }

    #[test]
    fn counts_calls_errors_and_buckets() {
        enable();
        record("m/0", "work", Duration::from_micros(50), true);
        record("m/0", "work", Duration::from_millis(3), false);
        record("m/0", "work", Duration::from_secs(60), true);
        let stats = snapshot("m/0").served;
        assert_eq!(stats.len(), 1);
        let work = &stats[0];
        assert_eq!((work.calls, work.errors), (3, 1));
        assert_eq!(work.buckets.len(), BUCKETS.len() + 1);
        assert_eq!(work.buckets[0], 1, "50µs is in the first bucket");
        assert_eq!(
            work.buckets[BUCKETS.len() - 1],
            2,
            "60s is past every bound"
        );
        assert_eq!(work.buckets[BUCKETS.len()], 3);
        assert_eq!(work.quantile(0.1), Some(0.0001));
        assert_eq!(work.quantile(0.5), Some(0.005));
        assert_eq!(work.quantile(0.99), None);
        assert_eq!(snapshot("nobody"), NodeStats::default());
    }

    #[test]
    fn a_node_keeps_its_slowest_calls() {
        let slowest = slowest("slow/0");
        let call = |ms: u64| SlowCall {
            method: format!("m{ms}"),
            seconds: Duration::from_millis(ms).as_secs_f64(),
            ok: true,
            trace: ms,
            chain: vec![1, 2],
        };
        for ms in [5, 1, 9, 3, 7, 2, 8, 4, 6] {
            slowest.offer(Duration::from_millis(ms), || call(ms));
        }
        let kept: Vec<u64> = snapshot("slow/0").slowest.iter().map(|c| c.trace).collect();
        assert_eq!(kept, [9, 8, 7, 6, 5]);
        slowest.offer(Duration::from_millis(5), || {
            unreachable!("not slower than the floor")
        });
    }

    #[test]
    fn calls_made_are_counted_per_callee_and_method() {
        let (to_b, to_c) = (made("caller/0", "b"), made("caller/0", "c"));
        assert!(Arc::ptr_eq(&to_b, &made("caller/0", "b")), "one per pair");
        to_b.counter("f").add(Duration::from_micros(50), true);
        to_b.counter("g").add(Duration::from_micros(50), false);
        to_b.counter("f").add(Duration::from_micros(50), true);
        to_c.counter("f").add(Duration::from_micros(50), true);
        let calls: Vec<(&str, &str, u64, u64)> = Vec::new();
        let made = snapshot("caller/0").made;
        let calls = made.iter().fold(calls, |mut calls, c| {
            calls.push((&c.callee, &c.stats.method, c.stats.calls, c.stats.errors));
            calls
        });
        assert_eq!(
            calls,
            [("b", "f", 2, 0), ("b", "g", 1, 1), ("c", "f", 1, 0)]
        );
    }

    #[test]
    fn methods_past_the_slots_are_counted_together() {
        let many = Methods::default();
        for i in 0..METHODS + 2 {
            many.counter(&format!("m{i:02}"))
                .add(Duration::from_micros(1), true);
        }
        let stats = many.stats();
        assert_eq!(stats.len(), METHODS + 1);
        assert_eq!(stats[0].method, "m00");
        let other = &stats[METHODS];
        assert_eq!((other.method.as_str(), other.calls), (OTHER, 2));
    }

    /// What a counted call costs (run with `--nocapture` to see it).
    #[test]
    fn a_counted_call_costs_well_under_a_microsecond() {
        enable();
        let n = 200_000;
        let served = served("bench/0");
        let started = Instant::now();
        for _ in 0..n {
            served.counter("work").add(Duration::from_micros(20), true);
        }
        let each = started.elapsed() / n;
        eprintln!("a call served, counted: {each:?} per call");
        assert!(each < Duration::from_micros(5), "{each:?} per call");
        let to = made("bench/0", "callee");
        let started = Instant::now();
        for _ in 0..n {
            to.counter("work").add(Duration::from_micros(20), true);
        }
        let each = started.elapsed() / n;
        eprintln!("a call made, counted: {each:?} per call");
        assert!(each < Duration::from_micros(5), "{each:?} per call");
    }
}
