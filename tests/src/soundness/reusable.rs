//! Node types no program uses: the crate must build whatever subset of its types a program
//! uses, so a handle to a type no program serves still has a client.

use lp::Handle;

/// Never used as a node.
pub struct Unused;

impl Unused {
    pub fn ping(&self) -> u8 {
        1
    }
}

/// Holds a handle to a type no program serves.
pub struct Orphan {
    pub unused: Option<Handle<Unused>>,
}
