//! How a call reaches a node: in process ([`inproc`]), over a Unix socket ([`unix`]) or over TCP
//! ([`tcp`], for cluster launches), or over the simulated network of `sim` ([`sim`]); the socket
//! transports are framed by [`frame`] and share the handshake in [`conn`], TCP's sealed by
//! [`noise`]; [`mux`] multiplexes a node's calls on its connection.

pub(crate) mod conn;
pub(crate) mod frame;
pub(crate) mod inproc;
pub(crate) mod key_tree;
pub(crate) mod keys;
pub(crate) mod mux;
pub(crate) mod noise;
#[cfg(feature = "sim")]
pub(crate) mod sim;
pub(crate) mod tcp;
pub(crate) mod unix;

/// Whether this code runs inside a simulation (on a simulated host of `sim`): then work that
/// would go to a thread of its own (a synchronous method, constructor or `run`) runs inline, on
/// the simulation's one thread, so that the schedule stays a function of the seed.
pub(crate) fn simulated() -> bool {
    #[cfg(feature = "sim")]
    return turmoil::in_simulation();
    #[cfg(not(feature = "sim"))]
    false
}
