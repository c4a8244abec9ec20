//! Faults drawn from the seed: a schedule of crashes, partitions, pauses and delays, the same
//! for the same seed.

use std::time::Duration;

use super::{Fault, FaultKind};
use crate::program::Nodes;

/// What faults to draw from the seed, and how often ([`Sim::chaos`](super::Sim::chaos)).
///
/// Every `every` of simulated time (on average: each interval is drawn between half and one
/// and a half of it) one fault is drawn among those allowed: a crash of one node of the crash
/// set, a partition between one side and the other of a partition pair, a pause of one node,
/// or a delay on one pair's link; partitions, pauses and delays last up to `lasting`.
#[derive(Debug, Clone)]
pub struct Chaos {
    every: Duration,
    lasting: Duration,
    crash: Vec<usize>,
    partitions: Vec<(Vec<usize>, Vec<usize>)>,
    pause: Vec<usize>,
}

impl Default for Chaos {
    fn default() -> Self {
        Chaos::new()
    }
}

impl Chaos {
    /// No fault yet; one every second on average once some are allowed, lasting up to 500 ms.
    pub fn new() -> Self {
        Chaos {
            every: Duration::from_secs(1),
            lasting: Duration::from_millis(500),
            crash: Vec::new(),
            partitions: Vec::new(),
            pause: Vec::new(),
        }
    }

    /// How often a fault strikes, on average.
    pub fn every(mut self, every: Duration) -> Self {
        self.every = every.max(Duration::from_millis(1));
        self
    }

    /// How long partitions, pauses and delays last at most.
    pub fn lasting(mut self, lasting: Duration) -> Self {
        self.lasting = lasting.max(Duration::from_millis(1));
        self
    }

    /// Crashes among `nodes` (their restart policies apply).
    pub fn crash(mut self, nodes: impl Into<Nodes>) -> Self {
        self.crash.extend(nodes.into().0);
        self
    }

    /// Partitions (and delays) between a node of `a` and the nodes of `b`.
    pub fn partition(mut self, a: impl Into<Nodes>, b: impl Into<Nodes>) -> Self {
        self.partitions.push((a.into().0, b.into().0));
        self
    }

    /// Pauses among `nodes`.
    pub fn pause(mut self, nodes: impl Into<Nodes>) -> Self {
        self.pause.extend(nodes.into().0);
        self
    }

    /// The faults of a run from `seed` until `limit`, in time order.
    pub(crate) fn schedule(&self, seed: u64, limit: Duration) -> Vec<(Duration, Fault)> {
        let mut rng = SplitMix(seed ^ 0x6c70_2d73_696d_u64);
        let kinds = [
            !self.crash.is_empty(),
            !self.partitions.is_empty(),
            !self.pause.is_empty(),
            !self.partitions.is_empty(),
        ];
        let allowed: Vec<usize> = (0..kinds.len()).filter(|&k| kinds[k]).collect();
        let mut faults = Vec::new();
        if allowed.is_empty() {
            return faults;
        }
        let mut at = Duration::ZERO;
        loop {
            at += self.every.mul_f64(0.5 + rng.unit());
            if at >= limit {
                return faults;
            }
            let lasting = self.lasting.mul_f64(rng.unit().max(0.01));
            match allowed[rng.below(allowed.len())] {
                0 => {
                    let node = self.crash[rng.below(self.crash.len())];
                    faults.push((at, Fault(FaultKind::Crash(vec![node]))));
                }
                1 => {
                    let (a, b) = self.pair(&mut rng);
                    faults.push((at, Fault(FaultKind::Partition(a.clone(), b.clone()))));
                    faults.push((at + lasting, Fault(FaultKind::Heal(a, b))));
                }
                2 => {
                    let node = self.pause[rng.below(self.pause.len())];
                    faults.push((at, Fault(FaultKind::Pause(vec![node], lasting))));
                }
                _ => {
                    let (a, b) = self.pair(&mut rng);
                    let latency = lasting / 10;
                    faults.push((at, Fault(FaultKind::Delay(a, b, latency))));
                }
            }
            faults.sort_by_key(|(at, _)| *at);
        }
    }

    /// One node of one side of a partition pair, and the other side.
    fn pair(&self, rng: &mut SplitMix) -> (Vec<usize>, Vec<usize>) {
        let (a, b) = &self.partitions[rng.below(self.partitions.len())];
        let one = a.get(rng.below(a.len().max(1))).copied();
        (one.into_iter().collect(), b.clone())
    }
}

/// SplitMix64: a small, fast generator whose whole stream follows from its seed.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(ids: &[usize]) -> Nodes {
        Nodes(ids.to_vec())
    }

    #[test]
    fn a_seed_gives_one_schedule_and_another_seed_another() {
        let chaos = Chaos::new()
            .crash(ids(&[1, 2, 3]))
            .partition(ids(&[1, 2]), ids(&[0]))
            .pause(ids(&[0]));
        let limit = Duration::from_secs(60);
        let text = |seed| format!("{:?}", chaos.schedule(seed, limit));
        assert_eq!(text(7), text(7));
        assert_ne!(text(7), text(8));
        let faults = chaos.schedule(7, limit);
        assert!(faults.len() > 30, "about one a second: {}", faults.len());
        assert!(faults.windows(2).all(|w| w[0].0 <= w[1].0), "in time order");
        assert!(faults.iter().all(|(at, _)| *at < limit + chaos.lasting));
        for (_, fault) in &faults {
            if let FaultKind::Crash(nodes) = &fault.0 {
                assert!(nodes.iter().all(|n| [1, 2, 3].contains(n)));
            }
        }
    }

    #[test]
    fn no_allowed_fault_means_none() {
        assert!(Chaos::new().schedule(1, Duration::from_secs(60)).is_empty());
    }
}
