//! `RedisStore`: the `SessionStore` on Redis, one command (or one script) per method.
//!
//! | method | Redis | connect-redis |
//! |---|---|---|
//! | `load` | `GETEX key EX ttl` (+ `EXPIRE` when the record's own TTL differs; `GET` + `EXPIRE` before Redis 6.2) | `GET`, then `EXPIRE` at the end of the request |
//! | `create` | `SET key value NX EX ttl` | `SET key value EX ttl` |
//! | `save` | `SET key value XX EX ttl`, or the compare-and-set script | `SET key value EX ttl` |
//! | `touch` | script: `EXPIRE` from the record's first 4 KiB | `EXPIRE key ttl` |
//! | `destroy` | `DEL key` | `DEL key` |
//! | `all`/`len`/`clear` | `SCAN MATCH prefix*` (every primary of a cluster), `MGET`, `DEL` | the same |

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use redis::{Script, Value};
use session_core::SessionId;
use session_core::store::{
    DEFAULT_MAX_RECORD_BYTES, DEFAULT_TTL, Loaded, Record, RecordError, SessionStore, StoreError,
    Version,
};
use sha1::{Digest, Sha1};
use time::OffsetDateTime;

use crate::connection::{Connection, Target};
use crate::error::RedisStoreError;
use crate::scripts;
use crate::slide::{Slide, ttl_secs};

/// connect-redis's default key prefix.
pub const DEFAULT_PREFIX: &str = "sess:";
/// Default deadline for one command.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_millis(500);

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
    conn: Connection,
    prefix: String,
    ttl: Duration,
    disable_touch: bool,
    disable_ttl: bool,
    max_record_bytes: usize,
    scan_count: usize,
    scripts: Scripts,
    slide: Arc<Slide>,
}

#[derive(Clone)]
struct Scripts {
    touch: Script,
    cas: Script,
}

impl std::fmt::Debug for Scripts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scripts")
    }
}

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

    /// Loads the scripts once, so that no request pays for a `NOSCRIPT` round trip.
    async fn preload_scripts(&self) -> Result<(), RedisStoreError> {
        for s in [&self.scripts.touch, &self.scripts.cas] {
            self.conn.load_script(s).await?;
        }
        Ok(())
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

    fn decode(&self, bytes: &[u8]) -> Result<Loaded, StoreError> {
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

    /// Every key of this store: `SCAN MATCH <escaped prefix>*` on each primary.
    async fn keys(&self) -> Result<Vec<String>, StoreError> {
        let pattern = format!("{}*", escape_glob(&self.prefix));
        let mut keys = Vec::new();
        for (host, port) in self.primaries().await? {
            let mut cursor: u64 = 0;
            loop {
                let mut scan = redis::cmd("SCAN");
                scan.arg(cursor)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(self.scan_count);
                let (next, batch): (u64, Vec<String>) = self.conn.cmd_on(&host, port, scan).await?;
                keys.extend(batch);
                if next == 0 {
                    break;
                }
                cursor = next;
            }
        }
        keys.sort_unstable();
        keys.dedup();
        Ok(keys)
    }

    /// The primaries to scan: one placeholder for a single node, or every primary of
    /// the cluster from `CLUSTER SLOTS`.
    async fn primaries(&self) -> Result<Vec<(String, u16)>, StoreError> {
        if !self.conn.is_cluster() {
            return Ok(vec![(String::new(), 0)]);
        }
        let slots: Vec<Value> = self
            .conn
            .cmd(&redis::cmd("CLUSTER").arg("SLOTS").to_owned())
            .await?;
        let mut nodes = Vec::new();
        for range in slots {
            let Value::Array(parts) = range else { continue };
            if let Some(Value::Array(primary)) = parts.get(2) {
                let host = primary
                    .first()
                    .and_then(|v| redis::from_redis_value::<String>(v.clone()).ok());
                let port = primary
                    .get(1)
                    .and_then(|v| redis::from_redis_value::<u16>(v.clone()).ok());
                if let (Some(h), Some(p)) = (host, port) {
                    nodes.push((h, p));
                }
            }
        }
        nodes.sort();
        nodes.dedup();
        Ok(nodes)
    }
}

/// The version of a stored value: its SHA-1 in lowercase hex, as Redis's
/// `redis.sha1hex` computes it inside the compare-and-set script.
fn digest(bytes: &[u8]) -> Version {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let hash = Sha1::digest(bytes);
    let mut hex = Vec::with_capacity(2 * hash.len());
    for b in hash {
        hex.push(HEX[usize::from(b >> 4)]);
        hex.push(HEX[usize::from(b & 0x0f)]);
    }
    Version::from_bytes(hex)
}

/// Escapes Redis glob characters so the prefix matches literally.
fn escape_glob(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\' | '^' | '-') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn id_of(prefix: &str, key: &str) -> Option<SessionId> {
    key.strip_prefix(prefix).and_then(SessionId::parse)
}

#[async_trait]
impl SessionStore for RedisStore {
    async fn load(&self, id: &SessionId) -> Result<Option<Loaded>, StoreError> {
        let key = self.key(id);
        if !(self.disable_touch || self.disable_ttl) {
            return self
                .slide
                .load(&self.conn, &key, self.ttl, |bytes| self.decode(bytes))
                .await;
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
        let found: i64 = self.conn.script(&inv).await?;
        if found == 1 {
            Ok(())
        } else {
            Err(StoreError::NotFound)
        }
    }

    async fn destroy(&self, id: &SessionId) -> Result<(), StoreError> {
        let _: i64 = self.conn.cmd(redis::cmd("DEL").arg(self.key(id))).await?;
        Ok(())
    }

    async fn all(&self) -> Result<Vec<(SessionId, Record)>, StoreError> {
        let mut out = Vec::new();
        for key in self.keys().await? {
            // One GET per key: keys of a cluster live in different slots.
            let Some(bytes): Option<Vec<u8>> = self.conn.cmd(redis::cmd("GET").arg(&key)).await?
            else {
                continue; // expired or deleted since the scan
            };
            let (Some(id), Ok(loaded)) = (id_of(&self.prefix, &key), self.decode(&bytes)) else {
                tracing::warn!("skipping an unreadable session record while listing");
                continue;
            };
            out.push((id, loaded.record));
        }
        Ok(out)
    }

    async fn len(&self) -> Result<usize, StoreError> {
        Ok(self.keys().await?.len())
    }

    async fn clear(&self) -> Result<(), StoreError> {
        for key in self.keys().await? {
            let _: i64 = self.conn.cmd(redis::cmd("DEL").arg(&key)).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_characters_in_the_prefix_are_escaped() {
        assert_eq!(escape_glob("sess:"), "sess:");
        assert_eq!(escape_glob("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
    }

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
    fn ttl_rounds_up_to_whole_seconds() {
        let s = RedisStore::builder().lazy("redis://127.0.0.1:1/");
        assert_eq!(s.ttl_secs(Duration::from_millis(1)), 1);
        assert_eq!(s.ttl_secs(Duration::from_millis(1001)), 2);
        assert_eq!(s.ttl_secs(Duration::from_secs(86_400)), 86_400);
    }
}
