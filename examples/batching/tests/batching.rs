//! The batching example: batches really form, every caller gets its own answer, in one
//! process, as processes, and as the program binary run in `local_mp`.

use batching::batching::{make_program, Params};
use batching::nodes::Stats;
use lp::{LaunchOptions, LaunchType};

/// 64 concurrent calls through the test's own handle: answered from batches of up to 8.
async fn calls_form_batches(launch_type: LaunchType) -> lp::Result<()> {
    let mut program = make_program(Params {
        num_clients: 0,
        calls_per_client: 0,
    });
    program.server.disable_run();
    let server_ref = program.server.id();
    let options = LaunchOptions::new().binary(env!("CARGO_BIN_EXE_batching"));
    let running = lp::launch_with(program, launch_type, options).await?;
    let server = running.handle(server_ref);
    let answers = lp::join_all((0..64).map(|x| server.compute(x))).await;
    for (x, answer) in answers.into_iter().enumerate() {
        assert_eq!(answer?, x as u64 + 1, "call {x} got its own answer");
    }
    let Stats {
        calls,
        batches,
        largest,
    } = server.stats().await?;
    assert_eq!(calls, 64);
    assert!(largest > 1 && largest <= 8, "largest batch {largest}");
    assert!(batches < 64, "{batches} batches for 64 concurrent calls");
    running.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_mt() -> lp::Result<()> {
    calls_form_batches(LaunchType::TestMt).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_mp() -> lp::Result<()> {
    calls_form_batches(LaunchType::TestMp).await
}

#[test]
fn the_program_runs_to_its_end_in_local_mp() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_batching"))
        .args(["--lp_launch_type", "local_mp", "--num_clients", "8"])
        .output()
        .expect("the program runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let line = stdout
        .lines()
        .find(|l| l.contains("calls answered in"))
        .unwrap_or_else(|| panic!("no statistics line:\n{stdout}\n{stderr}"));
    // `[clients/0] 400 calls answered in N batches (largest L)`
    let numbers: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    let [_, calls, batches, largest] = numbers[..] else {
        panic!("unexpected statistics line: {line}");
    };
    assert_eq!(calls, 400, "{line}");
    assert!(batches < calls, "batches formed: {line}");
    assert!(largest > 1, "{line}");
}
