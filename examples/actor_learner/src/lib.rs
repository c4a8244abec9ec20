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

pub mod actor;
pub mod env;
pub mod learner;
pub mod policy;
pub mod replay;
pub mod rng;

/// Awaits `call` unless the program stops first: `Ok(None)` once it is stopping (the call
/// may be one that waits, like a sample from a replay buffer still filling), so that a node's
/// loop ends quietly on a stop and fails on any other error.
pub async fn unless_stopping<T>(
    ctx: &lp::Context,
    call: impl Future<Output = Result<T, lp::CallError>>,
) -> lp::Result<Option<T>> {
    use lp::CallResultExt;
    let stop = ctx.stop_token();
    tokio::select! {
        () = stop.cancelled() => Ok(None),
        result = call => Ok(result.ok_if_stopping()?),
    }
}

lp::include_generated!();
