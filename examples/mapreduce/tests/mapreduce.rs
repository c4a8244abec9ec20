//! The word count of the distributed program against the single-process count, launched from a
//! test in one process (`test_mt`) and as processes (`test_mp`), and the binary run in
//! `local_mp`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lp::{LaunchOptions, LaunchType};
use mapreduce::mapreduce::{make_program, Params};
use mapreduce::words::{count_dir, format_counts, Counts};

/// How long one launch or run may take before the test fails.
const LIMIT: Duration = Duration::from_secs(60);

/// The data directory the example ships.
fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data")
}

fn params(num_mappers: u32, num_reducers: u32) -> Params {
    Params {
        input_dir: data_dir().display().to_string(),
        output: String::new(),
        num_mappers,
        num_reducers,
    }
}

/// The single-process count, checked against counts made outside Rust (`tr | sort | uniq -c`),
/// so that the reference itself is right.
fn expected() -> Counts {
    let counts = count_dir(&data_dir()).expect("the data directory is readable");
    assert_eq!(counts.values().sum::<u64>(), 392);
    assert_eq!(counts["the"], 25);
    assert_eq!(counts["of"], 24);
    assert_eq!(counts["ishmael"], 1);
    counts
}

/// Launches the program without the coordinator's own job, runs jobs through the
/// coordinator's handle, and compares them with the single-process count.
async fn counts_match(launch_type: LaunchType, num_mappers: u32, num_reducers: u32) {
    let mut program = make_program(params(num_mappers, num_reducers));
    program.coordinator.disable_run();
    let coordinator = program.coordinator.id();
    let options = LaunchOptions::new().binary(env!("CARGO_BIN_EXE_mapreduce"));
    let running = lp::launch_with(program, launch_type, options)
        .await
        .expect("the program launches");
    let coordinator = running.handle(coordinator);
    let expected = expected();
    let jobs = async {
        // Twice: a second job starts from empty reducers.
        for job in 0..2 {
            let counts = coordinator
                .count(data_dir())
                .await
                .expect("the job succeeds");
            assert_eq!(
                counts, expected,
                "{launch_type} with {num_mappers} mappers and {num_reducers} reducers, job {job}"
            );
        }
        // A directory that is not there is a clear error, and the coordinator keeps serving.
        let missing = coordinator.count(data_dir().join("missing")).await;
        let error = missing
            .expect_err("counting a missing directory fails")
            .to_string();
        assert!(error.contains("cannot read input directory"), "{error}");
        assert_eq!(
            coordinator.count(data_dir()).await.ok(),
            Some(expected.clone())
        );
    };
    tokio::time::timeout(LIMIT, jobs)
        .await
        .expect("the jobs finish in time");
    tokio::time::timeout(LIMIT, running.stop())
        .await
        .expect("the program stops in time")
        .expect("every node stops cleanly");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_mt_counts_like_one_process() {
    for (num_mappers, num_reducers) in [(1, 1), (3, 2), (4, 5)] {
        counts_match(LaunchType::TestMt, num_mappers, num_reducers).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_mp_counts_like_one_process() {
    counts_match(LaunchType::TestMp, 3, 2).await;
}

/// Runs the binary with `args`; returns its exit code and everything it printed.
async fn run(args: &[&str]) -> (Option<i32>, String) {
    let run = lp::testing::run_binary(env!("CARGO_BIN_EXE_mapreduce"), args, LIMIT).await;
    (run.code, run.output)
}

#[tokio::test]
async fn local_mp_writes_the_counts_and_exits_0() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let output = dir.path().join("counts.txt");
    let data = data_dir();
    let args = [
        "--lp_launch_type",
        "local_mp",
        "--input_dir",
        data.to_str().expect("a UTF-8 path"),
        "--output",
        output.to_str().expect("a UTF-8 path"),
        "--num_mappers",
        "4",
        "--num_reducers",
        "3",
    ];
    let (code, out) = run(&args).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("[coordinator] 392 words"), "{out}");
    assert!(out.contains("[coordinator] 25 the"), "{out}");
    let written = std::fs::read_to_string(&output).expect("the counts were written");
    assert_eq!(written, format_counts(&expected()));
}

#[tokio::test]
async fn a_missing_input_dir_fails_naming_the_coordinator() {
    let missing = data_dir().join("missing");
    let args = ["--input_dir", missing.to_str().expect("a UTF-8 path")];
    let (code, out) = run(&args).await;
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("node `coordinator` failed"), "{out}");
    assert!(out.contains("cannot read input directory"), "{out}");
}
