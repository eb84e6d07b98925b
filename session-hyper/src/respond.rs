//! Applies the end-of-request [`Outcome`] to the response: `Set-Cookie`,
//! `Cache-Control: no-cache="Set-Cookie"` when a cookie is set, `Vary: Cookie` when the
//! session was read.

use http::Response;
use http::header::{CACHE_CONTROL, HeaderValue, SET_COOKIE, VARY};
use session_core::Outcome;

const NO_CACHE_SET_COOKIE: &str = "no-cache=\"Set-Cookie\"";

/// The outcome of a request that read the session and sets no cookie.
pub(crate) fn read_only() -> Outcome {
    let mut outcome = Outcome::default();
    outcome.accessed = true;
    outcome
}

pub(crate) fn apply<B>(res: &mut Response<B>, outcome: &Outcome) {
    let headers = res.headers_mut();
    if let Some(cookie) = &outcome.set_cookie {
        // Built from validated parts; a value that is still not a valid header (it
        // cannot be) is dropped rather than sent malformed.
        if let Ok(v) = HeaderValue::from_str(cookie) {
            headers.append(SET_COOKIE, v);
            let merged = match headers.get(CACHE_CONTROL).and_then(|v| v.to_str().ok()) {
                Some(existing)
                    if existing.contains("no-cache") || existing.contains("no-store") =>
                {
                    None
                }
                Some(existing) => {
                    HeaderValue::from_str(&format!("{existing}, {NO_CACHE_SET_COOKIE}")).ok()
                }
                None => Some(HeaderValue::from_static(NO_CACHE_SET_COOKIE)),
            };
            if let Some(v) = merged {
                headers.insert(CACHE_CONTROL, v);
            }
        }
    }
    if let Some((name, value)) = &outcome.session_header
        && let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        )
    {
        headers.insert(n, v);
    }
    if outcome.accessed {
        let already = headers.get_all(VARY).iter().any(|v| {
            v.to_str().is_ok_and(|s| {
                s.split(',')
                    .any(|p| p.trim() == "*" || p.trim().eq_ignore_ascii_case("cookie"))
            })
        });
        if !already {
            headers.append(VARY, HeaderValue::from_static("Cookie"));
        }
    }
}
