//! The node types of the seed program.

use std::time::Duration;

use lp::CallResultExt;

// ANCHOR: producer
/// Does a unit of work for the consumer.
#[derive(Debug, Default)]
pub struct Producer {
    /// How long each call takes (zero for the seed program).
    delay: Duration,
}

impl Producer {
    /// A producer that answers at once.
    pub fn new() -> Self {
        Producer::with_delay(Duration::ZERO)
    }

    /// A producer that takes `delay` per call (a stand-in for real work).
    pub fn with_delay(delay: Duration) -> Self {
        lp::tracing::info!("producer up in process {}", std::process::id());
        Producer { delay }
    }

    /// Works on `context` and returns it.
    pub fn work(&self, context: u64) -> u64 {
        std::thread::sleep(self.delay);
        context
    }

    /// The id of the process this producer runs in. It never waits, so it runs on the thread
    /// that serves the call, not on a blocking one.
    #[lp::nonblocking]
    pub fn pid(&self) -> u32 {
        std::process::id()
    }
}
// ANCHOR_END: producer

// ANCHOR: consumer
/// Sends work to every producer and summarizes the results.
pub struct Consumer {
    producers: Vec<lp::Handle<Producer>>,
}

impl Consumer {
    /// A consumer of `producers`.
    pub fn new(producers: Vec<lp::Handle<Producer>>) -> Self {
        Consumer { producers }
    }

    /// Calls `work(context)` on every producer in parallel and collects the results; on a
    /// failure, the error of the call that failed first (it names its producer).
    pub async fn step(&self, context: u64) -> Result<Vec<u64>, lp::CallError> {
        lp::try_join_all(self.producers.iter().map(|p| p.work(context))).await
    }

    /// How many producers this consumer talks to.
    pub fn num_producers(&self) -> u64 {
        self.producers.len() as u64
    }
}

impl lp::Run for Consumer {
    async fn run(&self, ctx: lp::Context) -> lp::Result<()> {
        let pids = lp::try_join_all(self.producers.iter().map(|p| p.pid())).await;
        let Some(pids) = pids.ok_if_stopping()? else {
            return Ok(()); // the program is stopping
        };
        lp::tracing::info!("producer pids: {pids:?}");
        for i in 0..10 {
            let Some(results) = self.step(i).await.ok_if_stopping()? else {
                return Ok(());
            };
            lp::tracing::info!("step {i}: {results:?}");
        }
        ctx.stop();
        Ok(())
    }
}
// ANCHOR_END: consumer
