//! [feature `axum`] `Session` as an axum extractor, and [`Error`] as an axum response
//! so handlers can use `?`.
//!
//! They live here rather than in `session-hyper` because of the orphan rule: neither
//! `Session`, `Error`, `FromRequestParts` nor `IntoResponse` would be local there. The
//! session layer puts a `Session` into every request's extensions; the extractor takes
//! it out.

mod auth;

pub use auth::{CsrfToken, ExtractRejection, Flashes, MaybeSignedIn, SignedIn};

use axum_core::extract::FromRequestParts;
use axum_core::response::{IntoResponse, Response};
use http::StatusCode;
use http::header::RETRY_AFTER;
use http::request::Parts;

use crate::error::Error;
use crate::session::Session;
use crate::telemetry::error_chain;
use crate::telemetry::throttle::LogThrottle;

#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = (StatusCode, &'static str);

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Session>().cloned().ok_or((
            StatusCode::INTERNAL_SERVER_ERROR,
            "the session layer is not installed on this route",
        ))
    }
}

/// A handler's session error as a response, with the error's message as a plain-text
/// body (it never contains an id or a secret):
///
/// | error | status |
/// |---|---|
/// | the store failed or is full, too many writes wait ([`Error::Store`], [`Error::Busy`]) | 503 with `Retry-After: 1` |
/// | [`Error::TooLarge`] | 413 |
/// | [`Error::ReservedKey`], [`Error::NotAnObject`] (data refused) | 400 |
/// | [`Error::Csrf`] | 403 |
/// | the application's [`Users`](crate::auth::Users) failed ([`Error::Users`]) | 503 with `Retry-After: 1` |
/// | the session ended meanwhile ([`Error::Destroyed`], [`Error::Gone`], [`Error::NotFound`]), or a save kept losing to other writers ([`Error::Conflict`]) | 409 |
/// | anything else (a value of the wrong type, no session layer, configuration) | 500 |
///
/// Server errors are logged (the store's at warn, at most once per 10 s; the others at
/// error); client errors are not.
///
/// ```
/// use session_core::{Error, Session};
///
/// async fn visit(session: Session) -> Result<String, Error> {
///     let views: u64 = session.get("views").await?.unwrap_or(0) + 1;
///     session.insert("views", views).await?;
///     Ok(views.to_string())
/// }
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = match &self {
            Error::Store { .. } | Error::Busy { .. } | Error::Users(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Error::Csrf => StatusCode::FORBIDDEN,
            Error::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::ReservedKey { .. } | Error::NotAnObject => StatusCode::BAD_REQUEST,
            Error::Destroyed | Error::Gone | Error::NotFound | Error::Conflict { .. } => {
                StatusCode::CONFLICT
            }
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let body = self.to_string();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            static LOG: LogThrottle = LogThrottle::new();
            if let Some(left_out) = LOG.admit() {
                let what = if matches!(self, Error::Users(_)) {
                    "the application's user lookup failed; answering 503"
                } else {
                    "session store unavailable; answering 503"
                };
                tracing::warn!(error = %self, cause = %error_chain(&self), left_out, "{what}");
            }
            return (status, [(RETRY_AFTER, "1")], body).into_response();
        }
        if status.is_server_error() {
            tracing::error!(error = %self, cause = %error_chain(&self), "session error");
        }
        (status, body).into_response()
    }
}
