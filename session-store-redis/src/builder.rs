//! `RedisStoreBuilder`: the store's options (connect-redis's, plus limits) and how it
//! connects.

use std::sync::Arc;
use std::time::Duration;

use session_core::store::{DEFAULT_MAX_RECORD_BYTES, DEFAULT_TTL};

use crate::connection::{Connection, Target};
use crate::error::RedisStoreError;
use crate::scripts;
use crate::slide::Slide;
use crate::store::{RedisStore, Scripts};

/// connect-redis's default key prefix.
pub const DEFAULT_PREFIX: &str = "sess:";
/// Default deadline for one command.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_millis(500);

/// Configures a [`RedisStore`] (connect-redis's options).
#[derive(Clone, Debug)]
#[must_use]
pub struct RedisStoreBuilder {
    prefix: String,
    ttl: Duration,
    disable_touch: bool,
    disable_ttl: bool,
    command_timeout: Duration,
    max_record_bytes: usize,
    scan_count: usize,
}

impl Default for RedisStoreBuilder {
    fn default() -> Self {
        RedisStoreBuilder {
            prefix: DEFAULT_PREFIX.to_owned(),
            ttl: DEFAULT_TTL,
            disable_touch: false,
            disable_ttl: false,
            command_timeout: DEFAULT_COMMAND_TIMEOUT,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            scan_count: 100,
        }
    }
}

impl RedisStoreBuilder {
    /// Key prefix (connect-redis `prefix`; default `sess:`).
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }
    /// TTL for a session whose cookie has no expiry (connect-redis `ttl`; one day).
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }
    /// Never extend a TTL on reads (connect-redis `disableTouch`).
    pub fn disable_touch(mut self, disable: bool) -> Self {
        self.disable_touch = disable;
        self
    }
    /// Store sessions without expiry (connect-redis `disableTTL`).
    pub fn disable_ttl(mut self, disable: bool) -> Self {
        self.disable_ttl = disable;
        self
    }
    /// Deadline for one command, connection attempts included (default 500 ms).
    pub fn command_timeout(mut self, timeout: Duration) -> Self {
        self.command_timeout = timeout;
        self
    }
    /// Largest record accepted on save and on load (default 1 MiB).
    pub fn max_record_bytes(mut self, limit: usize) -> Self {
        self.max_record_bytes = limit;
        self
    }
    /// `COUNT` hint for `SCAN` (connect-redis `scanCount`; default 100).
    pub fn scan_count(mut self, count: usize) -> Self {
        self.scan_count = count.max(1);
        self
    }

    /// Connects to one Redis node now (`redis://host:port/db`).
    ///
    /// # Errors
    ///
    /// If the URL is invalid or Redis cannot be reached within the command timeout.
    pub async fn connect(self, url: &str) -> Result<RedisStore, RedisStoreError> {
        let store = self.build(Target::Node(url.to_owned()));
        store.conn.connect().await?;
        store.preload_scripts().await?;
        store.slide.probe(&store.conn).await?;
        Ok(store)
    }

    /// Connects to a Redis Cluster now, given some of its nodes.
    ///
    /// # Errors
    ///
    /// If a URL is invalid or the cluster cannot be reached within the command timeout.
    pub async fn connect_cluster<I, S>(self, nodes: I) -> Result<RedisStore, RedisStoreError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let store = self.build(Target::Cluster(nodes.into_iter().map(Into::into).collect()));
        store.conn.connect().await?;
        store.slide.probe(&store.conn).await?;
        Ok(store)
    }

    /// A store that connects on first use (so a service can start while Redis is down;
    /// until it is up, every call fails with a backend error within the deadline).
    pub fn lazy(self, url: &str) -> RedisStore {
        self.build(Target::Node(url.to_owned()))
    }

    /// Like [`RedisStoreBuilder::lazy`], for a cluster.
    pub fn lazy_cluster<I, S>(self, nodes: I) -> RedisStore
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.build(Target::Cluster(nodes.into_iter().map(Into::into).collect()))
    }

    fn build(self, target: Target) -> RedisStore {
        RedisStore {
            conn: Connection::new(target, self.command_timeout),
            prefix: self.prefix,
            ttl: self.ttl,
            disable_touch: self.disable_touch,
            disable_ttl: self.disable_ttl,
            max_record_bytes: self.max_record_bytes,
            scan_count: self.scan_count,
            scripts: Scripts {
                touch: scripts::touch(),
                cas: scripts::compare_and_set(),
            },
            slide: Arc::new(Slide::new(self.ttl)),
        }
    }
}
