//! `RedisStoreBuilder`: the store's options (connect-redis's, plus limits) and how it
//! connects: a URL (TLS with `rediss://`), cluster nodes, Sentinel, or the application's
//! own connection.

use std::sync::Arc;
use std::time::Duration;

use session_core::store::{DEFAULT_MAX_RECORD_BYTES, DEFAULT_TTL};

use redis::aio::ConnectionManager;
use redis::cluster::{ClusterClient, ClusterConfig};
use redis::cluster_async::ClusterConnection;

use crate::connection::{Connection, Target, manager_config};
use crate::error::RedisStoreError;
use crate::replaceable::{Replaceable, Source};
use crate::scripts;
use crate::sentinel::RedisSentinel;
use crate::slide::Slide;
use crate::store::{RedisStore, Scripts};
use crate::tls::RedisTls;

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
    tls: Option<RedisTls>,
    user_index: bool,
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
            tls: None,
            user_index: true,
        }
    }
}

impl RedisStoreBuilder {
    /// Whether to keep the per-user index behind `sessions_of` ("sign out
    /// everywhere"): a sorted set per signed-in user, `users:<prefix><user>` (default on).
    /// Turn it off where the store may only touch keys under its prefix (a Redis ACL
    /// such as `~sess:*`); `sessions_of` then answers `Unsupported`.
    pub fn user_index(mut self, on: bool) -> Self {
        self.user_index = on;
        self
    }

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

    /// TLS certificates for `rediss://` URLs (a private CA, a client certificate);
    /// without them `rediss://` trusts the system's roots.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn tls(mut self, tls: RedisTls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Connects to one Redis node now (`redis://host:port/db`, `rediss://` for TLS).
    ///
    /// # Errors
    ///
    /// If the URL is invalid ([`RedisStoreError::Config`]), or Redis cannot be reached
    /// ([`RedisStoreError::Connect`]), completes no TLS handshake
    /// ([`RedisStoreError::Tls`]), refuses the credentials ([`RedisStoreError::Auth`]),
    /// or does not answer within the command timeout ([`RedisStoreError::Timeout`]).
    pub async fn connect(self, url: &str) -> Result<RedisStore, RedisStoreError> {
        self.lazy(url)?.ready().await
    }

    /// Connects to a Redis Cluster now, given some of its nodes.
    ///
    /// # Errors
    ///
    /// As [`RedisStoreBuilder::connect`].
    pub async fn connect_cluster<I, S>(self, nodes: I) -> Result<RedisStore, RedisStoreError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.lazy_cluster(nodes)?.ready().await
    }

    /// Connects now to the primary that Redis Sentinel names, and follows it through
    /// failovers: after a lost connection or a `READONLY` answer the store asks the
    /// sentinels again (commands fail meanwhile, as during any outage).
    ///
    /// # Errors
    ///
    /// As [`RedisStoreBuilder::connect`]; [`RedisStoreError::Config`] if no sentinel
    /// knows the service.
    pub async fn connect_sentinel(
        self,
        sentinel: RedisSentinel,
    ) -> Result<RedisStore, RedisStoreError> {
        self.lazy_sentinel(sentinel)?.ready().await
    }

    /// A store that connects on first use (so a service can start while Redis is down;
    /// until it is up, every call fails with a backend error within the deadline).
    ///
    /// # Errors
    ///
    /// [`RedisStoreError::Config`] if the URL (or the TLS configuration) is invalid.
    pub fn lazy(self, url: &str) -> Result<RedisStore, RedisStoreError> {
        let client = self.client(url)?;
        let managed = Replaceable::new(Source::Node(client), manager_config(self.command_timeout));
        Ok(self.build(Target::Managed(Arc::new(managed))))
    }

    /// Like [`RedisStoreBuilder::lazy`], for a cluster.
    ///
    /// # Errors
    ///
    /// [`RedisStoreError::Config`] if a URL (or the TLS configuration) is invalid;
    /// [`RedisStoreError::NoRuntime`] outside a Tokio runtime.
    pub fn lazy_cluster<I, S>(self, nodes: I) -> Result<RedisStore, RedisStoreError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        in_runtime()?;
        let nodes: Vec<String> = nodes.into_iter().map(Into::into).collect();
        let builder = ClusterClient::builder(nodes)
            .connection_timeout(self.command_timeout)
            .retries(2);
        #[cfg(feature = "tls")]
        let builder = match &self.tls {
            Some(tls) => builder.certs(tls.certificates()),
            None => builder,
        };
        let client = builder.build().map_err(|e| self.fail(e))?;
        let config = ClusterConfig::new()
            .set_connection_timeout(self.command_timeout)
            .set_response_timeout(self.command_timeout);
        let conn = client.get_pending_async_connection_with_config(config);
        Ok(self.build(Target::Cluster(conn)))
    }

    /// Like [`RedisStoreBuilder::connect_sentinel`], connecting on first use.
    ///
    /// # Errors
    ///
    /// [`RedisStoreError::Config`] if a sentinel URL is invalid.
    pub fn lazy_sentinel(self, sentinel: RedisSentinel) -> Result<RedisStore, RedisStoreError> {
        let client = sentinel
            .client(self.tls.as_ref())
            .map_err(|e| self.fail(e))?;
        let source = Source::Sentinel(tokio::sync::Mutex::new(client));
        let managed = Replaceable::new(source, manager_config(self.command_timeout));
        Ok(self.build(Target::Managed(Arc::new(managed))))
    }

    /// A store on the application's own connection manager (one node), so that the
    /// application and its sessions share one client and one connection. The store's
    /// command timeout still bounds each of its commands.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use session_store_redis::RedisStore;
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = redis::Client::open("redis://127.0.0.1:6379/")?;
    /// let manager = client.get_connection_manager().await?;
    /// let store = RedisStore::builder().from_connection_manager(manager.clone());
    /// // ... the application keeps using `manager` for its own commands.
    /// # let _ = store; Ok(()) }
    /// ```
    pub fn from_connection_manager(self, manager: ConnectionManager) -> RedisStore {
        self.build(Target::Shared(manager))
    }

    /// A store on the application's own Redis Cluster connection.
    pub fn from_cluster_connection(self, connection: ClusterConnection) -> RedisStore {
        self.build(Target::Cluster(connection))
    }

    fn client(&self, url: &str) -> Result<redis::Client, RedisStoreError> {
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.tls {
            return redis::Client::build_with_tls(url, tls.certificates())
                .map_err(|e| self.fail(e));
        }
        redis::Client::open(url).map_err(|e| self.fail(e))
    }

    fn fail(&self, e: redis::RedisError) -> RedisStoreError {
        RedisStoreError::classify(e, self.command_timeout)
    }

    fn build(self, target: Target) -> RedisStore {
        // Before any handshake: rustls needs a process-wide provider.
        #[cfg(feature = "tls")]
        crate::tls::install_provider();
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
            users: Arc::new(crate::users::UserIndex::new()),
            user_index: self.user_index,
        }
    }
}

/// The `redis` crate starts a lazy connection's tasks on the current Tokio runtime, and
/// panics without one: refused with an error instead.
fn in_runtime() -> Result<(), RedisStoreError> {
    tokio::runtime::Handle::try_current()
        .map(drop)
        .map_err(|_| RedisStoreError::NoRuntime)
}
