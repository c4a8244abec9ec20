//! The policy's parameters — a table of action values — how actors act on them (ε-greedy) and
//! how the learner improves them (tabular Q-learning).

use serde::{Deserialize, Serialize};

use crate::env::{Action, Corridor, Step, LENGTH};
use crate::rng::Rng;

/// How often an actor explores: picks a random action instead of the best one.
pub const EPSILON: f64 = 0.1;
/// The learning rate of one Q-learning update.
pub const ALPHA: f64 = 0.1;
/// The discount of future rewards: sooner is better.
pub const GAMMA: f64 = 0.9;

/// The estimated value of each action in each cell of the corridor: `values[state][action]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QTable {
    pub values: Vec<[f64; 2]>,
}

impl Default for QTable {
    /// Every value 0: every action looks as good as the other (a uniformly random policy).
    fn default() -> Self {
        QTable {
            values: vec![[0.0; 2]; LENGTH],
        }
    }
}

impl QTable {
    /// The best action in `state`; ties (and states outside the table) broken with `rng`.
    pub fn best(&self, state: usize, rng: &mut Rng) -> Action {
        let [left, right] = self.values.get(state).copied().unwrap_or_default();
        if left == right {
            Action::ALL[rng.below(2)]
        } else if left > right {
            Action::Left
        } else {
            Action::Right
        }
    }

    /// The action an actor takes in `state`: random with probability `epsilon`, else the best.
    pub fn act(&self, state: usize, epsilon: f64, rng: &mut Rng) -> Action {
        if rng.chance(epsilon) {
            Action::ALL[rng.below(2)]
        } else {
            self.best(state, rng)
        }
    }

    /// One Q-learning update from `step`: moves the value of its action towards the reward plus
    /// the discounted value of the best action where it landed.
    pub fn update(&mut self, step: &Step) {
        let next = if step.done {
            0.0
        } else {
            let [left, right] = self
                .values
                .get(step.next_state)
                .copied()
                .unwrap_or_default();
            left.max(right)
        };
        if let Some(row) = self.values.get_mut(step.state) {
            let value = &mut row[step.action.index()];
            *value += ALPHA * (step.reward + GAMMA * next - *value);
        }
    }

    /// The reward of one greedy episode (no exploration, and ties broken to the left, so that
    /// only a learned preference for the right scores): how good the table is, with no luck
    /// involved. 1 is the best there is; an untrained table scores -1.
    pub fn greedy_reward(&self) -> f64 {
        Corridor
            .episode(|state| {
                let [left, right] = self.values.get(state).copied().unwrap_or_default();
                if right > left {
                    Action::Right
                } else {
                    Action::Left
                }
            })
            .iter()
            .map(|s| s.reward)
            .sum()
    }
}

/// What the learner publishes and actors pull: the table and its version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// How many learner steps produced this table (0: the initial, untrained one).
    pub version: u64,
    pub epsilon: f64,
    pub table: QTable,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            version: 0,
            epsilon: EPSILON,
            table: QTable::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{Corridor, START};

    #[test]
    fn q_learning_on_random_episodes_learns_to_walk_right() {
        let mut table = QTable::default();
        let mut rng = Rng::new(1, 0);
        for _ in 0..500 {
            let random = QTable::default();
            for step in Corridor.episode(|s| random.act(s, 1.0, &mut rng)) {
                table.update(&step);
            }
        }
        for state in 1..LENGTH - 1 {
            assert_eq!(table.best(state, &mut rng), Action::Right, "state {state}");
        }
        assert_eq!(table.greedy_reward(), 1.0);
        // Values fall off with the distance to the reward.
        assert!(table.values[START][1] < table.values[START + 1][1]);
    }

    #[test]
    fn an_untrained_table_is_a_coin_flip() {
        let table = QTable::default();
        let mut rng = Rng::new(3, 0);
        let right = (0..1_000)
            .filter(|_| table.act(START, 0.0, &mut rng) == Action::Right)
            .count();
        assert!((400..600).contains(&right), "{right}");
        assert_eq!(table.greedy_reward(), -1.0);
    }
}
