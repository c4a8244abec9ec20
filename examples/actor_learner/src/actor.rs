//! The actor: plays episodes with the latest parameters it pulled and sends them to the replay
//! buffer.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::env::{Corridor, Trajectory};
use crate::learner::Learner;
use crate::policy::Policy;
use crate::replay::Replay;
use crate::rng::Rng;
use crate::unless_stopping;

/// What an actor has done since it was built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActorStats {
    /// Episodes played and inserted into the replay buffer.
    pub trajectories: u64,
    /// The version of the parameters it last pulled from the learner (`None` before the first
    /// pull).
    pub params_version: Option<u64>,
}

/// Plays episodes of the [`Corridor`] with an ε-greedy policy over the learner's latest Q-table,
/// pulling the table every `pull_every` episodes, and inserts each episode into the replay
/// buffer, until the program stops.
///
/// A courier as well as a runner, so that tests (and the learner's summary) can ask it what it
/// did. Under `restart: on_failure(…)` (see `actor_learner.lp`), a failed actor is rebuilt from
/// its constructor: a restarted actor starts over with its counters at zero, no parameters until
/// its first pull, and its random stream from the start again (the seed is the same), so it
/// replays the choices of its first life with fresher parameters.
pub struct Actor {
    learner: lp::Handle<Learner>,
    replay: lp::Handle<Replay>,
    /// The actor's replica index: its random stream, and the `actor` of its trajectories.
    id: u32,
    seed: u64,
    pull_every: u32,
    stats: Mutex<ActorStats>,
}

impl Actor {
    /// Actor `id`, exploring with stream `id` of `seed`, pulling parameters from `learner` every
    /// `pull_every` episodes (at least 1), inserting into `replay`.
    pub fn new(
        learner: lp::Handle<Learner>,
        replay: lp::Handle<Replay>,
        id: u32,
        seed: u64,
        pull_every: u32,
    ) -> Self {
        Actor {
            learner,
            replay,
            id,
            seed,
            pull_every: pull_every.max(1),
            stats: Mutex::new(ActorStats::default()),
        }
    }

    /// What this actor has done since it was built.
    pub fn stats(&self) -> ActorStats {
        *self.stats.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The id of the process this actor runs in.
    pub fn pid(&self) -> u32 {
        std::process::id()
    }

    fn update(&self, f: impl FnOnce(&mut ActorStats)) {
        f(&mut self.stats.lock().unwrap_or_else(|e| e.into_inner()));
    }
}

impl lp::Run for Actor {
    async fn run(&self, ctx: lp::Context) -> lp::Result<()> {
        let mut rng = Rng::new(self.seed, self.id.into());
        let mut policy = Policy::default();
        for episode in 0u64.. {
            if episode % u64::from(self.pull_every) == 0 {
                let Some(pulled) = unless_stopping(&ctx, self.learner.params()).await? else {
                    return Ok(());
                };
                policy = pulled;
                self.update(|s| s.params_version = Some(policy.version));
            }
            let steps = Corridor.episode(|state| policy.table.act(state, policy.epsilon, &mut rng));
            let trajectory = Trajectory {
                actor: self.id,
                params_version: policy.version,
                steps,
            };
            // Waits while the actors are too far ahead of the learner.
            if unless_stopping(&ctx, self.replay.insert(trajectory))
                .await?
                .is_none()
            {
                return Ok(());
            }
            self.update(|s| s.trajectories += 1);
        }
        Ok(())
    }
}
