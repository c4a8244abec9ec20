//! The mapper: counts the words of the files the coordinator hands out.

use anyhow::Context as _;

use crate::coordinator::Coordinator;
use crate::reducer::Reducer;
use crate::words::{add_words, partition, Counts};

/// Takes files from the coordinator until there are none left; sends the counts of each file's
/// words to the reducers that own them.
pub struct Mapper {
    coordinator: lp::Handle<Coordinator>,
    reducers: Vec<lp::Handle<Reducer>>,
}

impl Mapper {
    /// A mapper for `coordinator`, sending to `reducers` (partition `i` to `reducers[i]`).
    pub fn new(coordinator: lp::Handle<Coordinator>, reducers: Vec<lp::Handle<Reducer>>) -> Self {
        Mapper {
            coordinator,
            reducers,
        }
    }

    // ANCHOR: map
    /// Maps files until the coordinator has none left; returns how many this mapper mapped.
    pub async fn map(&self) -> lp::Result<u64> {
        lp::ensure!(
            !self.reducers.is_empty(),
            "there are no reducers to send counts to"
        );
        let mut mapped = 0;
        while let Some(file) = self.coordinator.next_file().await? {
            let text = tokio::fs::read_to_string(&file)
                .await
                .with_context(|| format!("cannot read `{}`", file.display()))?;
            let mut counts = Counts::new();
            add_words(&text, &mut counts);
            let mut partitions = vec![Vec::new(); self.reducers.len()];
            for (word, count) in counts {
                partitions[partition(&word, self.reducers.len())].push((word, count));
            }
            // One call per reducer that gets words, all in flight at once.
            let sends = self
                .reducers
                .iter()
                .zip(partitions)
                .filter(|(_, counts)| !counts.is_empty())
                .map(|(reducer, counts)| reducer.add(counts));
            for sent in lp::join_all(sends).await {
                sent?;
            }
            mapped += 1;
        }
        Ok(mapped)
    }
    // ANCHOR_END: map
}
