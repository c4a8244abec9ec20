pub struct Sleeper;

impl Sleeper {
    pub fn new() -> Self {
        Sleeper
    }
    pub fn sleep(&self, ms: u64) -> u64 {
        ms
    }
    pub fn sleep_blocking(&self, ms: u64) -> u64 {
        ms
    }
    pub fn get_x(&self) -> u32 {
        1
    }
    #[allow(non_snake_case)]
    pub fn getX(&self) -> u32 {
        2
    }
}
