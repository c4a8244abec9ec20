//! The node type of `hello_world`.

// ANCHOR: greeter
/// Says hello once (a `worker`: it only runs).
#[derive(Debug)]
pub struct Greeter {
    name: String,
}

impl Greeter {
    /// A greeter of `name`.
    pub fn new(name: String) -> Self {
        Greeter { name }
    }
}

impl lp::BlockingRun for Greeter {
    fn run(&self, _ctx: lp::Context) -> lp::Result<()> {
        lp::tracing::info!("Hello {}!", self.name);
        Ok(())
    }
}
// ANCHOR_END: greeter
