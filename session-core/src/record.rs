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

use std::io;
use std::sync::Arc;
use std::time::Duration;

use serde::ser::{SerializeMap, Serializer};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::priority::Priority;
use crate::same_site::SameSite;

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

/// The `cookie` object of a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CookieRecord {
    /// The cookie's lifetime in milliseconds as configured (express `originalMaxAge`);
    /// `None` for a browser-session cookie.
    pub original_max_age: Option<i64>,
    /// When the cookie expires; `None` for a browser-session cookie.
    pub expires: Option<OffsetDateTime>,
    /// `HttpOnly`.
    pub http_only: bool,
    /// `Path`.
    pub path: String,
    /// `Secure`, when set (absent from express's JSON by default).
    pub secure: Option<bool>,
    /// `Domain`, when set.
    pub domain: Option<String>,
    /// `SameSite`, when set.
    pub same_site: Option<SameSite>,
    /// `Partitioned`, when set.
    pub partitioned: Option<bool>,
    /// `Priority`, when set.
    pub priority: Option<Priority>,
}

impl Default for CookieRecord {
    fn default() -> Self {
        CookieRecord {
            original_max_age: None,
            expires: None,
            http_only: true,
            path: "/".to_owned(),
            secure: None,
            domain: None,
            same_site: None,
            partitioned: None,
            priority: None,
        }
    }
}

impl CookieRecord {
    /// express's `touch()`: `expires = now + originalMaxAge` (nothing for a
    /// browser-session cookie). Saturates instead of overflowing.
    pub fn reset_expiry(&mut self, now: OffsetDateTime) {
        if let Some(ms) = self.original_max_age {
            self.expires = Some(add_ms(now, ms));
        }
    }

    /// Sets the lifetime (express `cookie.maxAge = ms`): `expires = now + ms` and
    /// `originalMaxAge = ms`; `None` makes a browser-session cookie.
    pub fn set_max_age(&mut self, max_age: Option<Duration>, now: OffsetDateTime) {
        match max_age {
            Some(d) => {
                let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
                self.original_max_age = Some(ms);
                self.expires = Some(add_ms(now, ms));
            }
            None => {
                self.original_max_age = None;
                self.expires = None;
            }
        }
    }

    /// Sets an absolute expiry (express `cookie.expires = date`): `originalMaxAge`
    /// becomes the time remaining, as express computes it.
    pub(crate) fn set_expires(&mut self, expires: Option<OffsetDateTime>, now: OffsetDateTime) {
        self.expires = expires;
        self.original_max_age = expires.map(|e| {
            (e - now)
                .whole_milliseconds()
                .clamp(i64::MIN.into(), i64::MAX.into()) as i64
        });
    }
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

    /// Whether the absolute deadline has passed.
    pub(crate) fn is_past_absolute_deadline(&self, now: OffsetDateTime) -> bool {
        self.meta.absolute_expiry.is_some_and(|d| d <= now)
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

    /// The record as express-session's JSON.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128 + 32 * self.data.len());
        // Writing JSON into a Vec cannot fail for these types.
        let _ = self.write_json(&mut out);
        out
    }

    /// The length of [`Record::encode`]'s output, computed without allocating.
    pub fn encoded_len(&self) -> usize {
        let mut counter = Counter(0);
        let _ = self.write_json(&mut counter);
        counter.0
    }

    fn write_json<W: io::Write>(&self, w: W) -> serde_json::Result<()> {
        let mut ser = serde_json::Serializer::new(w);
        let cookie = self.cookie.as_ref().filter(|_| !self.omit_cookie_key);
        let extra = usize::from(cookie.is_some()) + usize::from(!self.meta.is_empty());
        let mut map = ser.serialize_map(Some(self.data.len() + extra))?;
        // Layout: `cookie`, then the bookkeeping, then the data. A store can then read
        // everything a TTL depends on from the first bytes of a record, whatever its
        // size (the Redis store's touch does). express-session writes `cookie` first
        // and keeps the other keys in order, so the layout survives its round trips.
        if let Some(cookie) = cookie {
            map.serialize_entry(COOKIE_KEY, &CookieJson(cookie))?;
        }
        if !self.meta.is_empty() {
            map.serialize_entry(META_KEY, &MetaJson(&self.meta))?;
        }
        for (k, v) in self.data.iter() {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }

    /// Parses stored bytes, refusing more than `limit` bytes, a non-object, a `cookie`
    /// or bookkeeping field of the wrong type, and impossible dates. A missing `cookie`
    /// is allowed here (see [`Record::cookie`]); the session layer decides whether to
    /// accept it.
    ///
    /// # Errors
    ///
    /// [`RecordError`] saying what is wrong.
    pub fn decode(bytes: &[u8], limit: usize) -> Result<Self, RecordError> {
        if bytes.len() > limit {
            return Err(RecordError::TooLarge {
                size: bytes.len(),
                limit,
            });
        }
        let mut data: Map<String, Value> =
            serde_json::from_slice(bytes).map_err(RecordError::Json)?;
        let cookie = match data.shift_remove(COOKIE_KEY) {
            None | Some(Value::Null) => None,
            Some(Value::Object(c)) => Some(parse_cookie(&c)?),
            Some(_) => return Err(RecordError::Field("cookie")),
        };
        let meta = match data.shift_remove(META_KEY) {
            None | Some(Value::Null) => RecordMeta::default(),
            Some(Value::Object(m)) => parse_meta(&m)?,
            Some(_) => return Err(RecordError::Field(META_KEY)),
        };
        data.retain(|k, _| !is_reserved_key(k));
        Ok(Record {
            cookie,
            data: Arc::new(data),
            meta,
            stored_len: Some(bytes.len()),
            omit_cookie_key: false,
        })
    }
}

fn positive(d: time::Duration) -> Option<Duration> {
    let d: Duration = d.try_into().ok()?;
    (!d.is_zero()).then_some(d)
}

/// `now + ms`, saturating at the representable range.
pub(crate) fn add_ms(now: OffsetDateTime, ms: i64) -> OffsetDateTime {
    now.checked_add(time::Duration::milliseconds(ms))
        .unwrap_or(if ms >= 0 { max_date() } else { min_date() })
}

fn max_date() -> OffsetDateTime {
    time::macros::datetime!(9999-12-31 23:59:59.999 UTC)
}

fn min_date() -> OffsetDateTime {
    OffsetDateTime::UNIX_EPOCH
}

/// Formats a date as JavaScript's `toISOString` does: `2026-11-24T10:00:00.000Z`.
pub(crate) fn format_iso(date: OffsetDateTime) -> String {
    let d = date.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        d.year(),
        u8::from(d.month()),
        d.day(),
        d.hour(),
        d.minute(),
        d.second(),
        d.millisecond()
    )
}

/// Parses an ISO-8601 date as JavaScript's `toISOString` writes it (RFC 3339).
pub(crate) fn parse_iso(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

fn parse_cookie(c: &Map<String, Value>) -> Result<CookieRecord, RecordError> {
    let original_max_age = match c.get("originalMaxAge") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => {
            Some(number_ms(n).ok_or(RecordError::Field("cookie.originalMaxAge"))?)
        }
        Some(_) => return Err(RecordError::Field("cookie.originalMaxAge")),
    };
    let expires = match c.get("expires") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(parse_iso(s).ok_or(RecordError::Field("cookie.expires"))?),
        Some(_) => return Err(RecordError::Field("cookie.expires")),
    };
    let field = |name: &'static str, key: &str| (name, c.get(key));
    let opt_bool = |(name, v): (&'static str, Option<&Value>)| {
        v.map(|v| opt_bool(v, name))
            .transpose()
            .map(Option::flatten)
    };
    let opt_str = |(name, v): (&'static str, Option<&Value>)| {
        v.map(|v| opt_str(v, name)).transpose().map(Option::flatten)
    };
    let mut cookie = CookieRecord {
        original_max_age,
        expires,
        // express's Cookie defaults: httpOnly true, path "/".
        http_only: opt_bool(field("cookie.httpOnly", "httpOnly"))?.unwrap_or(true),
        path: opt_str(field("cookie.path", "path"))?.unwrap_or_else(|| "/".to_owned()),
        secure: opt_bool(field("cookie.secure", "secure"))?,
        domain: opt_str(field("cookie.domain", "domain"))?,
        partitioned: opt_bool(field("cookie.partitioned", "partitioned"))?,
        same_site: match c.get("sameSite") {
            None | Some(Value::Null) | Some(Value::Bool(false)) => None,
            Some(Value::Bool(true)) => Some(SameSite::Strict),
            Some(Value::String(s)) => {
                Some(SameSite::parse(s).ok_or(RecordError::Field("cookie.sameSite"))?)
            }
            Some(_) => return Err(RecordError::Field("cookie.sameSite")),
        },
        priority: match c.get("priority") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => {
                Some(Priority::parse(s).ok_or(RecordError::Field("cookie.priority"))?)
            }
            Some(_) => return Err(RecordError::Field("cookie.priority")),
        },
    };
    if cookie.original_max_age.is_none()
        && let Some(e) = cookie.expires
    {
        // express: originalMaxAge defaults to the remaining maxAge when absent.
        cookie.set_expires(Some(e), OffsetDateTime::now_utc());
    }
    Ok(cookie)
}

fn parse_meta(m: &Map<String, Value>) -> Result<RecordMeta, RecordError> {
    let absolute_expiry = match m.get("absoluteExpiry") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(parse_iso(s).ok_or(RecordError::Field("absoluteExpiry"))?),
        Some(_) => return Err(RecordError::Field("absoluteExpiry")),
    };
    let idle_timeout_ms = match m.get("idleTimeout") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(number_ms(n).ok_or(RecordError::Field("idleTimeout"))?),
        Some(_) => return Err(RecordError::Field("idleTimeout")),
    };
    let client_pin = match m.get("clientPin") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(RecordError::Field("clientPin")),
    };
    Ok(RecordMeta {
        absolute_expiry,
        idle_timeout_ms,
        client_pin,
    })
}

fn number_ms(n: &serde_json::Number) -> Option<i64> {
    n.as_i64().or_else(|| {
        let f = n.as_f64()?;
        // JSON numbers from JavaScript may carry a fraction; reject the impossible.
        (f.is_finite() && f.abs() < 9.0e15).then(|| f.round() as i64)
    })
}

fn opt_bool(v: &Value, field: &'static str) -> Result<Option<bool>, RecordError> {
    match v {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(*b)),
        _ => Err(RecordError::Field(field)),
    }
}

fn opt_str(v: &Value, field: &'static str) -> Result<Option<String>, RecordError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err(RecordError::Field(field)),
    }
}

/// Serializes a cookie in express's key order:
/// originalMaxAge, partitioned, priority, expires, secure, httpOnly, domain, path, sameSite.
struct CookieJson<'a>(&'a CookieRecord);

impl serde::Serialize for CookieJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("originalMaxAge", &c.original_max_age)?;
        if let Some(p) = c.partitioned {
            m.serialize_entry("partitioned", &p)?;
        }
        if let Some(p) = c.priority {
            m.serialize_entry("priority", p.as_str())?;
        }
        m.serialize_entry("expires", &c.expires.map(format_iso))?;
        if let Some(secure) = c.secure {
            m.serialize_entry("secure", &secure)?;
        }
        m.serialize_entry("httpOnly", &c.http_only)?;
        if let Some(d) = &c.domain {
            m.serialize_entry("domain", d)?;
        }
        m.serialize_entry("path", &c.path)?;
        if let Some(ss) = c.same_site {
            m.serialize_entry("sameSite", ss.as_str())?;
        }
        m.end()
    }
}

struct MetaJson<'a>(&'a RecordMeta);

impl serde::Serialize for MetaJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        if let Some(d) = self.0.absolute_expiry {
            m.serialize_entry("absoluteExpiry", &format_iso(d))?;
        }
        if let Some(ms) = self.0.idle_timeout_ms {
            m.serialize_entry("idleTimeout", &ms)?;
        }
        if let Some(pin) = &self.0.client_pin {
            m.serialize_entry("clientPin", pin)?;
        }
        m.end()
    }
}

struct Counter(usize);

impl io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const LIMIT: usize = DEFAULT_MAX_RECORD_BYTES;

    #[test]
    fn express_examples_round_trip_byte_for_byte() {
        for json in [
            r#"{"cookie":{"originalMaxAge":60000,"expires":"2026-07-30T12:01:00.000Z","httpOnly":true,"path":"/"},"views":1}"#,
            r#"{"cookie":{"originalMaxAge":null,"expires":null,"httpOnly":true,"path":"/"}}"#,
            r#"{"cookie":{"originalMaxAge":3600000,"partitioned":true,"priority":"high","expires":"2026-07-30T13:00:00.000Z","secure":true,"httpOnly":true,"domain":"example.com","path":"/","sameSite":"lax"},"user":"bob"}"#,
            r#"{"cookie":{"originalMaxAge":900000,"expires":"2016-12-04T14:49:03.129Z","secure":false,"httpOnly":true,"path":"/"},"csrfSecret":"x"}"#,
            r#"{"cookie":{"originalMaxAge":null,"expires":null,"httpOnly":true,"path":"/"},"n":{"a":[],"b":{},"c":12345678901234567890,"u":"h\u00e9 \ud83d\ude00"}}"#,
        ] {
            let r = Record::decode(json.as_bytes(), LIMIT).unwrap();
            let again = Record::decode(&r.encode(), LIMIT).unwrap();
            assert_eq!(r, again);
            assert_eq!(
                serde_json::from_slice::<Value>(&r.encode()).unwrap(),
                serde_json::from_str::<Value>(json).unwrap(),
                "{json}"
            );
            assert_eq!(r.encoded_len(), r.encode().len());
        }
    }

    #[test]
    fn key_order_is_express_order() {
        let json = r#"{"cookie":{"originalMaxAge":1000,"expires":"2026-07-30T12:01:00.000Z","httpOnly":true,"path":"/"},"b":1,"a":2}"#;
        let r = Record::decode(json.as_bytes(), LIMIT).unwrap();
        assert_eq!(String::from_utf8(r.encode()).unwrap(), json);
    }

    #[test]
    fn corrupt_records_are_refused() {
        for bad in [
            "not json",
            "[]",
            "42",
            r#"{"cookie":5}"#,
            r#"{"cookie":{"expires":"yesterday"}}"#,
            r#"{"cookie":{"expires":12}}"#,
            r#"{"cookie":{"originalMaxAge":"1"}}"#,
            r#"{"cookie":{"httpOnly":"yes"}}"#,
            r#"{"cookie":{"sameSite":"sometimes"}}"#,
            r#"{"cookie":{"expires":"+275760-09-13T00:00:00.000Z"}}"#,
            r#"{"__sessionMeta":7}"#,
        ] {
            assert!(Record::decode(bad.as_bytes(), LIMIT).is_err(), "{bad}");
        }
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let nested = format!(r#"{{"cookie":null,"x":{deep}}}"#);
        assert!(Record::decode(nested.as_bytes(), LIMIT).is_err());
        assert!(matches!(
            Record::decode(&vec![b' '; LIMIT + 1], LIMIT),
            Err(RecordError::TooLarge { .. })
        ));
    }

    #[test]
    fn missing_cookie_is_reported_not_refused() {
        let r = Record::decode(br#"{"user":"luke"}"#, LIMIT).unwrap();
        assert!(r.cookie().is_none());
        assert_eq!(r.encode(), br#"{"user":"luke"}"#.to_vec());
    }

    #[test]
    fn reserved_keys_are_dropped_on_load_like_express() {
        let r = Record::decode(
            br#"{"cookie":null,"save":"nope","__proto__":1,"ok":true}"#,
            LIMIT,
        )
        .unwrap();
        assert_eq!(r.data().keys().collect::<Vec<_>>(), ["ok"]);
    }

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
        assert!(r.is_past_absolute_deadline(now + time::Duration::seconds(30)));
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
        assert_eq!(Record::decode(&bytes, LIMIT).unwrap(), r);
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

    /// Found by fuzzing (record_decode): serde_json's default float parsing is not
    /// correctly rounded, so a float Node wrote could change value on a Rust save. The
    /// workspace enables serde_json's `float_roundtrip`.
    #[test]
    fn regression_floats_survive_a_round_trip_exactly() {
        for text in [
            "4.5e24",
            "4.4999999999999997e24",
            "0.1",
            "2.2250738585072014e-308",
            "1.7976931348623157e308",
            "123456789.12345679",
        ] {
            let json = format!(r#"{{"cookie":null,"x":{text}}}"#);
            let r = Record::decode(json.as_bytes(), LIMIT).unwrap();
            let again = Record::decode(&r.encode(), LIMIT).unwrap();
            assert_eq!(r, again, "{text}");
            let parsed: f64 = text.parse().unwrap();
            assert_eq!(
                r.data()["x"].as_f64(),
                Some(parsed),
                "{text} must parse to the nearest double"
            );
        }
    }

    #[test]
    fn iso_format_matches_javascript() {
        assert_eq!(
            format_iso(datetime!(2026-11-24 10:00:00.5 UTC)),
            "2026-11-24T10:00:00.500Z"
        );
        assert_eq!(
            parse_iso("2026-11-24T10:00:00.500Z"),
            Some(datetime!(2026-11-24 10:00:00.5 UTC))
        );
    }
}
