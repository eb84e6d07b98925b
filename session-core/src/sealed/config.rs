//! `SealedConfig`: which app's sealed cookies to read and write, with which
//! passwords, lifetime and cookie attributes.

use std::time::Duration;

use super::format::SealFormat;
use super::iron::IronOptions;
use super::passwords::Passwords;
use crate::config::{Concurrency, CookieOptions, SameSiteOption, Secure, SessionConfig};
use crate::error::Error;
use crate::secrets::Secrets;

/// iron-session's default `ttl`: 14 days.
const IRON_SESSION_TTL: Duration = Duration::from_secs(14 * 86_400);
/// h3 2.x's PBKDF2 iteration count (h3 1.x and iron-webcrypto use 1).
const H3_V2_ITERATIONS: u32 = 8_192;

/// The configuration of sealed-cookie sessions: the session data lives in the cookie,
/// sealed with iron, and no store is used.
///
/// Start from the app whose cookies to share: [`SealedConfig::h3`] (h3 1.x
/// `useSession`, Nuxt 3, Nitro 2, vinxi), [`SealedConfig::h3_v2`] (h3 2.x) or
/// [`SealedConfig::iron_session`] (Next.js). The defaults are that app's.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use session_core::sealed::{Passwords, SealedConfig};
///
/// // Nuxt: useSession(event, { password: process.env.NUXT_SESSION_PASSWORD, maxAge: 3600 })
/// let config = SealedConfig::h3(Passwords::new(["at least thirty-two characters of secret"])?)
///     .max_age(Duration::from_secs(3600))
///     .build()?;
/// assert_eq!(config.name(), "h3");
/// # Ok::<(), session_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct SealedConfig {
    pub(crate) format: SealFormat,
    pub(crate) passwords: Passwords,
    pub(crate) iron: IronOptions,
    /// h3's `maxAge` / iron-session's `ttl`.
    pub(crate) max_age: Option<Duration>,
    /// A new session gets its cookie when the handler uses it, even unchanged (h3).
    pub(crate) save_uninitialized: bool,
    /// The cookie name, attributes and session header, for the shared request code.
    pub(crate) session: SessionConfig,
}

/// The session header: h3's `x-<name>-session` (none for iron-session) unless set.
#[derive(Debug)]
enum Header {
    Default,
    Set(Option<String>),
}

/// Builds a [`SealedConfig`]; [`SealedConfigBuilder::build`] validates it.
#[derive(Debug)]
#[must_use]
pub struct SealedConfigBuilder {
    format: SealFormat,
    passwords: Passwords,
    name: String,
    max_age: Option<Duration>,
    cookie: CookieOptions,
    header: Header,
    save_uninitialized: bool,
    iterations: Option<u32>,
}

impl SealedConfig {
    /// h3 1.x `useSession` (Nuxt 3, Nitro 2, vinxi): cookie `h3`, also read from the
    /// `x-h3-session` header; `Path=/; HttpOnly; Secure`; no `maxAge` (a
    /// browser-session cookie and a seal without expiry); a new session gets its
    /// cookie as soon as a handler uses it, as `useSession` does.
    pub fn h3(passwords: Passwords) -> SealedConfigBuilder {
        SealedConfigBuilder::new(SealFormat::H3, passwords, "h3")
    }

    /// h3 2.x `useSession`: as [`SealedConfig::h3`], plus `SameSite=Lax`, and keys
    /// derived with 8,192 PBKDF2 iterations (h3 1.x seals are still read, and sealed
    /// again the h3 2.x way when read). h3 1.x cannot read h3 2.x seals: move the
    /// Node side to h3 2.x first, or use [`SealedConfig::h3`] until it has moved.
    pub fn h3_v2(passwords: Passwords) -> SealedConfigBuilder {
        let mut b = SealedConfigBuilder::new(SealFormat::H3V2, passwords, "h3");
        b.cookie.same_site = Some(SameSiteOption::Lax);
        b
    }

    /// iron-session (Next.js): the data object sealed as it is, with `~2` after the
    /// seal; `ttl` 14 days (the cookie's `Max-Age` one minute less);
    /// `Path=/; HttpOnly; Secure; SameSite=Lax`; no session header; a cookie only when
    /// something is written (iron-session's `save()`). iron-session has
    /// no default cookie name: `cookie_name` is its `cookieName`. The passwords come
    /// from [`Passwords::iron_session`] (iron-session finds its password by the
    /// seal's numeric id; a plain string password is its id 1).
    pub fn iron_session(
        cookie_name: impl Into<String>,
        passwords: Passwords,
    ) -> SealedConfigBuilder {
        let mut b = SealedConfigBuilder::new(SealFormat::IronSession, passwords, "");
        b.name = cookie_name.into();
        b.header = Header::Set(None);
        b.save_uninitialized = false;
        b.max_age = Some(IRON_SESSION_TTL);
        b.cookie.same_site = Some(SameSiteOption::Lax);
        b
    }

    /// The cookie name.
    pub fn name(&self) -> &str {
        self.session.name()
    }

    /// The session's lifetime (h3's `maxAge`, iron-session's `ttl`).
    pub fn max_age(&self) -> Option<Duration> {
        self.max_age
    }

    /// Whose cookies these are.
    pub fn format(&self) -> SealFormat {
        self.format
    }
}

impl SealedConfigBuilder {
    fn new(format: SealFormat, passwords: Passwords, name: &str) -> Self {
        SealedConfigBuilder {
            format,
            passwords,
            name: name.to_owned(),
            max_age: None,
            cookie: CookieOptions {
                secure: Secure::Always,
                ..CookieOptions::default()
            },
            header: Header::Default,
            save_uninitialized: true,
            iterations: None,
        }
    }

    /// The cookie name (h3's `name`, iron-session's `cookieName`). With h3, the
    /// session header follows it (`x-<name>-session`) unless set.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The session's lifetime: h3's `maxAge` (the cookie expires `max_age` after the
    /// session was created, and so does the seal) or iron-session's `ttl` (each seal
    /// lives `max_age`; the cookie's `Max-Age` is one minute less). Zero: none. At most
    /// ten years ([`MAX_STORE_TTL`](crate::store::MAX_STORE_TTL)); longer is ten years.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age.min(crate::store::MAX_STORE_TTL)).filter(|d| !d.is_zero());
        self
    }

    /// Changes the cookie's attributes, starting from the app's defaults (as h3 and
    /// iron-session merge `cookie`/`cookieOptions` over theirs): `path`, `domain`,
    /// `http_only`, `secure`, `same_site`, `partitioned`, `priority`. The lifetime is
    /// [`SealedConfigBuilder::max_age`]: setting `max_age` or `expires` here is refused
    /// by `build`.
    ///
    /// ```
    /// use session_core::sealed::{Passwords, SealedConfig};
    ///
    /// let config = SealedConfig::h3_v2(Passwords::new(["at least thirty-two characters of secret"])?)
    ///     .cookie(|c| c.domain = Some("example.com".into())) // still Secure, SameSite=Lax
    ///     .build()?;
    /// # Ok::<(), session_core::Error>(())
    /// ```
    pub fn cookie(mut self, edit: impl FnOnce(&mut CookieOptions)) -> Self {
        edit(&mut self.cookie);
        self
    }

    /// The request header a sealed session is also read from (h3's `sessionHeader`;
    /// default `x-<name>-session` for h3, none for iron-session); `None` turns it off.
    /// As in h3, the header is read before the cookie, and the answer is a cookie.
    pub fn session_header(mut self, header: Option<&str>) -> Self {
        self.header = Header::Set(header.map(str::to_ascii_lowercase));
        self
    }

    /// The PBKDF2 iteration count of both keys (h3's `seal: { encryption: {
    /// iterations }, integrity: { iterations } }`, the same for both): 1 for h3 1.x and
    /// iron-session, 8,192 for h3 2.x. Each key of a new seal costs this many rounds
    /// (docs/benchmarks.md has the figures).
    pub fn iterations(mut self, iterations: u32) -> Self {
        self.iterations = Some(iterations.max(1));
        self
    }

    /// Whether a new session gets its cookie as soon as a handler uses it, even with
    /// nothing written (default: yes for h3, whose `useSession` does so, keeping the
    /// new id from one request to the next; no for iron-session, which writes only on
    /// `save()`).
    pub fn save_uninitialized(mut self, save: bool) -> Self {
        self.save_uninitialized = save;
        self
    }

    /// Validates the configuration.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for a cookie name that is not a token, unsafe or
    /// contradictory attributes (as [`SessionConfig`]), or a `max_age`/`expires` in
    /// the cookie options.
    pub fn build(self) -> Result<SealedConfig, Error> {
        if self.cookie.max_age.is_some() || self.cookie.expires.is_some() {
            return Err(Error::InvalidConfig {
                field: "cookie.maxAge",
                reason: "the lifetime of a sealed session is SealedConfigBuilder::max_age",
            });
        }
        let numbered =
            |id: Option<&str>| id.is_some_and(|id| id.bytes().all(|b| b.is_ascii_digit()));
        if self.format == SealFormat::IronSession && !numbered(self.passwords.current().id()) {
            // iron-session reads a seal only through its password map, by id.
            return Err(Error::InvalidConfig {
                field: "password",
                reason: "iron-session seals carry a numeric password id: use Passwords::iron_session",
            });
        }
        // Never signs anything: the shared request code only needs a configuration.
        let unused = Secrets::new([self.passwords.current().secret()])?;
        let header = match self.header {
            Header::Set(set) => set,
            Header::Default if self.format == SealFormat::IronSession => None,
            Header::Default => Some(format!("x-{}-session", self.name.to_ascii_lowercase())),
        };
        let mut session = SessionConfig::builder(unused)
            .name(self.name)
            .cookie(self.cookie)
            .concurrency(Concurrency::LastWriteWins)
            .genid(super::format::random_uuid);
        if let Some(header) = header {
            session = session.header_name(header);
        }
        let (default, legacy_iterations) = match self.format {
            SealFormat::H3V2 => (
                H3_V2_ITERATIONS,
                Some(1).filter(|_| self.iterations != Some(1)),
            ),
            SealFormat::H3 | SealFormat::IronSession => (1, None),
        };
        let iterations = self.iterations.unwrap_or(default);
        if self.format == SealFormat::IronSession && iterations != 1 {
            return Err(Error::InvalidConfig {
                field: "seal.iterations",
                reason: "iron-session seals with one PBKDF2 iteration",
            });
        }
        Ok(SealedConfig {
            format: self.format,
            passwords: self.passwords,
            iron: IronOptions {
                iterations,
                legacy_iterations,
                ttl: self.max_age,
                ..IronOptions::default()
            },
            max_age: self.max_age,
            save_uninitialized: self.save_uninitialized,
            session: session.build()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "a password of at least thirty-two characters";

    #[test]
    fn iterations_follow_the_app_and_h3_v2_still_reads_legacy_seals() {
        let p = || Passwords::new([P]).unwrap();
        let v2 = SealedConfig::h3_v2(p()).build().unwrap();
        assert_eq!(
            (v2.iron.iterations, v2.iron.legacy_iterations),
            (8192, Some(1))
        );
        let tuned = SealedConfig::h3_v2(p()).iterations(100).build().unwrap();
        assert_eq!(
            (tuned.iron.iterations, tuned.iron.legacy_iterations),
            (100, Some(1))
        );
        let one = SealedConfig::h3_v2(p()).iterations(1).build().unwrap();
        assert_eq!((one.iron.iterations, one.iron.legacy_iterations), (1, None));
        let v1 = SealedConfig::h3(p()).build().unwrap();
        assert_eq!((v1.iron.iterations, v1.iron.legacy_iterations), (1, None));
    }

    #[test]
    fn lifetimes_and_iron_session_passwords_are_checked() {
        let p = || Passwords::new([P]).unwrap();
        let zero = SealedConfig::h3(p())
            .max_age(Duration::ZERO)
            .build()
            .unwrap();
        assert_eq!(zero.max_age(), None);
        let long = SealedConfig::h3(p())
            .max_age(Duration::MAX)
            .build()
            .unwrap();
        assert_eq!(long.max_age(), Some(crate::store::MAX_STORE_TTL));
        let word = Passwords::with_ids([("a", P)]).unwrap();
        assert!(SealedConfig::iron_session("c", word).build().is_err());
        let numbered = || Passwords::iron_session([(1, P)]).unwrap();
        assert!(
            SealedConfig::iron_session("c", numbered())
                .iterations(2)
                .build()
                .is_err()
        );
        assert!(
            SealedConfig::iron_session("c", numbered())
                .iterations(1)
                .build()
                .is_ok()
        );
    }

    #[test]
    fn the_header_follows_the_name_unless_set() {
        let p = || Passwords::new([P]).unwrap();
        let named = SealedConfig::h3(p()).name("App").build().unwrap();
        assert_eq!(named.session.header_name(), Some("x-app-session"));
        let off = SealedConfig::h3(p())
            .session_header(None)
            .name("x")
            .build()
            .unwrap();
        assert_eq!(off.session.header_name(), None);
        let iron = SealedConfig::iron_session("c", Passwords::iron_session([(1, P)]).unwrap())
            .build()
            .unwrap();
        assert_eq!(iron.session.header_name(), None);
        assert!(!iron.save_uninitialized && named.save_uninitialized);
    }
}
