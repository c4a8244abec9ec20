//! A courier that keeps every value its constructor got, to compare with what the `.lp` file
//! computes: folded constants, arithmetic over params and replicas (integer and float),
//! optional and raw-named parameters, an index computed from the group size.

use lp::Handle;
use serde::{Deserialize, Serialize};

/// What a [`Probe`] was built with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Received {
    pub seed: u64,
    pub epsilon: f32,
    pub share: f32,
    pub small: u8,
    pub index: usize,
    pub maybe: Option<u32>,
    pub label: Option<String>,
    pub kind: u64,
    /// The label of the replica its `peer` handle reaches.
    pub peer: String,
}

/// Records its constructor's arguments.
pub struct Probe {
    received: Received,
}

impl Probe {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        seed: u64,
        epsilon: f32,
        share: f32,
        small: u8,
        index: usize,
        maybe: Option<u32>,
        label: Option<String>,
        r#type: u64,
        peer: Handle<Probe>,
    ) -> Self {
        let peer = Handle::label(&peer).to_string();
        Probe {
            received: Received {
                seed,
                epsilon,
                share,
                small,
                index,
                maybe,
                label,
                kind: r#type,
                peer,
            },
        }
    }

    /// What it was built with.
    pub fn received(&self) -> Received {
        self.received.clone()
    }
}
