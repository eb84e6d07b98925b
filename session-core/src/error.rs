//! `Error`: what users of [`Session`](crate::Session) and [`SessionConfig`](crate::SessionConfig) see.

use crate::store::StoreError;

/// A store operation, named in [`Error::Store`] so logs say what failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreOp {
    /// Reading a session.
    Load,
    /// Writing a new session.
    Create,
    /// Writing an existing session.
    Save,
    /// Extending a session's life.
    Touch,
    /// Deleting a session.
    Destroy,
    /// Listing, counting or clearing sessions.
    Admin,
}

impl StoreOp {
    /// A short lowercase label, as in logs and the `op` label of metrics.
    pub const fn as_str(self) -> &'static str {
        match self {
            StoreOp::Load => "load",
            StoreOp::Create => "create",
            StoreOp::Save => "save",
            StoreOp::Touch => "touch",
            StoreOp::Destroy => "destroy",
            StoreOp::Admin => "admin",
        }
    }
}

impl std::fmt::Display for StoreOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Errors from the session API and configuration.
///
/// Display is one lowercase line and never contains a session id or a secret; the
/// cause, where there is one, is kept as [`std::error::Error::source`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration was refused when it was built.
    #[error("invalid session configuration: {field}: {reason}")]
    InvalidConfig {
        /// The option at fault, with express-session's name.
        field: &'static str,
        /// Why it was refused.
        reason: &'static str,
    },
    /// The store failed.
    #[error("session store failed to {op}")]
    Store {
        /// What was being done.
        op: StoreOp,
        /// The store's error.
        #[source]
        source: StoreError,
    },
    /// A value could not be turned into JSON (or back into the requested type).
    #[error("session value for key {key:?} could not be converted")]
    Value {
        /// The data key.
        key: String,
        /// The serde error.
        #[source]
        source: serde_json::Error,
    },
    /// The key is reserved: `cookie`, `__sessionMeta`, or a name express-session uses
    /// itself ([`RESERVED_KEYS`](crate::record::RESERVED_KEYS) lists them all).
    #[error("session key {key:?} is reserved")]
    ReservedKey {
        /// The key.
        key: String,
    },
    /// The session was destroyed in this request; use `regenerate` to start a new one.
    #[error("the session was destroyed")]
    Destroyed,
    /// Another request destroyed or replaced this session; it is not brought back.
    #[error("the session was destroyed or replaced by another request")]
    Gone,
    /// `reload` found no session in the store (express: "failed to load session").
    #[error("failed to load session")]
    NotFound,
    /// A concurrent update kept conflicting after the bounded number of retries.
    #[error("the session kept changing concurrently; gave up after {attempts} attempts")]
    Conflict {
        /// How many attempts were made.
        attempts: u32,
    },
    /// The request carries no session: the session layer is not installed in front of
    /// this handler (or the request is outside the cookie's path).
    #[error("the request carries no session; is the session layer installed?")]
    NoSession,
    /// IP pinning is on but the adapter gave no client address (no `ClientAddr`, no
    /// axum `ConnectInfo`): the session is not used rather than left unpinned. A
    /// deployment error; adapters answer 500 and log it.
    #[error("ip pinning is on but the request carries no client address")]
    NoClientAddress,
    /// The application's [`Users`](crate::auth::Users) failed to give a user's auth value.
    #[error("looking up the signed-in user failed")]
    Users(#[source] crate::auth::BoxError),
    /// A request that changes something carried no CSRF token, or a wrong one.
    #[error("missing or invalid CSRF token")]
    Csrf,
    /// Data given as a whole (`merge`, `replace`) was not a JSON object.
    #[error("session data must be a JSON object")]
    NotAnObject,
    /// The custom `genid` produced an id outside the accepted alphabet or length.
    #[error("genid produced an invalid session id")]
    InvalidGeneratedId,
    /// No session id could be generated: the OS random source failed.
    #[error("no session id could be generated")]
    RandomSource(#[from] crate::id::RandomSourceError),
    /// Too many requests of this process were already waiting to write this session
    /// (see [`SessionConfigBuilder::max_queued_writes`](crate::SessionConfigBuilder::max_queued_writes));
    /// nothing was written. Adapters answer `503` with `Retry-After`.
    #[error("too many requests are waiting to write this session")]
    Busy {
        /// How many were waiting.
        waiting: usize,
    },
    /// The encoded session is larger than the configured limit; nothing was written.
    #[error("session payload of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Encoded size in bytes.
        size: usize,
        /// The configured limit.
        limit: usize,
    },
}

impl Error {
    /// Whether this is a failure of the store (as opposed to a programming or data error).
    pub fn is_store(&self) -> bool {
        matches!(self, Error::Store { .. })
    }

    /// Whether the failure is one of capacity, which passes when the load does: the
    /// store is full ([`StoreError::Full`]) or too many requests wait to write one
    /// session ([`Error::Busy`]). Adapters answer `503` with `Retry-After`.
    pub fn is_overloaded(&self) -> bool {
        matches!(
            self,
            Error::Busy { .. }
                | Error::Store {
                    source: StoreError::Full,
                    ..
                }
        )
    }

    pub(crate) fn store(op: StoreOp) -> impl FnOnce(StoreError) -> Error {
        move |source| Error::Store { op, source }
    }
}
