//! Response side: the session `Set-Cookie` value and the removal cookie, built with the
//! `cookie` crate from the session's [`CookieRecord`].
//!
//! Like express-session, the lifetime is sent as `Expires`, never `Max-Age` (except in
//! @scayle/h3-session's style, [`session_cookie_with_max_age`]). `Priority` (which the
//! `cookie` crate does not know) is appended as the last attribute.

use cookie::Cookie;
use time::OffsetDateTime;

use crate::id::SessionId;
use crate::priority::Priority;
use crate::record::CookieRecord;
use crate::same_site::SameSite;
use crate::secrets::Secrets;
use crate::signing::sign_with;

/// The `Set-Cookie` value for a session: `name=s%3A<id>.<sig>; Path=/; ...`.
///
/// # Examples
pub(crate) fn session_cookie(name: &str, value: String, record: &CookieRecord) -> String {
    render(name, value, record, record.expires, None)
}

/// As [`session_cookie`], but the lifetime goes out as `Max-Age` (whole seconds) and
/// no `Expires`, as @scayle/h3-session sends it.
pub(crate) fn session_cookie_with_max_age(
    name: &str,
    value: String,
    record: &CookieRecord,
    max_age: std::time::Duration,
) -> String {
    render(name, value, record, None, Some(max_age))
}

/// The cookie's value for `id`: `s:<id>.<signature>` under the signing secret,
/// percent-encoded like `encodeURIComponent` (`s%3A...`). Also what the header transport
/// sends.
pub(crate) fn signed_value(id: &SessionId, secrets: &Secrets) -> String {
    encode_uri_component(&format!(
        "s:{}",
        sign_with(id.expose(), secrets.signing_mac())
    ))
}

/// A cookie that makes the browser forget the session: the same name, `Path`,
/// `Domain` and attributes, an empty value and `Expires` in 1970.
pub(crate) fn removal_cookie(name: &str, record: &CookieRecord) -> String {
    render(
        name,
        String::new(),
        record,
        Some(OffsetDateTime::UNIX_EPOCH),
        None,
    )
}

fn render(
    name: &str,
    value: String,
    r: &CookieRecord,
    expires: Option<OffsetDateTime>,
    max_age: Option<std::time::Duration>,
) -> String {
    let mut b = Cookie::build((name.to_owned(), value))
        .path(r.path.clone())
        .http_only(r.http_only)
        .secure(r.secure.unwrap_or(false));
    if let Some(d) = &r.domain {
        b = b.domain(d.clone());
    }
    if let Some(e) = expires {
        b = b.expires(e);
    }
    if let Some(age) = max_age {
        let secs = i64::try_from(age.as_secs()).unwrap_or(i64::MAX);
        b = b.max_age(time::Duration::seconds(secs));
    }
    if r.partitioned == Some(true) {
        b = b.partitioned(true);
    }
    if let Some(s) = r.same_site {
        b = b.same_site(match s {
            SameSite::Strict => cookie::SameSite::Strict,
            SameSite::None => cookie::SameSite::None,
            SameSite::Lax => cookie::SameSite::Lax,
        });
    }
    let mut out = b.build().to_string();
    if let Some(p) = r.priority {
        out.push_str(match p {
            Priority::Low => "; Priority=Low",
            Priority::Medium => "; Priority=Medium",
            Priority::High => "; Priority=High",
        });
    }
    out
}

/// JavaScript's `encodeURIComponent`: everything but `A-Z a-z 0-9 - _ . ! ~ * ' ( )` is
/// percent-encoded as UTF-8 with uppercase hex.
pub fn encode_uri_component(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len() + 16);
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::sign;
    use time::macros::datetime;

    fn attrs(s: &str) -> Vec<String> {
        let mut v: Vec<String> = s.split("; ").skip(1).map(str::to_owned).collect();
        v.sort();
        v
    }

    #[test]
    fn express_test_vectors() {
        let s = Secrets::new(["keyboard cat"]).unwrap();
        let c = CookieRecord::default();
        for (id, value) in [
            (
                "apple",
                "s%3Aapple.D8Y%2BpkTAmeR0PobOhY4G97PRW%2Bj7bUnP%2F5m6%2FOn1MCU",
            ),
            (
                "abc",
                "s%3Aabc.BpxCrWRpvZMh%2Fwk%2Fdjl34N%2Bm%2BVQEU7K%2F5WenLwJCgFU",
            ),
        ] {
            let got = session_cookie(
                "connect.sid",
                signed_value(&SessionId::parse(id).unwrap(), &s),
                &c,
            );
            assert!(got.starts_with(&format!("connect.sid={value};")), "{got}");
        }
        // The HMAC covers the raw id; encoding is applied afterwards (express's `%` and `/foo` cases).
        assert_eq!(
            encode_uri_component(&format!("s:{}", sign("%", b"keyboard cat"))),
            "s%3A%25.kzQ6x52kKVdF35Qh62AWk4ZekS28K5XYCXKa%2FOTZ01g"
        );
        assert_eq!(
            encode_uri_component(&format!("s:{}", sign("/foo", b"keyboard cat"))),
            "s%3A%2Ffoo.paEKBtAHbV5s1IB8B2zPnzAgYmmnRPIqObW4VRYj%2FMQ"
        );
    }

    #[test]
    fn attributes_match_express() {
        let s = Secrets::new(["keyboard cat"]).unwrap();
        let mut c = CookieRecord {
            expires: Some(datetime!(2026-07-30 12:01:00 UTC)),
            ..CookieRecord::default()
        };
        let got = session_cookie(
            "connect.sid",
            signed_value(&SessionId::parse("apple").unwrap(), &s),
            &c,
        );
        assert_eq!(
            attrs(&got),
            [
                "Expires=Thu, 30 Jul 2026 12:01:00 GMT",
                "HttpOnly",
                "Path=/"
            ]
        );
        c.http_only = false;
        c.secure = Some(true);
        c.path = "/admin".into();
        c.domain = Some("example.com".into());
        c.same_site = Some(SameSite::Strict);
        c.partitioned = Some(true);
        c.priority = Some(Priority::High);
        let got = session_cookie(
            "connect.sid",
            signed_value(&SessionId::parse("apple").unwrap(), &s),
            &c,
        );
        assert_eq!(
            attrs(&got),
            [
                "Domain=example.com",
                "Expires=Thu, 30 Jul 2026 12:01:00 GMT",
                "Partitioned",
                "Path=/admin",
                "Priority=High",
                "SameSite=Strict",
                "Secure"
            ]
        );
        assert!(!got.contains("Max-Age"));
    }

    #[test]
    fn removal_cookie_keeps_attributes() {
        let c = CookieRecord {
            domain: Some("example.com".into()),
            path: "/app".into(),
            ..Default::default()
        };
        let got = removal_cookie("connect.sid", &c);
        assert!(got.starts_with("connect.sid=;"), "{got}");
        assert_eq!(
            attrs(&got),
            [
                "Domain=example.com",
                "Expires=Thu, 01 Jan 1970 00:00:00 GMT",
                "HttpOnly",
                "Path=/app"
            ]
        );
    }

    #[test]
    fn encode_uri_component_matches_javascript() {
        assert_eq!(encode_uri_component("s:a+b/c=d"), "s%3Aa%2Bb%2Fc%3Dd");
        assert_eq!(encode_uri_component("A-z_0.!~*'()"), "A-z_0.!~*'()");
        assert_eq!(encode_uri_component("\u{e9} %"), "%C3%A9%20%25");
    }
}
