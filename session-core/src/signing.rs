//! A port of `cookie-signature`, the signing express-session uses.
//!
//! `sign(value, secret)` is `value + "." + base64(HMAC-SHA256(secret, value))` with the
//! standard alphabet and the trailing `=` removed, so the signature is always 43
//! characters. `unsign` splits at the LAST dot, recomputes the signature under every
//! secret and accepts only an exact, constant-time match of the whole signature: a
//! padded, URL-safe, shortened or lengthened signature fails, and so does anything
//! appended or prepended.
//!
//! See: <https://github.com/tj/node-cookie-signature/blob/master/index.js>

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::secrets::Secrets;

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// Length of an encoded signature: 32 MAC bytes in unpadded standard base64.
pub(crate) const SIGNATURE_LEN: usize = 43;
const MAC_LEN: usize = 32;
const _: () = assert!(SIGNATURE_LEN == (MAC_LEN * 4).div_ceil(3));

/// Signs `value` with `secret` exactly as `cookie-signature`'s `sign` does.
///
/// # Examples
///
/// ```
/// use session_core::wire::sign;
///
/// assert_eq!(
///     sign("hello", b"tobiiscool"),
///     "hello.DGDUkGlIkCzPz+C0B064FNgHdEjox7ch8tOBGslZ5QI"
/// );
/// ```
pub fn sign(value: &str, secret: &[u8]) -> String {
    match keyed(secret) {
        Some(mac) => sign_with(value, &mac),
        None => format!("{value}.{}", "A".repeat(SIGNATURE_LEN)),
    }
}

/// [`sign`] with a prepared key (the HMAC state after the key block), so the key is
/// not hashed again for every cookie.
pub(crate) fn sign_with(value: &str, mac: &HmacSha256) -> String {
    let mut out = String::with_capacity(value.len() + 1 + SIGNATURE_LEN);
    out.push_str(value);
    out.push('.');
    let sig = signature(value.as_bytes(), mac);
    out.push_str(std::str::from_utf8(&sig).unwrap_or_default());
    out
}

/// The HMAC-SHA256 state keyed with `secret` (HMAC accepts keys of any length).
pub(crate) fn keyed(secret: &[u8]) -> Option<HmacSha256> {
    HmacSha256::new_from_slice(secret).ok()
}

/// A value whose signature verified.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Verified<'a> {
    /// The value before the last dot.
    pub value: &'a str,
    /// Index of the secret that verified it, in verification order.
    pub secret_index: usize,
}

impl std::fmt::Debug for Verified<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The value is a session id: never printed.
        f.debug_struct("Verified")
            .field("secret_index", &self.secret_index)
            .finish_non_exhaustive()
    }
}

/// Verifies `input` (`value.signature`) against every secret, in order.
///
/// Returns the value and the index of the secret that verified it, or `None`: a bad
/// signature is simply "not ours", with no reason to leak.
///
/// # Examples
///
/// ```
/// use session_core::Secrets;
/// use session_core::wire::unsign;
///
/// let secrets = Secrets::new(["new", "keyboard cat"])?;
/// let ok = unsign("abc.BpxCrWRpvZMh/wk/djl34N+m+VQEU7K/5WenLwJCgFU", &secrets).unwrap();
/// assert_eq!((ok.value, ok.secret_index), ("abc", 1));
/// assert!(unsign("abc.BpxCrWRpvZMh/wk/djl34N+m+VQEU7K/5WenLwJCgFU=", &secrets).is_none());
/// # Ok::<(), session_core::Error>(())
/// ```
pub fn unsign<'a>(input: &'a str, secrets: &Secrets) -> Option<Verified<'a>> {
    let dot = input.rfind('.')?;
    let (value, presented) = (&input[..dot], &input.as_bytes()[dot + 1..]);
    if presented.len() != SIGNATURE_LEN {
        return None;
    }
    let presented = words(presented);
    // Check every secret (no early exit), then report the first that matched.
    let mut found = None;
    for (index, mac) in secrets.verify_macs().enumerate() {
        let expected = words(&signature(value.as_bytes(), mac));
        let ok: bool = expected.ct_eq(&presented).into();
        if ok && found.is_none() {
            found = Some(index);
        }
    }
    found.map(|secret_index| Verified {
        value,
        secret_index,
    })
}

/// A signature as six words, so the constant-time comparison runs word by word
/// instead of byte by byte (the last word is zero-padded).
fn words(sig: &[u8]) -> [u64; 6] {
    let mut padded = [0u8; 48];
    padded[..sig.len().min(48)].copy_from_slice(&sig[..sig.len().min(48)]);
    let mut out = [0u64; 6];
    for (word, chunk) in out.iter_mut().zip(padded.chunks_exact(8)) {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(chunk);
        *word = u64::from_le_bytes(bytes);
    }
    out
}

/// The 43 ASCII bytes of the encoded HMAC-SHA256 of `msg` under the prepared key.
pub(crate) fn signature(msg: &[u8], keyed: &HmacSha256) -> [u8; SIGNATURE_LEN] {
    let mut out = [0u8; SIGNATURE_LEN];
    let mut mac = keyed.clone();
    mac.update(msg);
    let tag = mac.finalize().into_bytes();
    let _ = STANDARD_NO_PAD.encode_slice(tag, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(list: &[&[u8]]) -> Secrets {
        Secrets::new(list.iter().copied()).unwrap()
    }

    #[test]
    fn known_answers() {
        assert_eq!(
            sign("hello", b"tobiiscool"),
            "hello.DGDUkGlIkCzPz+C0B064FNgHdEjox7ch8tOBGslZ5QI"
        );
        assert_eq!(
            sign("hello", &[0xA0, 0xAB, 0xBC, 0x0C]),
            "hello.hIvljrKw5oOZtHHSq5u+MlL27cgnPKX77y7F+x5r1to"
        );
        assert_eq!(
            sign("abc", b"keyboard cat"),
            "abc.BpxCrWRpvZMh/wk/djl34N+m+VQEU7K/5WenLwJCgFU"
        );
        assert_eq!(
            sign("a.b", b"old"),
            "a.b.BelfApyij76I+yvH6qmAPnUc3FXz9P9NFaqRz4i957c"
        );
    }

    #[test]
    fn unsign_splits_at_the_last_dot() {
        let s = secrets(&[b"old"]);
        let ok = unsign("a.b.BelfApyij76I+yvH6qmAPnUc3FXz9P9NFaqRz4i957c", &s).unwrap();
        assert_eq!(ok.value, "a.b");
    }

    #[test]
    fn rejects_malformed_cookies() {
        let s = secrets(&[b"tobiiscool"]);
        let v = sign("hello", b"tobiiscool");
        assert!(unsign(&v, &s).is_some());
        for bad in [
            "fake unsigned data".to_string(),
            format!("garbage{v}"),
            format!("garbage.{v}"),
            format!("{v}.garbage"),
            format!("{v}garbage"),
            format!("{v}="),
            v.replace('+', "-"),
            v[..v.len() - 1].to_string(),
            format!("{v}A"),
            String::new(),
            ".".to_string(),
        ] {
            assert!(unsign(&bad, &s).is_none(), "{bad}");
        }
    }

    #[test]
    fn url_safe_alphabet_does_not_verify() {
        // The abc vector has '/' and '+': its base64url spelling must fail.
        let s = secrets(&[b"keyboard cat"]);
        assert!(unsign("abc.BpxCrWRpvZMh_wk_djl34N-m-VQEU7K_5WenLwJCgFU", &s).is_none());
    }

    #[test]
    fn every_secret_verifies_in_order() {
        let s = secrets(&[b"nyan cat", b"keyboard cat"]);
        let ok = unsign("abc.BpxCrWRpvZMh/wk/djl34N+m+VQEU7K/5WenLwJCgFU", &s).unwrap();
        assert_eq!(ok.secret_index, 1);
        let only_new = secrets(&[b"nyan cat"]);
        assert!(unsign("abc.BpxCrWRpvZMh/wk/djl34N+m+VQEU7K/5WenLwJCgFU", &only_new).is_none());
    }

    #[test]
    fn multibyte_values_round_trip() {
        let s = secrets(&[b"k"]);
        let v = sign("h\u{e9}llo.\u{1F600}", b"k");
        assert_eq!(unsign(&v, &s).unwrap().value, "h\u{e9}llo.\u{1F600}");
    }
}
