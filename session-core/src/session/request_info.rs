//! What an adapter tells a session about its request, besides the cookies.

use std::net::IpAddr;

/// What an adapter knows about a request besides its `Cookie` headers.
///
/// ```
/// use session_core::adapter::RequestInfo;
///
/// let info = RequestInfo::new(false)
///     .with_client_ip(Some("203.0.113.7".parse().unwrap()))
///     .with_session_header(Some(b"s%3Aabc.sig"));
/// assert!(!info.secure);
/// ```
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct RequestInfo<'a> {
    /// The request came over HTTPS (see [`TrustProxy::is_secure`](crate::TrustProxy::is_secure)).
    pub secure: bool,
    /// The value of the session header, when the header transport is on and the
    /// request carries it (empty: a header client without a session yet).
    pub session_header: Option<&'a [u8]>,
    /// The client's address, for IP pinning.
    pub client_ip: Option<IpAddr>,
}

impl<'a> RequestInfo<'a> {
    /// A request, secure or not.
    pub fn new(secure: bool) -> Self {
        RequestInfo {
            secure,
            ..Self::default()
        }
    }
    /// With the session header's value.
    pub fn with_session_header(mut self, value: Option<&'a [u8]>) -> Self {
        self.session_header = value;
        self
    }
    /// With the client's address.
    pub fn with_client_ip(mut self, ip: Option<IpAddr>) -> Self {
        self.client_ip = ip;
        self
    }
}
