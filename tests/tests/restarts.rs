//! Restart policies, with real processes (`test_mp`) and in process (`test_mt`): a killed
//! courier process comes back and the next call reaches it; a worker that fails is rebuilt and
//! run again until it succeeds; past `max` restarts, the failure stops the program.

use std::path::Path;
use std::time::Duration;

use lp::{CallError, LaunchOptions, LaunchType, Running};
use lp_tests::restarts::{make_program, Params};

fn options() -> LaunchOptions {
    LaunchOptions::new().binary(env!("CARGO_BIN_EXE_restarts"))
}

fn params(attempts: &Path, failures: u32) -> Params {
    Params {
        attempts_file: attempts.display().to_string(),
        failures,
    }
}

/// The crasher's attempts so far.
fn attempts(file: &Path) -> usize {
    std::fs::read_to_string(file).map_or(0, |s| s.lines().count())
}

/// Waits (bounded) until the crasher made `n` attempts.
async fn until_attempts(file: &Path, n: usize) {
    for _ in 0..200 {
        if attempts(file) >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the crasher made {} attempts, not {n}", attempts(file));
}

async fn launch(launch_type: LaunchType, params: Params) -> Running {
    lp::launch_with(make_program(params), launch_type, options())
        .await
        .expect("launch")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_courier_process_is_restarted_and_reached_again() {
    let program = make_program(Params::default());
    let flaky = program.flaky.refs();
    let running = lp::launch_with(program, LaunchType::TestMp, options())
        .await
        .expect("launch");
    let handles = running.handles(&flaky);
    let first = handles[0].pid().await.expect("pid");
    let in_flight = tokio::spawn({
        let handle = handles[0].clone();
        async move { handle.slow(60_000).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let killed = std::process::Command::new("kill")
        .args(["-9", &first.to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let lost = tokio::time::timeout(Duration::from_secs(10), in_flight)
        .await
        .expect("the call in flight fails fast")
        .expect("joins");
    assert!(
        matches!(lost, Err(CallError::Unavailable { .. })),
        "the call in flight is lost: {lost:?}"
    );
    let second = tokio::time::timeout(Duration::from_secs(20), handles[0].pid())
        .await
        .expect("bounded")
        .expect("the next call reaches the restarted node");
    assert_ne!(first, second, "a new process");
    let age = handles[0].age_ms().await.expect("age");
    let survivor = handles[1].age_ms().await.expect("age");
    assert!(
        age < survivor,
        "the restarted node was built anew ({age} ms old, the other {survivor} ms)"
    );
    assert!(
        !running.is_stopping(),
        "a restart does not stop the program"
    );
    running.stop().await.expect("a clean stop after a restart");
}

async fn a_failing_worker_is_restarted_until_it_succeeds(launch_type: LaunchType) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("attempts");
    let running = launch(launch_type, params(&file, 2)).await;
    until_attempts(&file, 3).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(attempts(&file), 3, "two failures, then success");
    assert!(!running.is_stopping(), "restarted failures do not stop it");
    running.stop().await.expect("clean stop");
}

async fn past_max_restarts_the_failure_stops_the_program(launch_type: LaunchType) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("attempts");
    let running = launch(launch_type, params(&file, 5)).await;
    let outcome = tokio::time::timeout(Duration::from_secs(30), running.wait())
        .await
        .expect("the program stops by itself");
    let error = outcome.expect_err("the crasher fails").to_string();
    assert!(
        error.contains("crasher") && error.contains("attempt 3 of `crasher` fails on purpose"),
        "the third failure (after 2 restarts) is the program's: {error}"
    );
    assert_eq!(attempts(&file), 3, "no restart after the last");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_until_success_mt() {
    a_failing_worker_is_restarted_until_it_succeeds(LaunchType::TestMt).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_until_success_mp() {
    a_failing_worker_is_restarted_until_it_succeeds(LaunchType::TestMp).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarts_run_out_mt() {
    past_max_restarts_the_failure_stops_the_program(LaunchType::TestMt).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarts_run_out_mp() {
    past_max_restarts_the_failure_stops_the_program(LaunchType::TestMp).await
}
