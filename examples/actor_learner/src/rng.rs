//! A small seeded random number generator (SplitMix64), so that every run of an actor with the
//! same seed makes the same choices, in every process, without extra crates.

/// SplitMix64: 64 bits of state, statistically good enough for exploration and sampling.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// The generator of stream `stream` of `seed`: different streams of one seed (one per actor
    /// replica, one for the replay buffer) give unrelated sequences.
    pub fn new(seed: u64, stream: u64) -> Self {
        let mut rng = Rng {
            state: seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03),
        };
        // Mix once, so that neighbouring seeds do not start with related outputs.
        rng.next_u64();
        rng
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform float in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        // The top 53 bits: every value is a multiple of 2^-53.
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A uniform integer in `0..n` (`n` must not be 0).
    pub fn below(&mut self, n: usize) -> usize {
        // Lemire's multiply-shift: no modulo, and a bias far below what matters here.
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// `true` with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.next_f64() < p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_and_stream_same_sequence() {
        let a: Vec<u64> = (0..5)
            .scan(Rng::new(7, 1), |r, _| Some(r.next_u64()))
            .collect();
        let b: Vec<u64> = (0..5)
            .scan(Rng::new(7, 1), |r, _| Some(r.next_u64()))
            .collect();
        let c: Vec<u64> = (0..5)
            .scan(Rng::new(7, 2), |r, _| Some(r.next_u64()))
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn values_are_in_range_and_spread() {
        let mut rng = Rng::new(42, 0);
        let mut seen = [0u32; 4];
        for _ in 0..4_000 {
            let f = rng.next_f64();
            assert!((0.0..1.0).contains(&f));
            seen[rng.below(4)] += 1;
        }
        for count in seen {
            assert!((800..1_200).contains(&count), "{seen:?}");
        }
    }
}
