//! Calls through handles, in `test_mt` and `test_mp`, to the `faults` program's couriers:
//! when a call starts (a call is a future, started when first awaited; `.start()`
//! ([`lp::Start`]) starts it at once, like Launchpad's `futures.work(x)`), and the call
//! deadline a node's block declares (`deadline: 1s` on `phoenix`).

use lp::{CallError, Handle, LaunchOptions, LaunchType, Start};
use lp_tests::faults::{make_program, Params};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_started_call_runs_before_it_is_awaited() -> lp::Result<()> {
    for launch_type in [LaunchType::TestMt, LaunchType::TestMp] {
        let mut program = make_program(Params::default());
        program.caller.disable_run();
        let victim = program.victim.id();
        let options = LaunchOptions::new().binary(env!("CARGO_BIN_EXE_faults"));
        let running = lp::launch_with(program, launch_type, options).await?;
        let victim = running.handle(victim);
        assert_eq!(victim.tick().await?, 1);

        // ANCHOR: lazy
        // A call starts when it is first awaited: `first` runs after `second`.
        let first = victim.tick();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let second = victim.tick().await?;
        assert_eq!((first.await?, second), (3, 2));
        // ANCHOR_END: lazy

        // ANCHOR: eager
        // `.start()` starts it now; the `InFlight` it returns is awaited later.
        let first = victim.tick().start();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let second = victim.tick().await?;
        assert_eq!((first.await?, second), (4, 5));
        // ANCHOR_END: eager

        running.stop().await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nodes_deadline_applies_to_every_handle_unless_it_says_otherwise() -> lp::Result<()> {
    for launch_type in [LaunchType::TestMt, LaunchType::TestMp] {
        let mut program = make_program(Params::default());
        program.caller.disable_run();
        let (phoenix, victim) = (program.phoenix.refs(), program.victim.id());
        let options = LaunchOptions::new().binary(env!("CARGO_BIN_EXE_faults"));
        let running = lp::launch_with(program, launch_type, options).await?;
        let phoenix = running.handles(&phoenix).remove(0);
        let victim = running.handle(victim);
        // `phoenix` declares `deadline: 1s`: a call that is never answered fails after it.
        let started = std::time::Instant::now();
        let late = phoenix.hang().await;
        assert!(
            matches!(late, Err(CallError::DeadlineExceeded { .. })),
            "{launch_type}: {late:?}"
        );
        assert!(
            started.elapsed() >= Duration::from_millis(900),
            "{launch_type}"
        );
        // A handle's own deadline wins; without one, the call waits however long.
        let sooner = Handle::with_deadline(&phoenix, Duration::from_millis(100));
        let late = sooner.hang().await;
        assert!(matches!(late, Err(CallError::DeadlineExceeded { .. })));
        let patient = Handle::without_deadline(&phoenix);
        let waited = tokio::time::timeout(Duration::from_millis(1500), patient.hang()).await;
        assert!(waited.is_err(), "{launch_type}: still waiting: {waited:?}");
        // `victim` declares none.
        let waited = tokio::time::timeout(Duration::from_millis(1500), victim.hang()).await;
        assert!(waited.is_err(), "{launch_type}: still waiting: {waited:?}");
        running.stop().await?;
    }
    Ok(())
}
