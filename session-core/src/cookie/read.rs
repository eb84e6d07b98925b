//! Request side: every `Cookie` header → our candidates → percent-decode → strip `s:` →
//! unsign → id. Works on raw bytes, in linear time with bounded work, and never fails
//! the request: the answer is "our session" or "no session" (with a reason for logs).
//!
//! Differences from express-session (jshttp/cookie), on purpose:
//! - a duplicated name yields the first candidate that VERIFIES, not the first one, so a
//!   planted or stale cookie cannot hide a good one;
//! - at most [`MAX_SCAN_BYTES`] of cookie headers are read and at most
//!   [`MAX_CANDIDATES`] values with our name are verified.

use memchr::{memchr, memchr2};

use crate::id::SessionId;
use crate::secrets::Secrets;
use crate::signing::{SIGNATURE_LEN, unsign};

/// Bytes of `Cookie` headers scanned at most; anything after is ignored.
pub(crate) const MAX_SCAN_BYTES: usize = 64 * 1024;
/// Cookies with our name verified at most (each costs one HMAC per secret).
pub(crate) const MAX_CANDIDATES: usize = 8;

/// A session id from a cookie whose signature verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncomingId {
    /// The id.
    pub id: SessionId,
    /// It verified under a secret other than the signing one: re-issue the cookie.
    pub resign: bool,
}

/// Why a request carries no usable session cookie.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// Our cookie is absent.
    Absent,
    /// Our cookie's value does not start with `s:`.
    Unsigned,
    /// No secret verifies the signature.
    BadSignature,
    /// The signature verified but the id is not an acceptable id.
    Malformed,
}

/// A verified cookie: its id, and the signature it carried (the id's signature under
/// the secret that verified it), kept so that sending the same cookie back costs no
/// second HMAC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Found {
    pub(crate) incoming: IncomingId,
    pub(crate) signature: Signature,
}

/// A cookie signature as sent: 43 base64 characters.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Signature(pub(crate) [u8; SIGNATURE_LEN]);

impl std::fmt::Debug for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signature(..)") // half of a credential: never printed
    }
}

/// The result of looking for our cookie.
pub(crate) type CookieLookup = Result<Found, Rejection>;

/// Finds our session id among the values of every `Cookie` header.
///
/// # Examples
///
/// ```
/// use session_core::Secrets;
/// use session_core::wire::{find_session_id, Rejection};
///
/// let secrets = Secrets::new(["keyboard cat"])?;
/// let header = b"theme=dark; connect.sid=s%3Aabc.BpxCrWRpvZMh%2Fwk%2Fdjl34N%2Bm%2BVQEU7K%2F5WenLwJCgFU";
/// let found = find_session_id([&header[..]], "connect.sid", &secrets).unwrap();
/// assert_eq!(found.id.expose(), "abc");
///
/// let tampered = b"connect.sid=s%3Aabd.BpxCrWRpvZMh%2Fwk%2Fdjl34N%2Bm%2BVQEU7K%2F5WenLwJCgFU";
/// assert_eq!(find_session_id([&tampered[..]], "connect.sid", &secrets), Err(Rejection::BadSignature));
/// # Ok::<(), session_core::Error>(())
/// ```
pub fn find_session_id<'a, I>(
    headers: I,
    name: &str,
    secrets: &Secrets,
) -> Result<IncomingId, Rejection>
where
    I: IntoIterator<Item = &'a [u8]>,
{
    find(headers, name, secrets).map(|found| found.incoming)
}

/// [`find_session_id`], with the verified signature.
pub(crate) fn find<'a, I>(headers: I, name: &str, secrets: &Secrets) -> CookieLookup
where
    I: IntoIterator<Item = &'a [u8]>,
{
    let mut worst = Rejection::Absent;
    let found = scan(headers, name, |value| match check(value, secrets) {
        Ok(found) => Some(found),
        Err(r) => {
            worst = worse(worst, r);
            None
        }
    });
    found.ok_or(worst)
}

/// The values of the cookies named `name` (at most [`MAX_CANDIDATES`]),
/// unquoted and percent-decoded (`decodeURIComponent`, or as sent when that fails),
/// in the order sent: the sealed-cookie mode's candidate seals.
pub(crate) fn values<'a, I>(headers: I, name: &str) -> Vec<String>
where
    I: IntoIterator<Item = &'a [u8]>,
{
    let mut out = Vec::new();
    scan(headers, name, |value| {
        out.push(decoded_value(value));
        None::<()>
    });
    out
}

/// A cookie or header value, unquoted and percent-decoded as [`values`] does.
pub(crate) fn decoded_value(raw: &[u8]) -> String {
    let raw = match trim(raw) {
        [b'"', inner @ .., b'"'] => inner,
        other => other,
    };
    match memchr(b'%', raw).and_then(|_| percent_decode(raw)) {
        Some(text) => text,
        None => String::from_utf8_lossy(raw).into_owned(),
    }
}

/// Calls `each` with the value of every cookie named `name` (bounded: the first
/// [`MAX_SCAN_BYTES`] of the headers, at most [`MAX_CANDIDATES`] values) until it
/// returns `Some`.
fn scan<'a, I, T>(headers: I, name: &str, mut each: impl FnMut(&[u8]) -> Option<T>) -> Option<T>
where
    I: IntoIterator<Item = &'a [u8]>,
{
    let mut budget = MAX_SCAN_BYTES;
    let mut candidates = 0;
    for header in headers {
        let header = &header[..header.len().min(budget)];
        budget -= header.len();
        // Segments are `name=value` between `;`: skipped with memchr, not byte by byte.
        let mut rest = header;
        while !rest.is_empty() {
            let Some(at) = memchr2(b'=', b';', rest) else {
                break; // a keyless last segment
            };
            if rest[at] == b';' {
                rest = &rest[at + 1..]; // a keyless segment
                continue;
            }
            let (key, after) = (&rest[..at], &rest[at + 1..]);
            let end = memchr(b';', after).unwrap_or(after.len());
            let value = &after[..end];
            rest = after.get(end + 1..).unwrap_or_default();
            if trim(key) != name.as_bytes() {
                continue;
            }
            candidates += 1;
            if let Some(found) = each(trim(value)) {
                return Some(found);
            }
            if candidates >= MAX_CANDIDATES {
                return None;
            }
        }
        if budget == 0 {
            break;
        }
    }
    None
}

/// Verifies one cookie value (or the header transport's value): strips quotes,
/// percent-decodes when it has `%`, strips `s:`, unsigns, validates the id.
pub(crate) fn verify_value(raw: &[u8], secrets: &Secrets) -> CookieLookup {
    let raw = trim(raw);
    if raw.is_empty() {
        return Err(Rejection::Absent);
    }
    check(raw, secrets)
}

fn check(raw: &[u8], secrets: &Secrets) -> CookieLookup {
    let raw = match raw {
        [b'"', inner @ .., b'"'] => inner,
        other => other,
    };
    // Express's cookies are percent-encoded (`s%3A…`): decoded on the stack (UTF-8
    // checked while decoding), or read as they are.
    let mut buf = [0u8; DECODE_BUF];
    let decoded;
    let text = if memchr(b'%', raw).is_none() {
        None
    } else if raw.len() <= DECODE_BUF {
        percent_decode_into(raw, &mut buf)
    } else {
        decoded = percent_decode(raw);
        decoded.as_deref()
    };
    // decodeURIComponent failed or was not needed: the raw value.
    let signed = match text {
        Some(text) => text.strip_prefix("s:").ok_or(Rejection::Unsigned)?,
        None => {
            let signed = raw.strip_prefix(b"s:").ok_or(Rejection::Unsigned)?;
            std::str::from_utf8(signed).map_err(|_| Rejection::BadSignature)?
        }
    };
    let ok = unsign(signed, secrets).ok_or(Rejection::BadSignature)?;
    let id = SessionId::parse(ok.value).ok_or(Rejection::Malformed)?;
    let mut signature = [0u8; SIGNATURE_LEN];
    signature.copy_from_slice(&signed.as_bytes()[ok.value.len() + 1..]);
    Ok(Found {
        incoming: IncomingId {
            id,
            resign: !secrets.is_signing(ok.secret_index),
        },
        signature: Signature(signature),
    })
}

/// Which rejection to report when several candidates fail: the most suspicious.
fn worse(a: Rejection, b: Rejection) -> Rejection {
    let rank = |r| match r {
        Rejection::Absent => 0,
        Rejection::Unsigned => 1,
        Rejection::Malformed => 2,
        Rejection::BadSignature => 3,
    };
    if rank(b) > rank(a) { b } else { a }
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// Cookie values up to this many bytes are percent-decoded without allocating
/// (express's are 80).
const DECODE_BUF: usize = 256;

/// `decodeURIComponent` of `s` into `out`: the decoded text, or `None` on a malformed
/// escape, invalid UTF-8 or an `out` shorter than `s`. Copies the runs between escapes
/// whole.
fn percent_decode_into<'o>(s: &[u8], out: &'o mut [u8]) -> Option<&'o str> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let (mut rest, mut n) = (s, 0);
    loop {
        let run = memchr(b'%', rest).unwrap_or(rest.len());
        out.get_mut(n..n + run)?.copy_from_slice(&rest[..run]);
        n += run;
        match rest[run..] {
            [] => break,
            [_, hi, lo, ref tail @ ..] => {
                *out.get_mut(n)? = hex(hi)? << 4 | hex(lo)?;
                n += 1;
                rest = tail;
            }
            _ => return None, // a `%` without two digits
        }
    }
    std::str::from_utf8(&out[..n]).ok()
}

/// [`percent_decode_into`] for values longer than the stack buffer.
fn percent_decode(s: &[u8]) -> Option<String> {
    let mut out = vec![0u8; s.len()];
    let n = percent_decode_into(s, &mut out)?.len();
    out.truncate(n);
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::sign;

    const GOOD: &str = "s%3Aabc.BpxCrWRpvZMh%2Fwk%2Fdjl34N%2Bm%2BVQEU7K%2F5WenLwJCgFU";

    fn secrets() -> Secrets {
        Secrets::new(["keyboard cat"]).unwrap()
    }

    fn find(headers: &[&[u8]]) -> CookieLookup {
        super::find(headers.iter().copied(), "connect.sid", &secrets())
    }

    fn id(l: CookieLookup) -> String {
        l.unwrap().incoming.id.expose().to_owned()
    }

    #[test]
    fn finds_the_express_cookie() {
        assert_eq!(id(find(&[format!("connect.sid={GOOD}").as_bytes()])), "abc");
        let raw = format!("connect.sid=s:{}", sign("abc", b"keyboard cat"));
        assert_eq!(id(find(&[raw.as_bytes()])), "abc");
        let quoted = format!("connect.sid=\"{GOOD}\"");
        assert_eq!(id(find(&[quoted.as_bytes()])), "abc");
        let spaced = format!("a=1 ;  connect.sid \t=  {GOOD} ; b=2");
        assert_eq!(id(find(&[spaced.as_bytes()])), "abc");
    }

    #[test]
    fn several_headers_and_segments() {
        let h2 = format!("x=y; connect.sid={GOOD}");
        assert_eq!(id(find(&[b"a=b", b"garbage;;;", h2.as_bytes()])), "abc");
        assert_eq!(find(&[b"a=b; c", b""]), Err(Rejection::Absent));
    }

    #[test]
    fn first_that_verifies_wins_in_both_orders() {
        let bad = "connect.sid=s%3Aevil.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        let both = format!("{bad}; connect.sid={GOOD}");
        assert_eq!(id(find(&[both.as_bytes()])), "abc");
        let both = format!("connect.sid={GOOD}; {bad}");
        assert_eq!(id(find(&[both.as_bytes()])), "abc");
    }

    #[test]
    fn rejections() {
        assert_eq!(find(&[b"connect.sid=abc"]), Err(Rejection::Unsigned));
        assert_eq!(find(&[b"connect.sid="]), Err(Rejection::Unsigned));
        assert_eq!(
            find(&[b"connect.sid=s%3Aabc"]),
            Err(Rejection::BadSignature)
        );
        assert_eq!(
            find(&[b"connect.sid=s:\xff\xfe.x"]),
            Err(Rejection::BadSignature)
        );
        // Percent-decoding to invalid UTF-8 fails, so the raw value is kept: unsigned.
        assert_eq!(find(&[b"connect.sid=s%3A%ff.x"]), Err(Rejection::Unsigned));
        let bad_id = format!("connect.sid=s:{}", sign("a b", b"keyboard cat"));
        assert_eq!(find(&[bad_id.as_bytes()]), Err(Rejection::Malformed));
        // Bad percent-encoding in ANOTHER cookie does not matter.
        let other = format!("x=%zz%; connect.sid={GOOD}");
        assert_eq!(id(find(&[other.as_bytes()])), "abc");
        // Bad percent-encoding in ours keeps the raw value, which then fails.
        assert_eq!(find(&[b"connect.sid=s%3Aabc%zz"]), Err(Rejection::Unsigned));
        assert_eq!(
            find(&[b"\xff\xfe=\xff; connect.sid"]),
            Err(Rejection::Absent)
        );
    }

    #[test]
    fn retired_secret_asks_for_resign() {
        let s = Secrets::new(["new", "keyboard cat"]).unwrap();
        let h = format!("connect.sid={GOOD}");
        let got = find_session_id([h.as_bytes()], "connect.sid", &s).unwrap();
        assert!(got.resign);
        assert!(!find(&[h.as_bytes()]).unwrap().incoming.resign);
    }

    #[test]
    fn work_is_bounded() {
        let many: String = (0..10_000)
            .map(|i| format!("connect.sid=s:{i}.x; "))
            .collect();
        let h = format!("{many}connect.sid={GOOD}");
        assert_eq!(find(&[h.as_bytes()]), Err(Rejection::BadSignature));
        let big = format!(
            "{}; connect.sid={GOOD}",
            "a=b".repeat(MAX_SCAN_BYTES / 3 + 1)
        );
        assert_eq!(find(&[big.as_bytes()]), Err(Rejection::Absent));
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode(b"s%3A%25").as_deref(), Some("s:%"));
        assert_eq!(percent_decode(b"a%2Fb%2f%3a").as_deref(), Some("a/b/:"));
        assert_eq!(percent_decode(b"%25%").as_deref(), None);
        assert_eq!(percent_decode(b"%"), None);
        assert_eq!(percent_decode(b"%4"), None);
        assert_eq!(percent_decode(b"%ff"), None);
        assert_eq!(percent_decode(b"%C3%A9").as_deref(), Some("\u{e9}"));
    }

    #[test]
    fn values_longer_than_the_stack_buffer_decode_too() {
        let id = "a".repeat(DECODE_BUF);
        let value = format!("s%3A{}", sign(&id, b"keyboard cat").replacen('.', "%2E", 1));
        assert!(value.len() > DECODE_BUF);
        let found = find(&[format!("connect.sid={value}").as_bytes()]);
        assert_eq!(found.map(|f| f.incoming.id.expose().len()), Ok(DECODE_BUF));
    }
}
