//! A courier trait (Acme's "variable source": a learner or a cache), a constructor returning
//! `Result`, and handles typed by the trait, alone and in a list.

use lp::Handle;

/// Anything that serves variables.
pub trait VariableSource {
    /// The variables.
    fn variables(&self) -> Vec<f32>;
    /// Who serves them.
    fn name(&self) -> String;
}

/// Learns; serves its variables.
pub struct Learner;

impl Learner {
    pub fn new() -> Self {
        Learner
    }

    /// Its own method, beside the trait's.
    pub fn steps(&self) -> u64 {
        42
    }
}

impl VariableSource for Learner {
    fn variables(&self) -> Vec<f32> {
        vec![1.0, 2.0]
    }
    fn name(&self) -> String {
        "learner".into()
    }
}

/// Caches variables; its constructor can fail.
pub struct Cache {
    size: u32,
}

impl Cache {
    pub fn new(size: u32) -> Result<Self, String> {
        if size == 0 {
            return Err("a cache needs a size of at least 1".into());
        }
        Ok(Cache { size })
    }
}

impl VariableSource for Cache {
    fn variables(&self) -> Vec<f32> {
        vec![self.size as f32]
    }
    fn name(&self) -> String {
        "cache".into()
    }
}

/// Pulls variables from whatever source it was given.
pub struct Actor {
    source: Handle<dyn VariableSource>,
    sources: Vec<Handle<dyn VariableSource>>,
}

impl Actor {
    pub fn new(
        source: Handle<dyn VariableSource>,
        sources: Vec<Handle<dyn VariableSource>>,
    ) -> Self {
        Actor { source, sources }
    }

    /// The variables of its source.
    pub async fn pull(&self) -> Result<Vec<f32>, lp::CallError> {
        self.source.variables().await
    }

    /// The names of all its sources, in order.
    pub async fn names(&self) -> Result<Vec<String>, lp::CallError> {
        let mut names = Vec::new();
        for source in &self.sources {
            names.push(source.name().await?);
        }
        Ok(names)
    }
}
