//! The learner: samples trajectories from the replay buffer, improves the Q-table from them,
//! and publishes it to the actors.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::actor::Actor;
use crate::env::Trajectory;
use crate::policy::Policy;
use crate::replay::Replay;

/// How long the summary waits for an actor to say which parameters it last pulled.
const ASK_ACTOR: Duration = Duration::from_secs(2);
/// How many steps' batches the first and final mean rewards average over.
pub const REWARD_WINDOW: usize = 20;

/// How the learning went so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LearnerStats {
    /// Learner steps taken (one batch each).
    pub steps: u64,
    /// Trajectories learned from (a trajectory sampled twice counts twice).
    pub trajectories: u64,
    /// The mean episode reward of the batches of the first [`REWARD_WINDOW`] steps.
    pub first_mean_reward: f64,
    /// The mean episode reward of the batches of the last [`REWARD_WINDOW`] steps.
    pub final_mean_reward: f64,
    /// The reward of a greedy episode with the current table: 1 once it walks straight right.
    pub greedy_reward: f64,
    /// The parameters' current version (the number of steps that made them).
    pub version: u64,
}

/// What the learner prints, and writes to `--summary_file`, when it is done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub stats: LearnerStats,
    /// The version of the parameters each actor last pulled, by replica (`None` when the actor
    /// had not pulled yet or did not answer, e.g. while it was being restarted).
    pub actor_versions: Vec<Option<u64>>,
    /// The final parameters.
    pub policy: Policy,
}

/// The learner's parameters and counters.
#[derive(Default)]
struct State {
    policy: Policy,
    trajectories: u64,
    /// The mean episode reward of each step's batch.
    batch_rewards: Vec<f64>,
}

impl State {
    fn stats(&self) -> LearnerStats {
        let window = REWARD_WINDOW.min(self.batch_rewards.len());
        let mean = |rewards: &[f64]| {
            if rewards.is_empty() {
                0.0
            } else {
                rewards.iter().sum::<f64>() / rewards.len() as f64
            }
        };
        let first = &self.batch_rewards[..window];
        let last = &self.batch_rewards[self.batch_rewards.len().saturating_sub(window)..];
        LearnerStats {
            steps: self.batch_rewards.len() as u64,
            trajectories: self.trajectories,
            first_mean_reward: mean(first),
            final_mean_reward: mean(last),
            greedy_reward: self.policy.table.greedy_reward(),
            version: self.policy.version,
        }
    }
}

/// Learns from batches of `batch_size` trajectories sampled from the replay buffer; at program
/// entry, `num_steps` steps, then prints a summary, writes it to `summary_file` (unless empty),
/// and stops the program.
pub struct Learner {
    replay: lp::Handle<Replay>,
    actors: Vec<lp::Handle<Actor>>,
    num_steps: u64,
    batch_size: u32,
    summary_file: Option<PathBuf>,
    state: Mutex<State>,
    /// Held for the whole of a `train`: steps of two concurrent calls would interleave.
    training: tokio::sync::Mutex<()>,
}

impl Learner {
    /// A learner sampling `batch_size` trajectories a step from `replay`, publishing to `actors`.
    pub fn new(
        replay: lp::Handle<Replay>,
        actors: Vec<lp::Handle<Actor>>,
        num_steps: u64,
        batch_size: u32,
        summary_file: String,
    ) -> Self {
        Learner {
            replay,
            actors,
            num_steps,
            batch_size,
            summary_file: (!summary_file.is_empty()).then(|| summary_file.into()),
            state: Mutex::new(State::default()),
            training: tokio::sync::Mutex::new(()),
        }
    }

    /// The latest parameters: what actors pull.
    pub fn params(&self) -> Policy {
        self.state().policy.clone()
    }

    /// How the learning went so far.
    pub fn stats(&self) -> LearnerStats {
        self.state().stats()
    }

    /// The id of the process the learner runs in.
    pub fn pid(&self) -> u32 {
        std::process::id()
    }

    /// Takes `steps` learner steps, each on a batch sampled from the replay buffer (waiting for
    /// the actors to provide fresh trajectories); returns the stats after the last.
    pub async fn train(&self, steps: u64) -> lp::Result<LearnerStats> {
        lp::ensure!(self.batch_size > 0, "`batch_size` must be at least 1");
        let _training = self.training.lock().await;
        for _ in 0..steps {
            let batch = self.replay.sample(self.batch_size).await?;
            self.learn(&batch);
        }
        Ok(self.stats())
    }

    /// The stats, the version each actor last pulled, and the parameters.
    pub async fn summary(&self) -> Summary {
        let asks = self
            .actors
            .iter()
            .map(|actor| async move { lp::Handle::with_deadline(actor, ASK_ACTOR).stats().await });
        let actor_versions = lp::join_all(asks)
            .await
            .into_iter()
            .map(|stats| stats.ok().and_then(|s| s.params_version))
            .collect();
        let state = self.state();
        Summary {
            stats: state.stats(),
            actor_versions,
            policy: state.policy.clone(),
        }
    }

    /// One learner step: a Q-learning update from every step of every trajectory of `batch`,
    /// then a new version of the parameters.
    fn learn(&self, batch: &[Trajectory]) {
        let mut state = self.state();
        for trajectory in batch {
            for step in &trajectory.steps {
                state.policy.table.update(step);
            }
        }
        let reward = batch.iter().map(Trajectory::reward).sum::<f64>() / batch.len().max(1) as f64;
        state.batch_rewards.push(reward);
        state.trajectories += batch.len() as u64;
        state.policy.version += 1;
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl lp::Run for Learner {
    async fn run(&self, ctx: lp::Context) -> lp::Result<()> {
        lp::ensure!(
            !self.actors.is_empty(),
            "no actors to learn from: `num_actors` must be at least 1"
        );
        let stop = ctx.stop_token();
        let trained = tokio::select! {
            () = stop.cancelled() => return Ok(()),
            trained = self.train(self.num_steps) => trained,
        };
        // Stopping makes calls fail: a failure then is not the learner's.
        if let Err(error) = trained {
            return if ctx.is_stopping() {
                Ok(())
            } else {
                Err(error)
            };
        }
        let summary = self.summary().await;
        let s = &summary.stats;
        lp::tracing::info!(
            "{} steps, {} trajectories consumed",
            s.steps,
            s.trajectories
        );
        lp::tracing::info!(
            "mean reward {:.2} in the first steps, {:.2} in the last; greedy reward {}",
            s.first_mean_reward,
            s.final_mean_reward,
            s.greedy_reward
        );
        let versions: Vec<String> = summary
            .actor_versions
            .iter()
            .map(|v| v.map_or_else(|| "-".to_string(), |v| v.to_string()))
            .collect();
        lp::tracing::info!(
            "parameters version {}; the versions actors last pulled: [{}]",
            s.version,
            versions.join(", ")
        );
        if let Some(file) = &self.summary_file {
            let json = serde_json::to_string_pretty(&summary)?;
            std::fs::write(file, json)
                .with_context(|| format!("cannot write the summary to `{}`", file.display()))?;
            lp::tracing::info!("summary written to `{}`", file.display());
        }
        ctx.stop();
        Ok(())
    }
}
