//! One of two courier types named `Store` (see `cold`).

/// A hot store.
pub struct Store;

impl Store {
    pub fn new() -> Self {
        Store
    }

    pub fn temperature(&self) -> i32 {
        90
    }
}
