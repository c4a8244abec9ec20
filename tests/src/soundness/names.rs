//! A node type for the program whose names are the generated code's own.

use lp::Handle;

/// Knows a value and, maybe, a peer.
pub struct Named {
    value: u32,
    peer: Option<Handle<Named>>,
}

impl Named {
    pub fn new(value: u32, peer: Option<Handle<Named>>) -> Self {
        Named { value, peer }
    }

    pub fn value(&self) -> u32 {
        self.value
    }

    /// Its peer's value, through the peer's handle.
    pub async fn peer_value(&self) -> Result<Option<u32>, lp::CallError> {
        match &self.peer {
            Some(peer) => peer.value().await.map(Some),
            None => Ok(None),
        }
    }
}
