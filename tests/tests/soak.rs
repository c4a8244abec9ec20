//! Soak: the seed program's shape at full speed, in its own test binary so that no other test's
//! processes are measured. `LP_SOAK_SECS=300 cargo test -p lp-tests --test soak -- --nocapture`
//! is the long run; the default suite runs 30 seconds.

use std::time::Duration;

use lp::{LaunchOptions, LaunchType};
use lp_tests::load::Usage;

/// The resident memory of every process under this one (the node processes and their fork
/// server), KiB.
fn children_rss_kib() -> u64 {
    lp_tests::launched::descendants(std::process::id())
        .into_iter()
        .map(|pid| Usage::of(&pid.to_string()).rss_kib)
        .sum()
}

/// The least-squares slope of `samples` (one per second), in KiB per second.
fn slope(samples: &[u64]) -> f64 {
    let n = samples.len() as f64;
    let mean_x = (n - 1.0) / 2.0;
    let mean_y = samples.iter().sum::<u64>() as f64 / n;
    let (mut num, mut den) = (0.0, 0.0);
    for (x, &y) in samples.iter().enumerate() {
        num += (x as f64 - mean_x) * (y as f64 - mean_y);
        den += (x as f64 - mean_x).powi(2);
    }
    if den == 0.0 {
        0.0
    } else {
        num / den
    }
}

/// The seed program's shape at full speed for `LP_SOAK_SECS` seconds (default 30; the
/// documented long run is 300): the node processes' memory, sampled every second, shows no
/// growth trend after the first third (warm-up).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_memory_has_no_growth_trend() {
    use lp_tests::correlation::{make_program, Params};
    let secs: u64 = std::env::var("LP_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let program = make_program(Params {
        calls: u64::MAX,
        in_flight: 64,
        num_callers: 2,
        num_servers: 4,
    });
    let options = LaunchOptions::new().binary(env!("CARGO_BIN_EXE_correlation"));
    let running = lp::launch_with(program, LaunchType::TestMp, options)
        .await
        .expect("launch");
    let mut samples = Vec::new();
    for _ in 0..secs {
        tokio::time::sleep(Duration::from_secs(1)).await;
        samples.push(children_rss_kib());
    }
    running.stop().await.expect("clean stop");
    let after_warm_up = &samples[samples.len() / 3..];
    let mean = after_warm_up.iter().sum::<u64>() as f64 / after_warm_up.len() as f64;
    let trend = slope(after_warm_up);
    println!(
        "soak: {secs} s, node processes' RSS {:?} KiB; after warm-up mean {mean:.0} KiB, \
         trend {trend:+.1} KiB/s",
        samples
    );
    // Growth over the measured window must stay under 5% of the mean memory.
    let growth = trend * after_warm_up.len() as f64;
    assert!(
        growth < mean * 0.05,
        "memory grows: {trend:+.1} KiB/s, {growth:.0} KiB over the window (mean {mean:.0} KiB): \
         {samples:?}"
    );
}
