pub struct Risky;
impl Risky {
    pub unsafe fn new() -> Self {
        Risky
    }
    pub fn ping(&self) -> u8 {
        1
    }
}

pub struct Slow;
impl Slow {
    pub async fn new() -> Self {
        Slow
    }
    pub fn ping(&self) -> u8 {
        1
    }
}

pub struct Other;
impl Other {
    pub fn new() -> u32 {
        3
    }
    pub fn ping(&self) -> u8 {
        1
    }
}

pub struct Nameless;
impl Nameless {
    pub fn new(_: u64, (a, b): (u8, u8)) -> Self {
        let _ = (a, b);
        Nameless
    }
    pub fn ping(&self) -> u8 {
        1
    }
}
