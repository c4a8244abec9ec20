//! Handles passed in calls (as arguments and results), method names the generated code once
//! mangled into one variant (`get_x`, `getX`), and parameters bound by patterns.

use std::sync::Mutex;

use lp::Handle;

use super::traits::{Learner, VariableSource};

/// Keeps the handles it is given, and hands them out again.
pub struct Registry {
    learner: Mutex<Option<Handle<Learner>>>,
}

impl Registry {
    pub fn new() -> Self {
        Registry {
            learner: Mutex::new(None),
        }
    }

    /// Remembers a learner.
    pub fn register(&self, learner: Handle<Learner>) -> String {
        let label = Handle::label(&learner).to_string();
        *self.learner.lock().unwrap() = Some(learner);
        label
    }

    /// The learner registered, if any.
    pub fn lookup(&self) -> Option<Handle<Learner>> {
        self.learner.lock().unwrap().clone()
    }

    /// Calls the registered learner itself.
    pub async fn ask(&self) -> Result<u64, lp::CallError> {
        let learner = self.lookup();
        match learner {
            Some(learner) => learner.steps().await,
            None => Ok(0),
        }
    }

    /// Calls the source it is given.
    pub async fn relay(&self, source: Handle<dyn VariableSource>) -> Result<String, lp::CallError> {
        source.name().await
    }

    #[allow(non_snake_case)]
    pub fn getX(&self) -> u32 {
        1
    }

    pub fn get_x(&self) -> u32 {
        2
    }

    /// Only in test builds: generated code (shared by `cargo build` and `cargo test`) does not
    /// call it.
    #[cfg(test)]
    pub fn only_in_tests(&self) -> u8 {
        1
    }

    /// Only with a feature, and a type that cannot cross the wire: not served.
    #[cfg(feature = "never")]
    pub fn only_with_a_feature(&self, shared: std::rc::Rc<u8>) -> u8 {
        *shared
    }

    /// Lifetime parameters alone: served.
    #[allow(clippy::needless_lifetimes)]
    pub fn lifetimes<'a>(&'a self, x: String) -> usize {
        let _ = self;
        x.len()
    }

    /// Parameters bound by patterns.
    pub fn patterns(&self, _: u64, (a, b): (u8, u8), mut c: u64) -> u64 {
        c += u64::from(a) + u64::from(b);
        c
    }
}
