//! `SessionConfig`: express-session's options, validated once when built.
//!
//! | express option | here |
//! |---|---|
//! | `name` | [`SessionConfigBuilder::name`] (default `connect.sid`) |
//! | `secret` | [`SessionConfig::builder`] takes [`Secrets`] |
//! | `cookie.*` | [`SessionConfigBuilder::cookie`] with [`CookieOptions`] |
//! | `genid` | [`SessionConfigBuilder::genid`] (the result is validated) |
//! | `proxy` | [`SessionConfigBuilder::trust_proxy`] |
//! | `resave` | [`SessionConfigBuilder::resave`] (default **false**) |
//! | `saveUninitialized` | [`SessionConfigBuilder::save_uninitialized`] (default **false**) |
//! | `rolling` | [`SessionConfigBuilder::rolling`] |
//! | `unset` | [`SessionConfigBuilder::unset`] |
//! | none | [`SessionConfigBuilder::idle_timeout`], [`SessionConfigBuilder::absolute_timeout`] |
//!
//! From h3, @scayle/h3-session and nuxt-session: [`SessionConfigBuilder::header_transport`]
//! (h3's `x-<name>-session` header), [`SessionConfigBuilder::ip_pinning`] (nuxt-session
//! `ipPinning`), [`SessionConfigBuilder::initial_data`] (h3-session `generate`),
//! [`SessionConfigBuilder::compat`] with [`Compat::H3Session`].

mod behaviour;
mod builder;
mod cookie_options;
mod cookie_rules;
mod trust_proxy;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

pub use behaviour::{Compat, Concurrency, MissingCookie, Unset};
pub use builder::SessionConfigBuilder;
pub use cookie_options::{CookieOptions, SameSiteOption, Secure};
pub use trust_proxy::TrustProxy;

use crate::error::Error;
use crate::id::SessionId;
use crate::record::{CookieRecord, DEFAULT_MAX_RECORD_BYTES, RecordMeta, add_ms};
use crate::secrets::Secrets;

/// Default for [`SessionConfigBuilder::max_queued_writes`]: 64 requests waiting to write
/// one session.
pub(crate) const DEFAULT_MAX_QUEUED_WRITES: usize = 64;

type GenId = Arc<dyn Fn() -> String + Send + Sync>;
type InitialData = Arc<dyn Fn() -> serde_json::Map<String, serde_json::Value> + Send + Sync>;

/// The one-day `Max-Age` @scayle/h3-session gives a cookie without a lifetime.
const H3_DEFAULT_MAX_AGE: Duration = Duration::from_secs(86_400);

/// The validated session configuration, shared by every request.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use session_core::{CookieOptions, Secrets, SessionConfig};
///
/// let config = SessionConfig::builder(Secrets::new(["a long random secret"])?)
///     .cookie(CookieOptions { max_age: Some(Duration::from_secs(3600)), ..Default::default() })
///     .rolling(true)
///     .build()?;
/// assert_eq!(config.name(), "connect.sid");
///
/// // Mistakes are caught here, never at request time.
/// let err = SessionConfig::builder(Secrets::new(["s"])?).name("bad;name").build();
/// assert!(err.is_err());
/// # Ok::<(), session_core::Error>(())
/// ```
#[derive(Clone)]
pub struct SessionConfig {
    pub(crate) secrets: Secrets,
    pub(crate) name: String,
    pub(crate) cookie: CookieOptions,
    pub(crate) genid: Option<GenId>,
    pub(crate) trust_proxy: TrustProxy,
    pub(crate) resave: bool,
    pub(crate) save_uninitialized: bool,
    pub(crate) rolling: bool,
    pub(crate) unset: Unset,
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) absolute_timeout: Option<Duration>,
    pub(crate) max_record_bytes: usize,
    pub(crate) max_queued_writes: usize,
    pub(crate) concurrency: Concurrency,
    pub(crate) missing_cookie: MissingCookie,
    pub(crate) header: Option<HeaderTransport>,
    pub(crate) ip_pinning: bool,
    pub(crate) initial_data: Option<InitialData>,
    pub(crate) compat: Compat,
}

/// Where the header transport reads and writes the session id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum HeaderTransport {
    /// `x-<cookie name>-session`, computed at build.
    Derived,
    /// An explicit (lowercase) name.
    Named(String),
}

impl SessionConfig {
    /// Starts a configuration with express-session's defaults, except that `resave` and
    /// `saveUninitialized` default to `false`.
    pub fn builder(secrets: Secrets) -> SessionConfigBuilder {
        SessionConfigBuilder {
            config: SessionConfig {
                secrets,
                name: "connect.sid".to_owned(),
                cookie: CookieOptions::default(),
                genid: None,
                trust_proxy: TrustProxy::NONE,
                resave: false,
                save_uninitialized: false,
                rolling: false,
                unset: Unset::Keep,
                idle_timeout: None,
                absolute_timeout: None,
                max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
                max_queued_writes: DEFAULT_MAX_QUEUED_WRITES,
                concurrency: Concurrency::Merge,
                missing_cookie: MissingCookie::Reject,
                header: None,
                ip_pinning: false,
                initial_data: None,
                compat: Compat::ExpressSession,
            },
        }
    }

    /// The cookie name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The request/response header that carries the session id when the header
    /// transport is on (lowercase), e.g. `x-connect.sid-session`.
    pub fn header_name(&self) -> Option<&str> {
        match &self.header {
            Some(HeaderTransport::Named(n)) => Some(n),
            _ => None,
        }
    }
    /// Whether sessions are pinned to the client address they were created from.
    pub fn ip_pinning(&self) -> bool {
        self.ip_pinning
    }
    /// The lifetime written as `Max-Age` (only with [`Compat::H3Session`]).
    pub(crate) fn max_age_attribute(&self) -> Option<Duration> {
        (self.compat == Compat::H3Session).then(|| {
            self.cookie
                .max_age
                .filter(|d| !d.is_zero())
                .unwrap_or(H3_DEFAULT_MAX_AGE)
        })
    }
    /// The data a new session starts with.
    pub(crate) fn initial_data(&self) -> serde_json::Map<String, serde_json::Value> {
        self.initial_data.as_ref().map(|f| f()).unwrap_or_default()
    }
    /// The cookie options.
    pub fn cookie(&self) -> &CookieOptions {
        &self.cookie
    }
    /// The proxies trusted for `X-Forwarded-For` and `X-Forwarded-Proto`.
    pub fn trust_proxy(&self) -> TrustProxy {
        self.trust_proxy
    }

    /// Whether a request path is inside the cookie's path (express's prefix test).
    pub fn applies_to_path(&self, path: &str) -> bool {
        path.starts_with(&self.cookie.path)
    }

    /// A new session id from `genid` or the default generator.
    pub(crate) fn generate_id(&self) -> Result<SessionId, Error> {
        match &self.genid {
            Some(f) => SessionId::parse(&f()).ok_or(Error::InvalidGeneratedId),
            None => Ok(SessionId::generate()?),
        }
    }

    pub(crate) fn new_cookie(&self, now: OffsetDateTime, secure_request: bool) -> CookieRecord {
        self.cookie.new_cookie(now, secure_request)
    }

    pub(crate) fn new_meta(&self, now: OffsetDateTime) -> RecordMeta {
        let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        RecordMeta {
            absolute_expiry: self.absolute_timeout.map(|d| add_ms(now, ms(d))),
            idle_timeout_ms: self.idle_timeout.map(ms),
            client_pin: None,
        }
    }
}

impl fmt::Debug for SessionConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionConfig")
            .field("name", &self.name)
            .field("secrets", &self.secrets)
            .field("cookie", &self.cookie)
            .field("genid", &self.genid.as_ref().map(|_| "custom"))
            .field("trust_proxy", &self.trust_proxy)
            .field("resave", &self.resave)
            .field("save_uninitialized", &self.save_uninitialized)
            .field("rolling", &self.rolling)
            .field("unset", &self.unset)
            .field("idle_timeout", &self.idle_timeout)
            .field("absolute_timeout", &self.absolute_timeout)
            .field("max_record_bytes", &self.max_record_bytes)
            .field("max_queued_writes", &self.max_queued_writes)
            .field("concurrency", &self.concurrency)
            .field("missing_cookie", &self.missing_cookie)
            .field("header", &self.header)
            .field("ip_pinning", &self.ip_pinning)
            .field(
                "initial_data",
                &self.initial_data.as_ref().map(|_| "custom"),
            )
            .field("compat", &self.compat)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builder() -> SessionConfigBuilder {
        SessionConfig::builder(Secrets::new(["keyboard cat"]).unwrap())
    }

    #[test]
    fn defaults() {
        let c = builder().build().unwrap();
        assert_eq!(c.name(), "connect.sid");
        assert!(!c.resave && !c.save_uninitialized && !c.rolling);
        assert_eq!(c.unset, Unset::Keep);
        assert_eq!(c.concurrency, Concurrency::Merge);
        assert_eq!(c.cookie(), &CookieOptions::default());
        assert_eq!(c.trust_proxy(), TrustProxy::NONE);
    }

    #[test]
    fn invalid_names_and_values_fail_at_build() {
        for name in ["", "a b", "a;b", "a\r\n", "a=b"] {
            assert!(builder().name(name).build().is_err(), "{name:?}");
        }
        assert!(builder().idle_timeout(Duration::ZERO).build().is_err());
        assert!(builder().absolute_timeout(Duration::ZERO).build().is_err());
        assert!(builder().max_record_bytes(0).build().is_err());
    }

    #[test]
    fn genid_is_validated() {
        assert!(matches!(
            builder().genid(|| "has space".into()).build(),
            Err(Error::InvalidGeneratedId)
        ));
        let c = builder().genid(|| "apple".into()).build().unwrap();
        assert_eq!(c.generate_id().unwrap().expose(), "apple");
    }

    #[test]
    fn path_prefix() {
        let c = builder()
            .cookie(CookieOptions {
                path: "/foo/bar".into(),
                ..Default::default()
            })
            .build()
            .unwrap();
        assert!(c.applies_to_path("/foo/bar") && c.applies_to_path("/foo/bar/baz"));
        assert!(!c.applies_to_path("/") && !c.applies_to_path("/foo"));
    }

    #[test]
    fn debug_redacts() {
        let c = builder().build().unwrap();
        assert!(!format!("{c:?}").contains("keyboard"));
    }

    #[test]
    fn meta_from_timeouts() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let c = builder()
            .idle_timeout(Duration::from_secs(60))
            .absolute_timeout(Duration::from_secs(3600))
            .build()
            .unwrap();
        let m = c.new_meta(now);
        assert_eq!(m.idle_timeout_ms, Some(60_000));
        assert_eq!(m.absolute_expiry, Some(now + time::Duration::hours(1)));
    }
}
