//! `SessionId`: generated, validated, and never printed in full.

use std::fmt;
use std::sync::{Arc, OnceLock};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Longest id accepted from a cookie or a custom `genid`.
pub(crate) const MAX_ID_LEN: usize = 256;
/// Random bytes in a generated id (express's uid-safe(24): 192 bits).
const ID_BYTES: usize = 24;

/// A session id.
///
/// Generated ids are 24 bytes from the OS CSPRNG in unpadded base64url: 32 characters,
/// the format express-session uses. Ids read from a cookie (signed by an express app
/// or by us) or returned by a custom `genid` are accepted when they are 1 to 256
/// characters from `A-Z a-z 0-9 - _ . ~ + / = :`; anything else is refused, so an id
/// can never smuggle a glob, a control character or a header delimiter into a store
/// key or a log line.
///
/// `Debug` and `Display` print only a short keyed hash, never the id; the value itself
/// is reached through [`SessionId::expose`].
///
/// # Examples
///
/// ```
/// use session_core::SessionId;
///
/// let id = SessionId::generate()?;
/// assert_eq!(id.expose().len(), 32);
/// assert!(!format!("{id}").contains(id.expose()));
///
/// assert!(SessionId::parse("uuid:1b9d6bcd-bbfd-4b2d").is_some());
/// assert!(SessionId::parse("a*").is_none()); // a glob character
/// assert!(SessionId::parse("").is_none());
/// # Ok::<(), session_core::Error>(())
/// ```
// Shared text: a request clones its id into the write queue, the state and the
// store key without copying it.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(Arc<str>);

/// The operating system's random source failed, so no session id could be generated.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random source failed: {0}")]
pub struct RandomSourceError(pub(crate) getrandom::Error);

impl SessionId {
    /// A fresh random id (24 CSPRNG bytes, base64url).
    ///
    /// # Errors
    ///
    /// [`RandomSourceError`] if the OS random source fails (it does not on any
    /// supported platform once booted).
    pub fn generate() -> Result<Self, RandomSourceError> {
        let mut bytes = [0u8; ID_BYTES];
        getrandom::fill(&mut bytes).map_err(RandomSourceError)?;
        Ok(SessionId(URL_SAFE_NO_PAD.encode(bytes).into()))
    }

    /// Validates an id read from a cookie, a store or a custom generator.
    pub fn parse(id: &str) -> Option<Self> {
        is_valid(id).then(|| SessionId(id.into()))
    }

    /// The id itself, for the cookie and the store key. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A short keyed hash of the id (12 hex characters), stable for the life of the
    /// process, so log lines about one session can be correlated without the id.
    pub fn short_hash(&self) -> String {
        static KEY: OnceLock<[u8; 32]> = OnceLock::new();
        let key = KEY.get_or_init(|| {
            let mut k = [0u8; 32];
            // On failure the key stays zero: hashes still never reveal the id.
            let _ = getrandom::fill(&mut k);
            k
        });
        let mut out = String::with_capacity(12);
        if let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) {
            mac.update(self.0.as_bytes());
            for b in &mac.finalize().into_bytes()[..6] {
                out.push_str(&format!("{b:02x}"));
            }
        }
        out
    }
}

fn is_valid(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_ID_LEN && id.bytes().all(|b| ID_BYTE[usize::from(b)])
}

/// The bytes an id may hold: ASCII letters and digits and `-_.~+/=:`.
static ID_BYTE: [bool; 256] = crate::byte_set::alphanumeric_and(b"-_.~+/=:");

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({})", self.short_hash())
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.short_hash())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_have_express_format() {
        let a = SessionId::generate().unwrap();
        let b = SessionId::generate().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), 32);
        assert!(SessionId::parse(a.expose()).is_some());
    }

    #[test]
    fn validation() {
        for ok in ["apple", "a.b", "1:7c8b", "x/y+z=", "A-_~"] {
            assert!(SessionId::parse(ok).is_some(), "{ok}");
        }
        let long = "a".repeat(MAX_ID_LEN + 1);
        for bad in [
            "",
            "a b",
            "a;b",
            "a\"",
            "a*",
            "a?",
            "[a]",
            "\u{e9}",
            "a\n",
            "%",
            long.as_str(),
        ] {
            assert!(SessionId::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn debug_and_display_hide_the_id() {
        let id = SessionId::parse("secret-session-id").unwrap();
        assert!(!format!("{id:?}{id}").contains("secret-session-id"));
        assert_eq!(id.short_hash(), id.short_hash());
        assert_eq!(id.short_hash().len(), 12);
    }
}
