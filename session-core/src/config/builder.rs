//! `SessionConfigBuilder`: express-session's options, one method each, validated by
//! `build`.

use std::sync::Arc;
use std::time::Duration;

use super::{
    Compat, Concurrency, CookieOptions, HeaderTransport, MissingCookie, SessionConfig, TrustProxy,
    Unset,
};
use crate::error::Error;

/// Builds a [`SessionConfig`]; [`SessionConfigBuilder::build`] validates everything.
#[derive(Debug)]
#[must_use]
pub struct SessionConfigBuilder {
    pub(super) config: SessionConfig,
}

impl SessionConfigBuilder {
    /// The cookie name (express `name`; default `connect.sid`). Must be an RFC 6265 token.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.config.name = name.into();
        self
    }
    /// The cookie attributes (express `cookie`).
    pub fn cookie(mut self, cookie: CookieOptions) -> Self {
        self.config.cookie = cookie;
        self
    }
    /// A custom id generator (express `genid`). Its ids must pass [`SessionId::parse`](crate::SessionId::parse);
    /// it is called once by `build` to check.
    pub fn genid(mut self, genid: impl Fn() -> String + Send + Sync + 'static) -> Self {
        self.config.genid = Some(Arc::new(genid));
        self
    }
    /// Also accept the signed session id from a request header and send it back in a
    /// response header, for API clients that keep no cookies (h3's `sessionHeader`).
    /// The header is `x-<cookie name, lowercase>-session` (`x-connect.sid-session` by
    /// default) unless [`SessionConfigBuilder::header_name`] names another. Its value is
    /// the cookie's value (`s%3A<id>.<signature>`, or unencoded `s:<id>.<signature>`);
    /// a valid header wins over the cookie, and the cookie keeps working.
    ///
    /// The token is sent back only to a header client: a request whose session came
    /// from the header, or that carried the header and no cookie of ours (a client
    /// without a session yet sends it empty). The id of a cookie session is never put
    /// in a header, so page scripts cannot read it even by adding the header
    /// themselves. Such responses are `Cache-Control: no-store`, and a response that
    /// read the session names the header in `Vary`.
    pub fn header_transport(mut self, on: bool) -> Self {
        self.config.header = on.then_some(HeaderTransport::Derived);
        self
    }
    /// The header for [`SessionConfigBuilder::header_transport`] (turns it on).
    pub fn header_name(mut self, name: impl Into<String>) -> Self {
        self.config.header = Some(HeaderTransport::Named(name.into().to_ascii_lowercase()));
        self
    }
    /// Bind each session to the client address it was created from (nuxt-session
    /// `ipPinning`): a request from another address gets a fresh session (the stored
    /// one is left for its owner) and an `invalid_cookie` event with reason
    /// `ip_mismatch`. With [`SessionConfigBuilder::trust_proxy`], the address is the
    /// `X-Forwarded-For` entry written by the outermost trusted proxy. The record keeps
    /// a keyed hash, never the address.
    pub fn ip_pinning(mut self, on: bool) -> Self {
        self.config.ip_pinning = on;
        self
    }
    /// The data every new session starts with (h3-session's `generate`). It is the
    /// session's initial state, not a change: with `save_uninitialized(false)` a
    /// session that only holds it is not saved.
    pub fn initial_data(
        mut self,
        f: impl Fn() -> serde_json::Map<String, serde_json::Value> + Send + Sync + 'static,
    ) -> Self {
        self.config.initial_data = Some(Arc::new(f));
        self
    }
    /// Follow another implementation's wire format; see [`Compat`]. With
    /// [`Compat::H3Session`], `build` also sets `rolling` and
    /// [`MissingCookie::UseDefaults`], and refuses secrets whose signing secret is not
    /// explicit.
    pub fn compat(mut self, compat: Compat) -> Self {
        self.config.compat = compat;
        self
    }
    /// The proxies in front of the application (express `trust proxy` as a number of
    /// hops; express-session's `proxy`): `X-Forwarded-Proto` then tells a secure
    /// request and `X-Forwarded-For` the client address for
    /// [`SessionConfigBuilder::ip_pinning`], each read `hops` entries from the right
    /// (see [`TrustProxy`]). `true` is one hop. Default: none.
    ///
    /// ```
    /// use session_core::{Secrets, SessionConfig, TrustProxy};
    ///
    /// let behind_nginx = SessionConfig::builder(Secrets::new(["s"])?).trust_proxy(true).build()?;
    /// assert_eq!(behind_nginx.trust_proxy(), TrustProxy::hops(1));
    /// let cdn_then_lb = SessionConfig::builder(Secrets::new(["s"])?)
    ///     .trust_proxy(TrustProxy::hops(2))
    ///     .build()?;
    /// assert_eq!(cdn_then_lb.trust_proxy(), TrustProxy::hops(2));
    /// # Ok::<(), session_core::Error>(())
    /// ```
    pub fn trust_proxy(mut self, trust: impl Into<TrustProxy>) -> Self {
        self.config.trust_proxy = trust.into();
        self
    }
    /// Save unmodified sessions too (express `resave`; default false).
    pub fn resave(mut self, resave: bool) -> Self {
        self.config.resave = resave;
        self
    }
    /// Save new sessions that hold no data (express `saveUninitialized`; default false).
    pub fn save_uninitialized(mut self, save: bool) -> Self {
        self.config.save_uninitialized = save;
        self
    }
    /// Send the cookie on every response of an existing session (express `rolling`).
    pub fn rolling(mut self, rolling: bool) -> Self {
        self.config.rolling = rolling;
        self
    }
    /// What [`Session::unset`](crate::Session::unset) does (express `unset`).
    pub fn unset(mut self, unset: Unset) -> Self {
        self.config.unset = unset;
        self
    }
    /// Server-side idle timeout: the store forgets a session unused for this long,
    /// whatever the cookie's lifetime.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.config.idle_timeout = Some(timeout);
        self
    }
    /// Server-side absolute timeout: a session ends this long after it was created,
    /// however active it is. The deadline is stored in the record and survives a
    /// round trip through express-session.
    pub fn absolute_timeout(mut self, timeout: Duration) -> Self {
        self.config.absolute_timeout = Some(timeout);
        self
    }
    /// Largest encoded session accepted on save and on load (default 1 MiB).
    pub fn max_record_bytes(mut self, limit: usize) -> Self {
        self.config.max_record_bytes = limit;
        self
    }
    /// How many requests of this process may wait to write one session while another
    /// writes it (default 64). A request beyond that fails
    /// with [`Error::Busy`] (adapters answer `503` with `Retry-After`) instead of
    /// queueing, holding its copy of the session, without bound. A browser sends at
    /// most a handful of requests at once (six per host over HTTP/1.1), so only a
    /// client hammering one session meets this bound.
    pub fn max_queued_writes(mut self, waiting: usize) -> Self {
        self.config.max_queued_writes = waiting;
        self
    }
    /// How saves treat concurrent changes (default [`Concurrency::Merge`]).
    pub fn concurrency(mut self, mode: Concurrency) -> Self {
        self.config.concurrency = mode;
        self
    }
    /// What a stored record without a `cookie` means (default [`MissingCookie::Reject`]).
    pub fn missing_cookie(mut self, policy: MissingCookie) -> Self {
        self.config.missing_cookie = policy;
        self
    }

    /// Validates and returns the configuration.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for a name that is not a token, a path or domain with
    /// CR, LF or `;`, `SameSite=None` or `Partitioned` without `Secure`, a `__Host-` or
    /// `__Secure-` name whose attributes break the prefix rules, a zero timeout or size
    /// limit; [`Error::InvalidGeneratedId`] when a custom `genid` returns an invalid id.
    pub fn build(self) -> Result<SessionConfig, Error> {
        let mut c = self.config;
        if c.compat == Compat::H3Session {
            if !c.secrets.has_explicit_signer() {
                return Err(Error::InvalidConfig {
                    field: "secret",
                    reason: "@scayle/h3-session signs with the LAST secret: build the secrets with Secrets::last_signs (or with_signing_index) so the signing secret is explicit",
                });
            }
            c.rolling = true;
            c.missing_cookie = MissingCookie::UseDefaults;
        }
        if c.header == Some(HeaderTransport::Derived) {
            c.header = Some(HeaderTransport::Named(format!(
                "x-{}-session",
                c.name.to_ascii_lowercase()
            )));
        }
        if let Some(HeaderTransport::Named(h)) = &c.header
            && (!super::cookie_options::is_token(h) || http_header_forbidden(h))
        {
            return Err(Error::InvalidConfig {
                field: "header",
                reason: "the session header name must be a token and not a standard header",
            });
        }
        if !super::cookie_options::is_token(&c.name) {
            return Err(Error::InvalidConfig {
                field: "name",
                reason: "must be a non-empty RFC 6265 token (no spaces, ';', '=', CR or LF)",
            });
        }
        c.cookie.validate(&c.name)?;
        let zero = |d: Option<Duration>| d.is_some_and(|d| d.is_zero());
        if zero(c.idle_timeout) || zero(c.absolute_timeout) {
            return Err(Error::InvalidConfig {
                field: "timeout",
                reason: "idle and absolute timeouts must be longer than zero",
            });
        }
        if c.max_record_bytes == 0 {
            return Err(Error::InvalidConfig {
                field: "maxRecordBytes",
                reason: "the record size limit must be above zero",
            });
        }
        c.generate_id()?;
        Ok(c)
    }
}

/// Headers the session id must not travel in.
fn http_header_forbidden(name: &str) -> bool {
    matches!(
        name,
        "cookie"
            | "set-cookie"
            | "authorization"
            | "host"
            | "content-length"
            | "content-type"
            | "transfer-encoding"
            | "connection"
    )
}
