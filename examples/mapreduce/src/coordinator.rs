//! The coordinator: hands out files to mappers and collects the reducers' counts.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::Context as _;

use crate::mapper::Mapper;
use crate::reducer::Reducer;
use crate::words::{format_counts, list_files, Counts};

/// Runs word-count jobs over the mappers and reducers; at program entry, one job over the
/// input directory, then stops the program.
pub struct Coordinator {
    /// The directory `run` counts the words of.
    input_dir: PathBuf,
    /// Where `run` writes the counts, if anywhere.
    output: Option<PathBuf>,
    mappers: Vec<lp::Handle<Mapper>>,
    reducers: Vec<lp::Handle<Reducer>>,
    /// The files of the current job that no mapper has taken yet.
    pending: Mutex<VecDeque<PathBuf>>,
    /// Held for the whole of a job: reducers hold one job's counts at a time.
    job: tokio::sync::Mutex<()>,
}

impl Coordinator {
    /// A coordinator of `mappers` and `reducers`; `run` counts `input_dir` and writes the
    /// counts to `output` unless it is empty.
    pub fn new(
        input_dir: String,
        output: String,
        mappers: Vec<lp::Handle<Mapper>>,
        reducers: Vec<lp::Handle<Reducer>>,
    ) -> Self {
        Coordinator {
            input_dir: input_dir.into(),
            output: (!output.is_empty()).then(|| output.into()),
            mappers,
            reducers,
            pending: Mutex::new(VecDeque::new()),
            job: tokio::sync::Mutex::new(()),
        }
    }

    /// Counts the words of every file in `input_dir` with the mappers and reducers.
    pub async fn count(&self, input_dir: PathBuf) -> lp::Result<Counts> {
        lp::ensure!(
            !self.mappers.is_empty(),
            "no mappers: `num_mappers` must be at least 1"
        );
        lp::ensure!(
            !self.reducers.is_empty(),
            "no reducers: `num_reducers` must be at least 1"
        );
        let _job = self.job.lock().await;
        let files = list_files(&input_dir)?;
        let num_files = files.len();
        // Forget what a failed job may have left in the reducers.
        for reducer in lp::join_all(self.reducers.iter().map(|r| r.take())).await {
            reducer?;
        }
        *self.pending() = files.into();

        // Map: every mapper takes files until none are left.
        let mapped = lp::join_all(self.mappers.iter().map(|m| m.map())).await;
        let mapped = mapped.into_iter().collect::<Result<Vec<u64>, _>>();
        // A failed mapper may leave files behind: they are not the next job's.
        self.pending().clear();
        let mapped = mapped?;
        lp::tracing::info!("{num_files} files mapped, {mapped:?} per mapper");

        // Reduce: the reducers own disjoint sets of words.
        let mut counts = Counts::new();
        for part in lp::join_all(self.reducers.iter().map(|r| r.take())).await {
            counts.extend(part?);
        }
        Ok(counts)
    }

    /// The next file of the current job for a mapper, or `None` when every file is taken.
    pub fn next_file(&self) -> Option<PathBuf> {
        self.pending().pop_front()
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, VecDeque<PathBuf>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl lp::Run for Coordinator {
    async fn run(&self, ctx: lp::Context) -> lp::Result<()> {
        let counts = self.count(self.input_dir.clone()).await?;
        let total: u64 = counts.values().sum();
        let report = format_counts(&counts);
        lp::tracing::info!(
            "{total} words, {} distinct; the most frequent:",
            counts.len()
        );
        for line in report.lines().take(10) {
            lp::tracing::info!("{line}");
        }
        if let Some(output) = &self.output {
            std::fs::write(output, &report)
                .with_context(|| format!("cannot write the counts to `{}`", output.display()))?;
            lp::tracing::info!("every count written to `{}`", output.display());
        }
        ctx.stop();
        Ok(())
    }
}
