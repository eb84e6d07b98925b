//! The signing secrets: one signs, all verify.
//!
//! express-session signs with the FIRST secret of its list and verifies with every
//! one, in order, so a secret can be rotated by putting the new one first and keeping
//! the old ones after it. @scayle/h3-session signs with the LAST one; [`Secrets`]
//! makes the signing secret explicit so nobody gets the order wrong by accident.

use std::fmt;
use std::sync::Arc;

use crate::error::Error;
use crate::signing::{HmacSha256, keyed};

/// A non-empty list of secrets, one of which signs new cookies.
///
/// `Debug` never prints a secret: it shows `Secrets { count: 2, signing: 0, .. }`.
///
/// # Examples
///
/// ```
/// use session_core::Secrets;
///
/// // express-session order: the first signs, all verify.
/// let secrets = Secrets::new(["new secret", "old secret"])?;
/// assert_eq!(format!("{secrets:?}"), "Secrets { count: 2, signing: 0, .. }");
///
/// // An empty list is refused.
/// assert!(Secrets::new(Vec::<String>::new()).is_err());
/// # Ok::<(), session_core::Error>(())
/// ```
#[derive(Clone)]
pub struct Secrets {
    /// Each secret's HMAC state after its key block, prepared once (the key is not hashed
    /// again for every cookie).
    macs: Arc<[HmacSha256]>,
    signing: usize,
    /// The signing secret was chosen explicitly (`last_signs`, `with_signing_index`).
    explicit: bool,
}

impl Secrets {
    /// Secrets in express-session order: the first signs, every one verifies.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] when the list is empty or a secret is empty.
    pub fn new<I, S>(secrets: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        let keys = collect(secrets)?;
        Ok(Self {
            macs: prepare(&keys)?,
            signing: 0,
            explicit: false,
        })
    }

    /// Secrets in @scayle/h3-session order: the LAST signs, every one verifies.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] when the list is empty or a secret is empty.
    pub fn last_signs<I, S>(secrets: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        let keys = collect(secrets)?;
        let signing = keys.len() - 1;
        Ok(Self {
            macs: prepare(&keys)?,
            signing,
            explicit: true,
        })
    }

    /// Secrets where `signing` (an index into the list) signs and every one verifies.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] when the list or a secret is empty, or the index is out
    /// of range.
    pub fn with_signing_index<I, S>(secrets: I, signing: usize) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        let keys = collect(secrets)?;
        if signing >= keys.len() {
            return Err(Error::InvalidConfig {
                field: "secret",
                reason: "the signing secret index is out of range",
            });
        }
        Ok(Self {
            macs: prepare(&keys)?,
            signing,
            explicit: true,
        })
    }

    /// Whether the signing secret was chosen explicitly ([`Secrets::last_signs`],
    /// [`Secrets::with_signing_index`]) rather than by [`Secrets::new`]'s default.
    pub(crate) fn has_explicit_signer(&self) -> bool {
        self.explicit
    }

    /// Whether `index` is the signing secret (a cookie verified by another one is re-issued).
    pub(crate) fn is_signing(&self, index: usize) -> bool {
        index == self.signing
    }

    /// Every prepared HMAC key in verification order.
    pub(crate) fn verify_macs(&self) -> impl Iterator<Item = &HmacSha256> {
        self.macs.iter()
    }

    /// The prepared HMAC key of the signing secret.
    pub(crate) fn signing_mac(&self) -> &HmacSha256 {
        &self.macs[self.signing]
    }
}

fn prepare(keys: &[Box<[u8]>]) -> Result<Arc<[HmacSha256]>, Error> {
    keys.iter()
        .map(|k| {
            keyed(k).ok_or(Error::InvalidConfig {
                field: "secret",
                reason: "a secret could not be used as an HMAC key",
            })
        })
        .collect()
}

fn collect<I, S>(secrets: I) -> Result<Arc<[Box<[u8]>]>, Error>
where
    I: IntoIterator<Item = S>,
    S: AsRef<[u8]>,
{
    let keys: Vec<Box<[u8]>> = secrets
        .into_iter()
        .map(|s| Box::<[u8]>::from(s.as_ref()))
        .collect();
    if keys.is_empty() {
        return Err(Error::InvalidConfig {
            field: "secret",
            reason: "the secret list must contain one or more secrets",
        });
    }
    if keys.iter().any(|k| k.is_empty()) {
        return Err(Error::InvalidConfig {
            field: "secret",
            reason: "a secret must not be empty",
        });
    }
    Ok(keys.into())
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secrets")
            .field("count", &self.macs.len())
            .field("signing", &self.signing)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_a_secret() {
        let s = Secrets::new(["hunter2-very-secret"]).unwrap();
        let dbg = format!("{s:?}");
        assert!(!dbg.contains("hunter2"), "{dbg}");
    }

    #[test]
    fn empty_list_and_empty_secret_are_refused() {
        assert!(Secrets::new(Vec::<&str>::new()).is_err());
        assert!(Secrets::new([""]).is_err());
        assert!(Secrets::last_signs(Vec::<&str>::new()).is_err());
        assert!(Secrets::with_signing_index(["a"], 1).is_err());
    }

    #[test]
    fn first_or_last_signs() {
        let first = Secrets::new(["a", "b"]).unwrap();
        let signs = |s: &Secrets, key: &[u8]| {
            crate::signing::sign_with("x", s.signing_mac()) == crate::signing::sign("x", key)
        };
        assert!(signs(&first, b"a"));
        assert!(first.is_signing(0) && !first.is_signing(1));
        let last = Secrets::last_signs(["a", "b"]).unwrap();
        assert!(signs(&last, b"b"));
        assert_eq!(last.verify_macs().count(), 2);
    }
}
