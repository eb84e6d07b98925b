//! Response side: the session `Set-Cookie` value and the removal cookie, built with the
//! `cookie` crate from the session's [`CookieRecord`].
//!
//! Like express-session, the lifetime is sent as `Expires`, never `Max-Age` (except in
//! @scayle/h3-session's style, [`session_cookie_with_max_age`]). `Priority` (which the
//! `cookie` crate does not know) is appended as the last attribute.

use std::cell::RefCell;

use cookie::Cookie;
use time::OffsetDateTime;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;

use super::read::Signature;
use crate::id::SessionId;
use crate::priority::Priority;
use crate::record::CookieRecord;
use crate::record::cookie::utc;
use crate::same_site::SameSite;
use crate::secrets::Secrets;
use crate::signing::signature;

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
/// sends. `known`: the id's signature under the signing secret, when the request's
/// cookie carried it (no HMAC then).
pub(crate) fn signed_value(id: &SessionId, secrets: &Secrets, known: Option<Signature>) -> String {
    let sig = known.map_or_else(
        || signature(id.expose().as_bytes(), secrets.signing_mac()),
        |s| s.0,
    );
    let mut out = String::with_capacity(4 + 3 * (id.expose().len() + 1 + sig.len()));
    out.push_str("s%3A");
    encode_into(&mut out, id.expose().as_bytes());
    out.push('.');
    encode_into(&mut out, &sig);
    out
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
    let mut b = Cookie::build((name, value))
        .path(r.path.as_str())
        .http_only(r.http_only)
        .secure(r.secure.unwrap_or(false));
    if let Some(d) = &r.domain {
        b = b.domain(d.as_str());
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
    // `Expires` is the last attribute the `cookie` crate writes; appended here in its
    // format from a per-second cache (the formatting was most of a cookie's cost).
    if let Some(e) = expires {
        out.push_str("; Expires=");
        push_http_date(&mut out, e);
    }
    if let Some(p) = r.priority {
        out.push_str(match p {
            Priority::Low => "; Priority=Low",
            Priority::Medium => "; Priority=Medium",
            Priority::High => "; Priority=High",
        });
    }
    out
}

/// The `cookie` crate's `Expires` format (`Tue, 01 Dec 2026 18:00:00 GMT`).
const HTTP_DATE: &[BorrowedFormatItem<'_>] = format_description!(
    "[weekday repr:short], [day] [month repr:short] [year padding:none] [hour]:[minute]:[second] GMT"
);

/// Appends `at` (in UTC) as an HTTP date. Each thread keeps the last second it
/// formatted: the cookies set within one second share one formatting. Like the `cookie`
/// crate, dates past the year 9999 (UTC) are written as its last second.
fn push_http_date(out: &mut String, at: OffsetDateTime) {
    thread_local! {
        static LAST: RefCell<Option<(i64, String)>> = const { RefCell::new(None) };
    }
    let at = utc(at);
    let second = at.unix_timestamp();
    LAST.with_borrow_mut(|last| match last {
        Some((s, text)) if *s == second => out.push_str(text),
        _ => {
            let text = at.format(HTTP_DATE).unwrap_or_default();
            out.push_str(&text);
            *last = Some((second, text));
        }
    });
}

/// JavaScript's `encodeURIComponent`: everything but `A-Z a-z 0-9 - _ . ! ~ * ' ( )` is
/// percent-encoded as UTF-8 with uppercase hex.
pub fn encode_uri_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    encode_into(&mut out, s.as_bytes());
    out
}

/// [`encode_uri_component`] of the UTF-8 text `s`, appended to `out`: runs of
/// unreserved characters are copied whole.
fn encode_into(out: &mut String, mut s: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    while !s.is_empty() {
        let run = s
            .iter()
            .position(|&b| !UNRESERVED[usize::from(b)])
            .unwrap_or(s.len());
        // ASCII by construction, so always valid UTF-8.
        out.push_str(std::str::from_utf8(&s[..run]).unwrap_or_default());
        let Some(&b) = s.get(run) else { break };
        let escape = [b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]];
        out.push_str(std::str::from_utf8(&escape).unwrap_or_default());
        s = &s[run + 1..];
    }
}

/// The bytes `encodeURIComponent` leaves as they are.
static UNRESERVED: [bool; 256] = crate::byte_set::alphanumeric_and(b"-_.!~*'()");

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
                signed_value(&SessionId::parse(id).unwrap(), &s, None),
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
    fn cookies_are_byte_for_byte_what_the_cookie_crate_writes() {
        let dates = [
            OffsetDateTime::UNIX_EPOCH,
            datetime!(2026-07-30 12:01:00 UTC),
            datetime!(2026-07-30 12:01:00.999 UTC),
            datetime!(2026-07-30 14:01:00 +02:00),
            datetime!(0999-01-05 00:00:09 UTC),
        ];
        for (i, e) in dates.into_iter().cycle().take(12).enumerate() {
            let r = CookieRecord {
                same_site: Some(SameSite::Lax),
                domain: (i % 2 == 0).then(|| "example.com".to_owned()),
                ..CookieRecord::default()
            };
            let crate_wrote = Cookie::build(("sid", "v"))
                .path("/")
                .http_only(true)
                .secure(false)
                .same_site(cookie::SameSite::Lax)
                .expires(e);
            let crate_wrote = match &r.domain {
                Some(d) => crate_wrote.domain(d.clone()),
                None => crate_wrote,
            };
            assert_eq!(
                render("sid", "v".into(), &r, Some(e), None),
                crate_wrote.build().to_string()
            );
        }
    }

    #[test]
    fn an_expiry_past_the_last_utc_date_is_capped_not_a_panic() {
        // A stored `expires` with an offset may name a UTC instant in the year 10000.
        let e = datetime!(9999-12-31 23:00:00 -05:00);
        let r = CookieRecord::default();
        let got = render("sid", "v".into(), &r, Some(e), None);
        assert!(
            got.ends_with("; Expires=Fri, 31 Dec 9999 23:59:59 GMT"),
            "{got}"
        );
        let crate_wrote = Cookie::build(("sid", "v"))
            .path("/")
            .http_only(true)
            .secure(false)
            .expires(e);
        assert_eq!(got, crate_wrote.build().to_string());
    }

    #[test]
    fn the_incoming_signature_gives_the_same_value_without_an_hmac() {
        let s = Secrets::new(["keyboard cat"]).unwrap();
        let id = SessionId::parse("abc").unwrap();
        let mut known = [0u8; crate::signing::SIGNATURE_LEN];
        known.copy_from_slice(b"BpxCrWRpvZMh/wk/djl34N+m+VQEU7K/5WenLwJCgFU");
        assert_eq!(
            signed_value(&id, &s, Some(Signature(known))),
            signed_value(&id, &s, None)
        );
    }

    #[test]
    fn encoding_keeps_exactly_the_unreserved_characters() {
        let all: String = (0u8..128).map(char::from).chain(['é', '€']).collect();
        let mut expected = String::new();
        for c in all.chars() {
            if c.is_ascii_alphanumeric() || "-_.!~*'()".contains(c) {
                expected.push(c);
            } else {
                for b in c.to_string().bytes() {
                    expected.push_str(&format!("%{b:02X}"));
                }
            }
        }
        assert_eq!(encode_uri_component(&all), expected);
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
            signed_value(&SessionId::parse("apple").unwrap(), &s, None),
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
            signed_value(&SessionId::parse("apple").unwrap(), &s, None),
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
