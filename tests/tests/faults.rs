//! Fault injection with real processes: a node process killed with SIGKILL mid-program makes
//! calls to it fail fast (never hang) and stops the program with the node named.

use lp::{LaunchOptions, LaunchType};
use lp_tests::kinds::{make_program, Params};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_node_process_fails_calls_and_the_program() {
    let program = make_program(Params::default());
    let echo = program.echo.refs();
    let options = LaunchOptions::new().binary(env!("CARGO_BIN_EXE_kinds"));
    let running = lp::launch_with(program, LaunchType::TestMp, options)
        .await
        .expect("launch");
    let echoes = running.handles(&echo);
    let pid = echoes[0].pid().await.expect("pid");
    let killed = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());

    let start = Instant::now();
    let call = tokio::time::timeout(Duration::from_secs(10), echoes[1].index())
        .await
        .expect("a call to a dead node must not hang");
    assert!(
        call.is_err(),
        "a call to a killed node cannot succeed: {call:?}"
    );
    assert!(start.elapsed() < Duration::from_secs(10));

    let outcome = tokio::time::timeout(Duration::from_secs(30), running.wait())
        .await
        .expect("the program stops by itself");
    let error = outcome.expect_err("a killed node fails the program");
    let text = error.to_string();
    assert!(
        text.contains("echoes") && text.contains("signal 9"),
        "the failure names the process and the signal: {text}"
    );
    let lp::LaunchError::NodeFailed { failures, .. } = error else {
        panic!("a node failure, not {error:?}");
    };
    assert_eq!(
        failures[0].node, "echoes",
        "the cause comes first: {failures:?}"
    );
}
