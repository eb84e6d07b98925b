//! `StoreError`: the contract between the lifecycle in core and a store implementation.

use crate::record::RecordError;

/// What a [`SessionStore`](super::SessionStore) reports.
///
/// The first variants are answers the lifecycle acts on (they are not failures of the
/// store); `Backend` carries a real fault with its cause.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// `save` or `touch` on an id the store does not have (destroyed or expired meanwhile).
    #[error("no session with that id")]
    NotFound,
    /// `create` on an id the store already has: never overwritten.
    #[error("a session with that id already exists")]
    IdTaken,
    /// A conditional `save` whose expected version is no longer the stored one.
    #[error("the session changed since it was loaded")]
    Conflict,
    /// An optional operation (`all`, `len`, `clear`) this store does not offer.
    #[error("the store does not support {0}")]
    Unsupported(&'static str),
    /// The store is at its capacity bound and refuses new sessions.
    #[error("the store is full")]
    Full,
    /// The stored bytes are not a valid session record.
    #[error("the stored session record is invalid")]
    Corrupt(#[source] RecordError),
    /// The backend failed (I/O, timeout, protocol).
    #[error("the session store backend failed")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    /// Wraps any backend error, keeping it as the source.
    pub fn backend<E>(err: E) -> Self
    where
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        StoreError::Backend(err.into())
    }
}
