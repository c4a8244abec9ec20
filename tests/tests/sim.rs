//! `sim` runs the faults program (`tests/faults.lp`) on simulated hosts: a crash applies the
//! restart policy, and a node without one fails the program, naming it; partitions and pauses
//! hold calls until they end; deadlines and `Duration` params follow the simulated clock; a
//! `process` block ends with its first finished node; faults drawn from a seed replay exactly;
//! `#[lp::nonblocking]` methods answer in place.

use std::time::Duration;

use lp::sim::{Chaos, Fault, Sim, SimError, SimOutcome};
use lp_tests::fault_nodes::Victim;
use lp_tests::faults::{make_program, Params};

fn params(mode: &str, target: &str) -> Params {
    Params {
        mode: mode.into(),
        target: target.into(),
        ..Params::default()
    }
}

/// The events of `outcome` that mention `what`.
fn count(outcome: &SimOutcome, what: &str) -> usize {
    outcome
        .trace
        .iter()
        .filter(|e| e.what.contains(what))
        .count()
}

#[test]
fn a_crash_without_a_restart_policy_fails_the_program_naming_the_node() {
    let program = make_program(params("calls", "victim"));
    let victim = program.victim.id();
    let outcome = Sim::new(1)
        .at(Duration::from_secs(2), Fault::crash(victim))
        .run(program);
    let Err(SimError::Program(lp::LaunchError::NodeFailed { node, error, .. })) = &outcome.result
    else {
        panic!("the victim's crash fails the program: {outcome}");
    };
    assert_eq!(node, "victim", "{outcome}");
    assert!(error.contains("its host crashed"), "{outcome}");
    assert!(outcome.elapsed >= Duration::from_secs(2), "{outcome}");
    assert!(outcome.elapsed < Duration::from_secs(3), "{outcome}");
}

#[test]
fn crashed_nodes_with_a_restart_policy_come_back_and_calls_go_on() {
    let program = make_program(params("chaos", "phoenix"));
    let phoenixes = program.phoenix.refs();
    let mut sim = Sim::new(2);
    for second in 1..=5 {
        sim = sim.at(Duration::from_secs(second), Fault::crash(&phoenixes));
    }
    let outcome = sim.run_with(program, |_| async {
        tokio::time::sleep(Duration::from_secs(8)).await;
        Ok(())
    });
    outcome.result.as_ref().expect("the program stops cleanly");
    assert_eq!(count(&outcome, "crashed (fault)"), 5, "{outcome}");
    assert_eq!(
        count(&outcome, "restarted"),
        10,
        "two phoenixes, five crashes: {outcome}"
    );
}

/// The idle program on simulated hosts from `seed`, its victim paused from 1 s for `pause`,
/// with `test` calling the victim.
fn with_victim_paused<F, Fut>(seed: u64, pause: Duration, test: F) -> SimOutcome
where
    F: FnOnce(lp::Handle<Victim>) -> Fut + 'static,
    Fut: std::future::Future<Output = lp::Result<()>> + 'static,
{
    let program = make_program(params("idle", "victim"));
    let victim = program.victim.id();
    Sim::new(seed)
        .at(Duration::from_secs(1), Fault::pause(victim, pause))
        .run_with(program, move |nodes| test(nodes.handle(victim)))
}

#[test]
fn a_partition_holds_calls_until_it_heals_and_deadlines_follow_the_simulated_clock() {
    let outcome = with_victim_paused(3, Duration::from_secs(60), |v| async move {
        v.ping().await?;
        tokio::time::sleep(Duration::from_secs(2)).await;
        // Paused: a call with a deadline fails at its deadline, in simulated time.
        let started = tokio::time::Instant::now();
        let late = lp::Handle::with_deadline(&v, Duration::from_secs(5))
            .ping()
            .await;
        lp::ensure!(
            matches!(late, Err(lp::CallError::DeadlineExceeded { .. })),
            "{late:?}"
        );
        lp::ensure!(started.elapsed() == Duration::from_secs(5));
        // One without waits for the pause to end (60 s after it began), then is answered.
        v.ping().await?;
        lp::ensure!(tokio::time::Instant::now() - started >= Duration::from_secs(50));
        Ok(())
    });
    outcome.result.as_ref().expect("the test passes");
    assert!(outcome.elapsed >= Duration::from_secs(61), "{outcome}");
    assert_eq!(count(&outcome, "resumed"), 1, "{outcome}");
}

/// A `#[lp::nonblocking]` method answers under `sim` where its call is served, as it does over
/// a socket: concurrent calls each count once, and a paused host holds its calls like any other.
#[test]
fn nonblocking_methods_answer_under_sim_and_a_pause_holds_them() {
    let outcome = with_victim_paused(7, Duration::from_secs(30), |v| async move {
        let mut counts = lp::try_join_all((0..10).map(|_| v.tick())).await?;
        counts.sort_unstable();
        lp::ensure!(counts == (1..=10).collect::<Vec<u64>>(), "{counts:?}");
        tokio::time::sleep(Duration::from_secs(2)).await;
        let started = tokio::time::Instant::now();
        lp::ensure!(v.tick().await? == 11);
        let held = started.elapsed();
        lp::ensure!(held >= Duration::from_secs(25), "held for {held:?} only");
        Ok(())
    });
    outcome.result.as_ref().expect("the test passes");
    assert_eq!(count(&outcome, "resumed"), 1, "{outcome}");
}

#[test]
fn a_process_block_ends_with_its_first_finished_node_in_simulated_time() {
    let program = make_program(Params {
        sprint: Duration::from_secs(600),
        ..params("idle", "victim")
    });
    let real = std::time::Instant::now();
    let outcome = Sim::new(4).run_with(program, |_| async {
        tokio::time::sleep(Duration::from_secs(660)).await;
        Ok(())
    });
    outcome.result.as_ref().expect("the program stops cleanly");
    let relay = outcome
        .trace
        .iter()
        .find(|e| e.node == "relay" && e.what == "finished")
        .unwrap_or_else(|| panic!("the relay block finished: {outcome}"));
    assert!(
        relay.at >= Duration::from_secs(600) && relay.at < Duration::from_secs(601),
        "{outcome}"
    );
    println!("11 simulated minutes in {:?}", real.elapsed());
}

#[test]
fn faults_drawn_from_a_seed_replay_exactly() {
    let run = |seed| {
        let program = make_program(params("chaos", "phoenix"));
        let phoenixes = program.phoenix.refs();
        let victim = program.victim.id();
        let chaos = Chaos::new()
            .crash(&phoenixes)
            .partition(&phoenixes, victim)
            .pause(&phoenixes)
            .every(Duration::from_millis(400));
        Sim::new(seed).chaos(chaos).run_with(program, |_| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok(())
        })
    };
    let (first, again, other) = (run(5), run(5), run(6));
    first.result.as_ref().expect("the program stops cleanly");
    assert_eq!(first.trace, again.trace);
    assert_ne!(first.trace, other.trace);
    assert!(count(&first, "(fault)") >= 5, "{first}");
}

#[test]
fn a_launch_type_sim_is_refused_by_lp_launch_with_a_pointer_to_lp_sim() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let refused = runtime.block_on(lp::launch(
        make_program(Params::default()),
        lp::LaunchType::Sim { seed: 1 },
    ));
    let error = refused.err().expect("refused").to_string();
    assert!(error.contains("lp::sim::Sim"), "{error}");
}

#[test]
fn a_blocking_call_under_sim_fails_its_node_saying_what_to_do() {
    let outcome = Sim::new(6).run(lp_tests::kinds::make_program(
        lp_tests::kinds::Params::default(),
    ));
    let Err(SimError::Program(lp::LaunchError::NodeFailed { node, error, .. })) = &outcome.result
    else {
        panic!("a `*_blocking` call fails its node: {outcome}");
    };
    assert!(node.starts_with("actor/"), "{outcome}");
    assert!(error.contains("under `sim`"), "{error}");
    assert!(
        error.contains("make the calling method or `run` async"),
        "{error}"
    );
}
