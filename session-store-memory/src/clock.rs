//! Opt-in eviction of the least recently used sessions, approximated with the CLOCK
//! algorithm (as operating systems do for pages): sessions enter a ring when created;
//! every use sets the entry's `used` bit; to make room, the hand takes the oldest key
//! of a ring, and a session used since it was last passed gets a second chance (bit
//! cleared, back to the end of the ring) while an unused one is the victim.
//!
//! One search examines at most [`MAX_EXAMINED`] keys: when every one of them was used
//! (a store full of active sessions, or the first eviction after the store filled up,
//! when every session is still marked new), the next one goes anyway, so a write never
//! waits for a pass over millions of sessions.
//!
//! The rings are striped by key so that creating sessions on several threads rarely
//! waits for the same lock; loads and touches only store a bit in their entry, taking
//! no lock at all. Keys of sessions already gone (destroyed, expired) are dropped when
//! the hand meets them, and a ring that holds many more keys than the store holds
//! sessions is compacted.

use std::collections::VecDeque;
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::key::Key;

/// Rings (lock stripes).
const RINGS: usize = 16;
/// Keys one search examines before it takes the next one whatever its bit says.
const MAX_EXAMINED: usize = 4096;

#[derive(Debug)]
pub(crate) struct Clock {
    rings: Box<[Mutex<VecDeque<Key>>]>,
    hand: AtomicUsize,
    hasher: RandomState,
}

/// What the hand learns of a key it takes, from the map.
pub(crate) enum Seen {
    /// No longer in the store: forget the key.
    Gone,
    /// Used since the hand last passed (the bit is now cleared): keep it.
    Used,
    /// Not used since: evict it.
    Idle,
    /// Never to be evicted by this search (the session making room for itself).
    Kept,
}

/// The session the hand chose.
pub(crate) enum Victim {
    /// Not used since the hand last passed it (evict it unless used again meanwhile).
    Idle(Key),
    /// Taken because the search examined [`MAX_EXAMINED`] keys that were all in use.
    Forced(Key),
}

impl Clock {
    pub(crate) fn new() -> Self {
        Clock {
            rings: (0..RINGS).map(|_| Mutex::new(VecDeque::new())).collect(),
            hand: AtomicUsize::new(0),
            hasher: RandomState::new(),
        }
    }

    fn ring(&self, i: usize) -> std::sync::MutexGuard<'_, VecDeque<Key>> {
        // A ring poisoned by a panicking thread is still a valid queue.
        self.rings[i % RINGS]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// A new session enters the ring. `held` is the number of sessions in the store
    /// and `alive` tells whether a key is still in it (used to compact a ring that
    /// collected many keys of sessions gone).
    pub(crate) fn admit(&self, key: Key, held: usize, alive: impl Fn(&Key) -> bool) {
        let i = usize::try_from(self.hasher.hash_one(&key)).unwrap_or(0);
        let mut ring = self.ring(i);
        ring.push_back(key);
        if ring.len() > 1024 + 2 * held / RINGS {
            ring.retain(|k| alive(k));
        }
    }

    /// Puts back a victim that was used again before it could be evicted.
    pub(crate) fn readmit(&self, key: Key) {
        let i = usize::try_from(self.hasher.hash_one(&key)).unwrap_or(0);
        self.ring(i).push_back(key);
    }

    /// The next victim: a key whose session was not used since the hand last passed
    /// it, or, after [`MAX_EXAMINED`] keys that all were, the next one. `seen` looks
    /// the key up (and clears its `used` bit). `None` if the rings hold no candidate.
    pub(crate) fn victim(&self, seen: impl Fn(&Key) -> Seen) -> Option<Victim> {
        let mut examined = 0;
        for _ in 0..2 * RINGS {
            let i = self.hand.fetch_add(1, Ordering::Relaxed);
            let mut ring = self.ring(i);
            // Every key of this ring once: a second chance moves a key to the end.
            for _ in 0..ring.len() {
                let Some(key) = ring.pop_front() else { break };
                match seen(&key) {
                    Seen::Gone => continue,
                    Seen::Idle => return Some(Victim::Idle(key)),
                    Seen::Used if examined >= MAX_EXAMINED => return Some(Victim::Forced(key)),
                    Seen::Used | Seen::Kept => ring.push_back(key),
                }
                examined += 1;
            }
        }
        None
    }
}
