//! `PostgresStore`: the `SessionStore` on connect-pg-simple's table, one statement per
//! method (the statements are in `sql.rs`).
//!
//! | method | here | connect-pg-simple |
//! |---|---|---|
//! | `load` | `SELECT` of a live row that also slides its expiry when due (one statement) | `SELECT`, then an `UPDATE` (touch) at the end of the request |
//! | `create` | `INSERT … ON CONFLICT (sid) DO UPDATE … WHERE` the old row has expired | `INSERT … ON CONFLICT DO UPDATE` (an upsert) |
//! | `save` | `UPDATE` of a live row, compared with the SHA-256 of the loaded text when conditional | the same upsert |
//! | `touch` | `UPDATE expire`, computed from the stored record | `UPDATE expire` |
//! | `destroy` | `DELETE` | `DELETE` |
//! | `sessions_of` | `SELECT sid` of the live rows whose `sess->'passport'->>'user'` is the user (index `IDX_session_user`, created with the table) | — |
//!
//! The version of a row is the SHA-256 of its `sess` text, not `xmin`: a touch rewrites
//! the row (a new `xmin`) without changing the data, and must not make a concurrent
//! save conflict.

use std::sync::{Arc, Weak};
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::Pool;
use session_core::SessionId;
use session_core::store::{
    Loaded, MAX_STORE_TTL, Record, RecordError, SessionStore, StoreError, Version,
};
use time::OffsetDateTime;
use tokio_postgres::Row;

use crate::builder::PostgresStoreBuilder;
use crate::checkout::Param;
use crate::error::PostgresStoreError;
use crate::prune::{self, Pruner};
use crate::schema;
use crate::sql::{Statements, TableName};
use crate::values::{digest, expire_at, lock_key, unix_seconds, whole_seconds};

/// A session store on PostgreSQL that shares connect-pg-simple's table with express:
/// `sid`, `sess` (express-session's JSON, kept byte for byte), `expire` (from the
/// cookie's expiry, or one day for a browser-session cookie).
///
/// Clones share one pool. Dropping the last clone stops the pruning task.
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use session_store_postgres::PostgresStore;
///
/// # async fn run() -> Result<(), session_store_postgres::PostgresStoreError> {
/// let store = PostgresStore::builder()
///     .create_table_if_missing(true)
///     .touch_after(Duration::from_secs(60))
///     .connect("postgres://app@127.0.0.1/app")
///     .await?;
/// # let _ = store; Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct PostgresStore {
    pub(crate) inner: Arc<Inner>,
}

/// The options the store runs with.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) table: TableName,
    pub(crate) ttl: Duration,
    pub(crate) disable_touch: bool,
    pub(crate) touch_after: Duration,
    pub(crate) query_timeout: Duration,
    pub(crate) prune_interval: Option<Duration>,
    pub(crate) prune_batch: u32,
    pub(crate) max_record_bytes: usize,
}

/// What the clones share.
#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) pool: Pool,
    pub(crate) sql: Statements,
    pub(crate) settings: Settings,
    /// The advisory lock key of pruning this table.
    pub(crate) prune_lock: i64,
    _pruner: Option<Pruner>,
}

impl PostgresStore {
    /// Starts configuring a store.
    pub fn builder() -> PostgresStoreBuilder {
        PostgresStoreBuilder::default()
    }

    /// Connects to `url` with connect-pg-simple's defaults (table `session`, which must
    /// exist).
    ///
    /// # Errors
    ///
    /// As [`PostgresStoreBuilder::connect`].
    pub async fn connect(url: &str) -> Result<Self, PostgresStoreError> {
        Self::builder().connect(url).await
    }

    /// Deletes the expired rows now, as the background task does: `Some(rows deleted)`,
    /// or `None` if another instance is pruning this table at the moment.
    ///
    /// # Errors
    ///
    /// When the database fails or a statement passes its deadline.
    pub async fn prune(&self) -> Result<Option<u64>, PostgresStoreError> {
        prune::prune(&self.inner).await
    }

    /// Creates the index that makes `sessions_of` ("sign out everywhere") a lookup
    /// instead of a scan of the table, if it is missing: `CREATE INDEX IF NOT EXISTS
    /// "IDX_session_user" ON "session" ((sess->'passport'->>'user'))`. A table this store
    /// creates has it; one connect-pg-simple created does not (and connect-pg-simple
    /// ignores it). The build blocks writes to the table while it runs, and must finish
    /// within the store's query deadline (a cancelled build leaves nothing behind). On a
    /// large table in use, run it yourself instead, without a deadline:
    /// `CREATE INDEX CONCURRENTLY IF NOT EXISTS "IDX_session_user" ON "session"
    /// ((sess->'passport'->>'user'))` (and drop it first if an earlier concurrent build
    /// was cancelled: it stays behind, invalid).
    ///
    /// # Errors
    ///
    /// When the database fails (the role may not create indexes).
    pub async fn create_user_index(&self) -> Result<(), PostgresStoreError> {
        let sql = crate::sql::user_index(&self.inner.settings.table);
        self.execute(&sql, &[]).await?;
        Ok(())
    }

    /// The table, as written in SQL (`"session"`, `"schema"."table"`).
    pub fn table(&self) -> String {
        self.inner.settings.table.qualified()
    }

    pub(crate) async fn start(
        pool: Pool,
        settings: Settings,
        create_table: bool,
    ) -> Result<Self, PostgresStoreError> {
        let name = settings.table.qualified();
        let deadline = settings.query_timeout;
        let ready = async {
            let mut client = pool
                .get()
                .await
                .map_err(|e| PostgresStoreError::from_pool(e, deadline))?;
            let lock = lock_key("create", &name);
            schema::ensure(&mut client, &settings.table, create_table, lock).await
        };
        // Creating a table may wait for another instance creating it: a longer deadline.
        let start_deadline = deadline.max(Duration::from_secs(10));
        tokio::time::timeout(start_deadline, ready)
            .await
            .map_err(|_| PostgresStoreError::Timeout(start_deadline))??;
        let inner = Arc::new_cyclic(|weak: &Weak<Inner>| Inner {
            pool,
            sql: Statements::new(&settings.table),
            prune_lock: lock_key("prune", &name),
            _pruner: settings
                .prune_interval
                .map(|every| Pruner::start(weak.clone(), every)),
            settings,
        });
        Ok(PostgresStore { inner })
    }

    /// The encoded record as text, checked against the size limit.
    fn encode(&self, record: &Record) -> Result<String, StoreError> {
        let limit = self.inner.settings.max_record_bytes;
        let bytes = record.encode();
        if bytes.len() > limit {
            let too_large = RecordError::TooLarge {
                size: bytes.len(),
                limit,
            };
            return Err(PostgresStoreError::Record(too_large).into());
        }
        // JSON from the record's encoder is always UTF-8; were it not, nothing is written.
        String::from_utf8(bytes)
            .map_err(|_| PostgresStoreError::Record(RecordError::Field("json text")).into())
    }

    fn decode(&self, text: &str) -> Result<Loaded, StoreError> {
        let limit = self.inner.settings.max_record_bytes;
        let record = Record::decode(text.as_bytes(), limit).map_err(StoreError::Corrupt)?;
        Ok(Loaded::new(record, digest(text.as_bytes())))
    }

    /// The parameters of a touch: touch-after, default TTL and ceiling, in seconds.
    fn touch_params(&self) -> (f64, i64, i64) {
        let s = &self.inner.settings;
        (
            s.touch_after.as_secs_f64(),
            whole_seconds(s.ttl),
            whole_seconds(MAX_STORE_TTL),
        )
    }
}

#[async_trait]
impl SessionStore for PostgresStore {
    async fn load(&self, id: &SessionId) -> Result<Option<Loaded>, StoreError> {
        let sql = &self.inner.sql;
        self.within(async {
            let now = OffsetDateTime::now_utc();
            let secs = unix_seconds(now);
            if self.inner.settings.disable_touch {
                let row = self.query_opt(&sql.load, &[&id.expose(), &secs]).await?;
                return row.map(|row| self.decode(text(&row)?)).transpose();
            }
            let (after, default, max) = self.touch_params();
            let params: [Param<'_>; 5] = [&id.expose(), &secs, &after, &default, &max];
            let Some(row) = self.query_opt(&sql.load_and_slide, &params).await? else {
                return Ok(None);
            };
            let loaded = self.decode(text(&row)?)?;
            let slid_to: f64 = row.try_get(1).map_err(PostgresStoreError::from)?;
            match loaded.record.ttl_for_touch(now, self.inner.settings.ttl) {
                None => {
                    // Its own rules say it has ended (a non-positive maxAge, the
                    // deadline): delete it, unless a save made it something else.
                    let version = loaded.version.as_bytes();
                    let params: [Param<'_>; 3] = [&id.expose(), &version, &secs];
                    self.execute(&sql.delete_if, &params).await?;
                    return Ok(None);
                }
                // The absolute deadline, which the server does not read, ends it
                // sooner than the slide said: bring `expire` forward.
                Some(ttl) if (whole_seconds(ttl) as f64) < slid_to => {
                    let params: [Param<'_>; 2] = [&id.expose(), &expire_at(now, ttl)];
                    self.execute(&sql.cap, &params).await?;
                }
                Some(_) => {}
            }
            Ok(Some(Loaded::touched(loaded.record, loaded.version)))
        })
        .await
    }

    async fn create(&self, id: &SessionId, record: &Record) -> Result<Version, StoreError> {
        let text = self.encode(record)?;
        let version = digest(text.as_bytes());
        let now = OffsetDateTime::now_utc();
        let Some(ttl) = record.ttl_for_write(now, self.inner.settings.ttl) else {
            return Ok(version); // already expired: nothing to keep
        };
        self.within(async {
            let params: [Param<'_>; 4] = [
                &text,
                &expire_at(now, ttl),
                &id.expose(),
                &unix_seconds(now),
            ];
            match self.query_opt(&self.inner.sql.create, &params).await? {
                Some(_) => Ok(version),
                None => Err(StoreError::IdTaken),
            }
        })
        .await
    }

    async fn save(
        &self,
        id: &SessionId,
        record: &Record,
        expected: Option<&Version>,
    ) -> Result<Option<Version>, StoreError> {
        let text = self.encode(record)?;
        let now = OffsetDateTime::now_utc();
        let secs = unix_seconds(now);
        let ttl = record.ttl_for_write(now, self.inner.settings.ttl);
        let sql = &self.inner.sql;
        let sid = id.expose();
        self.within(async {
            let (changed, written) = match (ttl, expected) {
                (Some(ttl), None) => {
                    let params: [Param<'_>; 4] = [&text, &expire_at(now, ttl), &sid, &secs];
                    return match self.execute(&sql.save, &params).await? {
                        1 => Ok(Some(digest(text.as_bytes()))),
                        _ => Err(StoreError::NotFound),
                    };
                }
                (None, None) => {
                    self.execute(&sql.delete, &[&sid]).await?;
                    return Ok(None);
                }
                (Some(ttl), Some(version)) => {
                    let expire = expire_at(now, ttl);
                    let version = version.as_bytes();
                    let params: [Param<'_>; 5] = [&text, &expire, &sid, &secs, &version];
                    let changed = self.execute(&sql.save_if, &params).await?;
                    (changed, Some(digest(text.as_bytes())))
                }
                (None, Some(version)) => {
                    let params: [Param<'_>; 3] = [&sid, &version.as_bytes(), &secs];
                    (self.execute(&sql.delete_if, &params).await?, None)
                }
            };
            if changed == 1 {
                return Ok(written);
            }
            // The condition failed: gone, or changed by another request.
            match self.query_opt(&sql.exists, &[&sid, &secs]).await? {
                Some(_) => Err(StoreError::Conflict),
                None => Err(StoreError::NotFound),
            }
        })
        .await
    }

    async fn touch(&self, id: &SessionId) -> Result<(), StoreError> {
        if self.inner.settings.disable_touch {
            return Ok(());
        }
        self.within(async {
            let secs = unix_seconds(OffsetDateTime::now_utc());
            let (after, default, max) = self.touch_params();
            let params: [Param<'_>; 5] = [&id.expose(), &secs, &after, &default, &max];
            let row = self.query_opt(&self.inner.sql.touch, &params).await?;
            let live: i64 = match row {
                Some(row) => row.try_get(0).map_err(PostgresStoreError::from)?,
                None => 0,
            };
            if live == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
    }

    async fn destroy(&self, id: &SessionId) -> Result<(), StoreError> {
        self.within(async {
            self.execute(&self.inner.sql.delete, &[&id.expose()])
                .await?;
            Ok(())
        })
        .await
    }

    async fn exists(&self, id: &SessionId) -> Result<bool, StoreError> {
        self.within(async {
            let secs = unix_seconds(OffsetDateTime::now_utc());
            let row = self
                .query_opt(&self.inner.sql.exists, &[&id.expose(), &secs])
                .await?;
            Ok(row.is_some())
        })
        .await
    }

    async fn sessions_of(&self, user: &str) -> Result<Vec<SessionId>, StoreError> {
        self.within(async {
            let secs = unix_seconds(OffsetDateTime::now_utc());
            let rows = self
                .query(&self.inner.sql.sessions_of, &[&user, &secs])
                .await?;
            Ok(rows
                .iter()
                .filter_map(|row| SessionId::parse(row.try_get::<_, &str>(0).ok()?))
                .collect())
        })
        .await
    }

    async fn all(&self) -> Result<Vec<(SessionId, Record)>, StoreError> {
        self.within(async {
            let secs = unix_seconds(OffsetDateTime::now_utc());
            let rows = self.query(&self.inner.sql.all, &[&secs]).await?;
            let mut sessions = Vec::with_capacity(rows.len());
            for row in rows {
                let (Ok(sid), Ok(text)) = (row.try_get::<_, &str>(0), row.try_get::<_, &str>(1))
                else {
                    continue;
                };
                let (Some(id), Ok(loaded)) = (SessionId::parse(sid), self.decode(text)) else {
                    tracing::warn!("skipping an unreadable session row while listing");
                    continue;
                };
                sessions.push((id, loaded.record));
            }
            Ok(sessions)
        })
        .await
    }

    async fn len(&self) -> Result<usize, StoreError> {
        self.within(async {
            let secs = unix_seconds(OffsetDateTime::now_utc());
            let row = self.query_opt(&self.inner.sql.len, &[&secs]).await?;
            let count: i64 = match row {
                Some(row) => row.try_get(0).map_err(PostgresStoreError::from)?,
                None => 0,
            };
            Ok(usize::try_from(count).unwrap_or(usize::MAX))
        })
        .await
    }

    async fn clear(&self) -> Result<(), StoreError> {
        self.within(async {
            self.execute(&self.inner.sql.clear, &[]).await?;
            Ok(())
        })
        .await
    }
}

/// The `sess` text of a row (its first column).
fn text(row: &Row) -> Result<&str, PostgresStoreError> {
    Ok(row.try_get(0)?)
}
