pub struct Server;

impl Server {
    pub fn new() -> Self {
        Server
    }

    pub fn compute(&self, requests: Vec<u64>) -> Vec<u64> {
        requests
    }

    pub fn scalar(&self, x: u64) -> u64 {
        x
    }
}

pub struct Looper;

impl Looper {
    pub fn new() -> Self {
        Looper
    }
}

impl lp::Run for Looper {
    async fn run(&self, _ctx: lp::Context) -> lp::Result<()> {
        Ok(())
    }
}
