//! The sign-in, flash and CSRF extractors.

use axum_core::extract::FromRequestParts;
use axum_core::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;

use crate::auth::UserDirectory;
use crate::error::Error;
use crate::flash::Message;
use crate::session::Session;

/// The signed-in user's id, checked as [`Session::signed_in`] does against the
/// [`UserDirectory`] in the request extensions; a request without one is answered
/// `401 Unauthorized`.
///
/// ```
/// use session_core::SignedIn;
///
/// async fn account(SignedIn(user): SignedIn) -> String {
///     format!("signed in as {user}")
/// }
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedIn(pub String);

/// The signed-in user's id if there is one, checked as [`SignedIn`]; never rejects
/// for want of a user.
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MaybeSignedIn(pub Option<String>);

/// The flash messages, taken out of the session ([`Session::take_flash`]): a page that
/// extracts them shows them, and the next one does not. They are removed when the
/// extractor runs, so a handler that fails after extracting them loses them: extract
/// them in the handler that renders them.
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flashes(pub Vec<Message>);

/// The session's CSRF token ([`Session::csrf_token`]), for the page's forms.
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsrfToken(pub String);

/// Why [`SignedIn`], [`MaybeSignedIn`], [`Flashes`] or [`CsrfToken`] refused a
/// request; a response.
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
#[derive(Debug)]
#[non_exhaustive]
pub enum ExtractRejection {
    /// Nobody is signed in: `401`.
    NotSignedIn,
    /// The session failed: its [`Error`]'s response.
    Session(Error),
    /// A deployment error (no session layer, no [`UserDirectory`]): `500`.
    Missing(&'static str),
}

impl IntoResponse for ExtractRejection {
    fn into_response(self) -> Response {
        match self {
            ExtractRejection::NotSignedIn => {
                (StatusCode::UNAUTHORIZED, "sign in first").into_response()
            }
            ExtractRejection::Session(e) => e.into_response(),
            ExtractRejection::Missing(what) => {
                tracing::error!(missing = what, "session extractor misconfigured");
                (StatusCode::INTERNAL_SERVER_ERROR, what).into_response()
            }
        }
    }
}

fn session(parts: &Parts) -> Result<Session, ExtractRejection> {
    parts
        .extensions
        .get::<Session>()
        .cloned()
        .ok_or(ExtractRejection::Missing(
            "the session layer is not installed on this route",
        ))
}

async fn checked_user(parts: &Parts) -> Result<Option<String>, ExtractRejection> {
    let session = session(parts)?;
    let users = parts
        .extensions
        .get::<UserDirectory>()
        .ok_or(ExtractRejection::Missing(
            "no UserDirectory in the request extensions",
        ))?;
    session
        .signed_in(users.users())
        .await
        .map_err(ExtractRejection::Session)
}

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = ExtractRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        checked_user(parts)
            .await?
            .map(SignedIn)
            .ok_or(ExtractRejection::NotSignedIn)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for MaybeSignedIn {
    type Rejection = ExtractRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybeSignedIn(checked_user(parts).await?))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Flashes {
    type Rejection = ExtractRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let session = session(parts)?;
        session
            .take_flash()
            .await
            .map(Flashes)
            .map_err(ExtractRejection::Session)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CsrfToken {
    type Rejection = ExtractRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let session = session(parts)?;
        session
            .csrf_token()
            .await
            .map(CsrfToken)
            .map_err(ExtractRejection::Session)
    }
}
