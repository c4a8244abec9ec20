use lp::Handle;

/// A courier trait: its declaration says where `count` runs.
pub trait Count {
    fn count(&self) -> u64;
}

pub struct Counter;

impl Counter {
    #[lp::nonblocking]
    pub fn new() -> Self {
        Counter
    }
    #[lp::nonblocking]
    pub fn get(&self) -> u64 {
        1
    }
    #[lp::nonblocking]
    fn private(&self) -> u64 {
        2
    }
}

impl Count for Counter {
    #[lp::nonblocking]
    fn count(&self) -> u64 {
        3
    }
}

pub struct Reader {
    counter: Handle<Counter>,
}

impl Reader {
    pub fn new(counter: Handle<Counter>) -> Self {
        Reader { counter }
    }
}

impl lp::Run for Reader {
    async fn run(&self, ctx: lp::Context) -> lp::Result<()> {
        self.counter.get().await?;
        ctx.stop();
        Ok(())
    }
}

#[lp::nonblocking]
pub fn helper() {}
