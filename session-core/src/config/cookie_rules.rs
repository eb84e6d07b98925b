//! What one session's cookie may be, given the configured options: the rules for a
//! cookie loaded from a store (`conform`: repaired, with a warning) and for one a
//! handler changes (`check`: refused). Either way a `path` or `domain` that would inject
//! attributes or drop the header never reaches `Set-Cookie`, and a cookie is never
//! weaker than configured.

use super::{CookieOptions, Secure};
use crate::error::Error;
use crate::record::CookieRecord;
use crate::same_site::SameSite;

/// A `Path` attribute: starts with `/`, no control characters, no `;`.
pub(super) fn valid_path(path: &str) -> bool {
    path.starts_with('/') && is_attr_value(path)
}

/// A `Domain` attribute: non-empty, no spaces, control characters or `;`.
pub(super) fn valid_domain(domain: &str) -> bool {
    !domain.is_empty() && is_attr_value(domain) && !domain.contains(' ')
}

fn is_attr_value(v: &str) -> bool {
    v.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b';')
}

impl CookieOptions {
    /// Brings a cookie read from a store in line with these options wherever the
    /// stored value could not be sent safely: a `path` or `domain` that the
    /// configuration would refuse (a `;` or a control character would inject
    /// attributes or drop the header) becomes the configured one, and the stored
    /// cookie is never weaker than configured (`HttpOnly`, `Secure` when always on).
    /// Returns the attributes replaced.
    pub(crate) fn conform(&self, cookie: &mut CookieRecord) -> Vec<&'static str> {
        let mut replaced = Vec::new();
        if !valid_path(&cookie.path) {
            cookie.path.clone_from(&self.path);
            replaced.push("path");
        }
        if cookie.domain.as_deref().is_some_and(|d| !valid_domain(d)) {
            cookie.domain.clone_from(&self.domain);
            replaced.push("domain");
        }
        if self.http_only && !cookie.http_only {
            cookie.http_only = true;
            replaced.push("httpOnly");
        }
        if self.secure == Secure::Always && cookie.secure != Some(true) {
            cookie.secure = Some(true);
            replaced.push("secure");
        }
        replaced
    }

    /// Whether a handler may give its session this cookie (express lets it set
    /// `req.session.cookie.*`): a valid `path` and `domain`, never weaker than
    /// configured (`HttpOnly`, `Secure` when always on), and `SameSite=None` only with
    /// `Secure`.
    pub(crate) fn check(&self, cookie: &CookieRecord) -> Result<(), Error> {
        let bad = |field, reason| Err(Error::InvalidConfig { field, reason });
        if !valid_path(&cookie.path) {
            return bad(
                "cookie.path",
                "must start with '/' and contain no control characters or ';'",
            );
        }
        if cookie.domain.as_deref().is_some_and(|d| !valid_domain(d)) {
            return bad(
                "cookie.domain",
                "must be non-empty with no spaces, control characters or ';'",
            );
        }
        if self.http_only && !cookie.http_only {
            return bad("cookie.httpOnly", "the configuration requires HttpOnly");
        }
        if self.secure == Secure::Always && cookie.secure != Some(true) {
            return bad("cookie.secure", "the configuration requires Secure");
        }
        if cookie.same_site == Some(SameSite::None) && cookie.secure != Some(true) {
            return bad("cookie.sameSite", "SameSite=None requires Secure");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_cookies_are_never_unsafe_or_weaker_than_configured() {
        let options = CookieOptions {
            path: "/app".into(),
            secure: Secure::Always,
            ..CookieOptions::default()
        };
        let mut c = CookieRecord {
            path: "/; Domain=evil.example; SameSite=None".into(),
            domain: Some("a\r\nSet-Cookie: x=y".into()),
            http_only: false,
            secure: Some(false),
            ..CookieRecord::default()
        };
        let replaced = options.conform(&mut c);
        assert_eq!(replaced, ["path", "domain", "httpOnly", "secure"]);
        assert_eq!(
            (c.path.as_str(), c.domain, c.http_only, c.secure),
            ("/app", None, true, Some(true))
        );
        let mut fine = CookieRecord {
            path: "/app/x".into(),
            domain: Some("example.com".into()),
            secure: Some(true),
            ..CookieRecord::default()
        };
        assert!(options.conform(&mut fine).is_empty());
        assert_eq!(
            fine.path, "/app/x",
            "a valid stored path is kept (express allows it)"
        );
    }

    #[test]
    fn a_handler_may_change_a_cookie_but_not_weaken_or_break_it() {
        let options = CookieOptions::default();
        let ok = CookieRecord {
            path: "/app".into(),
            domain: Some("example.com".into()),
            same_site: Some(SameSite::Strict),
            ..CookieRecord::default()
        };
        assert!(options.check(&ok).is_ok());
        for bad in [
            CookieRecord {
                path: "/; Domain=evil".into(),
                ..ok.clone()
            },
            CookieRecord {
                domain: Some("a\r\nb".into()),
                ..ok.clone()
            },
            CookieRecord {
                http_only: false,
                ..ok.clone()
            },
            CookieRecord {
                same_site: Some(SameSite::None),
                ..ok.clone()
            },
        ] {
            assert!(options.check(&bad).is_err(), "{bad:?}");
        }
        let lax = CookieOptions {
            http_only: false,
            ..CookieOptions::default()
        };
        assert!(
            lax.check(&CookieRecord {
                http_only: false,
                ..ok
            })
            .is_ok()
        );
    }
}
