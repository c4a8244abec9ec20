//! The simulated environment: a corridor the agent walks left or right along, rewarded at the
//! right end and punished at the left. Pure and deterministic: all randomness is the policy's.

use serde::{Deserialize, Serialize};

/// The number of cells of the corridor; cells `0` and `LENGTH - 1` end an episode.
pub const LENGTH: usize = 9;
/// Where every episode starts: the middle.
pub const START: usize = LENGTH / 2;
/// The longest episode: one that has not reached an end by then is cut off, with reward 0.
pub const MAX_STEPS: usize = 100;

/// What the agent can do in a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    Left,
    Right,
}

impl Action {
    /// Both actions, in the order of a [`QTable`](crate::policy::QTable) row.
    pub const ALL: [Action; 2] = [Action::Left, Action::Right];

    /// The action's column in a [`QTable`](crate::policy::QTable) row.
    pub fn index(self) -> usize {
        match self {
            Action::Left => 0,
            Action::Right => 1,
        }
    }
}

/// One step of an episode: where the agent was, what it did, what it got, and where it landed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub state: usize,
    pub action: Action,
    pub reward: f64,
    pub next_state: usize,
    /// Whether `next_state` ends the episode (an end of the corridor; not a cut-off).
    pub done: bool,
}

/// One episode, as an actor sends it to the replay buffer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trajectory {
    /// The replica index of the actor that played it.
    pub actor: u32,
    /// The version of the parameters the actor played it with (0: before any learning).
    pub params_version: u64,
    pub steps: Vec<Step>,
}

impl Trajectory {
    /// The episode's total reward: 1 at the right end, -1 at the left, 0 when cut off.
    pub fn reward(&self) -> f64 {
        self.steps.iter().map(|s| s.reward).sum()
    }
}

/// The corridor. Cells `1..LENGTH - 1` are free; stepping onto cell `LENGTH - 1` gives 1 and ends
/// the episode, onto cell `0` gives -1 and ends it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Corridor;

impl Corridor {
    /// Where `action` in `state` leads, the reward, and whether the episode ends.
    pub fn step(&self, state: usize, action: Action) -> (usize, f64, bool) {
        let next = match action {
            Action::Left => state.saturating_sub(1),
            Action::Right => (state + 1).min(LENGTH - 1),
        };
        match next {
            0 => (next, -1.0, true),
            n if n == LENGTH - 1 => (next, 1.0, true),
            n => (n, 0.0, false),
        }
    }

    /// Plays one episode from [`START`], choosing each action with `choose(state)`.
    pub fn episode(&self, mut choose: impl FnMut(usize) -> Action) -> Vec<Step> {
        let mut steps = Vec::new();
        let mut state = START;
        while steps.len() < MAX_STEPS {
            let action = choose(state);
            let (next_state, reward, done) = self.step(state, action);
            steps.push(Step {
                state,
                action,
                reward,
                next_state,
                done,
            });
            if done {
                break;
            }
            state = next_state;
        }
        steps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn always_right_reaches_the_reward_in_the_fewest_steps() {
        let steps = Corridor.episode(|_| Action::Right);
        assert_eq!(steps.len(), LENGTH - 1 - START);
        assert_eq!(steps.last().map(|s| (s.reward, s.done)), Some((1.0, true)));
        assert!(steps[..steps.len() - 1].iter().all(|s| s.reward == 0.0));
    }

    #[test]
    fn always_left_is_punished() {
        let steps = Corridor.episode(|_| Action::Left);
        assert_eq!(steps.len(), START);
        assert_eq!(steps.last().map(|s| s.reward), Some(-1.0));
    }

    #[test]
    fn an_episode_that_reaches_no_end_is_cut_off() {
        let mut left = false;
        let steps = Corridor.episode(|_| {
            left = !left;
            if left {
                Action::Left
            } else {
                Action::Right
            }
        });
        assert_eq!(steps.len(), MAX_STEPS);
        assert!(steps.iter().all(|s| !s.done && s.reward == 0.0));
    }
}
