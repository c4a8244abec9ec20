//! The reducer: sums the counts of the words it owns.

use std::sync::Mutex;

use crate::words::{partition, Counts};

/// Sums the counts mappers send it, for the words of one partition.
#[derive(Debug)]
pub struct Reducer {
    /// Which partition of the words this reducer owns.
    partition: usize,
    /// How many partitions (reducers) there are.
    num_partitions: usize,
    /// The counts of the current job. A mutex: courier methods may run concurrently.
    counts: Mutex<Counts>,
}

impl Reducer {
    /// The reducer of partition `partition` out of `num_partitions`.
    pub fn new(partition: usize, num_partitions: usize) -> Self {
        Reducer {
            partition,
            num_partitions,
            counts: Mutex::new(Counts::new()),
        }
    }

    /// Adds a mapper's counts. Fails, adding nothing, if a word belongs to another reducer.
    pub fn add(&self, counts: Vec<(String, u64)>) -> Result<(), String> {
        if let Some((word, _)) = counts
            .iter()
            .find(|(word, _)| partition(word, self.num_partitions) != self.partition)
        {
            return Err(format!(
                "`{word}` belongs to reducer {}, not {}",
                partition(word, self.num_partitions),
                self.partition
            ));
        }
        let mut total = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        for (word, count) in counts {
            *total.entry(word).or_default() += count;
        }
        Ok(())
    }

    /// The counts so far, leaving this reducer empty for the next job.
    pub fn take(&self) -> Counts {
        std::mem::take(&mut *self.counts.lock().unwrap_or_else(|e| e.into_inner()))
    }
}
