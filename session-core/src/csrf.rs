//! CSRF protection with the synchronizer-token pattern: a random token kept in the
//! session, put by the application into its forms (or sent by its scripts in a
//! header), and checked on every request that changes something.
//!
//! Here: the token ([`Session::csrf_token`]) and the check ([`Session::verify_csrf`]).
//! `session-hyper`'s `CsrfLayer` runs the check for every unsafe request (`POST`,
//! `PUT`, `PATCH`, `DELETE`, ...), taking the token from the [`CSRF_HEADER`] header or
//! the [`CSRF_FIELD`] field of a urlencoded form, and answers `403` without calling
//! the handler when it is missing or wrong.
//!
//! The token is stored under the data key `csrfToken`: 32 random bytes, base64url. It
//! is created on first use (one store write, safe under concurrent first requests: they
//! agree on one token), kept for the session's life and replaced at sign-in
//! ([`Session::log_in`]), so a token seen before signing in is worthless after.
//!
//! ## And `SameSite`
//!
//! Session cookies are `SameSite=Lax` by default in browsers that apply it (Chromium,
//! Firefox), so another site's form `POST` arrives without the session; tokens still
//! matter: for older browsers, for `SameSite=None` cookies (embedded apps), and
//! against attacks from a sibling subdomain, which counts as the same site.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use subtle::ConstantTimeEq;

use crate::error::Error;
use crate::id::RandomSourceError;
use crate::session::Session;

/// The data key of the token.
pub(crate) const CSRF_KEY: &str = "csrfToken";
/// The request header a script sends the token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The form field a page's forms send the token in.
pub const CSRF_FIELD: &str = "_csrf";

impl Session {
    /// The session's CSRF token, created (and stored) on first use: put it into every
    /// form as a hidden [`CSRF_FIELD`] field, or give it to scripts for the
    /// [`CSRF_HEADER`] header.
    ///
    /// ```
    /// # async fn page(session: &session_core::Session) -> Result<String, session_core::Error> {
    /// let token = session.csrf_token().await?;
    /// Ok(format!(r#"<form method="post"><input type="hidden" name="_csrf" value="{token}">…</form>"#))
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Destroyed`] after destroy; [`Error::RandomSource`]; as
    /// [`Session::update`].
    pub async fn csrf_token(&self) -> Result<String, Error> {
        if let Some(data) = self.data_if_any().await?
            && let Some(Value::String(token)) = data.get(CSRF_KEY)
        {
            return Ok(token.clone());
        }
        let fresh = new_token()?;
        // Concurrent first requests agree: whoever saves second sees the first's token.
        self.update(|data| match data.get(CSRF_KEY) {
            Some(Value::String(token)) => token.clone(),
            _ => {
                data.insert(CSRF_KEY.to_owned(), Value::from(fresh.clone()));
                fresh.clone()
            }
        })
        .await
    }

    /// Whether `submitted` is this session's CSRF token (compared in constant time).
    /// `false` when the session has none: a request that changes something must come
    /// from a page this session was shown.
    ///
    /// # Errors
    ///
    /// [`Error::Store`] if loading failed.
    pub async fn verify_csrf(&self, submitted: &str) -> Result<bool, Error> {
        let Some(data) = self.data_if_any().await? else {
            return Ok(false);
        };
        Ok(match data.get(CSRF_KEY) {
            Some(Value::String(token)) => bool::from(token.as_bytes().ct_eq(submitted.as_bytes())),
            _ => false,
        })
    }

    /// As [`Session::verify_csrf`], as a result for `?`: [`Error::Csrf`] (a `403`
    /// response with the `axum` feature) when the token is missing or wrong. For a
    /// route the layer exempts, such as a multipart upload that checks its own field.
    ///
    /// # Errors
    ///
    /// [`Error::Csrf`]; [`Error::Store`] if loading failed.
    pub async fn require_csrf(&self, submitted: Option<&str>) -> Result<(), Error> {
        match submitted {
            Some(token) if self.verify_csrf(token).await? => Ok(()),
            _ => Err(Error::Csrf),
        }
    }
}

fn new_token() -> Result<String, Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| Error::RandomSource(RandomSourceError(e)))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}
