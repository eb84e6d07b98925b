//! `RedisStoreError`: what went wrong, told apart (cannot connect, TLS, credentials,
//! deadline, configuration, a refused command), and its conversion into the store
//! contract's `StoreError` (the source is kept, never flattened into a string). No
//! message carries a URL, so no password reaches a log.

use std::path::PathBuf;
use std::time::Duration;

use redis::{ErrorKind, RedisError};
use session_core::store::{RecordError, StoreError};

/// What went wrong talking to Redis.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisStoreError {
    /// Redis could not be reached: nothing listens, the connection was reset or closed,
    /// the host name does not resolve, or the sentinels name no primary (a failover).
    #[error("could not connect to Redis: {reason}")]
    Connect {
        /// The cause in a few words (for example "connection refused").
        reason: String,
        /// The client's error.
        #[source]
        source: RedisError,
    },
    /// The TLS handshake failed: an unknown CA, a name mismatch, a missing or refused
    /// client certificate, or a server that does not speak TLS.
    #[error("TLS with Redis failed: {reason}")]
    Tls {
        /// The TLS library's description of the failure.
        reason: String,
        /// The client's error.
        #[source]
        source: RedisError,
    },
    /// Redis refused the credentials (`WRONGPASS`), or wants some (`NOAUTH`).
    #[error("Redis refused the credentials ({reason})")]
    Auth {
        /// The server's error code.
        reason: String,
        /// The client's error.
        #[source]
        source: RedisError,
    },
    /// Redis did not answer within the deadline (connection attempts included).
    #[error("Redis did not answer within {0:?}")]
    Timeout(Duration),
    /// The configuration cannot work: an invalid URL, `rediss://` without the `tls`
    /// feature, certificates that do not parse, an empty list of sentinels.
    #[error("invalid Redis configuration: {reason}")]
    Config {
        /// What is wrong.
        reason: String,
        /// The client's error.
        #[source]
        source: RedisError,
    },
    /// A lazy store was built outside a Tokio runtime (its connection manager needs one
    /// to start).
    #[error("a lazy Redis store must be built inside a Tokio runtime")]
    NoRuntime,
    /// A certificate or key file could not be read.
    #[error("could not read {}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Redis answered a command with an error (out of memory, read-only replica, ...),
    /// or an answer that could not be read.
    #[error("Redis command failed ({})", .0.code().unwrap_or(.0.category()))]
    Redis(#[source] RedisError),
    /// A record to save cannot be stored (larger than the store's limit:
    /// [`RecordError::TooLarge`]); nothing was written.
    #[error("the session record cannot be stored")]
    Record(#[from] RecordError),
    /// The server answered something a script cannot return.
    #[error("unexpected reply from redis")]
    UnexpectedReply,
}

impl RedisStoreError {
    /// Sorts a client error into the variants above; `deadline` is the one that applied.
    pub(crate) fn classify(e: RedisError, deadline: Duration) -> Self {
        if let Some(reason) = tls_failure(&e) {
            return RedisStoreError::Tls { reason, source: e };
        }
        if e.kind() == ErrorKind::AuthenticationFailed
            || matches!(e.code(), Some("NOAUTH" | "WRONGPASS"))
        {
            let reason = e
                .code()
                .or(e.detail())
                .unwrap_or("authentication failed")
                .to_owned();
            return RedisStoreError::Auth { reason, source: e };
        }
        if e.is_timeout() {
            return RedisStoreError::Timeout(deadline);
        }
        match e.kind() {
            ErrorKind::InvalidClientConfig | ErrorKind::EmptySentinelList => {
                RedisStoreError::Config {
                    reason: e.detail().unwrap_or(e.category()).to_owned(),
                    source: e,
                }
            }
            ErrorKind::Io | ErrorKind::ClusterConnectionNotFound => RedisStoreError::Connect {
                reason: io_reason(&e),
                source: e,
            },
            // During a failover (or with a service name no sentinel monitors).
            ErrorKind::MasterNameNotFoundBySentinel => RedisStoreError::Connect {
                reason: "the sentinels name no primary for the service that answers as one"
                    .to_owned(),
                source: e,
            },
            _ => RedisStoreError::Redis(e),
        }
    }

    /// Whether the connection (rather than the command) failed, so that a Sentinel
    /// store asks the sentinels again where the primary is.
    pub(crate) fn is_connection_failure(&self) -> bool {
        match self {
            RedisStoreError::Connect { .. } | RedisStoreError::Timeout(_) => true,
            RedisStoreError::Redis(e) => {
                matches!(e.code(), Some("READONLY" | "MASTERDOWN" | "LOADING"))
            }
            _ => false,
        }
    }
}

impl From<RedisStoreError> for StoreError {
    fn from(e: RedisStoreError) -> Self {
        StoreError::backend(e)
    }
}

/// The I/O error in words: its kind for an OS error ("connection refused"), its own
/// message otherwise (a failed DNS lookup says so); else the client's description.
fn io_reason(e: &RedisError) -> String {
    match find::<std::io::Error>(e) {
        Some(io) if io.get_ref().is_some() => io.to_string(),
        Some(io) => io.kind().to_string(),
        None => e.category().to_owned(),
    }
}

type Shared = std::sync::Arc<dyn std::error::Error + Send + Sync>;

/// The first error of type `T` in `e`'s source chain (`e` included). The `redis` crate
/// keeps an inner error as an `Arc<dyn Error>`, which is looked through.
fn find<'a, T: std::error::Error + 'static>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    std::iter::successors(Some(e), |e| e.source()).find_map(|e| {
        e.downcast_ref::<T>().or_else(|| {
            e.downcast_ref::<Shared>()
                .and_then(|inner| (**inner).downcast_ref::<T>())
        })
    })
}

/// rustls's description of a failed handshake, if that is what `e` is. rustls errors
/// travel inside an `io::Error`, whose `source()` skips them: looked up by hand.
#[cfg(feature = "tls")]
fn tls_failure(e: &RedisError) -> Option<String> {
    let io = find::<std::io::Error>(e)?;
    let inner = io.get_ref()?;
    find::<rustls::Error>(inner).map(ToString::to_string)
}

#[cfg(not(feature = "tls"))]
fn tls_failure(_: &RedisError) -> Option<String> {
    None
}
