//! The RL shape Launchpad was built for (`actor_learner.lp`): distributed actors generate
//! experience, a replay buffer holds it, a learner learns from it and publishes parameters back.
//!
//! - [`env::Corridor`]: the simulated environment, a corridor walked left or right, rewarded at
//!   the right end.
//! - [`actor::Actor`] (`num_actors` of them, restarted on failure): plays episodes with an
//!   ε-greedy policy over the latest [`policy::QTable`] it pulled, and inserts them into the
//!   replay buffer.
//! - [`replay::Replay`]: a bounded buffer of trajectories, rate-limited so that actors and
//!   learner keep in step.
//! - [`learner::Learner`]: Q-learning on sampled batches; after `num_steps` steps it prints a
//!   summary and stops the program. The learner and the replay buffer share one process.
//!
//! Randomness is seeded (`--seed`; [`rng::Rng`]): an actor's choices are a function of the seed,
//! its replica index and the parameters it pulls. Which parameters it pulls when, and which
//! trajectories the learner samples, depend on timing across nodes, so two runs differ in their
//! details but not in their outcome: the learned policy walks straight to the reward.

#![deny(warnings)]

use std::future::Future;
use std::time::Duration;

pub mod actor;
pub mod env;
pub mod learner;
pub mod policy;
pub mod replay;
pub mod rng;

/// How long a node whose peer went away waits for the program's stop to reach it.
///
/// Under `local_mp` a node that calls `ctx.stop()` may finish (and its process close its
/// sockets) before the launcher has passed the stop on to every other process: their calls to
/// it fail with `CallError::Unavailable` a moment before they see the stop.
pub const STOP_GRACE: Duration = Duration::from_secs(2);

/// Awaits `call` unless the program stops first: `Ok(None)` once it is stopping — also when the
/// call failed because of the stop (the other side went away, and the stop arrives within
/// [`STOP_GRACE`]) — so that a node's loop can end quietly on a stop and fail on any other
/// error.
pub async fn unless_stopping<T>(
    ctx: &lp::Context,
    call: impl Future<Output = Result<T, lp::CallError>>,
) -> lp::Result<Option<T>> {
    let stop = ctx.stop_token();
    let error = tokio::select! {
        () = stop.cancelled() => return Ok(None),
        result = call => match result {
            Ok(value) => return Ok(Some(value)),
            Err(error) => error,
        },
    };
    let peer_gone = matches!(error, lp::CallError::Unavailable { .. });
    if ctx.is_stopping() || (peer_gone && ctx.wait_for_stop_timeout(STOP_GRACE).await) {
        Ok(None)
    } else {
        Err(error.into())
    }
}

lp::include_generated!();
