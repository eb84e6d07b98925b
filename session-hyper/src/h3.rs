//! h3-style helpers, so handlers written for h3/Nitro (`useSession`, `getSession`,
//! `updateSession`, `clearSession`) translate line by line. They work on the
//! [`Session`] that [`SessionLayer`](crate::SessionLayer) put into the request.
//!
//! | h3 | here |
//! |---|---|
//! | `const session = await useSession(event, config)` | `let session = use_session(&req)?;` |
//! | `session.id` | `session.id().await?` |
//! | `session.data` | `session.data().await?` |
//! | `await session.update({ a: 1 })` | `session.merge(json!({ "a": 1 })).await?` |
//! | `await session.update(d => ({ n: d.n + 1 }))` | `update_session_with(&req, \|d\| json!({ "n": … })).await?` |
//! | `await session.clear()` / `clearSession(event, config)` | `clear_session(&req).await?` |
//! | `await getSession(event, config)` | `get_session(&req).await?` |
//! | `await updateSession(event, config, { a: 1 })` | `update_session(&req, json!({ "a": 1 })).await?` |
//!
//! The configuration (`password`, `name`, `maxAge`, `cookie`) lives in the layer's
//! [`SessionConfig`](session_core::SessionConfig), not in each call.
//!
//! ```
//! use serde_json::json;
//! use session_hyper::h3::{get_session, update_session};
//!
//! async fn handler(req: http::Request<()>) -> Result<String, session_core::Error> {
//!     let session = get_session(&req).await?;
//!     let count = session.data.get("count").and_then(|v| v.as_u64()).unwrap_or(0) + 1;
//!     update_session(&req, json!({ "count": count })).await?;
//!     Ok(format!("Count is #{count}"))
//! }
//! ```

use http::Request;
use serde::Serialize;
use serde_json::{Map, Value};
use session_core::{Error, Session};

/// A snapshot of the session, as h3's `getSession` returns it.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct SessionSnapshot {
    /// The session id (the raw id, not the signed cookie value).
    pub id: Option<String>,
    /// The data.
    pub data: Map<String, Value>,
}

/// The request's session (h3 `useSession`).
///
/// # Errors
///
/// [`Error::NoSession`] when the session layer is not installed in front of the handler.
pub fn use_session<B>(req: &Request<B>) -> Result<Session, Error> {
    req.extensions()
        .get::<Session>()
        .cloned()
        .ok_or(Error::NoSession)
}

/// The session's id and data (h3 `getSession`). A visitor without a session gets a
/// new one (saved only if something is stored in it).
///
/// # Errors
///
/// [`Error::NoSession`]; [`Error::Store`] if loading failed.
pub async fn get_session<B>(req: &Request<B>) -> Result<SessionSnapshot, Error> {
    let session = use_session(req)?;
    let data = session.data().await?;
    let id = session.id().await?.map(|id| id.expose().to_owned());
    Ok(SessionSnapshot { id, data })
}

/// Merges `partial` (anything that serializes to a JSON object) into the data and
/// returns the new data (h3 `updateSession` with an object).
///
/// # Errors
///
/// [`Error::NoSession`], [`Error::NotAnObject`], [`Error::ReservedKey`],
/// [`Error::Store`].
pub async fn update_session<B, T: Serialize>(
    req: &Request<B>,
    partial: T,
) -> Result<Map<String, Value>, Error> {
    let session = use_session(req)?;
    session.merge(partial).await?;
    session.data().await
}

/// Merges what `f` returns for the current data (h3 `updateSession` with a function).
///
/// # Errors
///
/// As [`update_session`].
pub async fn update_session_with<B, T, F>(
    req: &Request<B>,
    f: F,
) -> Result<Map<String, Value>, Error>
where
    T: Serialize,
    F: FnOnce(&Map<String, Value>) -> T,
{
    let session = use_session(req)?;
    let partial = f(&session.data().await?);
    session.merge(partial).await?;
    session.data().await
}

/// Ends the session: the record is deleted and the cookie removed (h3 `clearSession`,
/// `session.clear()`).
///
/// # Errors
///
/// [`Error::NoSession`]; [`Error::Store`].
pub async fn clear_session<B>(req: &Request<B>) -> Result<(), Error> {
    use_session(req)?.destroy().await
}
