//! Measuring any call: sequential latency percentiles, and throughput with calls in flight.

use std::future::Future;
use std::time::{Duration, Instant};

use futures::StreamExt;

use crate::watchdog::progress;

/// p50 and p99 of sequential calls, in microseconds.
#[derive(Debug, Clone, Copy)]
pub struct Latency {
    pub p50: f64,
    pub p99: f64,
}

/// Makes `warmup` then `n` sequential calls; returns their latency percentiles.
pub async fn latency<F, Fut>(n: usize, warmup: usize, mut call: F) -> Latency
where
    F: FnMut(u64) -> Fut,
    Fut: Future<Output = ()>,
{
    for x in 0..warmup as u64 {
        call(x).await;
        progress();
    }
    let mut times: Vec<u64> = Vec::with_capacity(n);
    for x in 0..n as u64 {
        let start = Instant::now();
        call(x).await;
        times.push(start.elapsed().as_nanos() as u64);
        progress();
    }
    percentiles(times)
}

/// [`latency`] of a synchronous call, made on the current thread.
pub fn blocking_latency(n: usize, warmup: usize, mut call: impl FnMut(u64)) -> Latency {
    for x in 0..warmup as u64 {
        call(x);
        progress();
    }
    let mut times: Vec<u64> = Vec::with_capacity(n);
    for x in 0..n as u64 {
        let start = Instant::now();
        call(x);
        times.push(start.elapsed().as_nanos() as u64);
        progress();
    }
    percentiles(times)
}

/// p50 and p99 of `times` (nanoseconds).
fn percentiles(mut times: Vec<u64>) -> Latency {
    times.sort_unstable();
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize] as f64 / 1000.0;
    Latency {
        p50: at(0.50),
        p99: at(0.99),
    }
}

/// Calls per second over `window` from `callers` concurrent callers, each keeping `in_flight`
/// calls open.
pub async fn throughput<F, Fut>(callers: usize, in_flight: usize, window: Duration, call: F) -> f64
where
    F: Fn(u64) -> Fut + Clone,
    Fut: Future<Output = ()>,
{
    // Warm up the connections and the server's threads.
    futures::stream::iter(0..in_flight as u64 * 2)
        .map(call.clone())
        .buffer_unordered(in_flight)
        .for_each(|()| async { progress() })
        .await;
    let start = Instant::now();
    let end = start + window;
    let counts = futures::future::join_all((0..callers).map(|_| {
        let call = call.clone();
        async move {
            futures::stream::iter(0u64..)
                .take_while(|_| std::future::ready(Instant::now() < end))
                .map(call)
                .buffer_unordered(in_flight)
                .fold(0u64, |n, ()| async move {
                    progress();
                    n + 1
                })
                .await
        }
    }))
    .await;
    counts.iter().sum::<u64>() as f64 / start.elapsed().as_secs_f64()
}
