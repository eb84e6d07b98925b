//! `RedisStoreError`, and its conversion into the store contract's `StoreError` (the
//! source is kept, never flattened into a string).

use std::time::Duration;

use session_core::store::{RecordError, StoreError};

/// What went wrong talking to Redis.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisStoreError {
    /// The Redis client reported an error (connection, protocol, server).
    #[error("redis command failed")]
    Redis(#[from] redis::RedisError),
    /// A command did not complete within the deadline.
    #[error("redis command did not complete within {0:?}")]
    Timeout(Duration),
    /// A record to save cannot be stored (larger than the store's limit:
    /// [`RecordError::TooLarge`]); nothing was written.
    #[error("the session record cannot be stored")]
    Record(#[from] RecordError),
    /// The server answered something a script cannot return.
    #[error("unexpected reply from redis")]
    UnexpectedReply,
}

impl From<RedisStoreError> for StoreError {
    fn from(e: RedisStoreError) -> Self {
        StoreError::backend(e)
    }
}
