//! The cryptographic primitives of `Noise_NNpsk0_25519_AESGCM_SHA256`, from ring, for snow's
//! protocol code: X25519, AES-256-GCM and SHA-256. (snow's own resolver would bring a
//! pure-Rust curve whose derive macros need a second major version of syn in every program's
//! build; ring's primitives are also faster.)

use std::sync::Mutex;

use ring::aead::{Aad, LessSafeKey, Nonce, Tag, UnboundKey, AES_256_GCM};
use ring::agreement::{self, EphemeralPrivateKey, UnparsedPublicKey, X25519};
use ring::digest;
use ring::rand::{SecureRandom, SystemRandom};
use snow::params::{CipherChoice, DHChoice, HashChoice};
use snow::resolvers::CryptoResolver;
use snow::types::{Cipher, Dh, Hash, Random};
use snow::Error;

/// Resolves the one suite lp speaks to ring's primitives; nothing else.
pub(super) struct Ring;

impl CryptoResolver for Ring {
    fn resolve_rng(&self) -> Option<Box<dyn Random>> {
        Some(Box::new(Rng(SystemRandom::new())))
    }

    fn resolve_dh(&self, choice: &DHChoice) -> Option<Box<dyn Dh>> {
        matches!(choice, DHChoice::Curve25519).then(|| Box::new(Ephemeral::default()) as _)
    }

    fn resolve_hash(&self, choice: &HashChoice) -> Option<Box<dyn Hash>> {
        matches!(choice, HashChoice::SHA256).then(|| Box::new(Sha256::default()) as _)
    }

    fn resolve_cipher(&self, choice: &CipherChoice) -> Option<Box<dyn Cipher>> {
        matches!(choice, CipherChoice::AESGCM).then(|| Box::new(AesGcm::default()) as _)
    }
}

/// The operating system's generator.
struct Rng(SystemRandom);

impl Random for Rng {
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Error> {
        self.0.fill(dest).map_err(|_| Error::Rng)
    }
}

/// An X25519 key pair that is generated, used in one key agreement, and gone: ring never
/// exposes an X25519 private key, so it serves handshake patterns without static keys (`NN`,
/// the only one lp uses), and [`set`](Dh::set) and [`privkey`](Dh::privkey) do nothing.
#[derive(Default)]
struct Ephemeral {
    /// Taken by the one agreement.
    private: Mutex<Option<EphemeralPrivateKey>>,
    public: [u8; 32],
}

impl Dh for Ephemeral {
    fn name(&self) -> &'static str {
        "25519"
    }

    fn pub_len(&self) -> usize {
        32
    }

    fn priv_len(&self) -> usize {
        32
    }

    fn set(&mut self, _: &[u8]) {}

    fn generate(&mut self, _: &mut dyn Random) -> Result<(), Error> {
        let private =
            EphemeralPrivateKey::generate(&X25519, &SystemRandom::new()).map_err(|_| Error::Rng)?;
        let public = private.compute_public_key().map_err(|_| Error::Dh)?;
        self.public.copy_from_slice(public.as_ref());
        *self.private.get_mut().unwrap_or_else(|e| e.into_inner()) = Some(private);
        Ok(())
    }

    fn pubkey(&self) -> &[u8] {
        &self.public
    }

    fn privkey(&self) -> &[u8] {
        &[]
    }

    fn dh(&self, pubkey: &[u8], out: &mut [u8]) -> Result<(), Error> {
        let private = self
            .private
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .ok_or(Error::Dh)?;
        // snow passes the peer's key in a buffer sized for its largest curve.
        let peer = UnparsedPublicKey::new(&X25519, pubkey.get(..32).ok_or(Error::Dh)?);
        agreement::agree_ephemeral(private, &peer, |shared| {
            out[..shared.len()].copy_from_slice(shared);
        })
        .map_err(|_| Error::Dh)
    }
}

/// AES-256-GCM with Noise's nonces for it: 32 zero bits, then the counter in big endian.
struct AesGcm(LessSafeKey);

impl Default for AesGcm {
    fn default() -> Self {
        AesGcm(key(&[0; 32]))
    }
}

fn key(bytes: &[u8; 32]) -> LessSafeKey {
    let unbound = UnboundKey::new(&AES_256_GCM, bytes)
        .unwrap_or_else(|_| unreachable!("an AES-256 key is 32 bytes"));
    LessSafeKey::new(unbound)
}

fn nonce(counter: u64) -> Nonce {
    let mut bytes = [0u8; 12];
    bytes[4..].copy_from_slice(&counter.to_be_bytes());
    Nonce::assume_unique_for_key(bytes)
}

/// The length of a tag.
const TAG: usize = 16;

impl Cipher for AesGcm {
    fn name(&self) -> &'static str {
        "AESGCM"
    }

    fn set(&mut self, bytes: &[u8; 32]) {
        self.0 = key(bytes);
    }

    fn encrypt(&self, counter: u64, authtext: &[u8], plaintext: &[u8], out: &mut [u8]) -> usize {
        let len = plaintext.len();
        out[..len].copy_from_slice(plaintext);
        let tag = self
            .0
            .seal_in_place_separate_tag(nonce(counter), Aad::from(authtext), &mut out[..len])
            .unwrap_or_else(|_| unreachable!("snow's messages are far below ring's limit"));
        out[len..len + TAG].copy_from_slice(tag.as_ref());
        len + TAG
    }

    fn decrypt(
        &self,
        counter: u64,
        authtext: &[u8],
        ciphertext: &[u8],
        out: &mut [u8],
    ) -> Result<usize, Error> {
        let len = ciphertext.len().checked_sub(TAG).ok_or(Error::Decrypt)?;
        let tag = Tag::try_from(&ciphertext[len..]).map_err(|_| Error::Decrypt)?;
        let plain = out.get_mut(..len).ok_or(Error::Decrypt)?;
        plain.copy_from_slice(&ciphertext[..len]);
        self.0
            .open_in_place_separate_tag(nonce(counter), Aad::from(authtext), tag, plain, 0..)
            .map_err(|_| Error::Decrypt)?;
        Ok(len)
    }
}

/// SHA-256, fed piece by piece.
struct Sha256(digest::Context);

impl Default for Sha256 {
    fn default() -> Self {
        Sha256(digest::Context::new(&digest::SHA256))
    }
}

impl Hash for Sha256 {
    fn name(&self) -> &'static str {
        "SHA256"
    }

    fn block_len(&self) -> usize {
        64
    }

    fn hash_len(&self) -> usize {
        32
    }

    fn reset(&mut self) {
        *self = Sha256::default();
    }

    fn input(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    fn result(&mut self, out: &mut [u8]) {
        let done = std::mem::take(self).0.finish();
        out[..32].copy_from_slice(done.as_ref());
    }
}
