//! `RedisStore`: the `SessionStore` on Redis, one command (or one script) per method.
//!
//! | method | Redis | connect-redis |
//! |---|---|---|
//! | `load` | `GETEX key EX ttl` (+ `EXPIRE` when the record's own TTL differs; `GET` + `EXPIRE` before Redis 6.2) | `GET`, then `EXPIRE` at the end of the request |
//! | `create` | `SET key value NX EX ttl` | `SET key value EX ttl` |
//! | `save` | `SET key value XX EX ttl`, or the compare-and-set script | `SET key value EX ttl` |
//! | `touch` | script: `EXPIRE` from the record's first 4 KiB | `EXPIRE key ttl` |
//! | `destroy` | `GETDEL key` (+ `ZREM` from its user's set, `users.rs`) | `DEL key` |
//! | `sessions_of` | `ZRANGE users:<prefix><user>`, `GET` of each (`users.rs`) | — |
//! | `all`/`len`/`clear` | `SCAN MATCH prefix*` (every primary of a cluster), `GET`, `DEL` (`admin.rs`) | the same |
//!
//! The builder is in `builder.rs`.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use redis::Script;
use session_core::SessionId;
use session_core::store::{Loaded, Record, RecordError, SessionStore, StoreError, Version};
use sha1::{Digest, Sha1};
use time::OffsetDateTime;

use crate::builder::RedisStoreBuilder;
use crate::connection::Connection;
use crate::error::RedisStoreError;
use crate::slide::{Slide, ttl_secs};

/// A session store on Redis or Redis Cluster, byte-compatible with connect-redis: key
/// `sess:<id>`, value express-session's JSON, TTL in seconds from `cookie.expires`
/// (one day for a browser-session cookie), touch by `EXPIRE` without rewriting.
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use session_store_redis::RedisStore;
///
/// # async fn run() -> Result<(), session_store_redis::RedisStoreError> {
/// let store = RedisStore::builder()
///     .prefix("sess:")
///     .command_timeout(Duration::from_millis(300))
///     .connect("redis://127.0.0.1:6379/")
///     .await?;
/// # let _ = store; Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct RedisStore {
    pub(crate) conn: Connection,
    pub(crate) prefix: String,
    pub(crate) ttl: Duration,
    pub(crate) disable_touch: bool,
    pub(crate) disable_ttl: bool,
    pub(crate) max_record_bytes: usize,
    pub(crate) scan_count: usize,
    pub(crate) scripts: Scripts,
    pub(crate) slide: Arc<Slide>,
    pub(crate) users: Arc<crate::users::UserIndex>,
    /// Whether signed-in users' sessions are indexed (`sessions_of`).
    pub(crate) user_index: bool,
}

#[derive(Clone)]
pub(crate) struct Scripts {
    pub(crate) touch: Script,
    pub(crate) cas: Script,
}

impl std::fmt::Debug for Scripts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scripts")
    }
}

impl RedisStore {
    /// Starts configuring a store.
    pub fn builder() -> RedisStoreBuilder {
        RedisStoreBuilder::default()
    }

    /// Connects to `url` with connect-redis's defaults.
    ///
    /// # Errors
    ///
    /// As [`RedisStoreBuilder::connect`].
    pub async fn connect(url: &str) -> Result<Self, RedisStoreError> {
        Self::builder().connect(url).await
    }

    /// The key of a session: prefix + id.
    pub fn key(&self, id: &SessionId) -> String {
        let id = id.expose();
        let mut key = String::with_capacity(self.prefix.len() + id.len());
        key.push_str(&self.prefix);
        key.push_str(id);
        key
    }

    /// Connects now: checks that Redis answers, loads the scripts on a single node (so
    /// no request pays for a `NOSCRIPT` round trip) and asks whether it knows `GETEX`.
    pub(crate) async fn ready(self) -> Result<Self, RedisStoreError> {
        self.conn.ping().await?;
        if !self.conn.is_cluster() {
            for s in [&self.scripts.touch, &self.scripts.cas, self.users.script()] {
                self.conn.load_script(s).await?;
            }
        }
        self.slide.probe(&self.conn).await?;
        Ok(self)
    }

    fn ttl_secs(&self, ttl: Duration) -> u64 {
        ttl_secs(ttl)
    }

    /// The encoded record, checked against the size limit.
    fn encode(&self, record: &Record) -> Result<Vec<u8>, StoreError> {
        let bytes = record.encode();
        if bytes.len() > self.max_record_bytes {
            return Err(RedisStoreError::Record(RecordError::TooLarge {
                size: bytes.len(),
                limit: self.max_record_bytes,
            })
            .into());
        }
        Ok(bytes)
    }

    pub(crate) fn decode(&self, bytes: &[u8]) -> Result<Loaded, StoreError> {
        let record = Record::decode(bytes, self.max_record_bytes).map_err(StoreError::Corrupt)?;
        Ok(Loaded::new(record, digest(bytes)))
    }

    /// The TTL argument for a write: seconds, `0` for none (disableTTL), or `None` when
    /// the record has already expired (delete instead). Also takes the TTL this record
    /// will ask for when loaded as the next `GETEX`'s, so that a read right after the
    /// first write of an application's sessions needs no correcting `EXPIRE`.
    fn write_ttl(&self, record: &Record) -> Option<u64> {
        let now = OffsetDateTime::now_utc();
        self.slide.learn(record, now, self.ttl);
        let ttl = record.ttl_for_write(now, self.ttl)?;
        Some(if self.disable_ttl {
            0
        } else {
            self.ttl_secs(ttl)
        })
    }
}

/// The version of a stored value: its SHA-1 in lowercase hex, as Redis's
/// `redis.sha1hex` computes it inside the compare-and-set script.
fn digest(bytes: &[u8]) -> Version {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let hash = Sha1::digest(bytes);
    let mut hex = [0u8; 40];
    for (pair, b) in hex.chunks_exact_mut(2).zip(hash) {
        pair[0] = HEX[usize::from(b >> 4)];
        pair[1] = HEX[usize::from(b & 0x0f)];
    }
    Version::from_bytes(hex)
}

#[async_trait]
impl SessionStore for RedisStore {
    async fn load(&self, id: &SessionId) -> Result<Option<Loaded>, StoreError> {
        let key = self.key(id);
        if !(self.disable_touch || self.disable_ttl) {
            let loaded = self
                .slide
                .load(&self.conn, &key, self.ttl, |bytes| self.decode(bytes))
                .await?;
            if let Some(loaded) = &loaded
                && let Some(user) = loaded.record.user()
            {
                // The slide extended the session to the record's own TTL: its user's
                // set must live as long. (If correcting the slide failed, the load is
                // not marked touched and the end-of-request touch extends both.)
                let now = OffsetDateTime::now_utc();
                if let Some(ttl) = loaded.record.ttl_for_touch(now, self.ttl) {
                    self.index(id, &user, self.ttl_secs(ttl), false).await?;
                }
            }
            return Ok(loaded);
        }
        let reply: Option<Vec<u8>> = self.conn.cmd(redis::cmd("GET").arg(&key)).await?;
        reply.map(|bytes| self.decode(&bytes)).transpose()
    }

    async fn create(&self, id: &SessionId, record: &Record) -> Result<Version, StoreError> {
        let bytes = self.encode(record)?;
        let version = digest(&bytes);
        let Some(ttl) = self.write_ttl(record) else {
            return Ok(version); // already expired: nothing to keep (connect-redis deletes)
        };
        if let Some(user) = record.user() {
            self.index(id, &user, ttl, true).await?;
        }
        let mut set = redis::cmd("SET");
        set.arg(self.key(id)).arg(&bytes).arg("NX");
        if ttl > 0 {
            set.arg("EX").arg(ttl);
        }
        let reply: Option<String> = self.conn.cmd(&set).await?;
        match reply {
            Some(_) => Ok(version),
            None => Err(StoreError::IdTaken),
        }
    }

    async fn save(
        &self,
        id: &SessionId,
        record: &Record,
        expected: Option<&Version>,
    ) -> Result<Option<Version>, StoreError> {
        let bytes = self.encode(record)?;
        let ttl = self.write_ttl(record);
        let key = self.key(id);
        if let (Some(ttl), Some(user)) = (ttl, record.user()) {
            // Loaded (and indexed) in this request, so known here unless the user
            // changed; a load that does not slide does not index: always then.
            let always = self.disable_touch || self.disable_ttl;
            self.index(id, &user, ttl, always).await?;
        }
        if let Some(expected) = expected {
            let mut inv = self.scripts.cas.key(key);
            let ttl_arg = ttl.map_or(-1, |t| i64::try_from(t).unwrap_or(i64::MAX));
            inv.arg(expected.as_bytes()).arg(&bytes).arg(ttl_arg);
            let reply: i64 = self.conn.script(&inv).await?;
            return match reply {
                1 => Ok(Some(digest(&bytes))),
                2 => Ok(None),
                0 => Err(StoreError::NotFound),
                -1 => Err(StoreError::Conflict),
                _ => Err(RedisStoreError::UnexpectedReply.into()),
            };
        }
        let Some(ttl) = ttl else {
            let _: i64 = self.conn.cmd(redis::cmd("DEL").arg(&key)).await?;
            return Ok(None);
        };
        let mut set = redis::cmd("SET");
        set.arg(&key).arg(&bytes).arg("XX");
        if ttl > 0 {
            set.arg("EX").arg(ttl);
        }
        let reply: Option<String> = self.conn.cmd(&set).await?;
        match reply {
            Some(_) => Ok(Some(digest(&bytes))),
            None => Err(StoreError::NotFound),
        }
    }

    async fn touch(&self, id: &SessionId) -> Result<(), StoreError> {
        if self.disable_touch || self.disable_ttl {
            return Ok(());
        }
        let mut inv = self.scripts.touch.key(self.key(id));
        inv.arg(self.ttl_secs(self.ttl)).arg(self.max_record_bytes);
        let reply: redis::Value = self.conn.script(&inv).await?;
        match reply {
            redis::Value::Int(0) => Err(StoreError::NotFound),
            redis::Value::Int(_) => Ok(()),
            // A signed-in user's session: their set must live as long as it now does.
            redis::Value::BulkString(bytes) => match crate::users::touched_user(&bytes) {
                Some((ttl, user)) => self.index(id, &user, ttl, false).await,
                None => Ok(()), // bookkeeping this store did not write
            },
            _ => Err(RedisStoreError::UnexpectedReply.into()),
        }
    }

    async fn destroy(&self, id: &SessionId) -> Result<(), StoreError> {
        let Some(bytes) = self.take(&self.key(id)).await? else {
            return Ok(());
        };
        match self.decode(&bytes) {
            Ok(loaded) => self.unindex(id, &loaded.record).await,
            Err(_) => Ok(()), // an unreadable record names no user
        }
    }

    async fn exists(&self, id: &SessionId) -> Result<bool, StoreError> {
        let n: i64 = self
            .conn
            .cmd(redis::cmd("EXISTS").arg(self.key(id)))
            .await?;
        Ok(n == 1)
    }

    async fn sessions_of(&self, user: &str) -> Result<Vec<SessionId>, StoreError> {
        self.members(user).await
    }

    async fn all(&self) -> Result<Vec<(SessionId, Record)>, StoreError> {
        self.scan_records().await
    }

    async fn len(&self) -> Result<usize, StoreError> {
        let keys = self.scan_keys().await?;
        Ok(keys
            .iter()
            .filter(|k| crate::admin::id_of(&self.prefix, k).is_some())
            .count())
    }

    async fn clear(&self) -> Result<(), StoreError> {
        self.delete_all().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_sha1_hex_like_redis_sha1hex() {
        assert_eq!(
            digest(b"").as_bytes(),
            b"da39a3ee5e6b4b0d3255bfef95601890afd80709"
        );
        assert_eq!(
            digest(b"abc").as_bytes(),
            b"a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }

    #[test]
    fn a_lazy_store_outside_a_runtime_is_an_error_not_a_panic() {
        assert!(RedisStore::builder().lazy("redis://127.0.0.1:1/").is_ok());
        let err = RedisStore::builder()
            .lazy_cluster(["redis://127.0.0.1:1/"])
            .unwrap_err();
        assert!(matches!(err, RedisStoreError::NoRuntime), "{err:?}");
    }

    #[test]
    fn ttl_rounds_up_to_whole_seconds() {
        let s = RedisStore::builder().lazy("redis://127.0.0.1:1/").unwrap();
        assert_eq!(s.ttl_secs(Duration::from_millis(1)), 1);
        assert_eq!(s.ttl_secs(Duration::from_millis(1001)), 2);
        assert_eq!(s.ttl_secs(Duration::from_secs(86_400)), 86_400);
    }
}
