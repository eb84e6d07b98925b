//! `MemoryStoreBuilder`: the store's bounds, expiry and sweeping.

use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use session_core::store::DEFAULT_TTL;

use crate::budget::Budget;
use crate::clock::Clock;
use crate::store::{MemoryStore, Shared};
use crate::sweeper::Sweeper;

/// Default capacity: 1,048,576 sessions.
pub const DEFAULT_CAPACITY: usize = 1 << 20;
/// Default byte budget: 512 MiB of encoded sessions (about the same memory again for
/// their decoded form and the map).
pub const DEFAULT_MAX_BYTES: usize = 512 << 20;
/// Default sweep interval.
pub const DEFAULT_SWEEP_INTERVAL: Duration = Duration::from_secs(60);

/// Configures a [`MemoryStore`].
#[derive(Clone, Debug)]
#[must_use]
pub struct MemoryStoreBuilder {
    capacity: usize,
    max_bytes: usize,
    evict_lru: bool,
    default_ttl: Duration,
    sweep_interval: Option<Duration>,
}

impl Default for MemoryStoreBuilder {
    fn default() -> Self {
        MemoryStoreBuilder {
            capacity: DEFAULT_CAPACITY,
            max_bytes: DEFAULT_MAX_BYTES,
            evict_lru: false,
            default_ttl: DEFAULT_TTL,
            sweep_interval: Some(DEFAULT_SWEEP_INTERVAL),
        }
    }
}

impl MemoryStoreBuilder {
    /// At most this many sessions (expired ones count until swept).
    ///
    /// The capacity also sizes the map: one shard per 1,024 sessions of capacity (64 to
    /// 16,384 shards, 128 bytes each while empty), so that a shard doubling its table
    /// holds up only the few requests on that shard, and briefly.
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// At most this many bytes of sessions, counted as their encoded JSON (default
    /// [`DEFAULT_MAX_BYTES`]). A write past it is refused like one past the capacity.
    /// The process holds more than this: each session's decoded form and its map
    /// entry (about 900 bytes) come on top (docs/benchmarks.md has measurements).
    pub fn max_bytes(mut self, bytes: usize) -> Self {
        self.max_bytes = bytes;
        self
    }

    /// When a write would pass the capacity or the byte budget, evict the least
    /// recently used sessions instead of refusing it (approximately: the CLOCK
    /// algorithm; a session read or written since the eviction hand last passed it is
    /// spared). Off by default: an evicted user is signed out. Evictions are counted in
    /// `session_memory_store_evictions_total`. A single session larger than the byte
    /// budget is still refused.
    pub fn evict_lru(mut self, on: bool) -> Self {
        self.evict_lru = on;
        self
    }

    /// How long a session with a browser-session cookie (no `maxAge`) is kept after its
    /// last write or touch.
    pub fn default_ttl(mut self, ttl: Duration) -> Self {
        self.default_ttl = ttl;
        self
    }

    /// How often the sweeper runs (clamped to at least 10 ms).
    pub fn sweep_interval(mut self, interval: Duration) -> Self {
        self.sweep_interval = Some(interval.max(Duration::from_millis(10)));
        self
    }

    /// No background sweeper: expired entries go only when read, touched or swept by
    /// [`MemoryStore::sweep`].
    pub fn no_sweeper(mut self) -> Self {
        self.sweep_interval = None;
        self
    }

    /// Builds the store and starts its sweeper thread.
    pub fn build(self) -> MemoryStore {
        let shared = Arc::new(Shared {
            map: DashMap::with_capacity_and_hasher_and_shard_amount(
                0,
                foldhash::fast::RandomState::default(),
                shard_amount(self.capacity),
            ),
            budget: Budget::new(self.capacity, self.max_bytes),
            clock: self.evict_lru.then(Clock::new),
            default_ttl: self.default_ttl,
            users: crate::users::UserIndex::default(),
        });
        let sweeper = self
            .sweep_interval
            .and_then(|every| Sweeper::start(Arc::downgrade(&shared), every))
            .map(Arc::new);
        MemoryStore {
            shared,
            _sweeper: sweeper,
        }
    }
}

/// Sessions per shard at full capacity. A shard that fills up doubles its table while
/// holding its write lock, so the number of sessions in one shard bounds how long a
/// request can wait for a growing map: about a millisecond at 2,000 sessions per shard on
/// the benchmark machine (docs/benchmarks.md), against 20 to 45 ms with 64 shards at
/// 1.8 million sessions.
const SESSIONS_PER_SHARD: usize = 1024;

/// Shards for a store of `capacity` sessions: a power of two (as `DashMap` requires)
/// from 64 to 16,384 (an empty shard costs 128 bytes).
fn shard_amount(capacity: usize) -> usize {
    (capacity / SESSIONS_PER_SHARD)
        .next_power_of_two()
        .clamp(64, 16_384)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_follow_the_capacity_within_bounds() {
        assert_eq!(shard_amount(0), 64);
        assert_eq!(shard_amount(3), 64);
        assert_eq!(shard_amount(DEFAULT_CAPACITY), 1024);
        assert_eq!(shard_amount(DEFAULT_CAPACITY + 1), 1024);
        assert_eq!(shard_amount(3 << 20), 4096);
        assert_eq!(shard_amount(64 << 20), 16_384);
        assert_eq!(shard_amount(usize::MAX), 16_384);
        for c in [0, 5, 1 << 16, 1 << 20, 1 << 30, usize::MAX] {
            assert!(shard_amount(c).is_power_of_two());
        }
    }
}
