//! Sign-in building blocks: log in and out, "sign out everywhere", and the auth version
//! that ends a user's other sessions when their password changes.
//!
//! | step | call |
//! |---|---|
//! | credentials checked by the application | (yours) |
//! | sign in: a new id, the user and their auth version recorded | [`Session::log_in`] |
//! | every request: who is signed in, with the auth version checked | [`Session::signed_in`] (axum: [`SignedIn`](crate::SignedIn), [`MaybeSignedIn`](crate::MaybeSignedIn)) |
//! | sign out | [`Session::log_out`] |
//! | sign out everywhere else (after a password change, from an account page) | [`Session::log_out_other_sessions`], or [`destroy_all`] from an admin task |
//!
//! # Where the user lives
//!
//! In the session data, as passport.js keeps it: `{"passport": {"user": "42",
//! "authVersion": "…"}}`. An express app using passport and a Rust service sharing the
//! store therefore agree on who is signed in (passport's `deserializeUser` receives the
//! id as a string; a number written by passport is read as its digits).
//!
//! # The auth version
//!
//! At sign-in the application passes a value that changes whenever earlier sessions
//! must stop being valid: its password hash, or a counter it bumps. The session keeps
//! a keyed hash of it (HMAC-SHA256 under the signing secret; any configured secret is
//! accepted, so rotating secrets signs nobody out), never the value. On each request
//! [`Session::signed_in`] asks the application's [`Users`] for the current value; a
//! session whose hash no longer matches, or whose user no longer exists, is destroyed
//! there and then. This is the lazy alternative to [`destroy_all`]: it needs no
//! per-user index, and catches sessions in every process on their next request.
//!
//! A session signed in by passport carries no auth version: by default it is accepted,
//! and given the current one on its first checked request (so the migration signs
//! nobody out); from then on it is checked like the others. Such a session cannot know
//! of a password change made before that first check, so a password change should also
//! end the user's other sessions ([`destroy_all`]); [`Users::accept_unversioned`]
//! refuses them once the migration is over.
//!
//! # Sign out everywhere
//!
//! Stores keep an index of each user's sessions ([`SessionStore::sessions_of`]):
//! `session-store-memory` in memory, `session-store-redis` in a sorted set per user,
//! `session-store-postgres` by querying `passport.user`. [`destroy_all`] deletes
//! every listed session (but the one to keep), then lists again until none is left,
//! so a session moving to a new id meanwhile ([`Session::cycle_id`], a sign-in
//! keeping data) cannot escape: `cycle_id` writes the new id, then checks that the
//! old one still exists before deleting it, and gives up ([`Error::Gone`]) if it
//! does not. Requests of the destroyed sessions that are still running cannot bring
//! them back: a save of a session that no longer exists fails.
//!
//! [`Error::Gone`]: crate::Error::Gone

mod login;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use crate::id::SessionId;
use crate::store::{SessionStore, StoreError};

#[cfg(doc)]
use crate::Session;

pub use crate::record::passport::PASSPORT_KEY;
pub(crate) use crate::record::passport::{USER_FIELD, VERSION_FIELD, user_of, version_of};

/// The most rounds [`destroy_all`] lists and deletes before it reports what it has
/// done: a round finds only sessions created since the previous listing.
const MAX_ROUNDS: usize = 16;

/// What happens to an anonymous session's data when its visitor signs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Carry {
    /// The data stays (a shopping cart), moved to the new id ([`Session::cycle_id`]).
    KeepData,
    /// The data is dropped: the session starts over with a new id
    /// ([`Session::regenerate`]), as passport does by default.
    DropData,
}

/// The application's users, as the session needs them: the current auth value of one.
///
/// ```
/// use session_core::auth::{BoxError, Users};
///
/// struct Accounts; // e.g. a database pool
///
/// #[session_core::store::async_trait]
/// impl Users for Accounts {
///     async fn auth_value(&self, user: &str) -> Result<Option<Vec<u8>>, BoxError> {
///         // SELECT password_hash FROM users WHERE id = $1
///         Ok((user == "42").then(|| b"$argon2id$v=19$...".to_vec()))
///     }
/// }
/// ```
#[async_trait]
pub trait Users: Send + Sync + 'static {
    /// The value the user's sessions were signed in with (their password hash, a
    /// counter bumped on a password change); `None` if the user no longer exists,
    /// which signs their sessions out.
    async fn auth_value(&self, user: &str) -> Result<Option<Vec<u8>>, BoxError>;

    /// Whether a session signed in without an auth version (by passport.js, sharing the
    /// store) stays signed in, and is given the current one (the default: moving an
    /// express app's users over signs nobody out). Answer `false` once no such session
    /// should be left: they are then signed out on their next check. Either way, end a
    /// user's other sessions with [`destroy_all`] when their password changes: a
    /// session without a version cannot tell it happened.
    fn accept_unversioned(&self) -> bool {
        true
    }
}

/// An error of the application's [`Users`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The application's [`Users`], shareable: put it into the request extensions (axum:
/// `Extension(UserDirectory::new(..))`) for the [`SignedIn`](crate::SignedIn) and
/// [`MaybeSignedIn`](crate::MaybeSignedIn) extractors.
#[derive(Clone)]
pub struct UserDirectory(Arc<dyn Users>);

impl UserDirectory {
    /// Wraps the application's users.
    pub fn new(users: impl Users) -> Self {
        UserDirectory(Arc::new(users))
    }

    /// The users.
    pub fn users(&self) -> &dyn Users {
        &*self.0
    }
}

impl fmt::Debug for UserDirectory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UserDirectory")
    }
}

/// Deletes every session of `user` in `store` but `except`; returns how many were
/// deleted. Lists again after each round of deletions, until a listing finds none
/// (at most 16 rounds: a user signing in again and again meanwhile keeps those new
/// sign-ins).
///
/// ```
/// # async fn f(store: &dyn session_core::store::SessionStore) -> Result<(), session_core::store::StoreError> {
/// // After an administrator locked the account:
/// let ended = session_core::auth::destroy_all(store, "42", None).await?;
/// # let _ = ended; Ok(()) }
/// ```
///
/// # Errors
///
/// [`StoreError::Unsupported`] from a store without a per-user index; the store's
/// error if listing or deleting failed (sessions deleted before it stay deleted).
pub async fn destroy_all(
    store: &dyn SessionStore,
    user: &str,
    except: Option<&SessionId>,
) -> Result<usize, StoreError> {
    let mut deleted = 0;
    for _ in 0..MAX_ROUNDS {
        let ids = store.sessions_of(user).await?;
        let mut found = false;
        for id in ids.iter().filter(|id| Some(*id) != except) {
            store.destroy(id).await?;
            crate::telemetry::lifecycle(crate::telemetry::Lifecycle::Destroyed, Some(id));
            deleted += 1;
            found = true;
        }
        if !found {
            break;
        }
    }
    Ok(deleted)
}
