//! [feature `axum`] `Session` as an axum extractor.
//!
//! It lives here rather than in `session-hyper` because of the orphan rule: neither
//! `Session` nor `FromRequestParts` would be local there. The session layer puts a
//! `Session` into every request's extensions; this takes it out.

use axum_core::extract::FromRequestParts;
use http::StatusCode;
use http::request::Parts;

use crate::session::Session;

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = (StatusCode, &'static str);

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Session>().cloned().ok_or((
            StatusCode::INTERNAL_SERVER_ERROR,
            "the session layer is not installed on this route",
        ))
    }
}
