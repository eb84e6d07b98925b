//! Step 4, this session's cookie: express lets a handler set `req.session.cookie.*` for
//! one session; so do these, validated like configuration (see `CookieOptions::check`:
//! no attribute injection, never weaker than configured for `HttpOnly` and
//! `Secure::Always`, the rules of `__Host-`/`__Secure-` names).
//! Like express, a change here alone is not a modification: it reaches the browser with
//! the next `Set-Cookie` and the store with the next save.

use std::time::Duration;

use time::OffsetDateTime;

use super::Session;
use crate::error::Error;
use crate::record::CookieRecord;
use crate::same_site::SameSite;

impl Session {
    /// Sets this session's cookie lifetime (express `req.session.cookie.maxAge = ms`);
    /// `None` makes it a browser-session cookie.
    ///
    /// # Errors
    ///
    /// [`Error::Destroyed`] after destroy; [`Error::Store`] if loading failed;
    /// [`Error::InvalidConfig`] for a sealed-cookie session, whose lifetime is its
    /// configuration's (the seal carries it).
    pub async fn set_max_age(&self, max_age: Option<Duration>) -> Result<(), Error> {
        self.lifetime_is_settable()?;
        let now = OffsetDateTime::now_utc();
        self.change_cookie(|c| c.set_max_age(max_age, now), false)
            .await
    }

    /// Sets an absolute cookie expiry (express `req.session.cookie.expires = date`).
    ///
    /// # Errors
    ///
    /// As [`Session::set_max_age`].
    pub async fn set_expires(&self, expires: Option<OffsetDateTime>) -> Result<(), Error> {
        self.lifetime_is_settable()?;
        let now = OffsetDateTime::now_utc();
        self.change_cookie(|c| c.set_expires(expires, now), false)
            .await
    }

    /// Sets `Path` for this session's cookie (express `req.session.cookie.path`).
    ///
    /// ```
    /// # async fn f(session: &session_core::Session) -> Result<(), session_core::Error> {
    /// session.set_cookie_path("/account").await?;
    /// session.set_cookie_domain(Some("example.com".into())).await?;
    /// session.set_same_site(Some(session_core::SameSite::Strict)).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for a path the configuration would refuse (not starting
    /// with `/`, a `;` or a control character); otherwise as [`Session::set_max_age`].
    pub async fn set_cookie_path(&self, path: impl Into<String>) -> Result<(), Error> {
        let path = path.into();
        self.change_cookie(|c| c.path = path, true).await
    }

    /// Sets `Domain` for this session's cookie (express `req.session.cookie.domain`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for a domain the configuration would refuse; otherwise
    /// as [`Session::set_max_age`].
    pub async fn set_cookie_domain(&self, domain: Option<String>) -> Result<(), Error> {
        self.change_cookie(|c| c.domain = domain, true).await
    }

    /// Sets `HttpOnly` for this session's cookie (express `req.session.cookie.httpOnly`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for `false` when the configuration says `http_only`
    /// (a session's cookie is never weaker than configured, so a stored record cannot
    /// weaken it either); otherwise as [`Session::set_max_age`].
    pub async fn set_http_only(&self, on: bool) -> Result<(), Error> {
        self.change_cookie(|c| c.http_only = on, true).await
    }

    /// Sets `Secure` for this session's cookie (express `req.session.cookie.secure`). A
    /// `Secure` cookie is not sent in answer to a plain-HTTP request.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for `false` under `Secure::Always`, or with
    /// `SameSite=None`; otherwise as [`Session::set_max_age`].
    pub async fn set_secure(&self, on: bool) -> Result<(), Error> {
        self.change_cookie(|c| c.secure = Some(on), true).await
    }

    /// Sets `SameSite` for this session's cookie (express `req.session.cookie.sameSite`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for `SameSite::None` on a cookie that is not `Secure`;
    /// otherwise as [`Session::set_max_age`].
    pub async fn set_same_site(&self, same_site: Option<SameSite>) -> Result<(), Error> {
        self.change_cookie(|c| c.same_site = same_site, true).await
    }

    /// The lifetime of a sealed-cookie session is its configuration's.
    fn lifetime_is_settable(&self) -> Result<(), Error> {
        match self.sealed() {
            Some(_) => Err(Error::InvalidConfig {
                field: "cookie.maxAge",
                reason: "a sealed session's lifetime is SealedConfigBuilder::max_age",
            }),
            None => Ok(()),
        }
    }

    /// Applies `change` to a copy of the cookie and keeps it; with `check`, only if
    /// the configuration allows the result (lifetimes need no check).
    async fn change_cookie(
        &self,
        change: impl FnOnce(&mut CookieRecord),
        check: bool,
    ) -> Result<(), Error> {
        let mut st = self.inner.state.lock().await;
        self.writable(&mut st).await?;
        let mut cookie = st.cookie().clone();
        change(&mut cookie);
        if check {
            let config = &self.inner.shared.config;
            config.cookie.check(&config.name, st.cookie(), &cookie)?;
        }
        st.set_cookie(cookie);
        if self.sealed().is_some() {
            // The new attributes reach the browser with a new seal.
            st.mark_reseal();
        }
        Ok(())
    }
}
