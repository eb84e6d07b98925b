//! The per-user index behind `sessions_of`: each signed-in user's session keys.
//!
//! Kept exact: an entry is indexed when it is written with a user and unindexed
//! wherever it leaves the map (destroy, expiry, sweep, eviction, clear) or changes
//! user, all through `Shared::release` and `Shared::reindex`. Lock order: the session
//! map's guard may be held while this index is called, never the other way round.

use dashmap::DashMap;

use crate::key::Key;

#[derive(Debug, Default)]
pub(crate) struct UserIndex(DashMap<Box<str>, Vec<Key>, foldhash::fast::RandomState>);

impl UserIndex {
    /// Records that `key`'s session belongs to `user`.
    pub(crate) fn add(&self, user: &str, key: &Key) {
        let mut keys = self.0.entry(user.into()).or_default();
        if !keys.iter().any(|k| k == key) {
            keys.push(key.clone());
        }
    }

    /// Forgets `key` for `user`; a user left without sessions leaves the index.
    pub(crate) fn remove(&self, user: &str, key: &[u8]) {
        if let Some(mut keys) = self.0.get_mut(user) {
            keys.retain(|k| k.as_bytes() != key);
        }
        self.0.remove_if(user, |_, keys| keys.is_empty());
    }

    /// The keys recorded for `user`.
    pub(crate) fn keys(&self, user: &str) -> Vec<Key> {
        self.0.get(user).map(|k| k.clone()).unwrap_or_default()
    }

    /// How many users have sessions.
    pub(crate) fn users(&self) -> usize {
        self.0.len()
    }
}
