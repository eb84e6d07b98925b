//! Which proxies in front of the application may say who the client is and whether it
//! came over HTTPS: express's `trust proxy` as a number of hops.

use std::net::{IpAddr, SocketAddr};

/// How many proxies in front of the application are trusted (express's `trust proxy`
/// set to a number). Set with [`SessionConfigBuilder::trust_proxy`](crate::SessionConfigBuilder::trust_proxy).
///
/// Each trusted proxy appends the address it received the request from to
/// `X-Forwarded-For` (nginx's `$proxy_add_x_forwarded_for`, cloud load balancers). The
/// client is therefore the entry `hops` places from the right, counted across every
/// `X-Forwarded-For` header in order; entries further left were written by the client
/// and are never used. With fewer entries than hops, the leftmost one is the client
/// (express does the same). `X-Forwarded-Proto` is read the same way.
///
/// `true` means one hop, the common single reverse proxy. Unlike express's `true`
/// (which trusts every hop and so takes the leftmost entry, one the client chooses),
/// it never lets a client pick its own address.
///
/// ```
/// use session_core::TrustProxy;
///
/// let one = TrustProxy::from(true);
/// let peer = Some("10.0.0.2".parse().unwrap());
/// // The client wrote "198.51.100.1"; the proxy appended what it saw.
/// let xff: [&[u8]; 1] = [b"198.51.100.1, 203.0.113.7"];
/// assert_eq!(one.client_ip(peer, xff), Some("203.0.113.7".parse().unwrap()));
/// assert_eq!(TrustProxy::NONE.client_ip(peer, xff), peer);
/// assert!(one.is_secure(false, [&b"https"[..]]));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrustProxy {
    hops: u8,
}

impl TrustProxy {
    /// No proxy is trusted: the connection's peer is the client, `X-Forwarded-*` are
    /// ignored (the default).
    pub const NONE: TrustProxy = TrustProxy { hops: 0 };

    /// `hops` proxies in a chain are trusted (express `trust proxy: <number>`).
    pub const fn hops(hops: u8) -> Self {
        TrustProxy { hops }
    }

    /// The client's address: `peer` (the connection's) without trusted proxies;
    /// otherwise the `X-Forwarded-For` entry `hops` from the right across all of
    /// `forwarded_for` (the raw values of each header, in order). Ports and
    /// IPv4-mapped IPv6 forms are normalized (`::ffff:192.0.2.1` is `192.0.2.1`). An
    /// entry that is not an address gives `None`: it is never replaced by a guess.
    pub fn client_ip<'a, I>(self, peer: Option<IpAddr>, forwarded_for: I) -> Option<IpAddr>
    where
        I: IntoIterator<Item = &'a [u8]>,
        I::IntoIter: DoubleEndedIterator,
    {
        if self.hops == 0 {
            return peer.map(|ip| ip.to_canonical());
        }
        match self.pick(forwarded_for) {
            Some(entry) => parse_addr(entry),
            None => peer.map(|ip| ip.to_canonical()),
        }
    }

    /// Whether the request is secure, as express-session decides it: a TLS connection
    /// always is; otherwise, with trusted proxies, the `X-Forwarded-Proto` entry picked
    /// as for [`TrustProxy::client_ip`] must be `https` (trimmed, any case).
    pub fn is_secure<'a, I>(self, tls: bool, forwarded_proto: I) -> bool
    where
        I: IntoIterator<Item = &'a [u8]>,
        I::IntoIter: DoubleEndedIterator,
    {
        tls || (self.hops > 0
            && self
                .pick(forwarded_proto)
                .is_some_and(|p| p.eq_ignore_ascii_case(b"https")))
    }

    /// The comma-separated entry `hops` from the right across `values`, trimmed; the
    /// leftmost when there are fewer; `None` when there is none. Walks from the right,
    /// so nothing is allocated per request.
    fn pick<'a, I>(self, values: I) -> Option<&'a [u8]>
    where
        I: IntoIterator<Item = &'a [u8]>,
        I::IntoIter: DoubleEndedIterator,
    {
        values
            .into_iter()
            .rev()
            .flat_map(|v| v.rsplit(|&b| b == b','))
            .map(<[u8]>::trim_ascii)
            .take(usize::from(self.hops))
            .last()
    }
}

impl From<bool> for TrustProxy {
    /// `true`: one hop; `false`: none.
    fn from(trust: bool) -> Self {
        TrustProxy::hops(u8::from(trust))
    }
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:567`, `2001:db8::1`,
/// `[2001:db8::1]:567`, `::ffff:192.0.2.1`; anything else is `None`.
fn parse_addr(entry: &[u8]) -> Option<IpAddr> {
    let s = std::str::from_utf8(entry).ok()?;
    s.parse::<IpAddr>()
        .ok()
        .or_else(|| s.parse::<SocketAddr>().ok().map(|a| a.ip()))
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    const PEER: &str = "10.0.0.2";

    fn client(hops: u8, headers: &[&str]) -> Option<IpAddr> {
        TrustProxy::hops(hops).client_ip(ip(PEER), headers.iter().map(|h| h.as_bytes()))
    }

    #[test]
    fn the_client_is_the_entry_appended_by_the_outermost_trusted_proxy() {
        // The client wrote the victim's address; the proxy appended the real one.
        assert_eq!(client(1, &["192.0.2.66, 203.0.113.7"]), ip("203.0.113.7"));
        // Across headers, in order: a second header of the client's does not help.
        assert_eq!(client(1, &["203.0.113.7", "192.0.2.66"]), ip("192.0.2.66"));
        assert_eq!(client(1, &["192.0.2.66", "203.0.113.7"]), ip("203.0.113.7"));
        assert_eq!(
            client(2, &["192.0.2.66, 203.0.113.7, 10.0.0.9"]),
            ip("203.0.113.7")
        );
        // Fewer entries than hops: the leftmost (express).
        assert_eq!(client(3, &["203.0.113.7, 10.0.0.9"]), ip("203.0.113.7"));
        // No header: the peer.
        assert_eq!(client(1, &[]), ip(PEER));
        assert_eq!(client(0, &["203.0.113.7"]), ip(PEER));
    }

    #[test]
    fn entries_are_normalized_or_refused() {
        assert_eq!(client(1, &["x, 203.0.113.7:9999"]), ip("203.0.113.7"));
        assert_eq!(client(1, &["x, ::ffff:203.0.113.7"]), ip("203.0.113.7"));
        assert_eq!(client(1, &["[2001:db8::1]:443"]), ip("2001:db8::1"));
        assert_eq!(client(1, &["203.0.113.7, garbage"]), None);
        assert_eq!(client(1, &["203.0.113.7, "]), None);
        assert_eq!(
            TrustProxy::NONE.client_ip(ip("::ffff:127.0.0.2"), []),
            ip("127.0.0.2")
        );
    }

    #[test]
    fn forwarded_proto_is_read_the_same_way() {
        let secure = |hops, headers: &[&str]| {
            TrustProxy::hops(hops).is_secure(false, headers.iter().map(|h| h.as_bytes()))
        };
        assert!(secure(1, &["HTTPS"]));
        assert!(!secure(1, &["https, http"]), "the proxy's own entry counts");
        assert!(!secure(2, &["https, http", "http"]));
        assert!(secure(2, &["http, https, http"]));
        assert!(secure(2, &["https"]), "a proxy that overwrites: one entry");
        assert!(!secure(0, &["https"]));
        assert!(!secure(1, &[]));
        assert!(TrustProxy::NONE.is_secure(true, []));
    }
}
