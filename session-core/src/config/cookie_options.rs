//! Cookie attributes (express `cookie.*` options) and their validation rules.

use std::time::Duration;

use time::OffsetDateTime;

use super::cookie_rules::attribute_problems;
use crate::error::Error;
use crate::priority::Priority;
use crate::record::CookieRecord;
use crate::same_site::SameSite;

/// When the cookie carries `Secure` (express `cookie.secure`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Secure {
    /// Never (express's default: the attribute is absent).
    #[default]
    Never,
    /// Always. On a plain-HTTP request no cookie is set at all (express behaviour).
    Always,
    /// `'auto'`: decided once when the session is created: secure iff the request is
    /// secure (with `trust_proxy`, `X-Forwarded-Proto` decides).
    Auto,
}

/// `SameSite` for new sessions (express `cookie.sameSite`): a fixed value, or `Auto`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SameSiteOption {
    /// `Strict` (express also accepts `true`).
    Strict,
    /// `Lax`.
    Lax,
    /// `None`; requires `Secure`.
    None,
    /// `'auto'` (express 1.19): `None` on a secure request, `Lax` otherwise, decided
    /// when the session is created. Stored cookies hold the value it resolved to.
    Auto,
}

impl SameSiteOption {
    /// The attribute of a session created on a request that is (or is not) secure.
    fn resolve(self, secure_request: bool) -> SameSite {
        match self {
            SameSiteOption::Strict => SameSite::Strict,
            SameSiteOption::Lax => SameSite::Lax,
            SameSiteOption::None => SameSite::None,
            SameSiteOption::Auto if secure_request => SameSite::None,
            SameSiteOption::Auto => SameSite::Lax,
        }
    }
}

/// The cookie attributes of new sessions. Defaults are express-session's:
/// `Path=/`, `HttpOnly`, no `Secure`, no `SameSite`, a browser-session cookie.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CookieOptions {
    /// `Path` (default `/`); also the request-path prefix the session applies to.
    pub path: String,
    /// `Domain`.
    pub domain: Option<String>,
    /// `HttpOnly` (default `true`).
    pub http_only: bool,
    /// `Secure`.
    pub secure: Secure,
    /// `SameSite`.
    pub same_site: Option<SameSiteOption>,
    /// Lifetime (express `maxAge`); `None` for a browser-session cookie.
    pub max_age: Option<Duration>,
    /// Absolute expiry (express `expires`; discouraged there too). Ignored when
    /// `max_age` is set.
    pub expires: Option<OffsetDateTime>,
    /// `Partitioned`.
    pub partitioned: bool,
    /// `Priority`.
    pub priority: Option<Priority>,
}

impl Default for CookieOptions {
    fn default() -> Self {
        CookieOptions {
            path: "/".to_owned(),
            domain: None,
            http_only: true,
            secure: Secure::Never,
            same_site: None,
            max_age: None,
            expires: None,
            partitioned: false,
            priority: None,
        }
    }
}

impl CookieOptions {
    /// The cookie of a session created now, on a request that is (or is not) secure.
    pub(crate) fn new_cookie(&self, now: OffsetDateTime, secure_request: bool) -> CookieRecord {
        let mut c = CookieRecord {
            http_only: self.http_only,
            path: self.path.clone(),
            domain: self.domain.clone(),
            secure: match self.secure {
                Secure::Never => None,
                Secure::Always => Some(true),
                Secure::Auto => Some(secure_request),
            },
            same_site: self.same_site.map(|s| s.resolve(secure_request)),
            partitioned: self.partitioned.then_some(true),
            priority: self.priority,
            ..CookieRecord::default()
        };
        match (self.max_age, self.expires) {
            (Some(d), _) => c.set_max_age(Some(d), now),
            (None, Some(e)) => c.set_expires(Some(e), now),
            (None, None) => {}
        }
        c
    }

    pub(crate) fn validate(&self, name: &str) -> Result<(), Error> {
        let problems = attribute_problems(
            name,
            &self.path,
            self.domain.as_deref(),
            self.secure,
            self.same_site == Some(SameSiteOption::None),
            self.partitioned,
        );
        match problems.first() {
            Some(&(field, reason)) => Err(Error::InvalidConfig { field, reason }),
            None => Ok(()),
        }
    }
}

/// A cookie name must be an RFC 6265 token.
pub(crate) fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        assert!(is_token("connect.sid"));
        for bad in ["", "a b", "a;b", "a=b", "a\r\nb", "a\"", "caf\u{e9}"] {
            assert!(!is_token(bad), "{bad:?}");
        }
    }

    #[test]
    fn attribute_rules() {
        let ok = CookieOptions::default();
        assert!(ok.validate("connect.sid").is_ok());
        let cases = [
            CookieOptions {
                path: "/a;b".into(),
                ..ok.clone()
            },
            CookieOptions {
                path: "/a\r\nSet-Cookie: x".into(),
                ..ok.clone()
            },
            CookieOptions {
                path: "relative".into(),
                ..ok.clone()
            },
            CookieOptions {
                domain: Some("a;b".into()),
                ..ok.clone()
            },
            CookieOptions {
                domain: Some(String::new()),
                ..ok.clone()
            },
            CookieOptions {
                same_site: Some(SameSiteOption::None),
                ..ok.clone()
            },
            CookieOptions {
                partitioned: true,
                ..ok.clone()
            },
        ];
        for c in cases {
            assert!(c.validate("connect.sid").is_err(), "{c:?}");
        }
        let none_secure = CookieOptions {
            same_site: Some(SameSiteOption::None),
            secure: Secure::Always,
            ..ok.clone()
        };
        assert!(none_secure.validate("connect.sid").is_ok());
        assert!(ok.validate("__Host-sid").is_err());
        assert!(ok.validate("__Secure-sid").is_err());
        let host = CookieOptions {
            secure: Secure::Always,
            ..ok.clone()
        };
        assert!(host.validate("__Host-sid").is_ok());
        let host_domain = CookieOptions {
            domain: Some("example.com".into()),
            ..host
        };
        assert!(host_domain.validate("__Host-sid").is_err());
    }

    #[test]
    fn auto_values_are_resolved_at_creation() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let o = CookieOptions {
            secure: Secure::Auto,
            same_site: Some(SameSiteOption::Auto),
            ..Default::default()
        };
        let secure = o.new_cookie(now, true);
        assert_eq!(
            (secure.secure, secure.same_site),
            (Some(true), Some(SameSite::None))
        );
        let plain = o.new_cookie(now, false);
        assert_eq!(
            (plain.secure, plain.same_site),
            (Some(false), Some(SameSite::Lax))
        );
    }

    #[test]
    fn defaults_are_express_defaults() {
        let c = CookieOptions::default().new_cookie(OffsetDateTime::UNIX_EPOCH, false);
        assert_eq!(c, CookieRecord::default());
        let m = CookieOptions {
            max_age: Some(Duration::from_secs(60)),
            ..Default::default()
        }
        .new_cookie(OffsetDateTime::UNIX_EPOCH, false);
        assert_eq!(m.original_max_age, Some(60_000));
        assert_eq!(
            m.expires,
            Some(OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(60))
        );
    }
}
