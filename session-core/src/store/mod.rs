//! The `SessionStore` trait: what a store must do, and why.
//!
//! express-session's stores offer `get`/`set`/`destroy`/`touch` (and optionally
//! `all`/`length`/`clear`). `set` is an upsert, which is where three classic session
//! bugs come from, so this trait splits it:
//!
//! - [`create`](SessionStore::create) writes a NEW id and fails with
//!   [`StoreError::IdTaken`] if the id exists: an id collision is detected, never an
//!   overwrite of somebody else's session;
//! - [`save`](SessionStore::save) writes an EXISTING id and fails with
//!   [`StoreError::NotFound`] if it is gone: a request that overlapped a logout cannot
//!   bring the session back;
//! - `save` can be conditional on the [`Version`] that `load` returned and fails with
//!   [`StoreError::Conflict`] if another request saved meanwhile: the lifecycle builds
//!   lost-update protection on it (see [`Concurrency`](crate::Concurrency)).
//!
//! Expiry: a store keeps its own expiry beside the payload (Redis's TTL, the memory
//! store's deadline), computed by [`Record::ttl_for_write`] on writes and
//! [`Record::ttl_for_touch`] on touches. That expiry is authoritative: a record the
//! store still has is live even if its payload `cookie.expires` is in the past, because
//! connect-redis extends the TTL without rewriting the payload.
//!
//! Store authors depend on `session-core` only, not on an HTTP adapter, and run the
//! conformance suite (feature `conformance`) against their store.
//!
//! # A complete toy store
//!
//! ```
//! use std::collections::HashMap;
//! use std::sync::Mutex;
//! use session_core::SessionId;
//! use session_core::store::{Loaded, Record, SessionStore, StoreError, Version, async_trait};
//!
//! #[derive(Debug, Default)]
//! struct ToyStore(Mutex<HashMap<SessionId, (Record, u64)>>);
//!
//! #[async_trait]
//! impl SessionStore for ToyStore {
//!     async fn load(&self, id: &SessionId) -> Result<Option<Loaded>, StoreError> {
//!         let map = self.0.lock().unwrap();
//!         Ok(map.get(id).map(|(r, v)| Loaded::new(r.clone(), Version::from_u64(*v))))
//!     }
//!     async fn create(&self, id: &SessionId, record: &Record) -> Result<Version, StoreError> {
//!         let mut map = self.0.lock().unwrap();
//!         if map.contains_key(id) {
//!             return Err(StoreError::IdTaken);
//!         }
//!         map.insert(id.clone(), (record.clone(), 1));
//!         Ok(Version::from_u64(1))
//!     }
//!     async fn save(&self, id: &SessionId, record: &Record, expected: Option<&Version>)
//!         -> Result<Option<Version>, StoreError> {
//!         let mut map = self.0.lock().unwrap();
//!         let (stored, v) = map.get_mut(id).ok_or(StoreError::NotFound)?;
//!         if expected.is_some_and(|e| *e != Version::from_u64(*v)) {
//!             return Err(StoreError::Conflict);
//!         }
//!         *stored = record.clone();
//!         *v += 1;
//!         Ok(Some(Version::from_u64(*v)))
//!     }
//!     async fn touch(&self, id: &SessionId) -> Result<(), StoreError> {
//!         if self.0.lock().unwrap().contains_key(id) { Ok(()) } else { Err(StoreError::NotFound) }
//!     }
//!     async fn destroy(&self, id: &SessionId) -> Result<(), StoreError> {
//!         self.0.lock().unwrap().remove(id);
//!         Ok(())
//!     }
//! }
//! ```
//! (This toy keeps no expiry; real stores must, and the conformance suite checks it.)

mod error;

use std::fmt;

pub use async_trait::async_trait;
pub use error::StoreError;

pub use crate::record::{DEFAULT_MAX_RECORD_BYTES, MAX_STORE_TTL, Record, RecordError, RecordMeta};

/// How long a store keeps a browser-session record (one without `cookie.expires`):
/// one day, connect-redis's default.
pub const DEFAULT_TTL: std::time::Duration = std::time::Duration::from_secs(86_400);

use crate::id::SessionId;

/// An opaque token identifying one stored state of a session, for conditional saves.
///
/// Stores choose what it holds: a counter (memory store) or a digest of the stored
/// bytes (Redis store, so the express-compatible payload needs no version field).
///
/// Up to 40 bytes (a counter, a SHA-1 digest in hex) are held inline: making, copying
/// and comparing a version allocates nothing.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Version(VersionBytes);

/// Inline up to [`INLINE_VERSION`] bytes, else on the heap.
#[derive(Clone, PartialEq, Eq, Hash)]
enum VersionBytes {
    Inline(u8, [u8; INLINE_VERSION]),
    Heap(Box<[u8]>),
}

const INLINE_VERSION: usize = 40;

impl Version {
    /// A version from opaque bytes (e.g. a digest).
    pub fn from_bytes(bytes: impl AsRef<[u8]>) -> Self {
        let bytes = bytes.as_ref();
        match u8::try_from(bytes.len()) {
            Ok(len) if bytes.len() <= INLINE_VERSION => {
                let mut inline = [0u8; INLINE_VERSION];
                inline[..bytes.len()].copy_from_slice(bytes);
                Version(VersionBytes::Inline(len, inline))
            }
            _ => Version(VersionBytes::Heap(bytes.into())),
        }
    }
    /// A version from a counter.
    pub fn from_u64(n: u64) -> Self {
        Self::from_bytes(n.to_be_bytes())
    }
    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            VersionBytes::Inline(len, bytes) => &bytes[..usize::from(*len)],
            VersionBytes::Heap(bytes) => bytes,
        }
    }
}

impl fmt::Debug for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Version(")?;
        for b in self.as_bytes().iter().take(8) {
            write!(f, "{b:02x}")?;
        }
        write!(f, ")")
    }
}

/// A record as loaded, with its version.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Loaded {
    /// The record.
    pub record: Record,
    /// Its version, for a conditional save.
    pub version: Version,
    /// The store already extended the expiry as part of this load (as a touch would):
    /// an end-of-request touch is then skipped.
    pub touched: bool,
}

impl Loaded {
    /// A loaded record that was not touched.
    pub fn new(record: Record, version: Version) -> Self {
        Loaded {
            record,
            version,
            touched: false,
        }
    }

    /// A loaded record whose expiry the store extended in the same operation.
    pub fn touched(record: Record, version: Version) -> Self {
        Loaded {
            record,
            version,
            touched: true,
        }
    }
}

/// A session store. Object-safe: hold it as `Arc<dyn SessionStore>`.
///
/// Every method is one backend operation (a command, a script, a map access); the
/// lifecycle rules (resave, rolling, regenerate, merge retries) live in core.
// `len` mirrors express's optional `length`; an `is_empty` would add nothing a store
// could answer more cheaply.
#[allow(clippy::len_without_is_empty)]
#[async_trait]
pub trait SessionStore: fmt::Debug + Send + Sync + 'static {
    /// Reads a session. `Ok(None)` when the id is unknown or expired (the store's own
    /// expiry decides, never the payload's `cookie.expires`). Bytes that are not a
    /// valid record give [`StoreError::Corrupt`]. A store may extend the expiry in the
    /// same operation and say so with [`Loaded::touched`].
    async fn load(&self, id: &SessionId) -> Result<Option<Loaded>, StoreError>;

    /// Writes a new session. [`StoreError::IdTaken`] if the id exists (nothing is
    /// written). The expiry is [`Record::ttl_for_write`].
    async fn create(&self, id: &SessionId, record: &Record) -> Result<Version, StoreError>;

    /// Writes an existing session, only if it still exists ([`StoreError::NotFound`]
    /// otherwise) and, when `expected` is given, only if its version is still that
    /// ([`StoreError::Conflict`] otherwise). The check and the write are one atomic
    /// step. If [`Record::ttl_for_write`] says the record is already expired, the
    /// session is deleted instead and `Ok(None)` returned.
    async fn save(
        &self,
        id: &SessionId,
        record: &Record,
        expected: Option<&Version>,
    ) -> Result<Option<Version>, StoreError>;

    /// Extends a session's life from its stored record ([`Record::ttl_for_touch`])
    /// without rewriting its data. [`StoreError::NotFound`] if it is gone.
    async fn touch(&self, id: &SessionId) -> Result<(), StoreError>;

    /// Deletes a session. Deleting an unknown id is not an error.
    async fn destroy(&self, id: &SessionId) -> Result<(), StoreError>;

    /// Whether a live session has this id, without extending its life. The default
    /// loads it; stores answer more cheaply (`EXISTS`, a primary-key lookup).
    ///
    /// `Session::cycle_id` asks it after writing the new id, so a session cannot move
    /// away from a sign-out that deleted its old id meanwhile.
    async fn exists(&self, id: &SessionId) -> Result<bool, StoreError> {
        Ok(self.load(id).await?.is_some())
    }

    /// The ids of the live sessions whose record names `user` ([`Record::user`]), for
    /// "sign out everywhere" ([`auth::destroy_all`](crate::auth::destroy_all)).
    /// Optional: the default answers [`StoreError::Unsupported`].
    ///
    /// A store that answers keeps a per-user index up to date on `create`, `save`,
    /// `destroy` and expiry, and never lists a session it no longer has. It must not
    /// miss one: a session created or saved with a user is listed from the moment that
    /// write returns.
    async fn sessions_of(&self, user: &str) -> Result<Vec<SessionId>, StoreError> {
        let _ = user;
        Err(StoreError::Unsupported("sessions_of"))
    }

    /// Every live session. Optional: the default answers [`StoreError::Unsupported`].
    async fn all(&self) -> Result<Vec<(SessionId, Record)>, StoreError> {
        Err(StoreError::Unsupported("all"))
    }

    /// How many live sessions there are. Optional, like [`SessionStore::all`].
    async fn len(&self) -> Result<usize, StoreError> {
        Err(StoreError::Unsupported("len"))
    }

    /// Deletes every session of this store (and only this store's). Optional, like
    /// [`SessionStore::all`].
    async fn clear(&self) -> Result<(), StoreError> {
        Err(StoreError::Unsupported("clear"))
    }
}
