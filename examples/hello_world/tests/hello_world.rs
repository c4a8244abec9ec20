//! `hello_world` run as its binary in both local launch types and under `sim` (its blocking
//! `run` on the simulation thread), and launched from a test.

use std::time::Duration;

use hello_world::hello_world::{make_program, Params};
use lp::LaunchType;

/// How long one run of the binary may take before the test fails.
const LIMIT: Duration = Duration::from_secs(60);

/// Runs the binary with `args`; returns its exit code and everything it printed.
async fn run(args: &[&str]) -> (Option<i32>, String) {
    let run = lp::testing::run_binary(env!("CARGO_BIN_EXE_hello_world"), args, LIMIT).await;
    (run.code, run.output)
}

#[tokio::test]
async fn greets_in_local_mt_local_mp_and_sim() {
    for launch_type in ["local_mt", "local_mp", "sim"] {
        let (code, out) = run(&["--lp_launch_type", launch_type, "--name", "Rust"]).await;
        assert_eq!(code, Some(0), "{launch_type}: {out}");
        assert!(
            out.contains("[greeter] Hello Rust!"),
            "{launch_type}: {out}"
        );
    }
}

#[tokio::test]
async fn greets_the_world_by_default() {
    let (code, out) = run(&[]).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("[greeter] Hello World!"), "{out}");
}

/// The program ends by itself when its only node returns.
#[tokio::test]
async fn test_mt_ends_when_the_greeter_returns() -> lp::Result<()> {
    let program = make_program(Params {
        name: "test".into(),
    });
    let running = lp::launch(program, LaunchType::TestMt).await?;
    tokio::time::timeout(LIMIT, running.wait()).await??;
    Ok(())
}
