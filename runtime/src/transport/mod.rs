//! How a call reaches a node: in process ([`inproc`]), over a Unix socket ([`unix`]) or over TCP
//! ([`tcp`], for cluster launches), or over the simulated network of `sim` ([`sim`]); the socket
//! transports are framed by [`frame`] and share the handshake in [`conn`]; [`mux`] multiplexes a
//! node's calls on its connection.

pub(crate) mod conn;
pub(crate) mod frame;
pub(crate) mod inproc;
pub(crate) mod mux;
pub(crate) mod sim;
pub(crate) mod tcp;
pub(crate) mod unix;
