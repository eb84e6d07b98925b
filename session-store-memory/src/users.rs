//! The per-user index behind `sessions_of`: each signed-in user's session keys.
//!
//! Kept exact: an entry is indexed when it is written with a user and unindexed
//! wherever it leaves the map (destroy, expiry, sweep, eviction, clear) or changes
//! user, all through `Shared::release` and `Shared::reindex`. Lock order: the session
//! map's guard may be held while this index is called, never the other way round.

use std::collections::HashSet;

use dashmap::DashMap;

use crate::key::Key;

#[derive(Debug, Default)]
pub(crate) struct UserIndex(DashMap<Box<str>, HashSet<Key>, foldhash::fast::RandomState>);

impl UserIndex {
    /// Records that `key`'s session belongs to `user`.
    pub(crate) fn add(&self, user: &str, key: &Key) {
        self.0.entry(user.into()).or_default().insert(key.clone());
    }

    /// Forgets `key` for `user`; a user left without sessions leaves the index.
    pub(crate) fn remove(&self, user: &str, key: &[u8]) {
        if let Some(mut keys) = self.0.get_mut(user) {
            keys.remove(key);
        }
        self.0.remove_if(user, |_, keys| keys.is_empty());
    }

    /// The keys recorded for `user`.
    pub(crate) fn keys(&self, user: &str) -> Vec<Key> {
        self.0
            .get(user)
            .map(|k| k.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// How many users have sessions.
    pub(crate) fn users(&self) -> usize {
        self.0.len()
    }
}
