//! The write queue of each session inside one process, and a request's place in it.
//!
//! Requests of one session that overlap in this process would otherwise race each
//! other's compare-and-set, and under heavy overlap each save would need a number of
//! attempts that grows with the number of requests in flight. Holding a per-id async
//! lock while writing queues them instead: a request's save then conflicts at most once
//! (its loaded version is stale) before it succeeds. The store's compare-and-set still
//! guards against writers in other processes; this lock only removes wasted attempts.
//!
//! The lock also holds the data this process last wrote for the id while other
//! requests wait for it, so the next writer can catch up with it without reading the
//! store again: under overlap, each write is then one store call.
//!
//! [`WriteSlot`] is the whole protocol: [`WriteLocks::acquire`] joins the queue (or
//! refuses beyond its bound) and waits for the turn, [`WriteSlot::newer_than`] tells
//! what the previous writer wrote, [`WriteSlot::publish`] leaves this write for the
//! next one.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

use dashmap::DashMap;
use serde_json::{Map, Value};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use crate::error::Error;
use crate::id::SessionId;
use crate::store::Version;

/// The data this process last wrote for an id, and its version; kept only while
/// others wait.
type Latest = Option<(Version, Arc<Map<String, Value>>)>;
/// A per-id write lock guarding [`Latest`].
type WriteLock = Arc<AsyncMutex<Latest>>;

/// A request's turn to write one session: held until dropped; the last request of an
/// id to leave takes the id's entry out of the table.
pub(super) struct WriteSlot {
    guard: Option<OwnedMutexGuard<Latest>>,
    locks: Arc<WriteLocks>,
    id: SessionId,
}

impl WriteSlot {
    fn latest(&self) -> Option<&Latest> {
        self.guard.as_deref()
    }

    /// What the previous writer of this process wrote, when it is not `version`.
    pub(super) fn newer_than(
        &self,
        version: Option<&Version>,
    ) -> Option<(Version, Arc<Map<String, Value>>)> {
        match self.latest()? {
            Some((v, data)) if Some(v) != version => Some((v.clone(), Arc::clone(data))),
            _ => None,
        }
    }

    /// After a write: keeps `(version, data)` for the requests queued behind, only if
    /// there are any; otherwise forgets it, so nothing stale lingers.
    pub(super) fn publish(&mut self, version: Option<&Version>, data: &Arc<Map<String, Value>>) {
        let Some(guard) = self.guard.as_mut() else {
            return;
        };
        // Every request in the queue holds a strong reference to the lock (the table
        // only a weak one): more than this one means somebody waits.
        let waiting = Arc::strong_count(OwnedMutexGuard::mutex(guard)) > 1;
        **guard = match version {
            Some(v) if waiting => Some((v.clone(), Arc::clone(data))),
            _ => None,
        };
    }
}

impl Drop for WriteSlot {
    fn drop(&mut self) {
        drop(self.guard.take());
        self.locks.forget_if_unused(&self.id);
    }
}

/// A table of per-id locks, sharded (no process-wide lock on a save); an id's entry
/// goes when its last writer leaves, and entries left by cancelled requests are purged
/// now and then.
#[derive(Debug, Default)]
pub(crate) struct WriteLocks {
    /// Keyed by ids that passed signature checks or that this process generated, so
    /// a fast seeded hash is enough.
    locks: DashMap<SessionId, Weak<AsyncMutex<Latest>>, foldhash::fast::RandomState>,
    /// Entries created since the last purge, and how many trigger the next one.
    created: AtomicUsize,
    purge_at: AtomicUsize,
}

/// The fewest entries created between two purges.
const PURGE_EVERY: usize = 1024;

impl WriteLocks {
    /// Joins the write queue of `id` and waits for this request's turn; beyond
    /// `max_waiting` waiting requests, [`Error::Busy`] at once.
    pub(super) async fn acquire(
        self: &Arc<Self>,
        id: &SessionId,
        max_waiting: usize,
    ) -> Result<WriteSlot, Error> {
        let lock = self.for_id_bounded(id, max_waiting)?;
        Ok(WriteSlot {
            guard: Some(lock.lock_owned().await),
            locks: Arc::clone(self),
            id: id.clone(),
        })
    }

    /// The lock for `id`, shared by every request of this process writing `id` now.
    fn for_id(&self, id: &SessionId) -> WriteLock {
        // Usually no other writer of this id is in flight: one lookup inserts.
        let lock = {
            let mut entry = self.locks.entry(id.clone()).or_default();
            if let Some(lock) = entry.upgrade() {
                return lock;
            }
            let lock = Arc::new(AsyncMutex::new(None));
            *entry = Arc::downgrade(&lock);
            lock
        };
        self.purge_now_and_then();
        lock
    }

    /// Takes `id`'s entry out once no request holds its lock.
    fn forget_if_unused(&self, id: &SessionId) {
        self.locks.remove_if(id, |_, w| w.strong_count() == 0);
    }

    /// Removes dead entries (requests cancelled while queued leave theirs) once as many
    /// entries were created since the last purge as were alive after it (at least
    /// [`PURGE_EVERY`]): amortized, one shard at a time.
    fn purge_now_and_then(&self) {
        let created = self.created.fetch_add(1, Ordering::Relaxed) + 1;
        if created < self.purge_at.load(Ordering::Relaxed).max(PURGE_EVERY) {
            return;
        }
        self.created.store(0, Ordering::Relaxed);
        self.locks.retain(|_, w| w.strong_count() > 0);
        self.purge_at.store(self.locks.len(), Ordering::Relaxed);
    }
}

impl WriteLocks {
    /// The lock for `id`, unless more than `max_waiting` requests already wait for it:
    /// then [`Error::Busy`], so that waiters (each holding its copy of the session)
    /// cannot pile up without bound.
    fn for_id_bounded(&self, id: &SessionId, max_waiting: usize) -> Result<WriteLock, Error> {
        let lock = self.for_id(id);
        // Every request writing this id holds one strong reference (the table holds
        // weak ones): with this request's, the others are the writer and its queue.
        let holders = Arc::strong_count(&lock);
        let waiting = holders.saturating_sub(2);
        if holders >= 2 && waiting >= max_waiting {
            return Err(Error::Busy { waiting });
        }
        Ok(lock)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_lock_per_live_id_and_dead_entries_are_purged() {
        // (`for_id` alone, as a cancelled request leaves it: nothing takes the entry
        // out but the purge.)
        let locks = WriteLocks::default();
        let a = SessionId::parse("a").unwrap();
        let l1 = locks.for_id(&a);
        let l2 = locks.for_id(&a);
        assert!(Arc::ptr_eq(&l1, &l2));
        drop((l1, l2));
        for i in 0..5000 {
            drop(locks.for_id(&SessionId::parse(&format!("id{i}")).unwrap()));
        }
        assert!(locks.locks.len() <= 2048, "{}", locks.locks.len());
    }

    #[tokio::test]
    async fn the_last_writer_of_an_id_takes_its_entry_out() {
        let locks = Arc::new(WriteLocks::default());
        let id = SessionId::parse("gone").unwrap();
        let first = locks.acquire(&id, 8).await.unwrap();
        let second = {
            let (locks, id) = (Arc::clone(&locks), id.clone());
            tokio::spawn(async move { locks.acquire(&id, 8).await.map(drop) })
        };
        tokio::task::yield_now().await; // the second one queues
        drop(first);
        assert_eq!(locks.locks.len(), 1, "kept while the second one waits");
        second.await.unwrap().unwrap();
        assert_eq!(locks.locks.len(), 0);
    }

    #[tokio::test]
    async fn a_write_is_left_for_the_next_writer_only_while_one_waits() {
        let locks = Arc::new(WriteLocks::default());
        let id = SessionId::parse("w").unwrap();
        let data = Arc::new(Map::new());
        let v = Version::from_u64;
        // Alone: nothing is kept.
        let mut slot = locks.acquire(&id, 8).await.unwrap();
        slot.publish(Some(&v(1)), &data);
        drop(slot);
        assert!(
            locks
                .acquire(&id, 8)
                .await
                .unwrap()
                .newer_than(None)
                .is_none()
        );
        // With a request waiting: it finds what was written, unless it already has it.
        let mut first = locks.acquire(&id, 8).await.unwrap();
        let waiter = {
            let (locks, id) = (Arc::clone(&locks), id.clone());
            tokio::spawn(async move {
                let slot = locks.acquire(&id, 8).await.unwrap();
                (
                    slot.newer_than(Some(&v(1))).map(|(v, _)| v),
                    slot.newer_than(Some(&v(2))).is_none(),
                )
            })
        };
        tokio::task::yield_now().await; // the waiter joins the queue
        first.publish(Some(&v(2)), &data);
        drop(first);
        assert_eq!(waiter.await.unwrap(), (Some(v(2)), true));
    }

    #[test]
    fn the_queue_bound_counts_waiters_besides_the_writer() {
        let locks = WriteLocks::default();
        let id = SessionId::parse("q").unwrap();
        let writer = locks.for_id_bounded(&id, 2).unwrap();
        let w1 = locks.for_id_bounded(&id, 2).unwrap();
        let w2 = locks.for_id_bounded(&id, 2).unwrap();
        assert!(matches!(
            locks.for_id_bounded(&id, 2),
            Err(Error::Busy { waiting: 2 })
        ));
        drop(w2);
        assert!(locks.for_id_bounded(&id, 2).is_ok());
        // A bound of 0: the writer alone, nobody may wait.
        drop((w1, writer));
        let alone = locks.for_id_bounded(&id, 0).unwrap();
        assert!(locks.for_id_bounded(&id, 0).is_err());
        drop(alone);
    }
}
