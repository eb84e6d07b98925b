//! `RedisStoreError`, and its conversion into the store contract's `StoreError` (the
//! source is kept, never flattened into a string).

use std::time::Duration;

use session_core::StoreError;

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
    /// A record to save is larger than the store's limit; nothing was written.
    #[error("session record of {size} bytes exceeds the store limit of {limit} bytes")]
    TooLarge {
        /// Encoded size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The server answered something a script cannot return.
    #[error("unexpected reply from redis")]
    UnexpectedReply,
}

impl From<RedisStoreError> for StoreError {
    fn from(e: RedisStoreError) -> Self {
        StoreError::backend(e)
    }
}
