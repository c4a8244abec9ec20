//! Encrypted, integrity-protected streams for TCP, keyed by the launch secret: the Noise
//! protocol framework's `Noise_NNpsk0_25519_AESGCM_SHA256` (snow's implementation over ring's
//! primitives). Both sides prove the launch secret (the pre-shared key, derived from it) in
//! the first two messages, agree on fresh keys (forward secrecy: recording the traffic and
//! learning the secret later reads nothing), and from then on every byte either way is
//! sealed: a peer on the network path can neither read the calls nor alter, drop, replay or
//! reorder a message unnoticed — the stream ends with an error instead.
//!
//! AES-256-GCM rather than ChaCha20-Poly1305: the machines clusters run on have AES
//! instructions (x86-64's AES-NI and VAES, ARMv8's), with which ring's AES-GCM seals about five
//! times as many bytes per second (5.3 against 1.0 GB/s on the machines lp is built on).
//!
//! On the wire, after the server's [marker](MARKER) and [`PROTOCOL`]: messages of at most
//! 65,535 bytes, each after its length (two bytes, big-endian). The usual hello
//! ([`conn`](super::conn)) then runs inside, as on every transport.

mod primitives;
mod stream;

use std::sync::Arc;

use snow::params::NoiseParams;
use snow::{HandshakeState, StatelessTransportState};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::conn::{HandshakeError, ReadHalf, WriteHalf};
use super::frame::{Secret, PROTOCOL};

/// The suite.
const PATTERN: &str = "Noise_NNpsk0_25519_AESGCM_SHA256";

/// What a server sends first, before [`PROTOCOL`]: a client that reads anything else is not
/// talking to an encrypted lp server.
const MARKER: [u8; 4] = *b"lpN1";

/// The length of each handshake message: an X25519 public key and the tag of an empty
/// payload. A peer announcing another length is refused before anything more is read.
const HANDSHAKE_MESSAGE: usize = 32 + 16;

/// What the pre-shared key is derived for (see [`Secret::derive`]).
const PSK_PURPOSE: &[u8] = b"noise psk";

fn handshake(secret: &Secret, initiator: bool) -> Result<HandshakeState, snow::Error> {
    let params: NoiseParams = PATTERN.parse()?;
    let psk = secret.derive(PSK_PURPOSE);
    let prologue = PROTOCOL.to_be_bytes();
    let builder = snow::Builder::with_resolver(params, Box::new(primitives::Ring))
        .prologue(&prologue)?
        .psk(0, &psk)?;
    if initiator {
        builder.build_initiator()
    } else {
        builder.build_responder()
    }
}

/// The client side: checks the server's marker, runs the handshake, and returns the sealed
/// halves. The caller bounds it in time.
pub(crate) async fn initiate(
    mut reader: ReadHalf,
    mut writer: WriteHalf,
    secret: &Secret,
) -> Result<(ReadHalf, WriteHalf), HandshakeError> {
    use HandshakeError::{Lost, Rejected};
    let mut first = [0u8; 8];
    if let Err(e) = reader.read_exact(&mut first).await {
        return Err(Lost(format!("the server closed the connection ({e})")));
    }
    if first[..4] != MARKER {
        return Err(Rejected(
            "handshake failed: the peer is not an encrypted lp server (is its transport TCP, \
             from the same version of lp?)"
                .into(),
        ));
    }
    let theirs = u32::from_be_bytes([first[4], first[5], first[6], first[7]]);
    if theirs != PROTOCOL {
        return Err(Rejected(super::conn::protocol_mismatch(theirs)));
    }
    let failed = |e: snow::Error| Rejected(format!("handshake failed: {e}"));
    let mut state = handshake(secret, true).map_err(failed)?;
    let mut message = [0u8; HANDSHAKE_MESSAGE];
    let len = state.write_message(&[], &mut message).map_err(failed)?;
    send(&mut writer, &message[..len])
        .await
        .map_err(|e| Lost(format!("handshake failed: {e}")))?;
    let refused = || Rejected("the connection was refused (wrong launch secret?)".into());
    let reply = receive(&mut reader).await.map_err(|_| refused())?;
    state.read_message(&reply, &mut []).map_err(|_| refused())?;
    let state = state.into_stateless_transport_mode().map_err(failed)?;
    Ok(sealed(reader, writer, state))
}

/// The server side: sends the marker, runs the handshake, and returns the sealed halves, or
/// nothing when the peer did not prove the secret (or sent anything else). The caller bounds
/// it in time.
pub(crate) async fn respond(
    mut reader: ReadHalf,
    mut writer: WriteHalf,
    secret: &Secret,
) -> Option<(ReadHalf, WriteHalf)> {
    let mut first = [0u8; 8];
    first[..4].copy_from_slice(&MARKER);
    first[4..].copy_from_slice(&PROTOCOL.to_be_bytes());
    writer.write_all(&first).await.ok()?;
    writer.flush().await.ok()?;
    let mut state = handshake(secret, false).ok()?;
    let hello = receive(&mut reader).await.ok()?;
    state.read_message(&hello, &mut []).ok()?;
    let mut message = [0u8; HANDSHAKE_MESSAGE];
    let len = state.write_message(&[], &mut message).ok()?;
    send(&mut writer, &message[..len]).await.ok()?;
    let state = state.into_stateless_transport_mode().ok()?;
    Some(sealed(reader, writer, state))
}

/// Sends one handshake message after its length.
async fn send(writer: &mut WriteHalf, message: &[u8]) -> std::io::Result<()> {
    let len = u16::try_from(message.len()).map_err(std::io::Error::other)?;
    writer.write_all(&len.to_be_bytes()).await?;
    writer.write_all(message).await?;
    writer.flush().await
}

/// Receives one handshake message: exactly [`HANDSHAKE_MESSAGE`] bytes, or an error before
/// reading any more.
async fn receive(reader: &mut ReadHalf) -> std::io::Result<[u8; HANDSHAKE_MESSAGE]> {
    let len = reader.read_u16().await?;
    if usize::from(len) != HANDSHAKE_MESSAGE {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "not a handshake message",
        ));
    }
    let mut message = [0u8; HANDSHAKE_MESSAGE];
    reader.read_exact(&mut message).await?;
    Ok(message)
}

fn sealed(
    reader: ReadHalf,
    writer: WriteHalf,
    state: StatelessTransportState,
) -> (ReadHalf, WriteHalf) {
    let state = Arc::new(state);
    (
        Box::pin(stream::SealedRead::new(reader, state.clone())),
        Box::pin(stream::SealedWrite::new(writer, state)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Both ends of an in-memory stream that takes at most `capacity` bytes at a time.
    fn pipe(capacity: usize) -> ((ReadHalf, WriteHalf), (ReadHalf, WriteHalf)) {
        let (a, b) = tokio::io::duplex(capacity);
        let (ar, aw) = tokio::io::split(a);
        let (br, bw) = tokio::io::split(b);
        ((Box::pin(ar), Box::pin(aw)), (Box::pin(br), Box::pin(bw)))
    }

    /// The sealed halves of both ends of a pipe taking `capacity` bytes at a time, or the
    /// client's error and whether the server accepted.
    async fn connect(
        client: &Secret,
        server: &Secret,
        capacity: usize,
    ) -> Result<((ReadHalf, WriteHalf), (ReadHalf, WriteHalf)), (HandshakeError, bool)> {
        let ((cr, cw), (sr, sw)) = pipe(capacity);
        let (c, s) = tokio::join!(initiate(cr, cw, client), respond(sr, sw, server));
        match (c, s) {
            (Ok(c), Some(s)) => Ok((c, s)),
            (Err(e), s) => Err((e, s.is_some())),
            (Ok(_), None) => panic!("the client finished a handshake the server refused"),
        }
    }

    #[tokio::test]
    async fn a_wrong_secret_is_refused_on_both_sides() {
        let (e, accepted) = connect(&Secret::random().unwrap(), &Secret::random().unwrap(), 4096)
            .await
            .err()
            .expect("refused");
        assert!(!accepted);
        assert!(e.to_string().contains("wrong launch secret"), "{e}");
    }

    #[tokio::test]
    async fn a_server_refuses_a_handshake_message_of_another_length_unread() {
        let ((mut cr, mut cw), (sr, sw)) = pipe(1 << 16);
        let secret = Secret::random().unwrap();
        let server = tokio::spawn(async move { respond(sr, sw, &secret).await.is_some() });
        let mut marker = [0u8; 8];
        cr.read_exact(&mut marker).await.unwrap();
        assert_eq!(&marker[..4], b"lpN1");
        // Announces 60,000 bytes and sends none: refused at once, not after a timeout.
        cw.write_all(&60_000u16.to_be_bytes()).await.unwrap();
        cw.flush().await.unwrap();
        assert!(!server.await.unwrap());
    }

    #[tokio::test]
    async fn a_client_names_a_plain_server() {
        let ((cr, cw), (_sr, mut sw)) = pipe(1 << 16);
        sw.write_all(&[0, 0, 0, 5, 0, 2, 1, 2, 3]).await.unwrap();
        let e = initiate(cr, cw, &Secret::random().unwrap())
            .await
            .err()
            .expect("not an encrypted server");
        assert!(e.to_string().contains("not an encrypted lp server"), "{e}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Whatever the sizes of the writes, where the flushes fall and how little the pipe
        /// takes at once, the other side reads exactly the bytes written.
        #[test]
        fn bytes_arrive_whole_and_in_order(
            writes in proptest::collection::vec((0usize..150_000, any::<bool>()), 1..8),
            capacity in 1usize..70_000,
            seed in any::<u8>(),
        ) {
            let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
            runtime.block_on(async {
                let secret = Secret::random().unwrap();
                let ((_, mut w), (mut r, _)) = connect(&secret, &secret, capacity).await.unwrap();
                let sent: Vec<u8> = (0..writes.iter().map(|(n, _)| n).sum::<usize>())
                    .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
                    .collect();
                let writer = {
                    let sent = sent.clone();
                    async move {
                        let mut at = 0;
                        for (n, flush) in writes {
                            w.write_all(&sent[at..at + n]).await.unwrap();
                            at += n;
                            if flush {
                                w.flush().await.unwrap();
                            }
                        }
                        w.shutdown().await.unwrap();
                    }
                };
                let mut received = Vec::new();
                let (_, read) = tokio::join!(writer, r.read_to_end(&mut received));
                read.unwrap();
                assert!(received == sent, "{} bytes sent, {} received", sent.len(), received.len());
            });
        }
    }
}
