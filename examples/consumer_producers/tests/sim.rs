//! The seed program under `sim`: it runs to its end on simulated hosts; the same seed gives the
//! same run, byte for byte; other seeds, other schedules.

use std::collections::BTreeSet;
use std::process::Command;

use consumer_producers::consumer_producers::{make_program, Params};
use lp::sim::Sim;

/// The binary's output (stdout, then stderr) under `sim` with `seed`; the process id, the one
/// real thing the program prints, is replaced by `PID`.
fn output(seed: u64) -> String {
    let child = Command::new(env!("CARGO_BIN_EXE_consumer_producers"))
        .args(["--lp_launch_type", "sim", "--lp_seed", &seed.to_string()])
        .args(["--num_producers", "3"])
        .output()
        .expect("the program binary runs");
    assert!(child.status.success(), "{child:?}");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&child.stdout),
        String::from_utf8_lossy(&child.stderr)
    );
    // Every node runs in the one process: each line prints the same id.
    let pid = text
        .lines()
        .find_map(|l| l.split("in process ").nth(1))
        .expect("the producers say their process")
        .to_string();
    text.replace(&pid, "PID")
}

#[test]
fn one_seed_runs_the_same_byte_for_byte_and_other_seeds_differ() {
    let first = output(7);
    assert!(first.contains("lp: sim: seed 7"), "{first}");
    assert!(first.contains("[consumer] step 9: [9, 9, 9]"), "{first}");
    assert_eq!(first, output(7), "the same seed, the same output");
    let outputs: BTreeSet<String> = (1..=4).map(output).collect();
    assert!(outputs.len() > 1, "four seeds, one schedule: {outputs:#?}");
}

#[test]
fn the_seed_program_runs_to_its_end_in_the_api() {
    let outcome = Sim::new(7).run(make_program(Params { num_producers: 4 }));
    outcome.result.as_ref().expect("the program stops cleanly");
    let again = Sim::new(7).run(make_program(Params { num_producers: 4 }));
    assert_eq!(outcome.trace, again.trace, "the same seed, the same trace");
    assert_eq!(outcome.elapsed, again.elapsed);
    let text = outcome.to_string();
    assert!(text.contains("[consumer] called stop()"), "{text}");
    assert!(text.contains("[producer/3] serving"), "{text}");
}
