use lp::nonblocking;

pub struct Counter;

impl Counter {
    pub fn new() -> Self {
        Counter
    }
    #[lp::nonblocking]
    pub fn get(&self) -> u64 {
        1
    }
    #[lp::nonblocking]
    pub async fn wait(&self) -> u64 {
        2
    }
    #[nonblocking(fast)]
    pub fn peek(&self) -> u64 {
        3
    }
}

/// Not a node: checked all the same, since rustc expands the attribute here too.
#[lp::nonblocking]
pub async fn helper() {}

/// Names lp's attribute through a glob: checked.
pub mod globbed {
    use lp::*;

    #[nonblocking]
    pub async fn marked() {}
}

/// Has an attribute of its own by that name: not lp's, so not checked.
pub mod elsewhere {
    use other_crate::nonblocking;

    #[nonblocking]
    pub async fn not_lps() {}
}

/// In a trait impl, as anywhere: an `async fn` cannot be marked.
pub struct Runner;

impl lp::Run for Runner {
    #[lp::nonblocking]
    async fn run(&self, _ctx: lp::Context) -> lp::Result<()> {
        Ok(())
    }
}
