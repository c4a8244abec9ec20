pub mod nodes {
    use lp::Handle;

    /// Serves `poll` when it is a courier; here it is declared a worker.
    pub struct Feeder;

    impl Feeder {
        pub fn new() -> Self {
            Feeder
        }
        pub fn poll(&self) -> u64 {
            1
        }
    }

    impl lp::Run for Feeder {
        async fn run(&self, _ctx: lp::Context) -> lp::Result<()> {
            Ok(())
        }
    }

    pub struct Eater {
        feeder: Handle<Feeder>,
    }

    impl Eater {
        pub fn new(feeder: Handle<Feeder>) -> Self {
            Eater { feeder }
        }
        pub fn eat(&self) -> usize {
            Handle::methods(&self.feeder).len()
        }
    }

    pub fn setup() {}
}
