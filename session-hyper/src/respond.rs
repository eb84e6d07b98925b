//! Applies the end-of-request [`Outcome`] to the response: `Set-Cookie`,
//! `Cache-Control: no-cache="Set-Cookie"` when a cookie is set, the session header with
//! `Cache-Control: no-store` (header transport), `Vary` when the session was read.

use bytes::Bytes;
use http::header::{
    CACHE_CONTROL, CONTENT_TYPE, HeaderName, HeaderValue, RETRY_AFTER, SET_COOKIE, VARY,
};
use http::{HeaderMap, Response, StatusCode};
use session_core::adapter::Outcome;

const NO_CACHE_SET_COOKIE: &str = "no-cache=\"Set-Cookie\"";

/// A plain-text answer of the layers themselves; a 503 says when to retry.
pub(crate) fn plain_text<B: From<Bytes>>(status: StatusCode, text: &'static str) -> Response<B> {
    let mut res = Response::new(B::from(Bytes::from_static(text.as_bytes())));
    *res.status_mut() = status;
    res.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if status == StatusCode::SERVICE_UNAVAILABLE {
        res.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static("1"));
    }
    res
}

/// The outcome of a request that read the session and sets no cookie.
pub(crate) fn read_only() -> Outcome {
    let mut outcome = Outcome::default();
    outcome.accessed = true;
    outcome
}

/// Applies `outcome`; `session_header` is the header transport's header, if on.
pub(crate) fn apply<B>(res: &mut Response<B>, outcome: &Outcome, session_header: Option<&str>) {
    let headers = res.headers_mut();
    if let Some(cookie) = &outcome.set_cookie {
        // Built from validated parts; a value that is still not a valid header (it
        // cannot be) is dropped rather than sent malformed.
        if let Ok(v) = HeaderValue::from_str(cookie) {
            headers.append(SET_COOKIE, v);
            add_cache_control(headers, NO_CACHE_SET_COOKIE);
        }
    }
    if let Some((name, value)) = &outcome.session_header
        && let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        )
    {
        headers.insert(n, v);
        // The token itself is in the response: no cache may keep it.
        add_cache_control(headers, "no-store");
    }
    if outcome.accessed {
        add_vary(headers, "Cookie", Some(HeaderValue::from_static("Cookie")));
        if let Some(name) = session_header {
            add_vary(headers, name, HeaderValue::from_str(name).ok());
        }
    }
}

/// Adds `directive` to `Cache-Control` unless it already says `no-store` (or, for
/// `no-cache="Set-Cookie"`, any `no-cache`).
fn add_cache_control(headers: &mut HeaderMap, directive: &'static str) {
    let existing = headers.get(CACHE_CONTROL).and_then(|v| v.to_str().ok());
    let covered = existing.is_some_and(|e| {
        e.contains("no-store") || (directive != "no-store" && e.contains("no-cache"))
    });
    let merged = match existing {
        _ if covered => None,
        Some(e) => HeaderValue::from_str(&format!("{e}, {directive}")).ok(),
        None => Some(HeaderValue::from_static(directive)),
    };
    if let Some(v) = merged {
        headers.insert(CACHE_CONTROL, v);
    }
}

/// Adds `name` (as `value`) to `Vary` unless it (or `*`) is already there.
fn add_vary(headers: &mut HeaderMap, name: &str, value: Option<HeaderValue>) {
    let already = headers.get_all(VARY).iter().any(|v| {
        v.to_str().is_ok_and(|s| {
            s.split(',')
                .any(|p| p.trim() == "*" || p.trim().eq_ignore_ascii_case(name))
        })
    });
    if !already && let Some(v) = value {
        headers.append(VARY, v);
    }
}
