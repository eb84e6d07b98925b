//! Iron (`Fe26.2`) seal and unseal, byte-compatible with iron-webcrypto, @hapi/iron
//! and h3 2.x's own copy.
//!
//! A seal is eight `*`-separated parts:
//!
//! ```text
//! Fe26.2*<password id>*<encryption salt>*<iv>*<ciphertext>*<expiration>*<hmac salt>*<hmac>
//! ```
//!
//! The JSON text is encrypted with AES-256-CBC (PKCS#7 padding) under a key derived
//! from the password and the encryption salt (PBKDF2-HMAC-SHA1, 32 bytes; the salt
//! is 32 random bytes written as 64 hex characters and used as text); the first six
//! parts are authenticated with HMAC-SHA256 under a key derived the same way from
//! the HMAC salt. Binary parts are unpadded base64url; the expiration is Unix
//! milliseconds, or empty for a seal without TTL.
//!
//! Why RustCrypto and not an iron crate: the module docs of `sealed`.

use std::time::Duration;

use aes::Aes256;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::Sha256;

use super::passwords::{Password, Passwords};
use crate::error::Error;
use crate::id::RandomSourceError;

/// The format's prefix (iron's `macPrefix`).
pub(crate) const PREFIX: &str = "Fe26.2";
/// Random bytes in each salt (iron's `saltBits: 256`), written as 64 hex characters.
const SALT_BYTES: usize = 32;
/// AES block and IV size.
const IV_BYTES: usize = 16;
/// Longest seal unsealed; a longer one is refused before any work (a browser never
/// sends a cookie longer than 4,096 bytes).
pub(crate) const MAX_SEAL_LEN: usize = 16 * 1024;
/// base64url length of an HMAC-SHA256.
const MAC_B64_LEN: usize = 43;

/// How seals are made and checked: the key derivation's iteration count, the TTL
/// written into new seals and the clock skew allowed when reading one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct IronOptions {
    /// PBKDF2 iterations for new seals (iron's default: 1; h3 2.x: 8,192).
    pub(crate) iterations: u32,
    /// Iterations also accepted when unsealing (h3 2.x reads its 1.x seals).
    pub(crate) legacy_iterations: Option<u32>,
    /// The seal's own lifetime (iron's `ttl`); `None` writes no expiration.
    pub(crate) ttl: Option<Duration>,
    /// How far past its expiration a seal is still accepted (iron: 60 s).
    pub(crate) skew: Duration,
}

impl Default for IronOptions {
    fn default() -> Self {
        IronOptions {
            iterations: 1,
            legacy_iterations: None,
            ttl: None,
            skew: Duration::from_secs(60),
        }
    }
}

/// Why a seal was refused. All of them mean "no session" to the session layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UnsealError {
    /// Not eight parts, a wrong prefix, a bad expiration, an undecodable part, or
    /// longer than any cookie.
    #[error("not an iron seal")]
    Malformed,
    /// Past its expiration (beyond the allowed clock skew).
    #[error("expired seal")]
    Expired,
    /// No configured password has the seal's password id.
    #[error("no password for the seal's password id")]
    UnknownPassword,
    /// The integrity check failed under every candidate password.
    #[error("bad seal integrity value")]
    BadMac,
    /// Authentic, but the plaintext does not decrypt or unpad (never for a seal
    /// made with the same password).
    #[error("the sealed data does not decrypt")]
    Decrypt,
}

/// What an unseal found: the plaintext, and whether it was sealed with the legacy
/// iteration count (to be sealed again with the current one).
#[derive(Debug)]
pub(crate) struct Unsealed {
    pub(crate) plaintext: Vec<u8>,
    pub(crate) legacy: bool,
}

/// Seals `plaintext` (JSON text) with the current password at `now_ms`.
pub(crate) fn seal(
    passwords: &Passwords,
    options: &IronOptions,
    plaintext: &[u8],
    now_ms: u64,
) -> Result<String, Error> {
    let mut random = [0u8; RANDOM_BYTES];
    getrandom::fill(&mut random).map_err(|e| Error::RandomSource(RandomSourceError(e)))?;
    seal_with(passwords, options, plaintext, now_ms, &random)
}

/// The random bytes of one seal: the encryption salt, the HMAC salt, the IV.
pub(crate) const RANDOM_BYTES: usize = 2 * SALT_BYTES + IV_BYTES;

/// [`seal`] with the given salts and IV (known-answer tests).
pub(crate) fn seal_with(
    passwords: &Passwords,
    options: &IronOptions,
    plaintext: &[u8],
    now_ms: u64,
    random: &[u8; RANDOM_BYTES],
) -> Result<String, Error> {
    let password = passwords.current();
    let (salts, iv) = random.split_at(2 * SALT_BYTES);
    let enc_salt = hex(&salts[..SALT_BYTES]);
    let mac_salt = hex(&salts[SALT_BYTES..]);
    // Kept (with more than one iteration): the cookie comes back.
    let key = derive(password, &enc_salt, options.iterations);
    passwords.remember(0, &enc_salt, options.iterations, key);
    let iv: [u8; IV_BYTES] = iv.try_into().unwrap_or_default();
    let ciphertext = cbc::Encryptor::<Aes256>::new(&key.into(), &iv.into())
        .encrypt_padded_vec::<Pkcs7>(plaintext);
    let expiration = options
        .ttl
        .filter(|t| !t.is_zero())
        .map(|t| now_ms.saturating_add(millis(t)).to_string())
        .unwrap_or_default();
    let mut out = String::with_capacity(sealed_len(
        password.id().map_or(0, str::len),
        plaintext.len(),
        expiration.len(),
    ));
    out.push_str(PREFIX);
    out.push('*');
    out.push_str(password.id().unwrap_or_default());
    out.push('*');
    out.push_str(&enc_salt);
    out.push('*');
    URL_SAFE_NO_PAD.encode_string(iv, &mut out);
    out.push('*');
    URL_SAFE_NO_PAD.encode_string(&ciphertext, &mut out);
    out.push('*');
    out.push_str(&expiration);
    let mac_key = derive(password, &mac_salt, options.iterations);
    passwords.remember(0, &mac_salt, options.iterations, mac_key);
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(&mac_key).map_err(|_| Error::InvalidConfig {
            field: "password",
            reason: "refused as an HMAC key",
        })?;
    mac.update(out.as_bytes());
    let mac = mac.finalize().into_bytes();
    out.push('*');
    out.push_str(&mac_salt);
    out.push('*');
    URL_SAFE_NO_PAD.encode_string(mac, &mut out);
    Ok(out)
}

/// The length of a seal of `plaintext_len` bytes (exact: sizes are checked before
/// sealing).
pub(crate) const fn sealed_len(
    id_len: usize,
    plaintext_len: usize,
    expiration_len: usize,
) -> usize {
    let ciphertext = (plaintext_len / IV_BYTES + 1) * IV_BYTES;
    PREFIX.len()
        + 7 // separators
        + id_len
        + 2 * 2 * SALT_BYTES
        + b64_len(IV_BYTES)
        + b64_len(ciphertext)
        + expiration_len
        + MAC_B64_LEN
}

const fn b64_len(n: usize) -> usize {
    (n * 4).div_ceil(3)
}

/// Unseals `sealed` at `now_ms`, with whichever configured password the seal names.
pub(crate) fn unseal(
    passwords: &Passwords,
    options: &IronOptions,
    sealed: &str,
    now_ms: u64,
) -> Result<Unsealed, UnsealError> {
    if sealed.len() > MAX_SEAL_LEN {
        return Err(UnsealError::Malformed);
    }
    let mut parts = sealed.split('*');
    let mut next = || parts.next().ok_or(UnsealError::Malformed);
    let (prefix, id, enc_salt, iv, ciphertext, expiration, mac_salt, digest) = (
        next()?,
        next()?,
        next()?,
        next()?,
        next()?,
        next()?,
        next()?,
        next()?,
    );
    if parts.next().is_some() || prefix != PREFIX {
        return Err(UnsealError::Malformed);
    }
    if !expiration.is_empty() {
        if !expiration.bytes().all(|b| b.is_ascii_digit()) {
            return Err(UnsealError::Malformed);
        }
        // JavaScript reads an overlong expiration as a huge number: never expired.
        let at: u64 = expiration.parse().unwrap_or(u64::MAX);
        let skew = millis(options.skew);
        if at <= now_ms.saturating_sub(skew) {
            return Err(UnsealError::Expired);
        }
    }
    // What the parts must be for any seal iron makes, checked before any key is
    // derived: a forged cookie costs no PBKDF2 unless it looks like a real seal.
    let digest: [u8; 32] = decoded(digest).ok_or(UnsealError::BadMac)?;
    let iv: [u8; IV_BYTES] = decoded(iv).ok_or(UnsealError::Malformed)?;
    let ciphertext = URL_SAFE_NO_PAD
        .decode(ciphertext)
        .ok()
        .filter(|c| !c.is_empty() && c.len() % IV_BYTES == 0)
        .ok_or(UnsealError::Malformed)?;
    let signed = &sealed[..sealed.len() - digest_part_len(mac_salt, sealed)];
    let candidates = passwords.for_id(id);
    if candidates.is_empty() {
        return Err(UnsealError::UnknownPassword);
    }
    let rounds = std::iter::once((options.iterations, false))
        .chain(options.legacy_iterations.map(|i| (i, true)));
    for (iterations, legacy) in rounds {
        for &(index, _) in &candidates {
            let (mac_key, derived) = passwords.key(index, mac_salt, iterations);
            let Ok(mut check) = <Hmac<Sha256> as KeyInit>::new_from_slice(&mac_key) else {
                continue;
            };
            check.update(signed.as_bytes());
            // Constant time (hmac's `verify_slice`); nothing is decrypted before, and
            // no key is kept for a seal that is not authentic.
            if check.verify_slice(&digest).is_err() {
                continue;
            }
            if derived {
                passwords.remember(index, mac_salt, iterations, mac_key);
            }
            let (key, derived) = passwords.key(index, enc_salt, iterations);
            let plaintext = cbc::Decryptor::<Aes256>::new(&key.into(), &iv.into())
                .decrypt_padded_vec::<Pkcs7>(&ciphertext)
                .map_err(|_| UnsealError::Decrypt)?;
            if derived {
                passwords.remember(index, enc_salt, iterations, key);
            }
            return Ok(Unsealed { plaintext, legacy });
        }
    }
    Err(UnsealError::BadMac)
}

/// An unpadded base64url part of exactly `N` bytes.
fn decoded<const N: usize>(part: &str) -> Option<[u8; N]> {
    URL_SAFE_NO_PAD.decode(part).ok()?.try_into().ok()
}

/// The length of `*<hmac salt>*<hmac>` at the end of `sealed`.
fn digest_part_len(mac_salt: &str, sealed: &str) -> usize {
    let digest_len = sealed.rsplit('*').next().map_or(0, str::len);
    mac_salt.len() + digest_len + 2
}

/// PBKDF2-HMAC-SHA1 of the password with `salt` (as text), 32 bytes.
pub(crate) fn derive(password: &Password, salt: &str, iterations: u32) -> [u8; 32] {
    let mut key = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha1>(
        password.secret().as_bytes(),
        salt.as_bytes(),
        iterations.max(1),
        &mut key,
    );
    key
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 15)]])
        .map(char::from)
        .collect()
}

/// Iron seal and unseal for values outside sessions (iron-session's `sealData` and
/// `unsealData`, @hapi/iron's `seal` and `unseal`), with iron-webcrypto's defaults.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use session_core::sealed::{Iron, Passwords, UnsealError};
///
/// let iron = Iron::new(Passwords::new(["at least thirty-two characters of secret"])?)
///     .ttl(Duration::from_secs(600));
/// let sealed = iron.seal(r#"{"user":42}"#)?;
/// assert!(sealed.starts_with("Fe26.2**"));
/// assert_eq!(iron.unseal(&sealed)?, r#"{"user":42}"#);
///
/// let tampered = sealed.replacen("Fe26.2**", "Fe26.2*x*", 1);
/// assert_eq!(iron.unseal(&tampered), Err(UnsealError::BadMac));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Iron {
    passwords: Passwords,
    options: IronOptions,
}

impl Iron {
    /// iron-webcrypto's defaults: one PBKDF2 iteration, no TTL, 60 s of clock skew.
    pub fn new(passwords: Passwords) -> Self {
        Iron {
            passwords,
            options: IronOptions::default(),
        }
    }

    /// The TTL written into new seals (iron's `ttl`); zero for none.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.options.ttl = Some(ttl).filter(|t| !t.is_zero());
        self
    }

    /// The PBKDF2 iteration count (h3 2.x: 8,192; iron's default: 1).
    pub fn iterations(mut self, iterations: u32) -> Self {
        self.options.iterations = iterations.max(1);
        self
    }

    /// Seals a JSON text with the first password.
    ///
    /// # Errors
    ///
    /// [`Error::RandomSource`] if the OS random source fails.
    pub fn seal(&self, json: &str) -> Result<String, Error> {
        seal(&self.passwords, &self.options, json.as_bytes(), now_ms())
    }

    /// Unseals a seal made by any of the passwords; returns the JSON text.
    ///
    /// # Errors
    ///
    /// [`UnsealError`]: why the seal was refused.
    pub fn unseal(&self, sealed: &str) -> Result<String, UnsealError> {
        let out = unseal(&self.passwords, &self.options, sealed, now_ms())?;
        String::from_utf8(out.plaintext).map_err(|_| UnsealError::Decrypt)
    }
}

/// A duration in milliseconds, saturating.
pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The clock, in Unix milliseconds.
pub(crate) fn now_ms() -> u64 {
    let now = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    u64::try_from(now).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "a password of at least thirty-two characters";

    /// Found in review: keys were kept for any salt a sender wrote, before its seal
    /// was authenticated, so forged cookies could fill the cache.
    #[test]
    fn only_authentic_seals_leave_keys_behind() {
        let options = IronOptions {
            iterations: 4,
            ..IronOptions::default()
        };
        let maker = Passwords::new([P]).unwrap();
        let good = seal(&maker, &options, b"{}", 0).unwrap();
        assert_eq!(maker.cached_keys(), 2, "a seal's own keys are kept");
        let reader = Passwords::new([P]).unwrap();
        let mut forged = good.clone();
        forged.pop();
        forged.push(if good.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(
            unseal(&reader, &options, &forged, 0).err(),
            Some(UnsealError::BadMac)
        );
        // `Fe26.2**<encryption salt>*…`: another salt, so another key, and a bad MAC.
        let other_salt = good.replacen(&good[8..72], &"f".repeat(64), 1);
        assert_eq!(
            unseal(&reader, &options, &other_salt, 0).err(),
            Some(UnsealError::BadMac)
        );
        assert_eq!(reader.cached_keys(), 0);
        assert_eq!(
            unseal(&reader, &options, &good, 0).unwrap().plaintext,
            b"{}"
        );
        assert_eq!(reader.cached_keys(), 2);
    }
}
