pub mod nodes {
    pub struct Worker;
    impl Worker {
        pub fn new(n: u32) -> Self {
            let _ = n;
            Worker
        }
        pub fn ping(&self) -> u32 {
            1
        }
    }
}

pub fn helper() {}

lp::include_generated!();
