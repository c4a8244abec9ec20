//! The seed program end to end: `lpc check`, then `lpc run` in `local_mt` and `local_mp`, as a
//! user would from the README.

use lp_tests::support::{binary, run};
use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

const SEED: &str = "examples/consumer_producers/consumer_producers.lp";

fn lpc() -> Command {
    Command::new(binary("lpc"))
}

#[test]
fn check_prints_one_summary_line() {
    let mut command = lpc();
    command.args(["check", SEED]);
    let out = run(command, Duration::from_secs(60));
    assert_eq!(out.status, Some(0), "{out:#?}");
    assert_eq!(out.stdout, "");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "expected a one-line summary: {out:#?}");
    assert!(lines[0].contains("no problems"), "{out:#?}");
}

/// Runs the seed program with four producers and checks what the consumer logged.
fn run_seed(launch_type: &str) -> String {
    let mut command = lpc();
    command.args([
        "run",
        SEED,
        "--launch-type",
        launch_type,
        "--",
        "--num_producers",
        "4",
    ]);
    let out = run(command, Duration::from_secs(240));
    assert_eq!(out.status, Some(0), "{out:#?}");
    let all = out.all();
    for step in 0..10 {
        let expected = format!("[consumer] step {step}: [{step}, {step}, {step}, {step}]");
        assert!(all.contains(&expected), "missing `{expected}` in:\n{all}");
    }
    all
}

#[test]
fn seed_runs_in_local_mt() {
    run_seed("local_mt");
}

#[test]
fn seed_runs_in_local_mp_as_separate_processes() {
    let all = run_seed("local_mp");
    let labels: BTreeSet<&str> = all
        .lines()
        .filter_map(|l| l.strip_prefix('['))
        .filter_map(|l| l.split_once(']').map(|(label, _)| label))
        .collect();
    for label in [
        "consumer",
        "producer/0",
        "producer/1",
        "producer/2",
        "producer/3",
    ] {
        assert!(
            labels.contains(label),
            "no output line from `{label}`:\n{all}"
        );
    }
    // The consumer logs each producer's pid: five processes, four distinct producer pids.
    let pids_line = all
        .lines()
        .find(|l| l.contains("producer pids: ["))
        .unwrap_or_else(|| panic!("no pid line in:\n{all}"));
    let inside = pids_line.split_once('[').map(|x| x.1).unwrap_or_default();
    let inside = inside.split_once('[').map(|x| x.1).unwrap_or_default();
    let pids: BTreeSet<&str> = inside.trim_end_matches(']').split(", ").collect();
    assert_eq!(
        pids.len(),
        4,
        "producers should be four distinct processes: {pids_line}"
    );
}

/// With 8 producers that each take 200 ms per call, 10 steps take about 2 s when the calls of a
/// step run in parallel, and 16 s when they do not.
fn parallel(launch_type: &str) {
    let mut command = Command::new(binary("slow_consumer_producers"));
    command.args([
        "--lp_launch_type",
        launch_type,
        "--num_producers",
        "8",
        "--delay",
        "200ms",
    ]);
    let out = run(command, Duration::from_secs(120));
    assert_eq!(out.status, Some(0), "{out:#?}");
    let all = out.all();
    assert!(
        all.contains("[consumer] step 9: [9, 9, 9, 9, 9, 9, 9, 9]"),
        "{all}"
    );
    // The run includes launching nine processes; sequential calls alone would take 16 s.
    assert!(
        out.elapsed < Duration::from_secs(10),
        "10 steps × 8 producers × 200 ms took {:?}: calls did not run in parallel\n{all}",
        out.elapsed
    );
}

#[test]
fn calls_run_in_parallel_in_local_mt() {
    parallel("local_mt");
}

#[test]
fn calls_run_in_parallel_in_local_mp() {
    parallel("local_mp");
}

#[test]
fn local_mp_output_to_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut command = Command::new(binary("consumer_producers"));
    command
        .args([
            "--lp_launch_type",
            "local_mp",
            "--lp_terminal",
            "output_to_files",
            "--lp_log_dir",
        ])
        .arg(dir.path());
    let out = run(command, Duration::from_secs(120));
    assert_eq!(out.status, Some(0), "{out:#?}");
    assert!(
        !out.all().contains("step 9"),
        "node output went to the terminal: {out:#?}"
    );
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap_or_default();
    assert!(
        read("consumer.log").contains("step 9: [9, 9]"),
        "consumer.log: {}",
        read("consumer.log")
    );
    for producer in ["producer_0.log", "producer_1.log"] {
        assert!(
            read(producer).contains("producer up in process"),
            "{producer}: {}",
            read(producer)
        );
    }
}
