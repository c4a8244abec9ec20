//! `program_wait` run as its binary in both local launch types: every node sees the stop, in
//! its own way, and the launcher exits cleanly.

use std::time::{Duration, Instant};

use lp::{LaunchOptions, LaunchType};
use program_wait::program_wait::{make_program, Params};

/// How long one run may take before the test fails.
const LIMIT: Duration = Duration::from_secs(60);

// ANCHOR: binary
/// Runs the binary with `args`; returns its exit code and everything it printed.
async fn run(args: &[&str]) -> (Option<i32>, String) {
    let run = lp::testing::run_binary(env!("CARGO_BIN_EXE_program_wait"), args, LIMIT).await;
    (run.code, run.output)
}

#[tokio::test]
async fn every_node_sees_the_stop_in_local_mt_and_local_mp() {
    for launch_type in ["local_mt", "local_mp"] {
        let args = ["--lp_launch_type", launch_type, "--stop_after", "300ms"];
        let (code, out) = run(&args).await;
        assert_eq!(code, Some(0), "{launch_type}: a clean stop exits 0: {out}");
        for line in [
            "[stopper] stopping the program",
            "[waiter] stopped",
            "[ticker/0] stopped after",
            "[ticker/1] stopped after",
            "[poller] stopped after",
            "[spawner] stopped with 3 tasks",
        ] {
            assert!(
                out.contains(line),
                "{launch_type}: missing `{line}` in:\n{out}"
            );
        }
    }
}
// ANCHOR_END: binary

/// Launched from a test, the program runs until the stopper stops it, not before.
async fn stops_after_the_delay(launch_type: LaunchType) -> lp::Result<()> {
    let stop_after = Duration::from_millis(300);
    let program = make_program(Params {
        num_tickers: 3,
        stop_after,
    });
    let options = LaunchOptions::new().binary(env!("CARGO_BIN_EXE_program_wait"));
    let start = Instant::now();
    let running = lp::launch_with(program, launch_type, options).await?;
    tokio::time::timeout(LIMIT, running.wait()).await??;
    assert!(
        start.elapsed() >= stop_after,
        "{launch_type}: stopped after {:?}",
        start.elapsed()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_mt_stops_after_the_delay() -> lp::Result<()> {
    stops_after_the_delay(LaunchType::TestMt).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_mp_stops_after_the_delay() -> lp::Result<()> {
    stops_after_the_delay(LaunchType::TestMp).await
}
