//! Per-session write locks inside one process.
//!
//! Requests of one session that overlap in this process would otherwise race each
//! other's compare-and-set, and under heavy overlap each save would need a number of
//! attempts that grows with the number of requests in flight. Holding a per-id async
//! lock while writing queues them instead: a request's save then conflicts at most once
//! (its loaded version is stale) before it succeeds. The store's compare-and-set still
//! guards against writers in other processes; this lock only removes wasted attempts.
//!
//! The lock also holds the last state this process wrote for the id while other
//! requests wait for it, so the next writer can rebase onto it without reading the
//! store again: under overlap, each write is then one store call.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::Mutex as AsyncMutex;

use crate::error::Error;
use crate::id::SessionId;
use crate::record::Record;
use crate::store::Version;

/// The last state this process wrote for an id, kept only while others wait.
pub(crate) type Latest = Option<(Version, Record)>;
/// A per-id write lock guarding [`Latest`].
pub(crate) type WriteLock = Arc<AsyncMutex<Latest>>;

/// A table of per-id locks; entries go away when no request holds them.
#[derive(Debug, Default)]
pub(crate) struct WriteLocks {
    map: Mutex<Table>,
}

#[derive(Debug, Default)]
struct Table {
    locks: HashMap<SessionId, Weak<AsyncMutex<Latest>>>,
    /// Size at which dead entries are purged next (amortized cleanup).
    purge_at: usize,
}

impl WriteLocks {
    /// The lock for `id`, shared by every request of this process writing `id` now.
    pub(crate) fn for_id(&self, id: &SessionId) -> WriteLock {
        // A poisoned table only means another thread panicked mid-lookup; the map
        // itself is still consistent.
        let mut t = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(lock) = t.locks.get(id).and_then(Weak::upgrade) {
            return lock;
        }
        if t.locks.len() >= t.purge_at {
            t.locks.retain(|_, w| w.strong_count() > 0);
            t.purge_at = (t.locks.len() * 2).max(1024);
        }
        let lock = Arc::new(AsyncMutex::new(None));
        t.locks.insert(id.clone(), Arc::downgrade(&lock));
        lock
    }
}

impl WriteLocks {
    /// The lock for `id`, unless more than `max_waiting` requests already wait for it:
    /// then [`Error::Busy`], so that waiters (each holding its copy of the session)
    /// cannot pile up without bound.
    pub(crate) fn for_id_bounded(
        &self,
        id: &SessionId,
        max_waiting: usize,
    ) -> Result<WriteLock, Error> {
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
        let locks = WriteLocks::default();
        let a = SessionId::parse("a").unwrap();
        let l1 = locks.for_id(&a);
        let l2 = locks.for_id(&a);
        assert!(Arc::ptr_eq(&l1, &l2));
        drop((l1, l2));
        for i in 0..5000 {
            drop(locks.for_id(&SessionId::parse(&format!("id{i}")).unwrap()));
        }
        assert!(locks.map.lock().unwrap().locks.len() <= 2048);
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
