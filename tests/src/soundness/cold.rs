//! The other `Store`, imported under an alias, and a node holding a handle to it.

use lp::Handle;

/// A cold store.
pub struct Store;

impl Store {
    pub fn new() -> Self {
        Store
    }

    pub fn temperature(&self) -> i32 {
        -5
    }
}

/// Holds a handle to the cold store.
pub struct Fridge {
    store: Handle<Store>,
}

impl Fridge {
    pub fn new(store: Handle<Store>) -> Self {
        Fridge { store }
    }

    pub async fn temperature(&self) -> Result<i32, lp::CallError> {
        self.store.temperature().await
    }
}
