//! The map's key: the session id's bytes held inline when they fit (every id this
//! library or express-session generates does), so a shard that grows rehashes its keys
//! without following a pointer per key. At 1.8 million sessions, following those
//! pointers was about half the time a shard spent doubling (docs/benchmarks.md), time
//! during which every request on that shard waits.

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};

use session_core::SessionId;

/// Ids up to this many bytes are kept inline (ours and express-session's are 32).
const INLINE: usize = 38;

/// A session id as the memory store's map key. Looked up by `&[u8]`
/// (`id.expose().as_bytes()`), so lookups allocate nothing.
#[derive(Clone)]
pub(crate) enum Key {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<[u8]>),
}

impl Key {
    pub(crate) fn new(id: &SessionId) -> Self {
        let src = id.expose().as_bytes();
        match u8::try_from(src.len()) {
            Ok(len) if src.len() <= INLINE => {
                let mut bytes = [0u8; INLINE];
                bytes[..src.len()].copy_from_slice(src);
                Key::Inline { len, bytes }
            }
            _ => Key::Heap(src.into()),
        }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        match self {
            Key::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Key::Heap(bytes) => bytes,
        }
    }

    /// The id again. Keys are only ever made from valid ids, so this is `None` only if
    /// that invariant were broken; callers skip such an entry rather than panic.
    pub(crate) fn to_id(&self) -> Option<SessionId> {
        std::str::from_utf8(self.as_bytes())
            .ok()
            .and_then(SessionId::parse)
    }
}

/// The bytes to look an id up by.
pub(crate) fn lookup(id: &SessionId) -> &[u8] {
    id.expose().as_bytes()
}

impl Borrow<[u8]> for Key {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

// Hash and equality are those of the bytes, as `Borrow` requires.
impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Key {}

impl std::fmt::Debug for Key {
    /// Never the id: the same short hash the logs use.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.to_id() {
            Some(id) => write!(f, "Key({id:?})"),
            None => f.write_str("Key(?)"),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::hash_map::RandomState;
    use std::hash::BuildHasher;

    use super::*;

    #[test]
    fn a_generated_id_is_inline_and_comes_back_unchanged() {
        let id = SessionId::generate().unwrap();
        let key = Key::new(&id);
        assert!(matches!(key, Key::Inline { .. }));
        assert_eq!(key.to_id().unwrap(), id);
    }

    #[test]
    fn a_long_custom_id_is_kept_on_the_heap_and_comes_back_unchanged() {
        let long = "x".repeat(200);
        let id = SessionId::parse(&long).unwrap();
        let key = Key::new(&id);
        assert!(matches!(key, Key::Heap(_)));
        assert_eq!(key.to_id().unwrap(), id);
    }

    #[test]
    fn ids_at_the_inline_limit_and_one_past_it_round_trip() {
        for n in [INLINE - 1, INLINE, INLINE + 1] {
            let id = SessionId::parse(&"a".repeat(n)).unwrap();
            assert_eq!(Key::new(&id).to_id().unwrap(), id, "length {n}");
        }
    }

    #[test]
    fn the_key_hashes_and_compares_like_the_bytes_it_is_looked_up_by() {
        let s = RandomState::new();
        for id in [
            SessionId::generate().unwrap(),
            SessionId::parse(&"y".repeat(100)).unwrap(),
        ] {
            let key = Key::new(&id);
            assert_eq!(s.hash_one(&key), s.hash_one(lookup(&id)));
            let borrowed: &[u8] = key.borrow();
            assert_eq!(borrowed, lookup(&id));
        }
        let (a, b) = (
            SessionId::generate().unwrap(),
            SessionId::generate().unwrap(),
        );
        assert_ne!(Key::new(&a), Key::new(&b));
    }

    #[test]
    fn the_key_stays_small() {
        assert_eq!(std::mem::size_of::<Key>(), 40);
    }

    #[test]
    fn debug_never_shows_the_id() {
        let id = SessionId::generate().unwrap();
        assert!(!format!("{:?}", Key::new(&id)).contains(id.expose()));
    }
}
