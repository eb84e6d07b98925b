//! What each app seals: h3's `{ id, createdAt, data }` or iron-session's data object,
//! and the ids h3 gives new sessions.

use serde_json::{Map, Value};

use crate::id::SessionId;

/// Whose sealed cookies a [`SealedConfig`](super::SealedConfig) reads and writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SealFormat {
    /// h3 1.x `useSession`: `{ id, createdAt, data }`, iron defaults.
    H3,
    /// h3 2.x `useSession`: the same shape, 8,192 PBKDF2 iterations.
    H3V2,
    /// iron-session: the data object itself, the seal followed by `~2`.
    IronSession,
}

/// iron-session's marker after the seal (outside the seal's integrity check: read
/// and ignored, as iron-session 9 does).
pub(crate) const IRON_SESSION_SUFFIX: &str = "~2";

/// A session read from a seal.
#[derive(Debug)]
pub(crate) struct Payload {
    /// h3's `id`; `None` for iron-session, or an h3 seal without a usable one.
    pub(crate) id: Option<SessionId>,
    /// h3's `createdAt` (Unix milliseconds); `None` when absent.
    pub(crate) created_ms: Option<u64>,
    pub(crate) data: Map<String, Value>,
    /// h3: the other top-level fields (h3 2.x's `lastSeenAt`, ...), written back as read.
    pub(crate) extra: Map<String, Value>,
}

impl SealFormat {
    /// The text to seal for a session.
    pub(crate) fn encode(
        self,
        id: &SessionId,
        created_ms: u64,
        data: &Map<String, Value>,
        extra: &Map<String, Value>,
    ) -> serde_json::Result<Vec<u8>> {
        match self {
            SealFormat::H3 | SealFormat::H3V2 => {
                // `{"id":…,"createdAt":…,"data":{…}}`, h3's key order.
                let mut out = Vec::with_capacity(64);
                out.extend_from_slice(b"{\"id\":");
                serde_json::to_writer(&mut out, id.expose())?;
                out.extend_from_slice(b",\"createdAt\":");
                out.extend_from_slice(created_ms.to_string().as_bytes());
                out.extend_from_slice(b",\"data\":");
                serde_json::to_writer(&mut out, data)?;
                for (k, v) in extra {
                    out.push(b',');
                    serde_json::to_writer(&mut out, k)?;
                    out.push(b':');
                    serde_json::to_writer(&mut out, v)?;
                }
                out.push(b'}');
                Ok(out)
            }
            SealFormat::IronSession => serde_json::to_vec(data),
        }
    }

    /// The session in an unsealed text; `None` if it is not one.
    pub(crate) fn decode(self, plaintext: &[u8]) -> Option<Payload> {
        let Value::Object(mut object) = serde_json::from_slice(plaintext).ok()? else {
            // iron-session reads a sealed non-object as an empty session.
            return (self == SealFormat::IronSession).then(Payload::empty);
        };
        match self {
            SealFormat::IronSession => Some(Payload {
                id: None,
                created_ms: None,
                data: object,
                extra: Map::new(),
            }),
            SealFormat::H3 | SealFormat::H3V2 => {
                let id = object
                    .remove("id")
                    .as_ref()
                    .and_then(Value::as_str)
                    .and_then(SessionId::parse);
                let created_ms = object.remove("createdAt").as_ref().and_then(js_millis);
                let data = match object.remove("data") {
                    Some(Value::Object(data)) => data,
                    _ => Map::new(),
                };
                object.remove("__proto__");
                Some(Payload {
                    id,
                    created_ms,
                    data,
                    extra: object,
                })
            }
        }
    }

    /// The seal as it goes in the cookie.
    pub(crate) fn cookie_value(self, seal: String) -> String {
        match self {
            SealFormat::IronSession => seal + IRON_SESSION_SUFFIX,
            SealFormat::H3 | SealFormat::H3V2 => seal,
        }
    }

    /// The seal in a cookie's value.
    pub(crate) fn seal_of(self, value: &str) -> &str {
        match self {
            // iron-session strips from the first `~`.
            SealFormat::IronSession => value.split('~').next().unwrap_or(value),
            SealFormat::H3 | SealFormat::H3V2 => value,
        }
    }

    /// Characters the cookie value adds to the seal.
    pub(crate) const fn value_overhead(self) -> usize {
        match self {
            SealFormat::IronSession => IRON_SESSION_SUFFIX.len(),
            SealFormat::H3 | SealFormat::H3V2 => 0,
        }
    }

    /// Data keys the app itself would not keep: `__proto__` (which
    /// `Object.assign` would take as the prototype) and, with iron-session, the
    /// session object's own methods.
    pub(crate) fn is_reserved(self, key: &str) -> bool {
        key == "__proto__"
            || (self == SealFormat::IronSession
                && matches!(key, "save" | "destroy" | "updateConfig"))
    }

    /// Whether sessions have an id and a creation time that travel in the seal.
    pub(crate) const fn has_id(self) -> bool {
        !matches!(self, SealFormat::IronSession)
    }
}

impl Payload {
    fn empty() -> Self {
        Payload {
            id: None,
            created_ms: None,
            data: Map::new(),
            extra: Map::new(),
        }
    }
}

/// A JavaScript timestamp: a finite, non-negative number of milliseconds.
fn js_millis(v: &Value) -> Option<u64> {
    match v.as_u64() {
        Some(ms) => Some(ms),
        None => v
            .as_f64()
            .filter(|f| f.is_finite() && *f >= 0.0 && *f < 1e16)
            .map(|f| f as u64),
    }
}

/// A random version-4 UUID, as `crypto.randomUUID()` gives h3 for a new session; an
/// empty string (refused as an id) if the OS random source fails.
pub(crate) fn random_uuid() -> String {
    let mut b = [0u8; 16];
    if getrandom::fill(&mut b).is_err() {
        return String::new();
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut out = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 15)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn uuids_are_version_4() {
        let u = random_uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
        assert!(SessionId::parse(&u).is_some());
        assert_ne!(u, random_uuid());
    }

    #[test]
    fn h3_payloads_round_trip_and_bad_parts_are_dropped() {
        let id = SessionId::parse("1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed").unwrap();
        let mut data = Map::new();
        data.insert("n".into(), json!(1));
        let mut extra = Map::new();
        extra.insert("lastSeenAt".into(), json!(1_700_000_000_500u64));
        let text = SealFormat::H3
            .encode(&id, 1_700_000_000_000, &data, &extra)
            .unwrap();
        assert_eq!(
            String::from_utf8(text.clone()).unwrap(),
            r#"{"id":"1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed","createdAt":1700000000000,"data":{"n":1},"lastSeenAt":1700000000500}"#
        );
        let p = SealFormat::H3.decode(&text).unwrap();
        assert_eq!(
            (p.id, p.created_ms, p.data),
            (Some(id), Some(1_700_000_000_000), data)
        );
        assert_eq!(
            p.extra, extra,
            "fields h3 keeps beside the data are written back"
        );
        let p = SealFormat::H3
            .decode(br#"{"id":"a b","createdAt":"x","data":[1]}"#)
            .unwrap();
        assert!(p.id.is_none() && p.created_ms.is_none() && p.data.is_empty());
        assert!(SealFormat::H3.decode(b"null").is_none());
        assert!(
            SealFormat::IronSession
                .decode(b"null")
                .unwrap()
                .data
                .is_empty()
        );
    }

    #[test]
    fn iron_session_values_carry_a_version_marker() {
        let f = SealFormat::IronSession;
        assert_eq!(f.cookie_value("Fe26.2*x".into()), "Fe26.2*x~2");
        assert_eq!(f.seal_of("Fe26.2*x~2"), "Fe26.2*x");
        assert_eq!(f.seal_of("Fe26.2*x"), "Fe26.2*x");
        assert_eq!(SealFormat::H3.seal_of("a~2"), "a~2");
    }
}
