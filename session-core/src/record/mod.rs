//! `Record`: a session as stored, in express-session's JSON shape.
//!
//! ```json
//! {"cookie":{"originalMaxAge":86400000,"expires":"2026-11-24T10:00:00.000Z","httpOnly":true,"path":"/"},"views":3}
//! ```
//!
//! The data keys sit at the top level beside a `cookie` object, exactly as
//! express-session's MemoryStore and connect-redis write them, so either side loads
//! what the other wrote. This project's own bookkeeping (the absolute deadline and
//! the idle timeout, when configured) lives in one extra top-level key,
//! `__sessionMeta`, which express-session keeps as ordinary data and writes back
//! unchanged.
//!
//! Here: the record and its TTL rules; `cookie.rs` holds its `cookie` object and
//! JavaScript's dates, `json.rs` the JSON codec.

pub(crate) mod cookie;
mod json;
pub(crate) mod passport;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use time::OffsetDateTime;

pub use cookie::CookieRecord;
pub(crate) use cookie::{add_ms, format_iso, parse_iso};

/// The top-level key holding this project's bookkeeping.
pub(crate) const META_KEY: &str = "__sessionMeta";
/// The top-level key holding the cookie.
pub(crate) const COOKIE_KEY: &str = "cookie";
/// The longest a store keeps a record (ten years), whatever its cookie asks for: a
/// stored `expires` or `originalMaxAge` far in the future (or hostile) cannot make a
/// store refuse the write or keep the record forever.
pub const MAX_STORE_TTL: Duration = Duration::from_secs(10 * 365 * 86_400);
/// Default limit on an encoded record (1 MiB).
pub const DEFAULT_MAX_RECORD_BYTES: usize = 1 << 20;

/// Top-level keys that express-session drops when it loads a record (its own methods
/// and `Object.prototype` members), plus `cookie` and `__sessionMeta`. They are refused as
/// data keys so that both sides always see the same data.
pub const RESERVED_KEYS: &[&str] = &[
    COOKIE_KEY,
    META_KEY,
    "id",
    "req",
    "touch",
    "resetMaxAge",
    "save",
    "reload",
    "destroy",
    "regenerate",
    "__proto__",
    "constructor",
    "toString",
    "toLocaleString",
    "valueOf",
    "hasOwnProperty",
    "isPrototypeOf",
    "propertyIsEnumerable",
    "__defineGetter__",
    "__defineSetter__",
    "__lookupGetter__",
    "__lookupSetter__",
];

/// Whether `key` may not be used as a data key.
pub(crate) fn is_reserved_key(key: &str) -> bool {
    RESERVED_KEYS.contains(&key)
}

/// Why stored bytes are not a valid record.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// Larger than the limit.
    #[error("record of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Size in bytes.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Not JSON, or not a JSON object.
    #[error("record is not a JSON object")]
    Json(#[source] serde_json::Error),
    /// A field has the wrong type or an impossible value.
    #[error("record field {0} is invalid")]
    Field(&'static str),
}

/// This project's bookkeeping, kept under `__sessionMeta` beside the data.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordMeta {
    /// The server-side absolute deadline: the session ends then whatever the cookie says.
    pub absolute_expiry: Option<OffsetDateTime>,
    /// The server-side idle timeout in milliseconds: the store forgets a session not
    /// seen for this long.
    pub idle_timeout_ms: Option<i64>,
    /// With IP pinning: a keyed hash of the client address the session belongs to
    /// (never the address itself).
    pub client_pin: Option<String>,
}

impl RecordMeta {
    fn is_empty(&self) -> bool {
        self.absolute_expiry.is_none()
            && self.idle_timeout_ms.is_none()
            && self.client_pin.is_none()
    }
}

/// A session as stored.
///
/// # Examples
///
/// ```
/// use session_core::store::Record;
///
/// let bytes = br#"{"cookie":{"originalMaxAge":null,"expires":null,"httpOnly":true,"path":"/"},"views":3}"#;
/// let record = Record::decode(bytes, 1 << 20)?;
/// assert_eq!(record.data()["views"], 3);
/// assert_eq!(record.encode(), bytes.to_vec());
/// # Ok::<(), session_core::store::RecordError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Record {
    cookie: Option<CookieRecord>,
    /// Shared, not copied: every request that loads the session from the memory store,
    /// and the write queue, hold the same decoded data; a request copies it only when
    /// it changes it (copy on write).
    data: Arc<Map<String, Value>>,
    meta: RecordMeta,
    /// Its encoded length, when known: the bytes it was decoded from, or the size
    /// measured when the session layer saved it.
    stored_len: Option<usize>,
    /// [`Record::encode`] leaves out the `cookie` key (@scayle/h3-session's data-only
    /// format); the cookie still decides the store's TTL.
    omit_cookie_key: bool,
}

impl PartialEq for Record {
    /// Records are equal when their cookie, data and bookkeeping are; where they were
    /// read from does not matter.
    fn eq(&self, other: &Self) -> bool {
        self.cookie == other.cookie && self.data == other.data && self.meta == other.meta
    }
}

impl Record {
    /// A record with this cookie and data.
    pub fn new(cookie: CookieRecord, data: Map<String, Value>, meta: RecordMeta) -> Self {
        Self::with_shared_data(cookie, Arc::new(data), meta)
    }

    /// A record whose data is shared with its holders (nothing is copied).
    pub(crate) fn with_shared_data(
        cookie: CookieRecord,
        data: Arc<Map<String, Value>>,
        meta: RecordMeta,
    ) -> Self {
        Record {
            cookie: Some(cookie),
            data,
            meta,
            stored_len: None,
            omit_cookie_key: false,
        }
    }

    /// The same record, encoded without its `cookie` key (@scayle/h3-session's
    /// data-only format). The cookie still decides the store's TTL.
    pub(crate) fn without_cookie_key(mut self) -> Self {
        self.omit_cookie_key = true;
        self.stored_len = None;
        self
    }

    /// Its encoded length when known: the length of the bytes it was decoded from, or
    /// the size the session layer measured before saving it (`None` for a record built
    /// in memory and never measured).
    pub fn stored_len(&self) -> Option<usize> {
        self.stored_len
    }

    /// Remembers a measured encoded length (the session layer does this before a save,
    /// so stores that keep records decoded need not measure them again on load).
    pub(crate) fn set_stored_len(&mut self, len: usize) {
        self.stored_len = Some(len);
    }

    /// The cookie, or `None` for a record written without one (as @scayle/h3-session
    /// writes them).
    pub fn cookie(&self) -> Option<&CookieRecord> {
        self.cookie.as_ref()
    }

    /// The data keys (everything but `cookie` and the bookkeeping).
    pub fn data(&self) -> &Map<String, Value> {
        &self.data
    }

    /// The signed-in user, for stores that keep a per-user index: the data's
    /// `passport.user` (where `Session::log_in` and passport.js put it), as text (a
    /// number as its decimal digits). `None` for an anonymous session or a user that is
    /// neither a string nor a number.
    ///
    /// ```
    /// use session_core::CookieRecord;
    /// use session_core::store::{Record, RecordMeta};
    ///
    /// let data = serde_json::json!({ "passport": { "user": 42 } });
    /// let record = Record::new(CookieRecord::default(), data.as_object().unwrap().clone(), RecordMeta::default());
    /// assert_eq!(record.user().as_deref(), Some("42"));
    /// ```
    pub fn user(&self) -> Option<std::borrow::Cow<'_, str>> {
        passport::user_of(&self.data)
    }

    /// The bookkeeping.
    pub fn meta(&self) -> &RecordMeta {
        &self.meta
    }

    /// The data, shared (cloning the `Arc` copies nothing).
    pub fn shared_data(&self) -> &Arc<Map<String, Value>> {
        &self.data
    }

    pub(crate) fn into_parts(self) -> (Option<CookieRecord>, Arc<Map<String, Value>>, RecordMeta) {
        (self.cookie, self.data, self.meta)
    }

    /// How long a store should keep this record after a write, as connect-redis
    /// computes it: the time left until `cookie.expires`, or `default` for a
    /// browser-session cookie; capped by the idle timeout, the absolute deadline and
    /// [`MAX_STORE_TTL`]. `None` means it is already expired: delete it instead of
    /// writing.
    pub fn ttl_for_write(&self, now: OffsetDateTime, default: Duration) -> Option<Duration> {
        let base = match self.cookie.as_ref().and_then(|c| c.expires) {
            Some(expires) => positive(expires - now)?,
            None => default,
        };
        self.cap(base, now)
    }

    /// How long a store should keep this record after a touch or a load that slides
    /// the expiry: the record's own `originalMaxAge` (a payload `expires` may be stale,
    /// because connect-redis's touch never rewrites it), or `default` for a
    /// browser-session cookie; capped like [`Record::ttl_for_write`].
    pub fn ttl_for_touch(&self, now: OffsetDateTime, default: Duration) -> Option<Duration> {
        let base = match self.cookie.as_ref().and_then(|c| c.original_max_age) {
            Some(ms) if ms > 0 => Duration::from_millis(ms.unsigned_abs()),
            Some(_) => return None,
            None => default,
        };
        self.cap(base, now)
    }

    /// Whether the absolute deadline has passed (the clock is read only if there is one).
    pub(crate) fn is_past_absolute_deadline(&self, now: impl FnOnce() -> OffsetDateTime) -> bool {
        self.meta.absolute_expiry.is_some_and(|d| d <= now())
    }

    /// Caps `ttl` by the idle timeout, the absolute deadline and [`MAX_STORE_TTL`].
    fn cap(&self, ttl: Duration, now: OffsetDateTime) -> Option<Duration> {
        let mut ttl = ttl.min(MAX_STORE_TTL);
        if let Some(idle) = self.meta.idle_timeout_ms {
            ttl = ttl.min(Duration::from_millis(
                u64::try_from(idle).ok().filter(|&v| v > 0)?,
            ));
        }
        if let Some(deadline) = self.meta.absolute_expiry {
            ttl = ttl.min(positive(deadline - now)?);
        }
        (!ttl.is_zero()).then_some(ttl)
    }
}

fn positive(d: time::Duration) -> Option<Duration> {
    let d: Duration = d.try_into().ok()?;
    (!d.is_zero()).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::cookie::max_date;
    use super::*;
    use time::macros::datetime;

    #[test]
    fn ttl_follows_connect_redis() {
        let now = datetime!(2026-07-30 12:00:00 UTC);
        let day = Duration::from_secs(86_400);
        let mut c = CookieRecord::default();
        let browser = Record::new(c.clone(), Map::new(), RecordMeta::default());
        assert_eq!(browser.ttl_for_write(now, day), Some(day));
        assert_eq!(browser.ttl_for_touch(now, day), Some(day));
        c.set_max_age(Some(Duration::from_secs(60)), now);
        let r = Record::new(c.clone(), Map::new(), RecordMeta::default());
        assert_eq!(r.ttl_for_write(now, day), Some(Duration::from_secs(60)));
        // A stale payload expires does not shorten the touch TTL (spec section 8).
        assert_eq!(r.ttl_for_write(now + time::Duration::hours(1), day), None);
        assert_eq!(
            r.ttl_for_touch(now + time::Duration::hours(1), day),
            Some(Duration::from_secs(60))
        );
    }

    #[test]
    fn ttl_is_capped_by_idle_and_absolute_timeouts() {
        let now = datetime!(2026-07-30 12:00:00 UTC);
        let day = Duration::from_secs(86_400);
        let meta = RecordMeta {
            absolute_expiry: Some(now + time::Duration::seconds(30)),
            idle_timeout_ms: Some(45_000),
            client_pin: None,
        };
        let r = Record::new(CookieRecord::default(), Map::new(), meta.clone());
        assert_eq!(r.ttl_for_write(now, day), Some(Duration::from_secs(30)));
        assert_eq!(
            r.ttl_for_touch(now + time::Duration::seconds(31), day),
            None
        );
        assert!(r.is_past_absolute_deadline(|| now + time::Duration::seconds(30)));
        let meta = RecordMeta {
            absolute_expiry: None,
            ..meta
        };
        let r = Record::new(CookieRecord::default(), Map::new(), meta);
        assert_eq!(r.ttl_for_touch(now, day), Some(Duration::from_secs(45)));
        let bytes = r.encode();
        assert!(
            String::from_utf8(bytes.clone())
                .unwrap()
                .contains(r#""__sessionMeta":{"idleTimeout":45000}"#)
        );
        assert_eq!(Record::decode(&bytes, DEFAULT_MAX_RECORD_BYTES).unwrap(), r);
    }

    #[test]
    fn extreme_arithmetic_saturates() {
        let now = datetime!(2026-07-30 12:00:00 UTC);
        let mut c = CookieRecord {
            original_max_age: Some(i64::MAX),
            ..CookieRecord::default()
        };
        c.reset_expiry(now);
        assert_eq!(c.expires, Some(max_date()));
        c.set_max_age(Some(Duration::MAX), now);
        assert_eq!(c.original_max_age, Some(i64::MAX));
        let record = Record::new(c, Map::new(), RecordMeta::default());
        let day = Duration::from_secs(86_400);
        assert_eq!(record.ttl_for_write(now, day), Some(MAX_STORE_TTL));
        assert_eq!(record.ttl_for_touch(now, day), Some(MAX_STORE_TTL));
    }
}
