//! The `kinds` program (`tests/kinds.lp`) in `test_mt` and `test_mp`: every argument kind the
//! generator supports reaches the Rust constructors with the right value, and calls of every
//! shape (sync, async, `#[lp::nonblocking]`, `Result`, nested, through a handle cycle, blocking)
//! work.

use lp::{CallError, LaunchOptions, LaunchType};
use lp_tests::kinds::{make_program, Params};
use std::time::{Duration, Instant};

async fn exercise(launch_type: LaunchType) {
    let is_mp = matches!(launch_type, LaunchType::TestMp);
    let program = make_program(Params::default());
    let resources = &program.learner.settings().resources;
    assert_eq!(
        (resources.cpus, resources.memory.as_deref()),
        (Some(0.5), Some("64Mi"))
    );
    let learner = program.learner.id();
    let echo = program.echo.refs();
    let options = LaunchOptions::new().binary(env!("CARGO_BIN_EXE_kinds"));
    let running = lp::launch_with(program, launch_type, options)
        .await
        .expect("launch");
    let learner = running.handle(learner);

    assert_eq!(
        learner.describe().await.expect("describe"),
        "learner rate=0.5 verbose=true patience=250ms weights=[1, 2, 3]"
    );
    // The blocking client works from async code too (on a multi-threaded runtime).
    assert_eq!(
        learner.describe_blocking().expect("describe_blocking"),
        learner.describe().await.expect("describe")
    );

    // Three blocking actors report base_seed + replica * 10 (with -3 then +3 applied), and the
    // async `fn` node reports 1.
    let deadline = Instant::now() + Duration::from_secs(30);
    let seeds = loop {
        let seeds = learner.seeds().await.expect("seeds");
        if seeds.len() == 4 || Instant::now() > deadline {
            break seeds;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(seeds, vec![1, 100, 110, 120]);
    // A `#[lp::nonblocking]` method answers in place; its panic is the caller's error, and the
    // node serves on.
    assert_eq!(learner.tally(false).await.expect("tally"), 4);
    match learner.tally(true).await {
        Err(CallError::Panicked {
            method, message, ..
        }) => {
            assert_eq!(
                (method.as_str(), message.as_str()),
                ("tally", "told to panic")
            )
        }
        other => panic!("expected the panic as an error, got {other:?}"),
    }
    assert_eq!(learner.tally_blocking(false).expect("tally_blocking"), 4);

    match learner.refuse("no".into()).await {
        Err(CallError::Remote { message, .. }) => {
            assert!(message.contains("refused: no"), "{message}")
        }
        other => panic!("expected a remote error, got {other:?}"),
    }
    assert_eq!(learner.echo_index().await.expect("nested call"), 1);

    let echoes = running.handles(&echo);
    assert_eq!(echoes.len(), 2);
    for (i, echo) in echoes.iter().enumerate() {
        assert_eq!(echo.index().await.expect("index"), i as u64);
        assert_eq!(echo.total().await.expect("total"), 2);
        let described = echo.ask_learner().await.expect("call through the cycle");
        assert!(described.starts_with("learner "), "{described}");
    }
    // The `process` block colocates the echo replicas: one process, and under test_mp not ours.
    let pids = (
        echoes[0].pid().await.expect("pid"),
        echoes[1].pid().await.expect("pid"),
    );
    assert_eq!(
        pids.0, pids.1,
        "the replicas of a `process` block share a process"
    );
    let own = std::process::id();
    if is_mp {
        assert_ne!(pids.0, own);
    } else {
        assert_eq!(pids.0, own);
    }
    // Under test_mp each of the 7 processes (learner, echoes, 3 actors, announcer, quiet) has its
    // share of the vCPUs as workers, not one per vCPU each; the learner's `env` sets its own.
    if is_mp {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(
            echoes[0].workers().await.expect("workers"),
            cpus.div_ceil(7)
        );
        assert_eq!(learner.workers().await.expect("workers"), 3);
    }
    // `env { … }` reaches the node's own process under test_mp (under test_mt every node shares
    // the test's environment).
    let label = learner
        .env_var("KINDS_LABEL".into())
        .await
        .expect("env_var");
    let mode = learner.env_var("KINDS_MODE".into()).await.expect("env_var");
    if is_mp {
        assert_eq!(
            (label.as_deref(), mode.as_deref()),
            (Some("learner"), Some("test"))
        );
    } else {
        assert_eq!((label, mode), (None, None));
    }
    running.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kinds_in_test_mt() {
    exercise(LaunchType::TestMt).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kinds_in_test_mp() {
    exercise(LaunchType::TestMp).await;
}

/// The second program of `kinds.lp` shares the node types of the first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_program_in_the_same_file() {
    use lp_tests::kinds_small::{make_program, Params};
    let program = make_program(Params {});
    let learner = program.learner.id();
    let running = lp::launch(program, LaunchType::TestMt)
        .await
        .expect("launch");
    let described = running.handle(learner).describe().await.expect("describe");
    assert_eq!(
        described,
        "small rate=1 verbose=false patience=1s weights=[]"
    );
    running.stop().await.expect("clean stop");
}
