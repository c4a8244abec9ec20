//! The wire: length-delimited frames of postcard-encoded messages.
//!
//! A frame is a 4-byte big-endian length followed by that many bytes ([`FrameCodec`]). The
//! length is checked against the connection's limit before anything is read: [`MAX_HELLO`]
//! until the handshake is done, [`MAX_FRAME`] after. Nothing is reserved on a frame's
//! announced length: the buffer grows as its bytes arrive, so a peer's memory cost is what it
//! sends. A frame that does not decode as the expected message closes its connection (and only
//! that one).
//!
//! The format is postcard (maintained, compact varints; bincode 1 is unmaintained,
//! RUSTSEC-2025-0141). Its version is [`PROTOCOL`], the first field of the server's first frame
//! and of the client's answer, so peers of different versions fail with a message that says so.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use tokio_util::codec::{Decoder, Encoder};

use crate::error::CallError;

/// The largest frame accepted or sent: 128 MiB (a 64 MiB argument passes; the length is
/// checked before anything is allocated).
pub(crate) const MAX_FRAME: usize = 128 << 20;

/// The largest frame before the handshake is done: a challenge or a hello (a few dozen bytes).
pub(crate) const MAX_HELLO: usize = 256;

/// The buffer grows by at most this much ahead of the bytes that arrived (and at most by what
/// has arrived already, so growth is geometric, not per chunk).
const GROWTH: usize = 64 << 10;

/// Length-prefixed frames with a limit, that grow their buffer as bytes arrive: the codec of
/// every connection (node servers, clients, control links).
#[derive(Debug, Clone)]
pub(crate) struct FrameCodec {
    /// The largest frame accepted or sent.
    max: usize,
}

impl FrameCodec {
    /// A codec for a connection before its handshake: frames of at most [`MAX_HELLO`] bytes.
    pub(crate) fn hello() -> Self {
        FrameCodec { max: MAX_HELLO }
    }

    /// Lifts the limit to [`MAX_FRAME`], once the peer proved the secret.
    pub(crate) fn authenticated(&mut self) {
        self.max = MAX_FRAME;
    }

    /// Lowers the limit to `max` (for a connection whose messages are all small).
    pub(crate) fn cap(&mut self, max: usize) {
        self.max = self.max.min(max);
    }
}

/// A frame over its connection's limit.
#[derive(Debug, thiserror::Error)]
#[error("a frame of {len} bytes, over this connection's limit of {max}")]
pub(crate) struct TooLarge {
    len: usize,
    max: usize,
}

impl Decoder for FrameCodec {
    type Item = BytesMut;
    type Error = std::io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> std::io::Result<Option<BytesMut>> {
        let Some(head) = src.first_chunk::<4>() else {
            return Ok(None);
        };
        let len = u32::from_be_bytes(*head) as usize;
        if len > self.max {
            let max = self.max;
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                TooLarge { len, max },
            ));
        }
        let missing = (4 + len).saturating_sub(src.len());
        if missing > 0 {
            src.reserve(missing.min(GROWTH.max(src.len())));
            return Ok(None);
        }
        src.advance(4);
        Ok(Some(src.split_to(len)))
    }
}

impl Encoder<Bytes> for FrameCodec {
    type Error = std::io::Error;

    fn encode(&mut self, frame: Bytes, dst: &mut BytesMut) -> std::io::Result<()> {
        let len = frame.len();
        if len > self.max {
            let max = self.max;
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                TooLarge { len, max },
            ));
        }
        dst.reserve(4 + len);
        dst.put_u32(len as u32);
        dst.extend_from_slice(&frame);
        Ok(())
    }
}

/// The version of the wire protocol: frames, messages, the handshake.
pub(crate) const PROTOCOL: u32 = 4;

/// Why a value cannot go on the wire, or a frame does not decode.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WireError {
    /// Serde refused the value (e.g. a map with non-string keys in some formats, a failing
    /// `Serialize` impl).
    #[error("not serializable")]
    Encode(#[source] postcard::Error),
    /// The encoded value is larger than a frame may be.
    #[error("{len} bytes, over the {} MiB frame limit", MAX_FRAME >> 20)]
    TooLarge {
        /// Its encoded size.
        len: usize,
    },
    /// The bytes are not a valid encoding of the expected type.
    #[error("malformed")]
    Decode(#[source] postcard::Error),
}

/// Encodes a message or a call's argument/result.
pub(crate) fn encode<T: Serialize>(value: &T) -> Result<Bytes, WireError> {
    let bytes = postcard::to_stdvec(value).map_err(WireError::Encode)?;
    fits(bytes.len())?;
    Ok(Bytes::from(bytes))
}

/// Appends `value` to `dst` as one whole frame (the length, then the postcard encoding),
/// written in place: no buffer of its own, no copy. On an error nothing is appended.
pub(crate) fn encode_into<T: Serialize>(dst: &mut BytesMut, value: &T) -> Result<(), WireError> {
    put_frame(dst, 0, |dst| postcard::to_io(value, dst.writer()).map(drop))
}

/// Bodies of at least this many bytes are not copied into a connection's outgoing buffer:
/// they are written from their own (see [`encode_call_into`]).
pub(crate) const LARGE: usize = 64 << 10;

/// Appends `call` to `dst` as one whole frame, as [`encode_into`] would, except for a body of
/// [`LARGE`] bytes or more: that is left out, and where it belongs in `dst` is returned (the
/// frame is `dst` up to there, the body, then the rest of `dst`). On an error nothing is
/// appended.
pub(crate) fn encode_call_into(
    dst: &mut BytesMut,
    call: &CallRef<'_>,
) -> Result<Option<usize>, WireError> {
    let large = call.body.len() >= LARGE;
    let outside = if large { call.body.len() } else { 0 };
    put_frame(dst, outside, |dst| {
        postcard::to_io(&CallHead(call), dst.writer())?;
        let at = dst.len();
        if !large {
            dst.extend_from_slice(call.body);
        }
        postcard::to_io(&(call.deadline, call.trace), dst.writer())?;
        Ok(large.then_some(at))
    })
}

/// Appends one frame to `dst`: its length (that of what `write` appends, plus `outside` bytes
/// written after `dst`), then what `write` appends. On an error nothing is appended.
fn put_frame<T>(
    dst: &mut BytesMut,
    outside: usize,
    write: impl FnOnce(&mut BytesMut) -> postcard::Result<T>,
) -> Result<T, WireError> {
    let start = dst.len();
    dst.put_u32(0);
    let written = write(dst)
        .map_err(WireError::Encode)
        .and_then(|value| fits(dst.len() - start - 4 + outside).map(|()| value));
    match written {
        Ok(value) => {
            let len = (dst.len() - start - 4 + outside) as u32;
            dst[start..start + 4].copy_from_slice(&len.to_be_bytes());
            Ok(value)
        }
        Err(e) => {
            dst.truncate(start);
            Err(e)
        }
    }
}

/// Whether `len` bytes fit in a frame.
pub(crate) fn fits(len: usize) -> Result<(), WireError> {
    match len > MAX_FRAME {
        true => Err(WireError::TooLarge { len }),
        false => Ok(()),
    }
}

/// Decodes a message (one that borrows from `bytes`, too); any malformed input is an error,
/// never a panic. (A length inside a message cannot make serde reserve more than about a
/// megabyte ahead of the data.)
pub(crate) fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, WireError> {
    postcard::from_bytes(bytes).map_err(WireError::Decode)
}

/// The protocol version of a peer's first frame (a [`ToClient::Challenge`] or a
/// [`ToServer::Hello`]: variant 0, version first), whatever else its messages look like.
pub(crate) fn peer_protocol(bytes: &[u8]) -> Option<u32> {
    match postcard::take_from_bytes::<(u32, u32)>(bytes) {
        Ok(((0, version), _)) => Some(version),
        _ => None,
    }
}

/// What a client (a node, the test process, a child talking to its launcher) sends.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum ToServer {
    /// The client's first frame, answering the server's [`ToClient::Challenge`]: proof that it
    /// holds the launch secret, which itself never crosses the wire. A connection whose first
    /// frame is anything else, or whose proof is wrong, is closed without executing anything.
    Hello {
        /// [`PROTOCOL`]: always the first field of the first variant.
        protocol: u32,
        /// HMAC-SHA256 of the challenge's nonce, keyed with the launch secret.
        proof: Bytes,
    },
    /// One call of a courier method.
    Call {
        /// Chosen by the client, unique among its calls in flight on this connection.
        id: u64,
        /// The interface called: the node's own type, or a courier trait it implements (a
        /// hash of its name).
        interface: u64,
        /// The method's name, for error messages.
        method: String,
        /// The encoded request enum of the interface.
        body: Bytes,
        /// How long the caller waits for the reply: past it, the server drops the call
        /// unanswered rather than run it for no one.
        deadline: Option<std::time::Duration>,
        /// Where the call is in its trace, when calls are traced.
        trace: Option<Trace>,
    },
    /// The caller dropped the call with this id: stop running it (an async method is dropped
    /// at its next `.await`; a synchronous one runs to its end) and send no reply.
    Cancel {
        /// The id of the call.
        id: u64,
    },
}

/// [`ToServer`] as a server reads it: the proof, method and body borrowed from the frame, not
/// copied. It decodes as [`ToServer`] does (see the test `borrowed_messages_decode_as_owned_ones`).
#[derive(Debug, Deserialize)]
pub(crate) enum ToServerRef<'a> {
    /// [`ToServer::Hello`].
    Hello { protocol: u32, proof: &'a [u8] },
    /// [`ToServer::Call`].
    Call {
        id: u64,
        interface: u64,
        method: &'a str,
        body: &'a [u8],
        deadline: Option<std::time::Duration>,
        trace: Option<Trace>,
    },
    /// [`ToServer::Cancel`].
    Cancel { id: u64 },
}

/// A [`ToServer::Call`] that borrows its method and body, to encode one without building the
/// owned message ([`encode_call_into`]): it encodes exactly as that does (see the test
/// `borrowed_calls_encode_as_owned_ones`).
#[derive(Clone, Copy)]
pub(crate) struct CallRef<'a> {
    pub(crate) id: u64,
    pub(crate) interface: u64,
    pub(crate) method: &'a str,
    pub(crate) body: &'a Bytes,
    pub(crate) deadline: Option<std::time::Duration>,
    pub(crate) trace: Option<Trace>,
}

/// A [`CallRef`] up to its body's length: what postcard writes of `ToServer::Call` before the
/// body's bytes (a struct variant is its index then its fields; bytes are their length, a
/// varint as a `u64`'s, then themselves). The fields after the body follow as a tuple.
struct CallHead<'a>(&'a CallRef<'a>);

impl Serialize for CallHead<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStructVariant;
        let CallHead(call) = self;
        // `ToServer::Call`: the second variant, six fields.
        let mut head = serializer.serialize_struct_variant("ToServer", 1, "Call", 6)?;
        head.serialize_field("id", &call.id)?;
        head.serialize_field("interface", &call.interface)?;
        head.serialize_field("method", call.method)?;
        head.serialize_field("body", &(call.body.len() as u64))?;
        head.end()
    }
}

/// The most nodes a call's [`Chain`] names: a longer trace keeps its last ones.
pub(crate) const MAX_CHAIN: usize = 8;

/// Where a call is in its trace: the trace every call it led to shares, its own span and its
/// caller's, and the nodes the trace went through to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Trace {
    /// The trace's id, drawn by the call that started it.
    pub(crate) trace: u64,
    /// The call's span id, drawn by its caller.
    pub(crate) span: u64,
    /// The span of the call the caller was serving when it called (0: none, the trace starts).
    pub(crate) parent: u64,
    /// The nodes the trace went through, by id, the caller last.
    pub(crate) chain: Chain,
}

/// Node ids, at most [`MAX_CHAIN`], kept in place (a call's trace costs no allocation); on
/// the wire a sequence, and a longer one is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Chain {
    len: u8,
    ids: [u32; MAX_CHAIN],
}

impl Chain {
    /// The chain followed by node `id` (the first node dropped when it is full).
    pub(crate) fn then(mut self, id: usize) -> Chain {
        let id = u32::try_from(id).unwrap_or(u32::MAX);
        if usize::from(self.len) == MAX_CHAIN {
            self.ids.copy_within(1.., 0);
            self.len -= 1;
        }
        self.ids[usize::from(self.len)] = id;
        self.len += 1;
        self
    }

    /// The node ids, first to last.
    pub(crate) fn ids(&self) -> &[u32] {
        &self.ids[..usize::from(self.len)]
    }
}

impl Serialize for Chain {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.ids())
    }
}

impl<'de> Deserialize<'de> for Chain {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// Takes at most [`MAX_CHAIN`] ids.
        struct Ids;
        impl<'de> serde::de::Visitor<'de> for Ids {
            type Value = Chain;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                write!(f, "at most {MAX_CHAIN} node ids")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Chain, A::Error> {
                let mut chain = Chain::default();
                while let Some(id) = seq.next_element::<u32>()? {
                    if usize::from(chain.len) == MAX_CHAIN {
                        return Err(serde::de::Error::invalid_length(MAX_CHAIN + 1, &self));
                    }
                    chain = chain.then(id as usize);
                }
                Ok(chain)
            }
        }
        deserializer.deserialize_seq(Ids)
    }
}

/// What a server sends back.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum ToClient {
    /// The server's first frame: a fresh random nonce the client must prove the secret on.
    Challenge {
        /// [`PROTOCOL`]: always the first field of the first variant.
        protocol: u32,
        /// 32 random bytes, new for every connection.
        nonce: Bytes,
    },
    /// The hello was accepted.
    Welcome,
    /// The result of the call with this id: the encoded response enum, or an error.
    Reply {
        /// The id of the call.
        id: u64,
        /// The encoded response or why there is none.
        result: Result<Bytes, CallError>,
    },
    /// The server's program is stopping: calls still running may answer, then the connection
    /// closes; calls it will not answer are cut short by the stop, not failed.
    Stopping,
}

/// [`ToClient`] as a client reads it: the nonce and a reply's body borrowed from the frame, not
/// copied. It decodes as [`ToClient`] does (see the test `borrowed_messages_decode_as_owned_ones`).
#[derive(Debug, Deserialize)]
pub(crate) enum ToClientRef<'a> {
    /// [`ToClient::Challenge`].
    Challenge { protocol: u32, nonce: &'a [u8] },
    /// [`ToClient::Welcome`].
    Welcome,
    /// [`ToClient::Reply`].
    Reply {
        id: u64,
        result: Result<&'a [u8], CallError>,
    },
    /// [`ToClient::Stopping`].
    Stopping,
}

/// The per-launch secret every connection must present (32 random bytes).
#[derive(Clone)]
pub(crate) struct Secret([u8; 32]);

impl Secret {
    /// A key of 32 bytes (one [derived](Self::derive), or received with a handle).
    pub(crate) fn from_bytes(bytes: [u8; 32]) -> Self {
        Secret(bytes)
    }

    /// The key's bytes, to pass it on (with a handle).
    pub(crate) fn bytes(&self) -> [u8; 32] {
        self.0
    }

    /// 32 fresh bytes from the operating system's random source (the `getrandom` system
    /// call, which blocks only until the kernel's pool is first initialized).
    pub(crate) fn random() -> std::io::Result<Self> {
        let mut bytes = [0u8; 32];
        let mut filled = 0;
        while filled < bytes.len() {
            match rustix::rand::getrandom(
                &mut bytes[filled..],
                rustix::rand::GetRandomFlags::empty(),
            ) {
                Ok(n) => filled += n,
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(Secret(bytes))
    }

    /// The secret as lower-case hex, for the child's environment.
    pub(crate) fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Parses [`to_hex`](Self::to_hex)'s output.
    pub(crate) fn from_hex(hex: &str) -> Option<Self> {
        let hex = hex.as_bytes();
        if hex.len() != 64 {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (i, pair) in hex.chunks(2).enumerate() {
            let s = std::str::from_utf8(pair).ok()?;
            bytes[i] = u8::from_str_radix(s, 16).ok()?;
        }
        Some(Secret(bytes))
    }

    /// A fresh nonce for a challenge.
    pub(crate) fn nonce() -> std::io::Result<Bytes> {
        Secret::random().map(|random| Bytes::copy_from_slice(&random.0))
    }

    /// HMAC-SHA256 keyed by the secret.
    fn keyed(&self) -> Hmac<Sha256> {
        <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"))
    }

    fn mac(&self, nonce: &[u8]) -> Hmac<Sha256> {
        let mut mac = self.keyed();
        mac.update(b"lp hello v1");
        mac.update(nonce);
        mac
    }

    /// A key for `purpose` derived from the secret (HMAC-SHA256 keyed by it): what each use of
    /// the secret beyond the hello (the pre-shared key of encrypted TCP, …) is keyed with, so
    /// that no two uses share a key.
    pub(crate) fn derive(&self, purpose: &[u8]) -> [u8; 32] {
        let mut mac = self.keyed();
        mac.update(b"lp derive v1 ");
        mac.update(purpose);
        mac.finalize().into_bytes().into()
    }

    /// The proof of holding the secret for this challenge.
    pub(crate) fn proof(&self, nonce: &[u8]) -> Bytes {
        Bytes::copy_from_slice(&self.mac(nonce).finalize().into_bytes())
    }

    /// Checks a proof in constant time.
    pub(crate) fn verify(&self, nonce: &[u8], proof: &[u8]) -> bool {
        self.mac(nonce).verify_slice(proof).is_ok()
    }
}

/// Tests compare keys; the runtime never does (it verifies proofs in constant time).
#[cfg(test)]
impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_round_trips_through_hex() {
        let s = Secret::random().unwrap();
        let t = Secret::from_hex(&s.to_hex()).unwrap();
        let nonce = Secret::nonce().unwrap();
        assert!(t.verify(&nonce, &s.proof(&nonce)));
        let other = Secret::random().unwrap();
        assert!(!t.verify(&nonce, &other.proof(&nonce)));
        assert!(!t.verify(&nonce, &[]));
        let fresh = Secret::nonce().unwrap();
        assert!(
            !t.verify(&fresh, &s.proof(&nonce)),
            "a proof is only good for its nonce"
        );
        assert!(Secret::from_hex("zz").is_none());
    }

    /// `call` as [`encode_call_into`] appends it to a buffer of `before` bytes, its body put
    /// where it belongs: the frame's bytes after its length.
    pub(super) fn encode_call(call: &CallRef<'_>, before: usize) -> Vec<u8> {
        let mut dst = BytesMut::from(&vec![9; before][..]);
        let at = encode_call_into(&mut dst, call).unwrap();
        let mut frame = dst.split_off(before).to_vec();
        if let Some(at) = at {
            frame.splice(at - before..at - before, call.body.iter().copied());
        }
        let len = u32::from_be_bytes(frame[..4].try_into().unwrap()) as usize;
        assert_eq!(len, frame.len() - 4, "the frame's length counts its body");
        frame.split_off(4)
    }

    #[test]
    fn borrowed_calls_encode_as_owned_ones() {
        let trace = Trace {
            trace: u64::MAX,
            span: 3,
            parent: 1 << 40,
            chain: Chain::default().then(4).then(70_000),
        };
        let deadlines = [None, Some(std::time::Duration::from_millis(1500))];
        let bodies = [
            &b"\x00\x01body"[..],
            &[5; LARGE - 1],
            &[6; LARGE],
            &[7; 3 << 20],
        ];
        for body in bodies.map(Bytes::copy_from_slice) {
            for (deadline, trace) in deadlines.into_iter().zip([None, Some(trace)]) {
                let owned = ToServer::Call {
                    id: 1 << 40 | 9,
                    interface: u64::MAX,
                    method: "work".into(),
                    body: body.clone(),
                    deadline,
                    trace,
                };
                let borrowed = CallRef {
                    id: 1 << 40 | 9,
                    interface: u64::MAX,
                    method: "work",
                    body: &body,
                    deadline,
                    trace,
                };
                let bytes = encode_call(&borrowed, 3);
                assert_eq!(encode(&owned).unwrap(), bytes);
                match decode::<ToServerRef>(&bytes).unwrap() {
                    ToServerRef::Call {
                        trace: decoded,
                        body: decoded_body,
                        ..
                    } => assert_eq!((decoded, decoded_body), (trace, &body[..])),
                    other => panic!("unexpected {other:?}"),
                }
            }
        }
    }

    #[test]
    fn borrowed_messages_decode_as_owned_ones() {
        let trace = Trace {
            trace: 1,
            span: 2,
            parent: 0,
            chain: Chain::default().then(3),
        };
        let to_server = [
            ToServer::Hello {
                protocol: PROTOCOL,
                proof: Bytes::from_static(b"proof"),
            },
            ToServer::Call {
                id: 7,
                interface: 3,
                method: "wörk".into(),
                body: Bytes::from(vec![1; 1 << 17]),
                deadline: Some(std::time::Duration::from_secs(2)),
                trace: Some(trace),
            },
            ToServer::Cancel { id: u64::MAX },
        ];
        for message in &to_server {
            super::fuzz::assert_agree(&encode(message).unwrap());
        }
        let to_client = [
            ToClient::Challenge {
                protocol: PROTOCOL,
                nonce: Bytes::from_static(b"nonce"),
            },
            ToClient::Welcome,
            ToClient::Reply {
                id: 9,
                result: Ok(Bytes::from(vec![2; 1 << 16])),
            },
            ToClient::Reply {
                id: 9,
                result: Err(CallError::Cancelled),
            },
            ToClient::Stopping,
        ];
        for message in &to_client {
            super::fuzz::assert_agree(&encode(message).unwrap());
        }
    }

    #[test]
    fn messages_round_trip() {
        let m = ToServer::Call {
            id: 7,
            interface: 3,
            method: "work".into(),
            body: Bytes::from_static(b"abc"),
            deadline: None,
            trace: None,
        };
        let bytes = encode(&m).unwrap();
        match decode::<ToServer>(&bytes).unwrap() {
            ToServer::Call {
                id, method, body, ..
            } => {
                assert_eq!((id, method.as_str(), &body[..]), (7, "work", &b"abc"[..]))
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Arbitrary bytes through the codec and the message decoder: errors, never panics.
        #[test]
        fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let mut codec = FrameCodec::hello();
            codec.authenticated();
            let mut buf = bytes::BytesMut::from(&data[..]);
            while let Ok(Some(frame)) = codec.decode(&mut buf) {
                assert_agree(&frame);
            }
            assert_agree(&data);
        }

        /// A valid frame with random mutations decodes or errors, never panics.
        #[test]
        fn mutated_messages_never_panic(id in any::<u64>(), flips in proptest::collection::vec((0usize..64, any::<u8>()), 0..8)) {
            let mut bytes = encode(&ToServer::Call { id, interface: 1, method: "work".into(), body: Bytes::from_static(b"0123456789"), deadline: None, trace: None }).unwrap().to_vec();
            let len = bytes.len().max(1);
            for (i, b) in flips {
                if let Some(slot) = bytes.get_mut(i % len) {
                    *slot = b;
                }
            }
            assert_agree(&bytes);
        }

        /// Calls of any fields and body size encode in place as the owned message does.
        #[test]
        fn calls_encode_in_place_as_owned_ones(
            id in any::<u64>(),
            method in ".{0,12}",
            len in prop_oneof![0..64usize, LARGE - 2..LARGE + 2, 1usize << 17..1 << 18],
            deadline in proptest::option::of(any::<u64>()),
            before in 0..32usize,
        ) {
            let body = Bytes::from((0..len).map(|i| i as u8).collect::<Vec<u8>>());
            let deadline = deadline.map(std::time::Duration::from_nanos);
            let call = CallRef { id, interface: !id, method: &method, body: &body, deadline, trace: None };
            let owned = ToServer::Call { id, interface: !id, method: method.clone(), body: body.clone(), deadline, trace: None };
            prop_assert_eq!(super::tests::encode_call(&call, before), encode(&owned).unwrap().to_vec());
        }
    }

    /// A message as its borrowed mirror decodes it, owned again.
    fn owned_server(message: ToServerRef<'_>) -> ToServer {
        match message {
            ToServerRef::Hello { protocol, proof } => ToServer::Hello {
                protocol,
                proof: Bytes::copy_from_slice(proof),
            },
            ToServerRef::Call {
                id,
                interface,
                method,
                body,
                deadline,
                trace,
            } => ToServer::Call {
                id,
                interface,
                method: method.into(),
                body: Bytes::copy_from_slice(body),
                deadline,
                trace,
            },
            ToServerRef::Cancel { id } => ToServer::Cancel { id },
        }
    }

    /// A message as its borrowed mirror decodes it, owned again.
    fn owned_client(message: ToClientRef<'_>) -> ToClient {
        match message {
            ToClientRef::Challenge { protocol, nonce } => ToClient::Challenge {
                protocol,
                nonce: Bytes::copy_from_slice(nonce),
            },
            ToClientRef::Welcome => ToClient::Welcome,
            ToClientRef::Reply { id, result } => ToClient::Reply {
                id,
                result: result.map(Bytes::copy_from_slice),
            },
            ToClientRef::Stopping => ToClient::Stopping,
        }
    }

    /// `bytes` decode as the same message (or fail) whether decoded owned or borrowed, as a
    /// server's message and as a client's.
    pub(super) fn assert_agree(bytes: &[u8]) {
        let owned = decode::<ToServer>(bytes).map(|m| format!("{m:?}"));
        let borrowed = decode::<ToServerRef>(bytes).map(|m| format!("{:?}", owned_server(m)));
        assert_eq!(owned.ok(), borrowed.ok());
        let owned = decode::<ToClient>(bytes).map(|m| format!("{m:?}"));
        let borrowed = decode::<ToClientRef>(bytes).map(|m| format!("{:?}", owned_client(m)));
        assert_eq!(owned.ok(), borrowed.ok());
    }

    #[test]
    fn huge_length_prefixes_inside_messages_do_not_allocate() {
        // A Call whose `method` claims 2^60 bytes: an error at the end of the data, not an
        // allocation of the claimed length.
        let mut bytes = vec![1u8, 7, 1];
        bytes.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]);
        assert!(decode::<ToServer>(&bytes).is_err());
        assert!(decode::<ToServerRef>(&bytes).is_err());
    }

    #[test]
    fn a_chain_keeps_its_last_nodes_and_a_longer_one_is_refused() {
        let chain = (0..MAX_CHAIN + 2).fold(Chain::default(), Chain::then);
        let last: Vec<u32> = (2..MAX_CHAIN as u32 + 2).collect();
        assert_eq!(chain.ids(), last);
        let bytes = encode(&chain).unwrap();
        assert_eq!(decode::<Chain>(&bytes).unwrap(), chain);
        let longer: Vec<u32> = (0..MAX_CHAIN as u32 + 1).collect();
        assert!(decode::<Chain>(&encode(&longer).unwrap()).is_err());
        let huge = [0xff, 0xff, 0xff, 0xff, 0x0f];
        assert!(
            decode::<Chain>(&huge).is_err(),
            "a claimed length allocates nothing"
        );
    }

    #[test]
    fn the_protocol_version_reads_from_any_first_frame() {
        let challenge = encode(&ToClient::Challenge {
            protocol: PROTOCOL,
            nonce: Bytes::from_static(b"n"),
        })
        .unwrap();
        assert_eq!(peer_protocol(&challenge), Some(PROTOCOL));
        let hello = encode(&ToServer::Hello {
            protocol: 7,
            proof: Bytes::new(),
        })
        .unwrap();
        assert_eq!(peer_protocol(&hello), Some(7));
        assert_eq!(peer_protocol(b""), None);
    }
}

#[cfg(test)]
mod codec {
    use super::*;

    #[test]
    fn frames_round_trip_and_split_where_they_end() {
        let mut codec = FrameCodec::hello();
        let mut wire = BytesMut::new();
        codec.encode(Bytes::from_static(b"one"), &mut wire).unwrap();
        codec.encode(Bytes::from_static(b""), &mut wire).unwrap();
        codec
            .encode(Bytes::from_static(b"three"), &mut wire)
            .unwrap();
        wire.extend_from_slice(&[0, 0]);
        let frames: Vec<BytesMut> =
            std::iter::from_fn(|| codec.decode(&mut wire).unwrap()).collect();
        assert_eq!(frames, [&b"one"[..], b"", b"three"]);
        assert_eq!(&wire[..], [0, 0], "a partial header waits");
    }

    #[test]
    fn frames_encoded_in_place_decode_as_sent() {
        let mut wire = BytesMut::from(&b"before"[..]);
        encode_into(&mut wire, &ToServer::Cancel { id: 300 }).unwrap();
        encode_into(&mut wire, &ToClient::Stopping).unwrap();
        wire.advance(6);
        let mut codec = FrameCodec::hello();
        let first = codec.decode(&mut wire).unwrap().unwrap();
        assert!(matches!(decode(&first), Ok(ToServer::Cancel { id: 300 })));
        let second = codec.decode(&mut wire).unwrap().unwrap();
        assert!(matches!(decode(&second), Ok(ToClient::Stopping)));
        assert!(wire.is_empty());
    }

    #[test]
    fn the_limit_is_the_hello_until_authenticated() {
        let mut codec = FrameCodec::hello();
        let mut wire = BytesMut::from(&((MAX_HELLO + 1) as u32).to_be_bytes()[..]);
        assert!(
            codec.decode(&mut wire).is_err(),
            "a large frame before the handshake"
        );
        let mut wire = BytesMut::from(&((MAX_HELLO + 1) as u32).to_be_bytes()[..]);
        codec.authenticated();
        assert!(
            codec.decode(&mut wire).unwrap().is_none(),
            "waits for the body"
        );
        let mut wire = BytesMut::from(&((MAX_FRAME + 1) as u32).to_be_bytes()[..]);
        assert!(codec.decode(&mut wire).is_err());
        let too_big = Bytes::from(vec![0u8; MAX_HELLO + 1]);
        assert!(FrameCodec::hello()
            .encode(too_big, &mut BytesMut::new())
            .is_err());
    }

    #[test]
    fn an_announced_length_reserves_only_what_arrived() {
        let mut codec = FrameCodec::hello();
        codec.authenticated();
        let mut wire = BytesMut::from(&((MAX_FRAME - 1) as u32).to_be_bytes()[..]);
        wire.extend_from_slice(&[7; 100]);
        assert!(codec.decode(&mut wire).unwrap().is_none());
        assert!(
            wire.capacity() <= 2 * GROWTH,
            "{} bytes reserved for 104 received",
            wire.capacity()
        );
    }
}
