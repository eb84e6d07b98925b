//! `MemoryStore`: sessions in a `DashMap`, each beside its own deadline and version.
//!
//! DashMap deadlocks if a thread holds a guard (from `get`, `get_mut`, `entry`) and
//! calls the map again on the same shard. So: never hold a guard across an `.await` or
//! while calling the map again; clone out of the guard and drop it first. Every method
//! below takes at most one guard at a time.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use dashmap::DashMap;
use dashmap::mapref::entry::Entry as MapEntry;
use session_core::SessionId;
use session_core::store::{Loaded, Record, SessionStore, StoreError, Version};
use time::OffsetDateTime;

use crate::budget::Budget;
use crate::builder::MemoryStoreBuilder;
use crate::clock::Clock;
use crate::key::{Key, lookup};
use crate::sweeper::Sweeper;
use crate::users::UserIndex;

#[derive(Debug)]
pub(crate) struct Entry {
    record: Record,
    deadline: Instant,
    version: u64,
    /// The encoded size counted in the byte budget.
    pub(crate) size: usize,
    /// Used since the eviction hand last passed (only read with eviction on).
    pub(crate) used: AtomicBool,
}

impl Entry {
    fn expired(&self, now: Instant) -> bool {
        self.deadline <= now
    }

    fn new(record: &Record, size: usize, ttl: Duration, version: u64) -> Box<Self> {
        Box::new(Entry {
            // The data is shared with the saving request, not copied.
            record: record.clone(),
            deadline: deadline(Instant::now(), ttl),
            version,
            size,
            used: AtomicBool::new(true),
        })
    }

    fn mark_used(&self) {
        self.used.store(true, Ordering::Relaxed);
    }
}

/// The size a record counts for in the byte budget: its encoded length (measured by
/// the session layer before a save; measured here otherwise).
fn size_of(record: &Record) -> usize {
    record.stored_len().unwrap_or_else(|| record.encoded_len())
}

#[derive(Debug)]
pub(crate) struct Shared {
    /// Boxed entries and inline keys keep a table slot at 48 bytes, so a shard that
    /// doubles moves little memory and hashes its keys without following pointers.
    /// Keys are ids that passed the session layer's signature check or that it
    /// generated: a fast seeded hash is enough.
    pub(crate) map: DashMap<Key, Box<Entry>, foldhash::fast::RandomState>,
    /// Entries in the map (live or not yet swept) and their bytes, kept exactly.
    pub(crate) budget: Budget,
    /// With eviction on: who goes when the store is full.
    pub(crate) clock: Option<Clock>,
    pub(crate) default_ttl: Duration,
    /// Each signed-in user's sessions.
    pub(crate) users: UserIndex,
}

impl Shared {
    /// Counts a new entry of `size` bytes; with eviction on, evicts idle sessions
    /// until it fits. `false`: the store is full.
    fn reserve(&self, size: usize) -> bool {
        self.make_room(None, || self.budget.try_add(size))
    }

    /// Counts `grow` more bytes for the entry `key`, as [`Shared::reserve`] does
    /// (never evicting `key` itself).
    fn reserve_growth(&self, key: &[u8], grow: usize) -> bool {
        self.make_room(Some(key), || self.budget.try_grow(grow))
    }

    /// Counts a removed entry out of the budget and the user index.
    pub(crate) fn release(&self, key: &[u8], entry: &Entry) {
        self.budget.remove(entry.size);
        if let Some(user) = entry.record.user() {
            self.users.remove(&user, key);
        }
    }

    /// Moves `key` in the user index from `old`'s user to `new`'s.
    fn reindex(&self, key: &Key, old: Option<&Record>, new: &Record) {
        let (old, new) = (old.and_then(Record::user), new.user());
        if old == new {
            return;
        }
        if let Some(old) = old {
            self.users.remove(&old, key.as_bytes());
        }
        if let Some(new) = new {
            self.users.add(&new, key);
        }
    }

    /// Removes every expired entry. Collects keys under read locks, then removes them in
    /// small batches, so concurrent requests wait for at most one shard scan or one batch.
    pub(crate) fn sweep(&self) -> usize {
        let now = Instant::now();
        let expired: Vec<Key> = self
            .map
            .iter()
            .filter(|e| e.value().expired(now))
            .map(|e| e.key().clone())
            .collect();
        let mut removed = 0;
        for batch in expired.chunks(1024) {
            for key in batch {
                if let Some((_, e)) = self.map.remove_if(key, |_, e| e.expired(now)) {
                    self.release(key.as_bytes(), &e);
                    removed += 1;
                }
            }
            std::thread::yield_now();
        }
        removed
    }

    fn remove_expired(&self, id: &SessionId) {
        if let Some((_, e)) = self
            .map
            .remove_if(lookup(id), |_, e| e.expired(Instant::now()))
        {
            self.release(lookup(id), &e);
        }
    }
}

/// An in-process session store.
///
/// Expired sessions are never returned (checked on every read) and are removed by a
/// background sweeper thread that stops when the store is dropped. The store holds at
/// most `capacity` sessions and `max_bytes` bytes of encoded sessions. When a write
/// would pass either bound it is refused with [`StoreError::Full`] (the session layer
/// answers `503` with `Retry-After`; existing sessions keep working), or, with
/// [`MemoryStoreBuilder::evict_lru`], the least recently used sessions are evicted to
/// make room. Clones share the same sessions.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use session_store_memory::MemoryStore;
///
/// let store = MemoryStore::builder()
///     .capacity(100_000)
///     .sweep_interval(Duration::from_secs(30))
///     .build();
/// # let _ = store;
/// ```
#[derive(Clone, Debug)]
pub struct MemoryStore {
    pub(crate) shared: Arc<Shared>,
    pub(crate) _sweeper: Option<Arc<Sweeper>>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::builder().build()
    }
}

impl MemoryStore {
    /// A store with the defaults: capacity [`DEFAULT_CAPACITY`](crate::DEFAULT_CAPACITY), TTL
    /// [`DEFAULT_TTL`](session_core::store::DEFAULT_TTL) for browser-session cookies, a sweep every
    /// [`DEFAULT_SWEEP_INTERVAL`](crate::DEFAULT_SWEEP_INTERVAL).
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts configuring a store.
    pub fn builder() -> MemoryStoreBuilder {
        MemoryStoreBuilder::default()
    }

    /// Removes expired sessions now; returns how many.
    pub fn sweep(&self) -> usize {
        self.shared.sweep()
    }

    /// Entries held, including expired ones not yet swept.
    pub fn entries(&self) -> usize {
        self.shared.budget.entries()
    }

    /// Users with sessions in the per-user index (a user leaves it with their last
    /// session, including one expired and swept).
    pub fn indexed_users(&self) -> usize {
        self.shared.users.users()
    }

    /// Encoded bytes held (what [`MemoryStoreBuilder::max_bytes`] bounds).
    pub fn bytes(&self) -> usize {
        self.shared.budget.bytes()
    }
}

/// `ttl` after `now`.
fn deadline(now: Instant, ttl: Duration) -> Instant {
    now.checked_add(ttl)
        .unwrap_or(now + Duration::from_secs(100 * 365 * 86_400))
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn load(&self, id: &SessionId) -> Result<Option<Loaded>, StoreError> {
        let s = &self.shared;
        let found = match s.map.get(lookup(id)) {
            None => return Ok(None),
            Some(e) if e.expired(Instant::now()) => None,
            Some(e) => {
                e.mark_used();
                // Shares the decoded data with every other request on this session.
                Some(Loaded::new(e.record.clone(), Version::from_u64(e.version)))
            }
        };
        if found.is_none() {
            s.remove_expired(id);
        }
        Ok(found)
    }

    async fn create(&self, id: &SessionId, record: &Record) -> Result<Version, StoreError> {
        let s = &self.shared;
        let Some(ttl) = record.ttl_for_write(OffsetDateTime::now_utc(), s.default_ttl) else {
            return Ok(Version::from_u64(0)); // already expired: nothing to keep
        };
        let size = size_of(record);
        if !s.budget.can_ever_hold(size) || !s.reserve(size) {
            return Err(StoreError::Full);
        }
        let key = Key::new(id);
        match s.map.entry(key.clone()) {
            MapEntry::Occupied(mut o) if o.get().expired(Instant::now()) => {
                let old = o.insert(Entry::new(record, size, ttl, 1));
                s.budget.remove(old.size); // replaced, not added
                s.reindex(&key, Some(&old.record), record);
                return Ok(Version::from_u64(1)); // already in the eviction ring
            }
            MapEntry::Occupied(_) => {
                s.budget.remove(size);
                return Err(StoreError::IdTaken);
            }
            MapEntry::Vacant(v) => {
                // Indexed while the entry is still locked: a destroy cannot come between.
                let entry = v.insert(Entry::new(record, size, ttl, 1));
                s.reindex(&key, None, record);
                drop(entry);
            }
        }
        // The map's guard is gone: the ring's lock may be taken.
        if let Some(clock) = &s.clock {
            clock.admit(key, s.budget.entries(), |k| s.map.contains_key(k));
        }
        Ok(Version::from_u64(1))
    }

    async fn save(
        &self,
        id: &SessionId,
        record: &Record,
        expected: Option<&Version>,
    ) -> Result<Option<Version>, StoreError> {
        let s = &self.shared;
        let ttl = record.ttl_for_write(OffsetDateTime::now_utc(), s.default_ttl);
        let size = size_of(record);
        // A bigger record needs room first (reserved before the entry is locked, since
        // making room may evict other sessions; given back if the save fails).
        let grow = match (ttl, s.map.get(lookup(id))) {
            (Some(_), Some(e)) => size.saturating_sub(e.size),
            _ => 0,
        };
        if grow > 0 && (!s.budget.can_ever_hold(size) || !s.reserve_growth(lookup(id), grow)) {
            return Err(StoreError::Full);
        }
        let now = Instant::now();
        let outcome = match s.map.get_mut(lookup(id)) {
            None => Err(StoreError::NotFound),
            Some(e) if e.expired(now) => Err(StoreError::NotFound),
            Some(e) if expected.is_some_and(|v| *v != Version::from_u64(e.version)) => {
                Err(StoreError::Conflict)
            }
            Some(_) if ttl.is_none() => Ok(()),
            Some(mut e) => {
                let old = std::mem::replace(&mut e.size, size);
                let previous = std::mem::replace(&mut e.record, record.clone());
                s.reindex(e.key(), Some(&previous), record);
                e.version += 1;
                e.deadline = deadline(now, ttl.unwrap_or_default());
                e.mark_used();
                // `grow` was reserved from the size seen before locking; settle the
                // difference with the size actually replaced, still under the entry's
                // lock so that concurrent saves settle in order.
                let counted = old + grow;
                if counted > size {
                    s.budget.shrink(counted - size);
                } else if size > counted {
                    // Grew meanwhile by another writer's hand: count it (never refused
                    // here, as the data is already written).
                    s.budget.force_grow(size - counted);
                }
                return Ok(Some(Version::from_u64(e.version)));
            }
        };
        // The guard is gone: now the map may be called again.
        if grow > 0 {
            s.budget.shrink(grow);
        }
        match outcome {
            Err(err) => {
                s.remove_expired(id);
                Err(err)
            }
            Ok(_) => {
                if let Some((_, e)) = s.map.remove(lookup(id)) {
                    s.release(lookup(id), &e);
                }
                Ok(None)
            }
        }
    }

    async fn touch(&self, id: &SessionId) -> Result<(), StoreError> {
        let s = &self.shared;
        let (now, wall) = (Instant::now(), OffsetDateTime::now_utc());
        let expired = match s.map.get_mut(lookup(id)) {
            None => return Err(StoreError::NotFound),
            Some(e) if e.expired(now) => true,
            Some(mut e) => match e.record.ttl_for_touch(wall, s.default_ttl) {
                Some(ttl) => {
                    e.deadline = deadline(now, ttl);
                    e.mark_used();
                    return Ok(());
                }
                None => {
                    e.deadline = now;
                    false
                }
            },
        };
        s.remove_expired(id);
        if expired {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    async fn destroy(&self, id: &SessionId) -> Result<(), StoreError> {
        if let Some((_, e)) = self.shared.map.remove(lookup(id)) {
            self.shared.release(lookup(id), &e);
        }
        Ok(())
    }

    async fn exists(&self, id: &SessionId) -> Result<bool, StoreError> {
        let now = Instant::now();
        Ok(self
            .shared
            .map
            .get(lookup(id))
            .is_some_and(|e| !e.expired(now)))
    }

    async fn sessions_of(&self, user: &str) -> Result<Vec<SessionId>, StoreError> {
        let s = &self.shared;
        let now = Instant::now();
        // The index's guard is gone before the map is read.
        let keys = s.users.keys(user);
        Ok(keys
            .iter()
            .filter(|k| {
                s.map
                    .get(k.as_bytes())
                    .is_some_and(|e| !e.expired(now) && e.record.user().is_some_and(|u| u == user))
            })
            .filter_map(Key::to_id)
            .collect())
    }

    async fn all(&self) -> Result<Vec<(SessionId, Record)>, StoreError> {
        let now = Instant::now();
        Ok(self
            .shared
            .map
            .iter()
            .filter(|e| !e.value().expired(now))
            .filter_map(|e| Some((e.key().to_id()?, e.value().record.clone())))
            .collect())
    }

    async fn len(&self) -> Result<usize, StoreError> {
        let now = Instant::now();
        Ok(self
            .shared
            .map
            .iter()
            .filter(|e| !e.value().expired(now))
            .count())
    }

    async fn clear(&self) -> Result<(), StoreError> {
        let s = &self.shared;
        let keys: Vec<Key> = s.map.iter().map(|e| e.key().clone()).collect();
        for key in &keys {
            if let Some((_, e)) = s.map.remove(key) {
                s.release(key.as_bytes(), &e);
            }
        }
        Ok(())
    }
}
