//! The actor-learner program learns and stops by itself in one process (`test_mt`) and as
//! processes (`test_mp`), with the learner and the replay buffer sharing one; a killed actor is
//! restarted and the program still finishes cleanly; the binary prints its summary and exits 0.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use actor_learner::actor_learner::{make_program, Params};
use actor_learner::learner::{LearnerStats, Summary};
use lp::{LaunchOptions, LaunchType};

/// How long one launch, run or stop may take before the test fails.
const LIMIT: Duration = Duration::from_secs(60);

fn options() -> LaunchOptions {
    LaunchOptions::new().binary(env!("CARGO_BIN_EXE_actor_learner"))
}

fn params(num_actors: u32, num_steps: u64, summary_file: &Path) -> Params {
    Params {
        num_actors,
        num_steps,
        summary_file: summary_file.display().to_string(),
        ..Params::default()
    }
}

/// The summary the learner wrote when it was done.
fn read_summary(file: &Path) -> Summary {
    let json = std::fs::read_to_string(file).expect("the learner wrote its summary");
    serde_json::from_str(&json).expect("the summary is JSON of a `Summary`")
}

/// What every finished run must show: the policy learned ([`assert_policy_learned`]), and
/// actors that pulled parameters the learner published.
fn assert_learned(summary: &Summary, num_actors: usize, num_steps: u64) {
    assert_policy_learned(summary, num_steps);
    assert_eq!(summary.actor_versions.len(), num_actors);
    for (actor, pulled) in summary.actor_versions.iter().enumerate() {
        let pulled = pulled.unwrap_or_else(|| panic!("actor {actor} answered with a version"));
        assert!(
            pulled > 0 && pulled <= num_steps,
            "actor {actor} pulled learned parameters: version {pulled}"
        );
    }
}

/// `num_steps` steps on full batches, a policy that got better than it started and now walks
/// straight to the reward.
fn assert_policy_learned(summary: &Summary, num_steps: u64) {
    let batch_size = u64::from(Params::default().batch_size);
    let LearnerStats {
        steps,
        trajectories,
        first_mean_reward,
        final_mean_reward,
        greedy_reward,
        version,
    } = summary.stats;
    assert_eq!(steps, num_steps);
    assert_eq!(trajectories, num_steps * batch_size);
    assert_eq!(version, num_steps, "one version per step");
    assert_eq!(summary.policy.version, num_steps);
    assert!(
        final_mean_reward >= 0.9,
        "the final policy reaches the reward: {:?}",
        summary.stats
    );
    assert!(
        final_mean_reward - first_mean_reward >= 0.2,
        "the reward improved: {:?}",
        summary.stats
    );
    assert_eq!(greedy_reward, 1.0, "the greedy policy walks right");
}

/// Launches the whole program and waits (bounded) for it to stop by itself.
async fn runs_to_its_end(launch_type: LaunchType) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("summary.json");
    let program = make_program(params(3, 300, &file));
    let running = lp::launch_with(program, launch_type, options())
        .await
        .expect("the program launches");
    tokio::time::timeout(LIMIT, running.wait())
        .await
        .unwrap_or_else(|_| panic!("{launch_type}: the program did not stop within {LIMIT:?}"))
        .expect("the program stops cleanly");
    assert_learned(&read_summary(&file), 3, 300);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_mt_learns_and_stops_by_itself() {
    runs_to_its_end(LaunchType::TestMt).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_mp_learns_and_stops_by_itself() {
    runs_to_its_end(LaunchType::TestMp).await;
}

/// Launches without the learner's own `run`, checks where every node runs, then trains through
/// the learner's handle.
async fn trains_through_the_handle(launch_type: LaunchType) {
    let mut program = make_program(params(3, 0, Path::new("")));
    program.learner.disable_run();
    let learner = program.learner.id();
    let replay = program.replay.id();
    let actors = program.actor.refs();
    let running = lp::launch_with(program, launch_type, options())
        .await
        .expect("the program launches");
    let (learner, replay, actors) = (
        running.handle(learner),
        running.handle(replay),
        running.handles(&actors),
    );
    let checks = async {
        let learner_pid = learner.pid().await.expect("learner pid");
        let replay_pid = replay.pid().await.expect("replay pid");
        let mut actor_pids = Vec::new();
        for actor in &actors {
            actor_pids.push(actor.pid().await.expect("actor pid"));
        }
        let test_pid = std::process::id();
        assert_eq!(
            learner_pid, replay_pid,
            "learner and replay share a process"
        );
        if launch_type == LaunchType::TestMp {
            let mut distinct = actor_pids.clone();
            distinct.sort_unstable();
            distinct.dedup();
            assert_eq!(
                distinct.len(),
                3,
                "each actor its own process: {actor_pids:?}"
            );
            assert!(!actor_pids.contains(&learner_pid), "{actor_pids:?}");
            assert_ne!(learner_pid, test_pid, "the learner is not the test process");
            assert!(!actor_pids.contains(&test_pid), "{actor_pids:?}");
        } else {
            assert_eq!(
                learner_pid, test_pid,
                "test_mt nodes run in the test process"
            );
            assert!(actor_pids.iter().all(|&pid| pid == test_pid));
        }

        let before = learner.params().await.expect("params");
        assert_eq!(before.version, 0, "nothing learned yet");
        assert_eq!(before.table.greedy_reward(), -1.0, "an untrained table");
        let stats = learner.train(100).await.expect("training succeeds");
        assert_eq!(stats.steps, 100);
        assert_eq!(stats.trajectories, 1_600);
        assert_eq!(stats.greedy_reward, 1.0, "{stats:?}");
        assert_eq!(learner.params().await.expect("params").version, 100);
        let sampled = replay.stats().await.expect("replay stats");
        assert_eq!(sampled.sampled, 1_600, "every sample went to the learner");
        // Each trajectory is sampled 4 times on average, so 1600 samples took about 400 inserts:
        // at least 397 (the last batch needed credit left, 4 * 397 > 1584), at most 432 (actors
        // get no further than 2 * min_size = 32 trajectories ahead).
        assert!(
            (397..=432).contains(&sampled.inserted),
            "the rate limiter paced the actors: {sampled:?}"
        );
        let mut played = 0;
        for actor in &actors {
            let stats = actor.stats().await.expect("actor stats");
            assert!(stats.params_version.is_some(), "every actor pulled");
            played += stats.trajectories;
        }
        // Read while actors go on (up to the limit): each has at most one insert in flight, the
        // replay counts it before the actor does.
        let inserted = replay.stats().await.expect("replay stats").inserted;
        assert!(
            (sampled.inserted - 3..=inserted).contains(&played),
            "every trajectory an actor played was inserted: {played} played, {inserted} inserted"
        );
    };
    tokio::time::timeout(LIMIT, checks)
        .await
        .unwrap_or_else(|_| panic!("{launch_type}: the checks did not finish within {LIMIT:?}"));
    tokio::time::timeout(LIMIT, running.stop())
        .await
        .expect("the program stops in time")
        .expect("every node stops cleanly");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_mt_trains_through_the_learners_handle() {
    trains_through_the_handle(LaunchType::TestMt).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_mp_colocates_learner_and_replay_and_trains_through_the_handle() {
    trains_through_the_handle(LaunchType::TestMp).await;
}

/// Polls `f` every 20ms until it returns `Some`, for at most `LIMIT`.
async fn until<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    mut f: impl FnMut() -> F,
) -> T {
    let poll = async {
        loop {
            if let Some(value) = f().await {
                return value;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(LIMIT, poll)
        .await
        .unwrap_or_else(|_| panic!("{what} within {LIMIT:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_mp_a_killed_actor_is_restarted_and_the_program_still_finishes() {
    const NUM_STEPS: u64 = 6_000;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("summary.json");
    let program = make_program(params(3, NUM_STEPS, &file));
    let (actors, learner) = (program.actor.refs(), program.learner.id());
    let running = lp::launch_with(program, LaunchType::TestMp, options())
        .await
        .expect("the program launches");
    let (actors, learner) = (running.handles(&actors), running.handle(learner));
    let victim = &actors[1];

    // Let the victim get some way, so that a fresh one is told apart by its counters.
    let before = until("actor 1 plays 300 episodes", || async {
        let stats = victim.stats().await.ok()?;
        (stats.trajectories >= 300).then_some(stats)
    })
    .await;
    let old_pid = victim.pid().await.expect("actor 1's pid");
    let killed = Command::new("kill")
        .args(["-9", &old_pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success(), "kill -9 {old_pid}");

    // The restart policy brings it back: a new process, built anew, that plays again.
    let new_pid = until("actor 1 comes back in a new process", || async {
        victim.pid().await.ok().filter(|&pid| pid != old_pid)
    })
    .await;
    let fresh = victim.stats().await.expect("the restarted actor answers");
    assert!(
        fresh.trajectories < before.trajectories,
        "the restarted actor starts from its constructor's state: {fresh:?} after {before:?}"
    );
    until("the restarted actor plays", || async {
        let stats = victim.stats().await.ok()?;
        (stats.trajectories > 0 && stats.params_version.is_some()).then_some(())
    })
    .await;
    let progress = learner.stats().await.expect("learner stats");
    assert!(
        progress.steps < NUM_STEPS,
        "the restart happened while the learner was learning: {progress:?}"
    );
    assert!(
        !running.is_stopping(),
        "a restart does not stop the program"
    );

    tokio::time::timeout(LIMIT, running.wait())
        .await
        .unwrap_or_else(|_| panic!("the program did not stop within {LIMIT:?}"))
        .expect("the program still stops cleanly");
    assert_ne!(new_pid, old_pid);
    assert_learned(&read_summary(&file), 3, NUM_STEPS);
}

/// Runs the binary with `args`; returns its exit code and everything it printed.
async fn run(args: &[&str]) -> (Option<i32>, String) {
    let run = lp::testing::run_binary(env!("CARGO_BIN_EXE_actor_learner"), args, LIMIT).await;
    (run.code, run.output)
}

#[tokio::test]
async fn the_binary_prints_the_summary_and_exits_0() {
    for launch_type in ["local_mt", "local_mp"] {
        let args = [
            "--lp_launch_type",
            launch_type,
            "--num_actors",
            "3",
            "--num_steps",
            "200",
        ];
        let (code, out) = run(&args).await;
        assert_eq!(code, Some(0), "{launch_type}: a clean stop exits 0:\n{out}");
        for line in [
            "[learner] 200 steps, 3200 trajectories consumed",
            "in the last; greedy reward 1\n",
            "[learner] parameters version 200; the versions actors last pulled: [",
        ] {
            assert!(
                out.contains(line),
                "{launch_type}: missing `{line}` in:\n{out}"
            );
        }
        let pulled = out
            .lines()
            .find_map(|l| l.split_once("last pulled: [").map(|(_, v)| v))
            .and_then(|v| v.strip_suffix(']'))
            .unwrap_or_else(|| panic!("{launch_type}: no versions line:\n{out}"));
        assert_eq!(
            pulled.split(", ").count(),
            3,
            "one version per actor: {pulled}"
        );
        if launch_type == "local_mp" {
            assert!(
                out.contains("[learning] [learner]"),
                "the learner runs in the `learning` process:\n{out}"
            );
        }
    }
}

#[tokio::test]
async fn bad_params_fail_naming_the_learner() {
    for (args, error) in [
        (["--num_actors", "0"], "no actors to learn from"),
        (["--batch_size", "0"], "`batch_size` must be at least 1"),
    ] {
        let (code, out) = run(&args).await;
        assert_eq!(code, Some(1), "{args:?}:\n{out}");
        assert!(out.contains("node `learner` failed"), "{args:?}:\n{out}");
        assert!(out.contains(error), "{args:?}:\n{out}");
    }
}

/// Under `sim`, with actors crashing and partitioned from the learning process at random
/// (drawn from the seed), the program still learns and stops by itself; the run is minutes of
/// simulated time (its real time is in docs/sim.md: a benchmark, not an assertion).
#[test]
fn learns_under_sim_with_crashes_and_partitions() {
    use lp::sim::{Chaos, Sim};
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("summary.json");
    let program = make_program(params(3, 1_000, &file));
    let (actors, learner) = (program.actor.refs(), program.learner.id());
    let chaos = Chaos::new()
        .crash(&actors)
        .partition(&actors, learner)
        .every(Duration::from_secs(20))
        .lasting(Duration::from_secs(5));
    let started = std::time::Instant::now();
    let outcome = Sim::new(11)
        .latency(Duration::from_millis(1), Duration::from_millis(100))
        .chaos(chaos)
        .run(program);
    println!(
        "{:?} of simulated time in {:?}",
        outcome.elapsed,
        started.elapsed()
    );
    println!("{outcome}");
    assert!(outcome.result.is_ok(), "{outcome}");
    let count = |what: &str| {
        outcome
            .trace
            .iter()
            .filter(|e| e.what.contains(what))
            .count()
    };
    assert!(count("crashed (fault)") > 0, "{outcome}");
    assert!(count("partitioned from") > 0, "{outcome}");
    assert_eq!(count("restarted"), count("crashed (fault)"), "{outcome}");
    assert!(outcome.elapsed >= Duration::from_secs(60), "{outcome}");
    // An actor partitioned away when the learner asks for the summary does not answer.
    let summary = read_summary(&file);
    assert_policy_learned(&summary, 1_000);
    assert_eq!(summary.actor_versions.len(), 3);
    assert!(summary.actor_versions.iter().flatten().any(|&v| v > 0));
}
