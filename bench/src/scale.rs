//! Row: `local_mt` at scale. The benchmark program with 10,000 and then 100,000 idle couriers is
//! launched in this process, and every courier is called once, all calls at once (the seed
//! program's first step, at scale); the time from the launch to the last answer. Linear means
//! the 100,000-node figure is at most ten times the 10,000-node one.

use std::time::Instant;

use lp::{LaunchOptions, LaunchType};
use lp_bench::bench::{make_program, Params};

use crate::report::{Pair, Report, Row};

/// The smaller and the larger program's idle couriers.
const NODES: [u32; 2] = [10_000, 100_000];

/// Launches `nodes` idle couriers (and the server) under `test_mt`, calls each one's `pid` at
/// once, and stops; milliseconds from the launch to the last answer.
async fn first_step(nodes: u32) -> f64 {
    let program = make_program(Params { nodes });
    let idle = program.idle.refs();
    let started = Instant::now();
    let running = lp::launch_with(program, LaunchType::TestMt, LaunchOptions::new())
        .await
        .expect("launch the benchmark program");
    let handles = running.handles(&idle);
    let pids = lp::try_join_all(handles.iter().map(|h| h.pid()))
        .await
        .expect("every idle courier answers");
    let took = started.elapsed();
    assert_eq!(pids.len(), nodes as usize);
    running.stop().await.expect("stop");
    took.as_secs_f64() * 1000.0
}

/// Adds the row. Run before anything turns the dashboard's counters on in this process.
pub async fn rows(report: &mut Report) {
    let small = first_step(NODES[0]).await;
    let large = first_step(NODES[1]).await;
    let times = f64::from(NODES[1] / NODES[0]);
    report.rows.push(Row {
        name: "local_mt, 100,000 nodes: launch, then a call to every node at once".to_string(),
        unit: "ms",
        baseline: format!("{times} × the same for 10,000 nodes ({small:.0} ms): linear"),
        same: Pair {
            ours: large,
            baseline: times * small,
        },
        split: None,
        target: Some("≤ 1; under 2 s".to_string()),
    });
}
