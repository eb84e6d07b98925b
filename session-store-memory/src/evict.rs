//! Making room in a full store (with `evict_lru` on): sessions the CLOCK hand finds
//! unused since it last passed are evicted until the write fits, at most
//! [`MAX_EVICTIONS_PER_WRITE`] of them.

use std::sync::atomic::Ordering;

use crate::clock::{Seen, Victim};
use crate::store::Shared;

/// At most this many sessions are evicted to make room for one write.
const MAX_EVICTIONS_PER_WRITE: usize = 1024;

impl Shared {
    /// Whether `fits` holds, evicting sessions (never `keep`) until it does when
    /// eviction is on. `fits` reserves what the write needs when it answers `true`.
    pub(crate) fn make_room(&self, keep: Option<&[u8]>, mut fits: impl FnMut() -> bool) -> bool {
        if fits() {
            return true;
        }
        let Some(clock) = &self.clock else {
            return false;
        };
        for _ in 0..MAX_EVICTIONS_PER_WRITE {
            let victim = clock.victim(|k| {
                if keep.is_some_and(|keep| keep == k.as_bytes()) {
                    return Seen::Kept;
                }
                match self.map.get(k) {
                    None => Seen::Gone,
                    Some(e) if e.used.swap(false, Ordering::Relaxed) => Seen::Used,
                    Some(_) => Seen::Idle,
                }
            });
            let removed = match victim {
                None => return false,
                // Spared if used again since the hand passed it.
                Some(Victim::Idle(k)) => self
                    .map
                    .remove_if(&k, |_, e| !e.used.load(Ordering::Relaxed))
                    .ok_or(k),
                Some(Victim::Forced(k)) => self.map.remove(&k).ok_or(k),
            };
            match removed {
                Ok((k, e)) => {
                    self.release(k.as_bytes(), &e);
                    metrics::counter!(EVICTIONS).increment(1);
                }
                // Used again meanwhile: back in the ring.
                Err(k) if self.map.contains_key(&k) => clock.readmit(k),
                Err(_) => {}
            }
            if fits() {
                return true;
            }
        }
        false
    }
}

/// Counter: sessions evicted to make room.
const EVICTIONS: &str = "session_memory_store_evictions_total";
