//! Launch and stop latency of a `local_mp`-style program (`test_mp`: one OS process per node):
//! the seed program with 63 producers and a consumer (64 nodes). Measures launch until every
//! node answered one call, and `stop()` until every node process is gone.
//!
//! Run: `cargo build --release -p consumer_producers && cargo run --release -p lp-bench --bin stop-bench`

use consumer_producers::consumer_producers::{make_program, Params};
use lp::{LaunchOptions, LaunchType};
use std::time::{Duration, Instant};

/// The program binary next to this one (`target/release/consumer_producers`).
fn program_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let path = exe.with_file_name("consumer_producers");
    assert!(
        path.is_file(),
        "build it first: cargo build --release -p consumer_producers ({} is missing)",
        path.display()
    );
    path
}

/// (launch until all answered, stop until all gone) for `nodes` nodes.
async fn once(nodes: u32) -> (Duration, Duration) {
    let mut program = make_program(Params {
        num_producers: nodes - 1,
    });
    program.consumer.disable_run();
    let consumer = program.consumer.id();
    let producers = program.producer.refs();
    let options = LaunchOptions::new().binary(program_binary());
    let start = Instant::now();
    let running = lp::launch_with(program, LaunchType::TestMp, options)
        .await
        .expect("launch");
    let handles = running.handles(&producers);
    let answers = lp::join_all(handles.iter().map(|p| p.pid())).await;
    assert!(answers.iter().all(Result::is_ok), "every producer answers");
    running
        .handle(consumer)
        .num_producers()
        .await
        .expect("consumer answers");
    let launched = start.elapsed();
    let stop = Instant::now();
    running.stop().await.expect("clean stop");
    (launched, stop.elapsed())
}

#[tokio::main]
async fn main() {
    println!("| nodes | launch until all answered (median of 5) | stop() until all processes gone (median of 5) |");
    println!("| --- | --- | --- |");
    for nodes in [8, 64] {
        let mut launches = Vec::new();
        let mut stops = Vec::new();
        for _ in 0..5 {
            let (launch, stop) = once(nodes).await;
            launches.push(launch);
            stops.push(stop);
        }
        launches.sort();
        stops.sort();
        println!("| {nodes} | {:?} | {:?} |", launches[2], stops[2]);
    }
}
