//! Facts about a request that the session policies need.

use http::Request;
use http::header::COOKIE;
use session_core::{SessionConfig, is_secure_request};

/// Whether the request is secure: an `https` absolute URI (hyper does not see TLS, so a
/// TLS terminator in front of the service must say so through `X-Forwarded-Proto` with
/// `trust_proxy`), or a trusted `X-Forwarded-Proto: https`.
pub(crate) fn is_secure<B>(req: &Request<B>, config: &SessionConfig) -> bool {
    let tls = req.uri().scheme_str() == Some("https");
    let forwarded = req.headers().get("x-forwarded-proto").map(|v| v.as_bytes());
    is_secure_request(tls, forwarded, config.trust_proxy())
}

/// The raw values of every `Cookie` header.
pub(crate) fn cookie_headers<B>(req: &Request<B>) -> impl Iterator<Item = &[u8]> {
    req.headers().get_all(COOKIE).iter().map(|v| v.as_bytes())
}
