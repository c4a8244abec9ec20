//! A `process` block that ends with its first finished node (`return_on_first_completed:
//! true;`, Launchpad's `return_on_first_completed`): in `test_mt` and `test_mp`, the `faults`
//! program's `relay` block ends when `sprinter` returns; `stayer` is stopped then, and the rest
//! of the program runs on.

use lp::{LaunchOptions, LaunchType, NodeOutcome};
use lp_tests::faults::{make_program, Params};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_ends_with_its_first_finished_node() -> lp::Result<()> {
    for launch_type in [LaunchType::TestMt, LaunchType::TestMp] {
        let mut program = make_program(Params {
            sprint: Duration::from_millis(300),
            ..Params::default()
        });
        program.caller.disable_run();
        let (sprinter, stayer, victim) = (
            program.sprinter.id(),
            program.stayer.id(),
            program.victim.id(),
        );
        let options = LaunchOptions::new().binary(env!("CARGO_BIN_EXE_faults"));
        let running = lp::launch_with(program, launch_type, options).await?;
        tokio::time::timeout(
            Duration::from_secs(20),
            running.wait_for([sprinter, stayer]),
        )
        .await
        .expect("the block ends")?;
        assert_eq!(running.outcome(sprinter), Some(NodeOutcome::Finished));
        assert_eq!(running.outcome(stayer), Some(NodeOutcome::Finished));
        assert!(!running.is_stopping(), "{launch_type}: the program runs on");
        assert_eq!(running.outcome(victim), None);
        assert!(running.handle(victim).tick().await? >= 1);
        if launch_type == LaunchType::TestMp {
            // The block's nodes said they ended; their process exits right after.
            let mut status = running.exit_status(stayer);
            for _ in 0..100 {
                if status.is_some() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                status = running.exit_status(stayer);
            }
            assert!(status.is_some_and(|s| s.success()), "{status:?}");
        }
        running.stop().await?;
    }
    Ok(())
}
