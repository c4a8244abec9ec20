//! Node types of the `kinds` test program (`tests/kinds.lp`).

use lp::Handle;
use std::sync::Mutex;
use std::time::Duration;

/// Collects what actors report; answers questions about how it was built.
pub struct Learner {
    name: String,
    rate: f64,
    verbose: bool,
    patience: Duration,
    echo: Handle<Echo>,
    weights: Vec<u32>,
    /// Seeds reported by actors; methods take `&self` and may run concurrently.
    seeds: Mutex<Vec<u64>>,
}

impl Learner {
    /// A learner; every argument comes from the `.lp` program.
    pub fn new(
        name: String,
        rate: f64,
        verbose: bool,
        patience: Duration,
        echo: Handle<Echo>,
        weights: Vec<u32>,
    ) -> Self {
        Learner {
            name,
            rate,
            verbose,
            patience,
            echo,
            weights,
            seeds: Mutex::new(Vec::new()),
        }
    }

    /// What the learner was built with.
    pub fn describe(&self) -> String {
        format!(
            "{} rate={} verbose={} patience={:?} weights={:?}",
            self.name, self.rate, self.verbose, self.patience, self.weights
        )
    }

    /// Records an actor's seed (async, so it runs as a task).
    pub async fn report(&self, seed: u64) -> usize {
        let mut seeds = self.seeds.lock().unwrap_or_else(|e| e.into_inner());
        seeds.push(seed);
        seeds.len()
    }

    /// The seeds reported so far, sorted.
    pub fn seeds(&self) -> Vec<u64> {
        let mut seeds = self.seeds.lock().unwrap_or_else(|e| e.into_inner()).clone();
        seeds.sort_unstable();
        seeds
    }

    /// How many seeds were reported (panicking when told to): it never waits, so it runs
    /// where its call is served.
    #[lp::nonblocking]
    pub fn tally(&self, panic: bool) -> usize {
        assert!(!panic, "told to panic");
        self.seeds.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// An environment variable of the learner's process.
    pub fn env_var(&self, name: String) -> Option<String> {
        std::env::var(name).ok()
    }

    /// The worker threads of the async runtime it runs on.
    pub async fn workers(&self) -> usize {
        tokio::runtime::Handle::current().metrics().num_workers()
    }

    /// Always fails: the caller gets `CallError::Remote` with this message.
    pub fn refuse(&self, why: String) -> Result<u32, String> {
        Err(format!("refused: {why}"))
    }

    /// Asks the echo replica it holds for its index (a call from inside a call).
    pub async fn echo_index(&self) -> Result<u64, lp::CallError> {
        self.echo.index().await
    }
}

/// A replica that knows its place in its group and holds the learner (a handle cycle).
pub struct Echo {
    index: u64,
    total: u64,
    learner: Handle<Learner>,
}

impl Echo {
    /// Replica `index` of `total`.
    pub fn new(index: u64, total: u64, learner: Handle<Learner>) -> Self {
        Echo {
            index,
            total,
            learner,
        }
    }

    /// Its replica index.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// The size of its group.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The id of the process it runs in.
    pub fn pid(&self) -> u32 {
        std::process::id()
    }

    /// The worker threads of the async runtime it runs on.
    pub async fn workers(&self) -> usize {
        tokio::runtime::Handle::current().metrics().num_workers()
    }

    /// The learner's description, through the handle this replica holds.
    pub async fn ask_learner(&self) -> Result<String, lp::CallError> {
        self.learner.describe().await
    }
}

/// Reports its seed once from a synchronous `run`, then waits for the program to stop.
pub struct Actor {
    learner: Handle<Learner>,
    seed: u64,
    offset: i32,
}

impl Actor {
    /// An actor with `seed`; `offset` is added to it when reporting.
    pub fn new(learner: Handle<Learner>, seed: u64, offset: i32) -> Self {
        Actor {
            learner,
            seed,
            offset,
        }
    }
}

impl lp::BlockingRun for Actor {
    fn run(&self, ctx: lp::Context) -> lp::Result<()> {
        let seed = self
            .seed
            .checked_add_signed(i64::from(self.offset))
            .unwrap_or(self.seed);
        self.learner.report_blocking(seed + 3)?;
        lp::codegen::block_on(ctx.wait_for_stop());
        Ok(())
    }
}

/// Run by the `announcer` `fn` node: reports `seed`, then waits for the program to stop.
pub async fn announce(
    ctx: lp::Context,
    learner: Handle<Learner>,
    seed: u64,
) -> Result<(), lp::CallError> {
    learner.report(seed).await?;
    ctx.wait_for_stop().await;
    Ok(())
}

/// Run by the `quiet` `fn` node: a sync function that returns at once (its node then ends).
pub fn idle(rounds: u32) {
    lp::tracing::debug!("idle for {rounds} rounds");
}
