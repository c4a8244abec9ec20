//! Row: `local_mt` at scale. The benchmark program with 10,000 and then 100,000 idle couriers is
//! launched, and every courier is called once, all calls at once (the seed program's first
//! step, at scale); the time from the launch to the last answer. Linear means the 100,000-node
//! figure is at most ten times the 10,000-node one. Each runs in a process of its own
//! (`lp-bench scale NODES`), so that the memory it leaves behind does not slow the other rows'
//! launches (a large launcher forks slowly).

use std::time::Instant;

use lp::{LaunchOptions, LaunchType};
use lp_bench::bench::{make_program, Params};

use crate::report::{Pair, Report, Row};

/// The smaller and the larger program's idle couriers.
const NODES: [u32; 2] = [10_000, 100_000];

/// Launches `nodes` idle couriers (and the server) under `test_mt`, calls each one's `pid` at
/// once, and stops; milliseconds from the launch to the last answer.
pub async fn first_step(nodes: u32) -> f64 {
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

/// [`first_step`] in a process of its own (`lp-bench scale NODES`), on a current-thread runtime
/// as the other rows' callers.
fn in_a_process(nodes: u32) -> f64 {
    let exe = std::env::current_exe().expect("the lp-bench binary");
    let output = std::process::Command::new(exe)
        .args(["scale", &nodes.to_string()])
        .output()
        .expect("lp-bench scale runs");
    assert!(
        output.status.success(),
        "lp-bench scale {nodes}: {output:?}"
    );
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .expect("lp-bench scale prints milliseconds")
}

/// Adds the row.
pub fn rows(report: &mut Report) {
    let small = in_a_process(NODES[0]);
    let large = in_a_process(NODES[1]);
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
