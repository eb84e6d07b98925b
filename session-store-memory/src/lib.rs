//! # session-store-memory
//!
//! The in-process [`SessionStore`](session_core::store::SessionStore) for `session-core`: the
//! default for development, tests and single-instance services.
//!
//! - Expiry: each session has its own deadline, from [`Record::ttl_for_write`] on a
//!   write and [`Record::ttl_for_touch`] on a touch; an expired session is never
//!   returned, and a background sweeper thread removes them every interval.
//! - Bounds: at most `capacity` sessions and `max_bytes` bytes of encoded sessions; a
//!   write beyond either is refused with [`StoreError::Full`] (the session layer
//!   answers `503` with `Retry-After`, existing users keep working), or, opt-in, the
//!   least recently used sessions are evicted to make room.
//! - Sharing: a loaded session's decoded data is shared by every request using it
//!   (copy on write), so a thousand requests on one large session hold one copy.
//! - Growth: the map has one shard per 1,024 sessions of capacity (64 to 16,384), and
//!   its keys are the ids' bytes held inline, so a shard that doubles its table holds
//!   up requests on that shard for well under a millisecond, even with millions of
//!   sessions (docs/benchmarks.md, "Inserts into a growing store").
//! - Everything the trait offers: create vs. update, no resurrection, conditional
//!   save, touch, `all`/`len`/`clear`, and `sessions_of` for "sign out everywhere"
//!   (an exact per-user index, updated wherever a session is written or leaves).
//!
//! Sessions live in this process only: they are lost on restart and not shared between
//! instances. Use `session-store-redis` for that.
//!
//! [`Record::ttl_for_write`]: session_core::store::Record::ttl_for_write
//! [`Record::ttl_for_touch`]: session_core::store::Record::ttl_for_touch
//! [`StoreError::Full`]: session_core::store::StoreError::Full
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod budget;
mod builder;
mod clock;
mod evict;
mod key;
mod store;
mod sweeper;
mod users;

pub use builder::{
    DEFAULT_CAPACITY, DEFAULT_MAX_BYTES, DEFAULT_SWEEP_INTERVAL, MemoryStoreBuilder,
};
pub use store::MemoryStore;
