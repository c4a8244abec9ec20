//! The replay buffer: a bounded queue of trajectories actors insert into and the learner samples
//! from, with a rate limiter that keeps the two sides in step.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::env::Trajectory;
use crate::rng::Rng;

/// The replay buffer's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayStats {
    /// Trajectories held now (at most the capacity).
    pub size: u64,
    /// Trajectories inserted since the start.
    pub inserted: u64,
    /// Trajectories handed out by `sample` since the start (one trajectory may be sampled more
    /// than once).
    pub sampled: u64,
}

/// When each side may go on, in the spirit of Reverb's `SampleToInsertRatio`: on average every
/// trajectory is sampled `samples_per_insert` times, actors get at most `2 * min_size`
/// trajectories ahead of the learner, and the learner waits for `min_size` trajectories before
/// the first sample and for fresh ones after.
///
/// One side is always allowed to go on, so the two never wait for each other forever (as long as
/// some actor runs): when inserting is blocked, `credit > 0` and the buffer holds `min_size`;
/// when sampling is blocked, `credit` is below the insert limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimiter {
    samples_per_insert: u64,
    min_size: u64,
}

impl RateLimiter {
    /// A limiter for `samples_per_insert` and `min_size` (each at least 1).
    pub fn new(samples_per_insert: u64, min_size: u64) -> Self {
        RateLimiter {
            samples_per_insert: samples_per_insert.max(1),
            min_size: min_size.max(1),
        }
    }

    /// How many samples the inserts so far still entitle the learner to (negative once it took
    /// a batch larger than what was left).
    fn credit(&self, stats: &ReplayStats) -> i128 {
        i128::from(stats.inserted) * i128::from(self.samples_per_insert) - i128::from(stats.sampled)
    }

    /// Whether an actor may insert one more trajectory now.
    pub fn can_insert(&self, stats: &ReplayStats) -> bool {
        self.credit(stats) < 2 * i128::from(self.min_size * self.samples_per_insert)
    }

    /// Whether the learner may sample a batch now.
    pub fn can_sample(&self, stats: &ReplayStats) -> bool {
        stats.size >= self.min_size && self.credit(stats) > 0
    }
}

/// The buffer's contents and counters, behind the replay node's mutex.
struct Buffer {
    trajectories: VecDeque<Trajectory>,
    capacity: usize,
    stats: ReplayStats,
    /// Picks which trajectories a sample returns.
    rng: Rng,
}

/// A bounded FIFO of trajectories: when full, an insert evicts the oldest. `sample(n)` returns `n`
/// trajectories drawn uniformly, with replacement.
///
/// Both methods wait (asynchronously, without holding a thread) while the [`RateLimiter`] says
/// no, so actors cannot run arbitrarily far ahead of the learner, nor the learner learn over
/// and over from stale data.
pub struct Replay {
    buffer: Mutex<Buffer>,
    limiter: RateLimiter,
    /// Woken whenever the buffer changes, so that waiting calls look again.
    changed: Notify,
}

/// The sampling stream of [`Rng::new`]: actors use their replica indices.
const SAMPLING_STREAM: u64 = u64::MAX;

impl Replay {
    /// A buffer of `capacity` trajectories (at least `min_size`), sampled from once it holds
    /// `min_size`, each trajectory sampled `samples_per_insert` times on average; `seed` seeds
    /// the sampling.
    pub fn new(capacity: u32, min_size: u32, samples_per_insert: u32, seed: u64) -> Self {
        let limiter = RateLimiter::new(samples_per_insert.into(), min_size.into());
        let capacity = (capacity as usize).max(limiter.min_size as usize);
        Replay {
            buffer: Mutex::new(Buffer {
                trajectories: VecDeque::with_capacity(capacity),
                capacity,
                stats: ReplayStats::default(),
                rng: Rng::new(seed, SAMPLING_STREAM),
            }),
            limiter,
            changed: Notify::new(),
        }
    }

    /// Adds a trajectory, evicting the oldest when full; waits while actors are too far ahead.
    pub async fn insert(&self, trajectory: Trajectory) {
        let mut trajectory = Some(trajectory);
        self.when(|buffer, limiter| {
            if !limiter.can_insert(&buffer.stats) {
                return None;
            }
            if buffer.trajectories.len() == buffer.capacity {
                buffer.trajectories.pop_front();
            }
            buffer.trajectories.extend(trajectory.take());
            buffer.stats.inserted += 1;
            buffer.stats.size = buffer.trajectories.len() as u64;
            Some(())
        })
        .await
    }

    /// `n` trajectories drawn uniformly with replacement; waits until the buffer holds enough
    /// and enough fresh trajectories came in since the last sample.
    pub async fn sample(&self, n: u32) -> Vec<Trajectory> {
        if n == 0 {
            return Vec::new();
        }
        self.when(|buffer, limiter| {
            if !limiter.can_sample(&buffer.stats) {
                return None;
            }
            let len = buffer.trajectories.len();
            let batch: Vec<Trajectory> = (0..n)
                .map(|_| buffer.trajectories[buffer.rng.below(len)].clone())
                .collect();
            buffer.stats.sampled += u64::from(n);
            Some(batch)
        })
        .await
    }

    /// The buffer's counters.
    pub fn stats(&self) -> ReplayStats {
        self.buffer().stats
    }

    /// The id of the process the buffer runs in (the learner's: see `actor_learner.lp`).
    pub fn pid(&self) -> u32 {
        std::process::id()
    }

    /// Runs `attempt` on the buffer until it returns `Some`, waiting for a change in between;
    /// wakes every other waiter after a change.
    async fn when<R>(&self, mut attempt: impl FnMut(&mut Buffer, &RateLimiter) -> Option<R>) -> R {
        loop {
            // Registered before looking, so that a change right after the look is not missed.
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let done = attempt(&mut self.buffer(), &self.limiter);
            if let Some(result) = done {
                self.changed.notify_waiters();
                return result;
            }
            changed.await;
        }
    }

    fn buffer(&self) -> MutexGuard<'_, Buffer> {
        self.buffer.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn trajectory(actor: u32) -> Trajectory {
        Trajectory {
            actor,
            params_version: 0,
            steps: Vec::new(),
        }
    }

    fn stats(size: u64, inserted: u64, sampled: u64) -> ReplayStats {
        ReplayStats {
            size,
            inserted,
            sampled,
        }
    }

    #[test]
    fn the_limiter_always_lets_one_side_go_on() {
        for spi in 1..5 {
            for min_size in 1..5 {
                let limiter = RateLimiter::new(spi, min_size);
                for inserted in 0..40 {
                    for sampled in 0..(inserted * spi + 10) {
                        let s = stats(inserted.min(min_size * 3), inserted, sampled);
                        assert!(
                            limiter.can_insert(&s) || limiter.can_sample(&s),
                            "{limiter:?} {s:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn the_limiter_paces_both_sides() {
        let limiter = RateLimiter::new(4, 2);
        assert!(!limiter.can_sample(&stats(1, 1, 0)), "below min_size");
        assert!(limiter.can_sample(&stats(2, 2, 0)));
        assert!(!limiter.can_sample(&stats(2, 2, 8)), "no fresh data");
        assert!(limiter.can_insert(&stats(3, 3, 0)));
        assert!(!limiter.can_insert(&stats(4, 4, 0)), "actors too far ahead");
    }

    #[tokio::test]
    async fn a_full_buffer_evicts_the_oldest_and_samples_what_it_holds() {
        let replay = Replay::new(2, 2, 100, 7);
        let batch = tokio::time::timeout(Duration::from_secs(5), async {
            for actor in 0..3 {
                replay.insert(trajectory(actor)).await;
            }
            replay.sample(50).await
        })
        .await
        .expect("three inserts are within the limit, and then a sample is");
        assert_eq!(batch.len(), 50);
        assert!(batch.iter().all(|t| t.actor != 0), "the oldest was evicted");
        assert!(batch.iter().any(|t| t.actor == 1) && batch.iter().any(|t| t.actor == 2));
        assert_eq!(replay.stats(), stats(2, 3, 50));
    }

    #[tokio::test]
    async fn sampling_waits_for_fresh_data() {
        let replay = std::sync::Arc::new(Replay::new(10, 2, 1, 7));
        let sample = tokio::spawn({
            let replay = replay.clone();
            async move { replay.sample(2).await }
        });
        replay.insert(trajectory(0)).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!sample.is_finished(), "one trajectory is below min_size");
        replay.insert(trajectory(1)).await;
        let batch = tokio::time::timeout(Duration::from_secs(5), sample)
            .await
            .expect("the sample is served once there is data")
            .expect("joins");
        assert_eq!(batch.len(), 2);
    }
}
