//! `Replaceable`: a connection manager the store replaces when it fails in a way the
//! `redis` crate's manager does not recover from by itself. The manager reconnects after
//! I/O errors only: a refused password would stay refused until the process restarts,
//! and a manager pointed at a primary that a failover demoted would go on talking to
//! it. So the store builds a new manager from its source: the client (one node: after
//! `WRONGPASS`/`NOAUTH`), or the sentinels, asked again where the primary is (after a
//! lost connection, a deadline missed, refused credentials or a `READONLY` answer).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::sentinel::SentinelClient;
use redis::{RedisError, RedisResult};

use crate::error::RedisStoreError;

/// How long a sentinel lookup may take (it runs in its own task, so a request's deadline
/// does not cut it short), and how long a failed lookup or refused credentials are
/// reported again without trying.
const LOOKUP_LIMIT: Duration = Duration::from_secs(5);
const FAILURE_MEMORY: Duration = Duration::from_millis(200);

/// Where a new connection manager comes from.
pub(crate) enum Source {
    /// One node's client.
    Node(redis::Client),
    /// The sentinels (one lookup at a time).
    Sentinel(tokio::sync::Mutex<SentinelClient>),
}

/// The current connection manager, its generation, and how to make the next one.
pub(crate) struct Replaceable {
    source: Source,
    config: ConnectionManagerConfig,
    current: Mutex<Option<(ConnectionManager, u64)>>,
    failed: Mutex<Option<(Instant, RedisError)>>,
    generation: AtomicU64,
}

impl fmt::Debug for Replaceable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match self.source {
            Source::Node(_) => "node",
            Source::Sentinel(_) => "sentinel",
        };
        f.debug_struct("Replaceable")
            .field("source", &source)
            .field("generation", &self.generation.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Replaceable {
    pub(crate) fn new(source: Source, config: ConnectionManagerConfig) -> Self {
        Replaceable {
            source,
            config,
            current: Mutex::new(None),
            failed: Mutex::new(None),
            generation: AtomicU64::new(0),
        }
    }

    /// The current manager and its generation (for [`Replaceable::after_failure`]),
    /// making one if there is none.
    pub(crate) async fn connection(self: &Arc<Self>) -> RedisResult<(ConnectionManager, u64)> {
        if let Some(found) = lock(&self.current).clone() {
            return Ok(found);
        }
        // A manager that just failed for good is not replaced more than once per
        // FAILURE_MEMORY: a wrong password is not one connection attempt per request.
        if let Some(e) = self.recent_failure() {
            return Err(e);
        }
        match &self.source {
            Source::Node(client) => {
                let manager =
                    ConnectionManager::new_lazy_with_config(client.clone(), self.config.clone())?;
                Ok(self.install(manager))
            }
            Source::Sentinel(_) => {
                // In its own task: the caller's deadline may drop this future, the
                // lookup goes on and leaves its answer for the next caller.
                let this = Arc::clone(self);
                tokio::spawn(async move { this.lookup().await })
                    .await
                    .map_err(|e| RedisError::from(std::io::Error::other(e)))?
            }
        }
    }

    /// Asks the sentinels for the primary (one caller at a time; the others then find
    /// its answer), bounded by [`LOOKUP_LIMIT`].
    async fn lookup(&self) -> RedisResult<(ConnectionManager, u64)> {
        let Source::Sentinel(sentinel) = &self.source else {
            return Err(RedisError::from((
                redis::ErrorKind::Client,
                "no sentinels to ask",
            )));
        };
        let mut sentinel = sentinel.lock().await;
        if let Some(found) = lock(&self.current).clone() {
            return Ok(found);
        }
        if let Some(e) = self.recent_failure() {
            return Err(e);
        }
        // Names the primary, then checks that it answers ROLE as one.
        let found = match tokio::time::timeout(LOOKUP_LIMIT, sentinel.async_get_client()).await {
            Ok(found) => found,
            Err(elapsed) => Err(RedisError::from(std::io::Error::from(elapsed))),
        };
        let manager = found.and_then(|client| {
            ConnectionManager::new_lazy_with_config(client, self.config.clone())
        });
        match manager {
            Ok(manager) => Ok(self.install(manager)),
            Err(e) => {
                *lock(&self.failed) = Some((Instant::now(), e.clone()));
                Err(e)
            }
        }
    }

    fn recent_failure(&self) -> Option<RedisError> {
        let failed = lock(&self.failed);
        let (at, e) = failed.as_ref()?;
        (at.elapsed() < FAILURE_MEMORY).then(|| e.clone())
    }

    fn install(&self, manager: ConnectionManager) -> (ConnectionManager, u64) {
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        let found = (manager, generation);
        *lock(&self.current) = Some(found.clone());
        *lock(&self.failed) = None;
        found
    }

    /// After a command on `generation` failed with `error`: drops that manager if it
    /// will not recover by itself, so the next command makes a new one (a newer manager
    /// is kept).
    pub(crate) fn after_failure(&self, generation: u64, error: &RedisStoreError) {
        let replace = match &self.source {
            Source::Node(_) => matches!(error, RedisStoreError::Auth { .. }),
            Source::Sentinel(_) => {
                matches!(error, RedisStoreError::Auth { .. }) || error.is_connection_failure()
            }
        };
        if !replace {
            return;
        }
        let mut current = lock(&self.current);
        if current.as_ref().is_some_and(|(_, g)| *g == generation) {
            *current = None;
            if let RedisStoreError::Auth { source, .. } = error {
                *lock(&self.failed) = Some((Instant::now(), source.clone()));
            }
            match self.source {
                Source::Node(_) => tracing::warn!("Redis refused the credentials; reconnecting"),
                Source::Sentinel(_) => {
                    tracing::warn!("lost the Redis primary; asking the sentinels where it is")
                }
            }
        }
    }
}
