//! The benchmark's node types.

/// Answers `work` (the method every peer is measured on) and takes large arguments.
pub struct Work;

impl Work {
    pub fn new() -> Self {
        Work
    }

    /// `x + 1`, as a synchronous method (runs on a blocking thread).
    pub fn work(&self, x: u64) -> u64 {
        x.wrapping_add(1)
    }

    /// `x + 1`, as a synchronous method that never blocks (runs where its call is served).
    #[lp::nonblocking]
    pub fn work_nonblocking(&self, x: u64) -> u64 {
        x.wrapping_add(1)
    }

    /// `x + 1`, as an async method (runs on the connection's task, like tarpc's handlers).
    pub async fn work_async(&self, x: u64) -> u64 {
        x.wrapping_add(1)
    }

    /// The size of a (large) argument: `Bytes`, which serde writes and reads whole (a `Vec<u8>`
    /// goes byte by byte), and a caller clones without a copy.
    pub async fn size(&self, data: bytes::Bytes) -> u64 {
        data.len() as u64
    }

    /// The id of its process, to pin it.
    pub fn pid(&self) -> u32 {
        std::process::id()
    }
}

impl Default for Work {
    fn default() -> Self {
        Work::new()
    }
}

/// Does nothing but answer: the launch, stop and memory rows count these.
pub struct Idle;

impl Idle {
    pub fn new() -> Self {
        Idle
    }

    /// The id of its process.
    pub fn pid(&self) -> u32 {
        std::process::id()
    }
}

impl Default for Idle {
    fn default() -> Self {
        Idle::new()
    }
}
