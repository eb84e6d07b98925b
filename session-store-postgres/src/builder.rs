//! `PostgresStoreBuilder`: the store's options (connect-pg-simple's, plus limits) and how
//! it connects: a URL (its own pool), or the application's pool.

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use session_core::store::{DEFAULT_MAX_RECORD_BYTES, DEFAULT_TTL};
use tokio_postgres::config::SslMode;

use crate::error::PostgresStoreError;
use crate::sql::TableName;
use crate::store::{PostgresStore, Settings};
#[cfg(feature = "tls")]
use crate::tls::PostgresTls;

/// connect-pg-simple's default table name.
pub const DEFAULT_TABLE: &str = "session";
/// Default deadline for one store call (waiting for a pooled connection included).
pub const DEFAULT_QUERY_TIMEOUT: Duration = Duration::from_secs(1);
/// connect-pg-simple's default pruning interval (each wait is 50-150 % of it).
pub const DEFAULT_PRUNE_INTERVAL: Duration = Duration::from_secs(15 * 60);
/// Default number of expired rows one pruning statement deletes.
pub const DEFAULT_PRUNE_BATCH: u32 = 1_000;

/// Configures a [`PostgresStore`] (connect-pg-simple's options, plus deadlines and
/// limits).
#[derive(Clone, Debug)]
#[must_use]
pub struct PostgresStoreBuilder {
    pub(crate) table: TableName,
    pub(crate) ttl: Duration,
    pub(crate) disable_touch: bool,
    pub(crate) touch_after: Duration,
    pub(crate) create_table_if_missing: bool,
    pub(crate) query_timeout: Duration,
    pub(crate) pool_size: Option<usize>,
    pub(crate) prune_interval: Option<Duration>,
    pub(crate) prune_batch: u32,
    pub(crate) max_record_bytes: usize,
    #[cfg(feature = "tls")]
    tls: Option<PostgresTls>,
}

impl Default for PostgresStoreBuilder {
    fn default() -> Self {
        PostgresStoreBuilder {
            table: TableName {
                schema: None,
                table: DEFAULT_TABLE.to_owned(),
            },
            ttl: DEFAULT_TTL,
            disable_touch: false,
            touch_after: Duration::ZERO,
            create_table_if_missing: false,
            query_timeout: DEFAULT_QUERY_TIMEOUT,
            pool_size: None,
            prune_interval: Some(DEFAULT_PRUNE_INTERVAL),
            prune_batch: DEFAULT_PRUNE_BATCH,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

impl PostgresStoreBuilder {
    /// The table's name (connect-pg-simple `tableName`; default `session`).
    pub fn table(mut self, name: impl Into<String>) -> Self {
        self.table.table = name.into();
        self
    }
    /// The table's schema (connect-pg-simple `schemaName`; default: the connection's
    /// `search_path`).
    pub fn schema(mut self, name: impl Into<String>) -> Self {
        self.table.schema = Some(name.into());
        self
    }
    /// How long a session whose cookie has no expiry is kept (connect-pg-simple `ttl`;
    /// one day).
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }
    /// Never extend a session's expiry on reads (connect-pg-simple `disableTouch`).
    pub fn disable_touch(mut self, disable: bool) -> Self {
        self.disable_touch = disable;
        self
    }
    /// Rewrite a row just to slide its expiry at most once per `interval`
    /// (connect-mongo's `touchAfter`; default zero: every read slides it, as
    /// connect-pg-simple does). With a minute, a read-heavy site writes about once a
    /// minute per active session instead of on every request; the stored expiry is
    /// then up to that much earlier than the cookie's.
    pub fn touch_after(mut self, interval: Duration) -> Self {
        self.touch_after = interval;
        self
    }
    /// Create the table (connect-pg-simple's `table.sql`) when it does not exist
    /// (connect-pg-simple `createTableIfMissing`; default off). Instances starting
    /// together create it once (an advisory lock).
    pub fn create_table_if_missing(mut self, create: bool) -> Self {
        self.create_table_if_missing = create;
        self
    }
    /// Deadline for one store call, waiting for a pooled connection included (default
    /// one second). A store that connects by URL also sets the server's
    /// `statement_timeout` to it, so the server stops working on an abandoned statement.
    pub fn query_timeout(mut self, timeout: Duration) -> Self {
        self.query_timeout = timeout;
        self
    }
    /// The most connections the store's own pool opens (default: four per CPU).
    pub fn pool_size(mut self, size: usize) -> Self {
        self.pool_size = Some(size.max(1));
        self
    }
    /// How often expired rows are deleted in the background (default 15 minutes, each
    /// wait drawn between 50 and 150 % of it); `None` turns pruning off
    /// (connect-pg-simple `pruneSessionInterval: false`).
    pub fn prune_interval(mut self, interval: Option<Duration>) -> Self {
        self.prune_interval = interval.filter(|i| !i.is_zero());
        self
    }
    /// How many expired rows one pruning statement deletes (default 1,000): a large
    /// backlog is deleted in many short statements, never one that holds the table.
    pub fn prune_batch(mut self, rows: u32) -> Self {
        self.prune_batch = rows.max(1);
        self
    }
    /// Largest record accepted on save and load (default 1 MiB).
    pub fn max_record_bytes(mut self, bytes: usize) -> Self {
        self.max_record_bytes = bytes;
        self
    }
    /// TLS to the database (certificate and host name always verified).
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn tls(mut self, tls: PostgresTls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Connects to `url` (`postgres://user:password@host:port/database`, the options
    /// tokio-postgres reads; `sslmode=require` asks for TLS), checks the table (or
    /// creates it) and starts pruning.
    ///
    /// # Errors
    ///
    /// [`PostgresStoreError::Url`] for a URL that does not parse; `Connect`, `Auth` or
    /// `Timeout` if the database cannot be used; `MissingTable` or `WrongSchema` for the
    /// table; `Config` for TLS settings that cannot work.
    pub async fn connect(self, url: &str) -> Result<PostgresStore, PostgresStoreError> {
        let mut config: tokio_postgres::Config = url.parse().map_err(PostgresStoreError::Url)?;
        config.connect_timeout(self.query_timeout);
        // At least 1 ms (0 would turn the timeout off), at most what the setting holds.
        let millis = self.query_timeout.as_millis().clamp(1, i32::MAX as u128);
        let timeout = format!("-c statement_timeout={millis}");
        let options = match config.get_options() {
            Some(own) if !own.is_empty() => format!("{own} {timeout}"),
            _ => timeout,
        };
        config.options(options);
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = match self.tls_for(&config)? {
            #[cfg(feature = "tls")]
            Some(tls) => {
                config.ssl_mode(SslMode::Require);
                Manager::from_config(config, tls.connector()?, manager_config)
            }
            _ => {
                config.ssl_mode(SslMode::Disable);
                Manager::from_config(config, tokio_postgres::NoTls, manager_config)
            }
        };
        let mut pool = Pool::builder(manager)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(self.query_timeout))
            .create_timeout(Some(self.query_timeout))
            .recycle_timeout(Some(self.query_timeout));
        if let Some(size) = self.pool_size {
            pool = pool.max_size(size);
        }
        let pool = pool
            .build()
            .map_err(|e| PostgresStoreError::Config(e.to_string()))?;
        self.from_pool(pool).await
    }

    /// Uses the application's pool (its connections' settings, TLS and statement
    /// timeout are the application's), checks the table (or creates it) and starts
    /// pruning.
    ///
    /// # Errors
    ///
    /// As [`PostgresStoreBuilder::connect`], but for the URL and TLS.
    pub async fn from_pool(self, pool: Pool) -> Result<PostgresStore, PostgresStoreError> {
        let settings = Settings {
            table: self.table,
            ttl: self.ttl,
            disable_touch: self.disable_touch,
            touch_after: self.touch_after,
            query_timeout: self.query_timeout,
            prune_interval: self.prune_interval,
            prune_batch: self.prune_batch,
            max_record_bytes: self.max_record_bytes,
        };
        PostgresStore::start(pool, settings, self.create_table_if_missing).await
    }

    /// The TLS settings to use: the configured ones, or Mozilla's roots when the URL
    /// says `sslmode=require`.
    #[cfg(feature = "tls")]
    fn tls_for(
        &self,
        config: &tokio_postgres::Config,
    ) -> Result<Option<PostgresTls>, PostgresStoreError> {
        Ok(match (&self.tls, config.get_ssl_mode()) {
            (Some(tls), _) => Some(tls.clone()),
            (None, SslMode::Require) => Some(PostgresTls::new()),
            (None, _) => None,
        })
    }

    #[cfg(not(feature = "tls"))]
    fn tls_for(&self, config: &tokio_postgres::Config) -> Result<Option<()>, PostgresStoreError> {
        match config.get_ssl_mode() {
            SslMode::Require => Err(PostgresStoreError::Config(
                "sslmode=require needs the `tls` feature of session-store-postgres".into(),
            )),
            _ => Ok(None),
        }
    }
}
