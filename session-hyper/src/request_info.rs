//! Facts about a request that the session policies need: whether it is secure, its
//! cookies, the session header (header transport), the client address (IP pinning).

use std::net::{IpAddr, SocketAddr};

use http::header::{CONTENT_TYPE, COOKIE, HeaderName};
use http::{HeaderMap, Request};
use session_core::adapter::RequestInfo;
use session_core::{SessionConfig, TrustProxy};

// Made once: a `&str` name would be parsed again on every request.
const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");

/// Whether the request's `Content-Type` is `media_type` (parameters such as `charset`
/// aside, case-insensitively).
pub(crate) fn has_media_type(headers: &HeaderMap, media_type: &str) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case(media_type))
}

/// The client's address, for IP pinning: put it in the request's extensions where the
/// connection is accepted (axum's `ConnectInfo<SocketAddr>` is read too, with the
/// `axum` feature).
///
/// ```
/// use session_hyper::ClientAddr;
///
/// let mut req = http::Request::new(());
/// req.extensions_mut().insert(ClientAddr("203.0.113.7:51000".parse().unwrap()));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub SocketAddr);

/// Everything the session manager needs besides the cookies.
pub(crate) fn info<'r, B>(req: &'r Request<B>, config: &SessionConfig) -> RequestInfo<'r> {
    let header = config
        .header_name()
        .and_then(|h| req.headers().get(h))
        .map(|v| v.as_bytes());
    let ip = if config.ip_pinning() {
        client_ip(req, config.trust_proxy())
    } else {
        None
    };
    RequestInfo::new(is_secure(req, config))
        .with_session_header(header)
        .with_client_ip(ip)
}

/// The client address: the connection's peer, or with trusted proxies the
/// `X-Forwarded-For` entry they vouch for (see [`session_core::TrustProxy`]).
pub(crate) fn client_ip<B>(req: &Request<B>, trust: TrustProxy) -> Option<IpAddr> {
    let forwarded = req
        .headers()
        .get_all(X_FORWARDED_FOR)
        .iter()
        .map(|v| v.as_bytes());
    trust.client_ip(peer(req), forwarded)
}

/// The connection's peer address, from [`ClientAddr`] or axum's `ConnectInfo`.
fn peer<B>(req: &Request<B>) -> Option<IpAddr> {
    if let Some(ClientAddr(addr)) = req.extensions().get::<ClientAddr>() {
        return Some(addr.ip());
    }
    #[cfg(feature = "axum")]
    if let Some(axum::extract::ConnectInfo(addr)) = req
        .extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
    {
        return Some(addr.ip());
    }
    None
}

/// Whether the request is secure: an `https` absolute URI (hyper does not see TLS, so a
/// TLS terminator in front of the service must say so through `X-Forwarded-Proto`, with
/// `trust_proxy`), or a trusted `X-Forwarded-Proto: https`.
pub(crate) fn is_secure<B>(req: &Request<B>, config: &SessionConfig) -> bool {
    let tls = req.uri().scheme_str() == Some("https");
    let forwarded = req
        .headers()
        .get_all(X_FORWARDED_PROTO)
        .iter()
        .map(|v| v.as_bytes());
    config.trust_proxy().is_secure(tls, forwarded)
}

/// The request's path as the client sent it: axum's `OriginalUri` when a nested router
/// stripped a prefix (feature `axum`), otherwise the URI's.
pub(crate) fn original_path<B>(req: &Request<B>) -> &str {
    #[cfg(feature = "axum")]
    if let Some(axum::extract::OriginalUri(uri)) = req.extensions().get() {
        return uri.path();
    }
    req.uri().path()
}

/// The raw values of every `Cookie` header.
pub(crate) fn cookie_headers<B>(req: &Request<B>) -> impl Iterator<Item = &[u8]> {
    req.headers().get_all(COOKIE).iter().map(|v| v.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(xff: &[&str], peer: Option<&str>) -> Request<()> {
        let mut r = Request::new(());
        for x in xff {
            r.headers_mut()
                .append("x-forwarded-for", x.parse().unwrap());
        }
        if let Some(p) = peer {
            r.extensions_mut().insert(ClientAddr(p.parse().unwrap()));
        }
        r
    }

    #[test]
    fn forwarded_for_only_behind_a_trusted_proxy() {
        let one = TrustProxy::hops(1);
        let r = req(&["203.0.113.7, 10.0.0.1"], Some("10.0.0.2:4000"));
        assert_eq!(client_ip(&r, one), Some("10.0.0.1".parse().unwrap()));
        assert_eq!(
            client_ip(&r, TrustProxy::hops(2)),
            Some("203.0.113.7".parse().unwrap())
        );
        assert_eq!(
            client_ip(&r, TrustProxy::NONE),
            Some("10.0.0.2".parse().unwrap())
        );
        let r = req(&["192.0.2.1", "[2001:db8::1]:443"], None);
        assert_eq!(client_ip(&r, one), Some("2001:db8::1".parse().unwrap()));
        let r = req(&["garbage"], Some("10.0.0.2:4000"));
        assert_eq!(client_ip(&r, one), None, "never trusted, never guessed");
        assert_eq!(
            client_ip(&req(&[], Some("[::ffff:10.0.0.3]:1")), one),
            Some("10.0.0.3".parse().unwrap())
        );
        assert_eq!(client_ip(&req(&[], None), one), None);
    }
}
