//! The seed program's test (SPEC §4): launch without the consumer's run, drive it through its
//! handle, stop — in one process (test_mt) and as separate processes (test_mp).

use consumer_producers::consumer_producers::{make_program, Params};
use lp::{LaunchOptions, LaunchType};

// ANCHOR: test_mt
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_mt() -> lp::Result<()> {
    let mut program = make_program(Params { num_producers: 2 });
    program.consumer.disable_run();
    let c = program.consumer.id();
    let producers = program.producer.refs();
    let running = lp::launch(program, LaunchType::TestMt).await?;
    let consumer = running.handle(c);
    assert_eq!(lp::Handle::methods(&consumer), ["step", "num_producers"]);
    assert_eq!(consumer.step(7).await?, vec![7, 7]);
    assert_eq!(consumer.num_producers().await?, 2);
    let pids = lp::join_all(running.handles(&producers).iter().map(|p| p.pid())).await;
    for pid in pids {
        assert_eq!(
            pid?,
            std::process::id(),
            "test_mt nodes run in the test process"
        );
    }
    running.stop().await?;
    Ok(())
}
// ANCHOR_END: test_mt

// ANCHOR: test_mp
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_mp() -> lp::Result<()> {
    let mut program = make_program(Params { num_producers: 2 });
    program.consumer.disable_run();
    let c = program.consumer.id();
    let producers = program.producer.refs();
    let options = LaunchOptions::new().binary(env!("CARGO_BIN_EXE_consumer_producers"));
    let running = lp::launch_with(program, LaunchType::TestMp, options).await?;
    let consumer = running.handle(c);
    assert_eq!(consumer.step(7).await?, vec![7, 7]);
    assert_eq!(consumer.num_producers().await?, 2);
    let mut pids = Vec::new();
    for p in running.handles(&producers) {
        pids.push(p.pid().await?);
    }
    assert_ne!(pids[0], pids[1], "each producer is its own process");
    assert!(
        !pids.contains(&std::process::id()),
        "producers are not the test process"
    );
    running.stop().await?;
    Ok(())
}
// ANCHOR_END: test_mp
