//! `Passwords`: the iron passwords of sealed cookies; the first seals, all unseal.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use super::iron::derive;

use crate::error::Error;

/// The shortest password iron accepts, in JavaScript string length (UTF-16 units).
pub const MIN_PASSWORD_LEN: usize = 32;

/// The passwords of sealed cookies: the first seals new cookies, every one unseals.
///
/// A password may carry an id (iron's `{ id, secret }`, letters, digits and `_`): a
/// seal names the id of the password that made it, and is unsealed with the password
/// of that id only. A seal that names an id none of the passwords has, or no id, is
/// tried with the passwords that have none (as iron does with a plain string
/// password, whatever the seal names). To rotate, put the new password first and
/// keep the old ones after it until their cookies have expired.
///
/// `Debug` never prints a password.
///
/// # Examples
///
/// ```
/// use session_core::sealed::Passwords;
///
/// // h3's `password: string`: no ids. The first seals; both unseal.
/// let passwords = Passwords::new([
///     "the new password, at least 32 characters",
///     "the old password, at least 32 characters",
/// ])?;
/// assert_eq!(format!("{passwords:?}"), "Passwords { count: 2, ids: [None, None], .. }");
///
/// // iron-session's `{ 2: new, 1: old }`: the highest id seals.
/// let passwords = Passwords::iron_session([
///     (1, "the old password, at least 32 characters"),
///     (2, "the new password, at least 32 characters"),
/// ])?;
/// assert_eq!(format!("{passwords:?}"), r#"Passwords { count: 2, ids: [Some("2"), Some("1")], .. }"#);
///
/// // Too short for iron.
/// assert!(Passwords::new(["short"]).is_err());
/// # Ok::<(), session_core::Error>(())
/// ```
#[derive(Clone)]
pub struct Passwords {
    list: Arc<[Password]>,
    /// Keys derived with more than one PBKDF2 iteration (h3 2.x's 8,192), when sealing
    /// or unsealing, by password, iteration count and salt: a cookie coming back costs
    /// no derivation.
    cache: Arc<Mutex<KeyCache>>,
}

/// Derived keys kept at most (two per seal: about 8,000 sessions, about 3.5 MB).
const CACHED_KEYS: usize = 16_384;

/// One password: its optional id and its secret.
#[derive(Clone)]
pub(crate) struct Password {
    id: Option<Box<str>>,
    secret: Box<str>,
}

impl Password {
    pub(crate) fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    pub(crate) fn secret(&self) -> &str {
        &self.secret
    }
}

impl Passwords {
    /// Passwords without ids (h3's `password: string`), the first sealing.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] when the list is empty or a password is shorter than
    /// 32 characters.
    pub fn new<I, S>(passwords: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self::build(passwords.into_iter().map(|s| (None, s)))
    }

    /// Passwords with ids (iron's `{ id, secret }`), the first sealing.
    ///
    /// # Errors
    ///
    /// As [`Passwords::new`], and when an id is empty, repeated, or not made of
    /// letters, digits and `_`.
    pub fn with_ids<I, K, S>(passwords: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = (K, S)>,
        K: AsRef<str>,
        S: AsRef<str>,
    {
        let list: Vec<(String, S)> = passwords
            .into_iter()
            .map(|(k, s)| (k.as_ref().to_owned(), s))
            .collect();
        Self::build(list.into_iter().map(|(k, s)| (Some(k), s)))
    }

    /// iron-session's password map (`{ 1: old, 2: new }`): the highest id seals,
    /// every one unseals.
    ///
    /// # Errors
    ///
    /// As [`Passwords::with_ids`].
    pub fn iron_session<I, S>(passwords: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = (u32, S)>,
        S: AsRef<str>,
    {
        let mut list: Vec<(u32, S)> = passwords.into_iter().collect();
        list.sort_by_key(|(id, _)| std::cmp::Reverse(*id));
        Self::with_ids(list.into_iter().map(|(id, s)| (id.to_string(), s)))
    }

    fn build<S: AsRef<str>>(
        list: impl Iterator<Item = (Option<String>, S)>,
    ) -> Result<Self, Error> {
        let mut out: Vec<Password> = Vec::new();
        for (id, secret) in list {
            let secret = secret.as_ref();
            if secret.encode_utf16().count() < MIN_PASSWORD_LEN {
                return Err(Error::InvalidConfig {
                    field: "password",
                    reason: "iron needs at least 32 characters",
                });
            }
            if let Some(id) = &id {
                let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
                if id.is_empty() || !id.bytes().all(word) {
                    return Err(Error::InvalidConfig {
                        field: "password",
                        reason: "a password id is letters, digits and _",
                    });
                }
                if out.iter().any(|p| p.id() == Some(id)) {
                    return Err(Error::InvalidConfig {
                        field: "password",
                        reason: "a password id is used twice",
                    });
                }
            }
            out.push(Password {
                id: id.map(String::into_boxed_str),
                secret: secret.into(),
            });
        }
        if out.is_empty() {
            return Err(Error::InvalidConfig {
                field: "password",
                reason: "at least one password is needed",
            });
        }
        Ok(Passwords {
            list: out.into(),
            cache: Arc::default(),
        })
    }

    /// The password that seals.
    pub(crate) fn current(&self) -> &Password {
        &self.list[0]
    }

    /// The passwords a seal naming `id` is tried with, with their places in the list.
    pub(crate) fn for_id(&self, id: &str) -> Vec<(usize, &Password)> {
        let named = if id.is_empty() { "default" } else { id };
        let mut all = self.list.iter().enumerate();
        if let Some(found) = all.clone().find(|(_, p)| p.id() == Some(named)) {
            return vec![found];
        }
        all.by_ref().filter(|(_, p)| p.id.is_none()).collect()
    }

    /// The key of the password at `index` for `salt`: from the cache when this salt
    /// was seen with this password before (more than one iteration only), else derived.
    /// The second value says whether it was derived.
    pub(crate) fn key(&self, index: usize, salt: &str, iterations: u32) -> ([u8; 32], bool) {
        let cached = (iterations > 1)
            .then(|| self.cache.lock().ok()?.get(&(index, iterations, salt)))
            .flatten();
        match (cached, self.list.get(index)) {
            (Some(key), _) => (key, false),
            (None, Some(password)) => (derive(password, salt, iterations), true),
            (None, None) => ([0; 32], false), // no such password: never matches
        }
    }

    /// Keeps a key derived for a seal this process made or verified (more than one
    /// iteration, the salts iron makes only: what a sender wrote before its seal was
    /// authenticated is never kept).
    pub(crate) fn remember(&self, index: usize, salt: &str, iterations: u32, key: [u8; 32]) {
        if iterations > 1
            && salt.len() <= MAX_CACHED_SALT
            && let Ok(mut cache) = self.cache.lock()
        {
            cache.insert((index, iterations, salt.into()), key);
        }
    }
}

#[cfg(test)]
impl Passwords {
    /// How many derived keys are kept.
    pub(crate) fn cached_keys(&self) -> usize {
        self.cache.lock().map(|c| c.len()).unwrap_or(0)
    }
}

/// The longest salt whose key is kept (iron's: 64 hex characters).
const MAX_CACHED_SALT: usize = 64;

/// Derived keys by (password's place in the list, iterations, salt), in two
/// generations: when the newer is full it becomes the older and the oldest keys go, so
/// sessions in use keep theirs.
#[derive(Debug, Default)]
pub(crate) struct KeyCache {
    newer: HashMap<(usize, u32, Box<str>), [u8; 32]>,
    older: HashMap<(usize, u32, Box<str>), [u8; 32]>,
}

impl KeyCache {
    fn get(&mut self, (index, iterations, salt): &(usize, u32, &str)) -> Option<[u8; 32]> {
        let key = (*index, *iterations, Box::<str>::from(*salt));
        if let Some(k) = self.newer.get(&key) {
            return Some(*k);
        }
        let found = self.older.remove(&key)?;
        self.insert(key, found);
        Some(found)
    }

    fn insert(&mut self, key: (usize, u32, Box<str>), value: [u8; 32]) {
        if self.newer.len() >= CACHED_KEYS / 2 {
            self.older = std::mem::take(&mut self.newer);
        }
        self.newer.insert(key, value);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.newer.len() + self.older.len()
    }
}

impl fmt::Debug for Passwords {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<Option<&str>> = self.list.iter().map(Password::id).collect();
        f.debug_struct("Passwords")
            .field("count", &self.list.len())
            .field("ids", &ids)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "a password of at least thirty-two characters";
    const B: &str = "another password of at least thirty-two chars";

    #[test]
    fn the_length_is_counted_as_javascript_does() {
        // 16 two-byte characters: 32 bytes but 16 UTF-16 units.
        assert!(Passwords::new(["é".repeat(16)]).is_err());
        assert!(Passwords::new(["é".repeat(32)]).is_ok());
        assert!(Passwords::new(["x".repeat(31)]).is_err());
        assert!(Passwords::new(Vec::<String>::new()).is_err());
    }

    #[test]
    fn ids_are_words_and_unique() {
        assert!(Passwords::with_ids([("a-b", A)]).is_err());
        assert!(Passwords::with_ids([("", A)]).is_err());
        assert!(Passwords::with_ids([("x", A), ("x", B)]).is_err());
        assert!(Passwords::with_ids([("x_1", A), ("y", B)]).is_ok());
    }

    #[test]
    fn derived_keys_are_kept_only_when_asked_and_for_more_than_one_iteration() {
        let p = Passwords::new([A]).unwrap();
        let pw = &p.list[0];
        assert_eq!(p.key(0, "salt", 8), (derive(pw, "salt", 8), true));
        assert_eq!(
            p.cache.lock().unwrap().len(),
            0,
            "not before it is remembered"
        );
        p.remember(0, "salt", 1, derive(pw, "salt", 1));
        p.remember(0, &"f".repeat(65), 8, derive(pw, "salt", 8));
        assert_eq!(
            p.cache.lock().unwrap().len(),
            0,
            "one round, or not iron's salt"
        );
        p.remember(0, "salt", 8, derive(pw, "salt", 8));
        assert_eq!(p.key(0, "salt", 8), (derive(pw, "salt", 8), false));
        assert_ne!(derive(pw, "salt", 8), derive(pw, "salt", 1));
        assert!(!p.key(3, "salt", 8).1, "no such password");
    }

    #[test]
    fn the_cache_keeps_two_generations() {
        let mut c = KeyCache::default();
        for i in 0..CACHED_KEYS {
            c.insert((0, 2, i.to_string().into()), [1; 32]);
        }
        assert_eq!(c.len(), CACHED_KEYS);
        // The oldest key is still there, and is brought forward when used.
        assert!(c.get(&(0, 2, "0")).is_some());
        c.insert((0, 2, "new".into()), [2; 32]);
        assert!(c.len() <= CACHED_KEYS + 1);
        assert!(c.get(&(0, 2, "0")).is_some(), "in use, so kept");
    }

    #[test]
    fn a_seal_is_tried_with_its_ids_password_or_the_ones_without_id() {
        let p = Passwords::with_ids([("2", A), ("1", B)]).unwrap();
        assert_eq!(p.for_id("1").len(), 1);
        assert_eq!(p.for_id("1")[0].1.secret(), B);
        assert_eq!(p.for_id("1")[0].0, 1);
        assert!(p.for_id("3").is_empty());
        assert!(p.for_id("").is_empty());
        let p = Passwords::new([A, B]).unwrap();
        assert_eq!(p.for_id("7").len(), 2);
        assert_eq!(p.for_id("").len(), 2);
        let p = Passwords::with_ids([("default", A)]).unwrap();
        assert_eq!(p.for_id("").len(), 1);
    }
}
