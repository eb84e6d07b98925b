//! What one session's cookie may be, given the configured options: the rules for a
//! cookie loaded from a store (`conform`: repaired, with a warning) and for one a
//! handler changes (`check`: refused). Either way a `path` or `domain` that would inject
//! attributes or drop the header never reaches `Set-Cookie`, and a cookie is never
//! weaker than configured for `HttpOnly` and `Secure::Always` (other attributes are
//! the handler's call, as in express).

use super::{CookieOptions, Secure};
use crate::error::Error;
use crate::record::CookieRecord;
use crate::same_site::SameSite;

/// The rules every cookie this layer sends must keep, for the configuration (whose
/// `secure` may be `Auto`) and for one session's cookie (`Always` or `Never`, from its
/// `secure` flag): a `path` and `domain` that inject no attribute, `SameSite=None` and
/// `Partitioned` only with `Secure` possible, and the `__Host-` and `__Secure-` name
/// prefixes' rules. Each problem as (field, reason), in this order.
pub(super) fn attribute_problems(
    name: &str,
    path: &str,
    domain: Option<&str>,
    secure: Secure,
    same_site_none: bool,
    partitioned: bool,
) -> Vec<(&'static str, &'static str)> {
    [
        (
            !valid_path(path),
            "cookie.path",
            "must start with '/' and contain no control characters or ';'",
        ),
        (
            domain.is_some_and(|d| !valid_domain(d)),
            "cookie.domain",
            "must be non-empty with no spaces, control characters or ';'",
        ),
        (
            same_site_none && secure == Secure::Never,
            "cookie.sameSite",
            "SameSite=None requires Secure (secure always or auto)",
        ),
        (
            partitioned && secure == Secure::Never,
            "cookie.partitioned",
            "Partitioned requires Secure (secure always or auto)",
        ),
        (
            name.starts_with("__Host-")
                && (secure != Secure::Always || path != "/" || domain.is_some()),
            "name",
            "a __Host- cookie requires Secure (always), path '/' and no domain",
        ),
        (
            name.starts_with("__Secure-") && secure != Secure::Always,
            "name",
            "a __Secure- cookie requires Secure (always)",
        ),
    ]
    .into_iter()
    .filter_map(|(bad, field, reason)| bad.then_some((field, reason)))
    .collect()
}

/// A `Path` attribute: starts with `/`, no control characters, no `;`.
fn valid_path(path: &str) -> bool {
    path.starts_with('/') && is_attr_value(path)
}

/// A `Domain` attribute: non-empty, no spaces, control characters or `;`.
fn valid_domain(domain: &str) -> bool {
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

    /// Whether a handler may change its session's cookie from `before` to `after`
    /// (express lets it set `req.session.cookie.*`): the change may not introduce a
    /// problem `before` did not have. Problems: a `path` or `domain` the configuration
    /// would refuse, a cookie weaker than configured (`HttpOnly`; `Secure` under
    /// `Secure::Always`), `SameSite=None` or `Partitioned` without `Secure`, and
    /// breaking the rules of a `__Host-` or `__Secure-` cookie `name`. Everything else
    /// (a wider path, another domain, a laxer `SameSite`) is the handler's call, as in
    /// express.
    pub(crate) fn check(
        &self,
        name: &str,
        before: &CookieRecord,
        after: &CookieRecord,
    ) -> Result<(), Error> {
        let had = self.problems(name, before);
        match self
            .problems(name, after)
            .into_iter()
            .find(|p| !had.contains(p))
        {
            Some((field, reason)) => Err(Error::InvalidConfig { field, reason }),
            None => Ok(()),
        }
    }

    fn problems(&self, name: &str, c: &CookieRecord) -> Vec<(&'static str, &'static str)> {
        let secure = c.secure == Some(true);
        let mut found = attribute_problems(
            name,
            &c.path,
            c.domain.as_deref(),
            if secure {
                Secure::Always
            } else {
                Secure::Never
            },
            c.same_site == Some(SameSite::None),
            c.partitioned == Some(true),
        );
        if self.http_only && !c.http_only {
            found.push(("cookie.httpOnly", "the configuration requires HttpOnly"));
        }
        if self.secure == Secure::Always && !secure {
            found.push(("cookie.secure", "the configuration requires Secure"));
        }
        found
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
        let base = CookieRecord::default();
        assert!(options.check("sid", &base, &ok).is_ok());
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
            assert!(options.check("sid", &ok, &bad).is_err(), "{bad:?}");
        }
        let lax = CookieOptions {
            http_only: false,
            ..CookieOptions::default()
        };
        let open = CookieRecord {
            http_only: false,
            ..ok.clone()
        };
        assert!(lax.check("sid", &ok, &open).is_ok());
        // Prefixed names keep their rules.
        let host = CookieRecord {
            secure: Some(true),
            ..CookieRecord::default()
        };
        let moved = CookieRecord {
            path: "/account".into(),
            ..host.clone()
        };
        assert!(options.check("__Host-sid", &host, &moved).is_err());
        // A problem the cookie already had does not block other changes.
        let legacy = CookieRecord {
            same_site: Some(SameSite::None),
            ..CookieRecord::default()
        };
        let other_path = CookieRecord {
            path: "/app".into(),
            ..legacy.clone()
        };
        assert!(options.check("sid", &legacy, &other_path).is_ok());
    }
}
