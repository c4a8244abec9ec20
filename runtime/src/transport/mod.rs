//! How a call reaches a node: in process ([`inproc`]) or over a Unix socket ([`unix`], framed by
//! [`frame`]).

pub(crate) mod frame;
pub(crate) mod inproc;
pub(crate) mod unix;
