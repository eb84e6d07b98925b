//! The record's JSON codec: express-session's shape, byte for byte.

use std::io;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::{
    COOKIE_KEY, CookieRecord, META_KEY, Record, RecordError, RecordMeta, format_iso,
    is_reserved_key, parse_iso,
};
use crate::priority::Priority;
use crate::same_site::SameSite;

impl Record {
    /// The record as express-session's JSON.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128 + 32 * self.data.len());
        // Writing JSON into a Vec cannot fail for these types.
        let _ = self.write_json(&mut out);
        out
    }

    /// The length of [`Record::encode`]'s output, computed without building it.
    pub fn encoded_len(&self) -> usize {
        let mut counter = Counter(0);
        let _ = self.write_json(&mut counter);
        counter.0
    }

    fn write_json<W: io::Write>(&self, w: W) -> serde_json::Result<()> {
        let mut ser = serde_json::Serializer::new(w);
        let cookie = self.cookie.as_ref().filter(|_| !self.omit_cookie_key);
        // The signed-in user, repeated in the bookkeeping where a store reads it from
        // the record's first bytes (the Redis store's touch keeps its per-user index).
        let user = super::passport::user_of(&self.data).filter(|u| !u.is_empty());
        let has_meta = !self.meta.is_empty() || user.is_some();
        let extra = usize::from(cookie.is_some()) + usize::from(has_meta);
        let mut map = ser.serialize_map(Some(self.data.len() + extra))?;
        // Layout: `cookie`, then the bookkeeping, then the data. A store can then read
        // everything a TTL depends on from the first bytes of a record, whatever its
        // size (the Redis store's touch does). express-session writes `cookie` first
        // and keeps the other keys in order, so the layout survives its round trips.
        if let Some(cookie) = cookie {
            map.serialize_entry(COOKIE_KEY, &CookieJson(cookie))?;
        }
        if has_meta {
            map.serialize_entry(META_KEY, &MetaJson(&self.meta, user.as_deref()))?;
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
            None | Some(Value::Null | Value::Bool(false)) => None,
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

struct MetaJson<'a>(&'a RecordMeta, Option<&'a str>);

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
        if let Some(user) = self.1 {
            // base64url: no JSON escapes, so a Lua pattern reads it exactly.
            m.serialize_entry(super::passport::USER64_FIELD, &URL_SAFE_NO_PAD.encode(user))?;
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
    use crate::store::DEFAULT_MAX_RECORD_BYTES;

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
}
