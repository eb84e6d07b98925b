//! `Session`'s sign-in methods: log in, log out, who is signed in, sign out elsewhere.

use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

use super::{
    Carry, PASSPORT_KEY, USER_FIELD, Users, VERSION_FIELD, destroy_all, user_of, version_of,
};
use crate::csrf::CSRF_KEY;
use crate::error::{Error, StoreOp};
use crate::session::Session;
use crate::signing::signature;

/// Separates auth-version hashes from cookie signatures made with the same secrets
/// (a session id never contains a NUL byte).
const DOMAIN: &[u8] = b"session-core auth version\0";

impl Session {
    /// Signs `user` in: a new session id (against session fixation), with the data
    /// kept or dropped as `carry` says, and `user` recorded with a keyed hash of
    /// `auth_value` (see [the auth module](crate::auth)). The CSRF token starts over.
    ///
    /// ```
    /// use session_core::auth::Carry;
    ///
    /// # async fn f(session: &session_core::Session, password_hash: &str) -> Result<(), session_core::Error> {
    /// // The credentials were checked; keep the visitor's cart:
    /// session.log_in("42", password_hash.as_bytes(), Carry::KeepData).await?;
    /// assert_eq!(session.user().await?.as_deref(), Some("42"));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Session::regenerate`] or [`Session::cycle_id`]; [`Error::Gone`] if
    /// another request ended the session meanwhile (nobody is signed in then).
    pub async fn log_in(&self, user: &str, auth_value: &[u8], carry: Carry) -> Result<(), Error> {
        let mut passport = Map::new();
        passport.insert(USER_FIELD.to_owned(), Value::from(user));
        passport.insert(
            VERSION_FIELD.to_owned(),
            Value::from(self.auth_version(auth_value)),
        );
        match carry {
            Carry::DropData => {
                self.regenerate().await?;
                self.insert(PASSPORT_KEY, passport).await
            }
            Carry::KeepData => {
                self.remove_value(CSRF_KEY).await?;
                self.insert(PASSPORT_KEY, passport).await?;
                self.cycle_id().await
            }
        }
    }

    /// Signs out: the session is destroyed (its cookie removed), as
    /// [`Session::destroy`].
    ///
    /// # Errors
    ///
    /// [`Error::Store`].
    pub async fn log_out(&self) -> Result<(), Error> {
        self.destroy().await
    }

    /// The signed-in user as recorded, without checking the auth version (for that,
    /// [`Session::signed_in`]). `None` for an anonymous session.
    ///
    /// # Errors
    ///
    /// [`Error::Store`] if loading failed.
    pub async fn user(&self) -> Result<Option<String>, Error> {
        let data = self.data_if_any().await?;
        Ok(data.and_then(|d| user_of(&d).map(|u| u.into_owned())))
    }

    /// The signed-in user, checked: `users` gives the user's current auth value, and a
    /// session signed in with another one (or whose user is gone) is destroyed and
    /// answers `None`. A session signed in without an auth version (by passport) is
    /// given the current one.
    ///
    /// # Errors
    ///
    /// [`Error::Users`] if `users` failed; [`Error::Store`].
    pub async fn signed_in(&self, users: &dyn Users) -> Result<Option<String>, Error> {
        let Some(data) = self.data_if_any().await? else {
            return Ok(None);
        };
        let Some(user) = user_of(&data).map(|u| u.into_owned()) else {
            return Ok(None);
        };
        let Some(current) = users.auth_value(&user).await.map_err(Error::Users)? else {
            self.destroy().await?;
            return Ok(None);
        };
        match version_of(&data) {
            Some(stored) if self.auth_version_matches(stored, &current) => Ok(Some(user)),
            Some(_) => {
                self.destroy().await?;
                Ok(None)
            }
            None => {
                self.set_auth_value(&current).await?;
                Ok(Some(user))
            }
        }
    }

    /// Records a new auth value for the signed-in user of this session (after a
    /// password change made here), so that this session stays signed in while the
    /// others end on their next request. Does nothing for an anonymous session.
    ///
    /// # Errors
    ///
    /// As [`Session::insert`].
    pub async fn set_auth_value(&self, auth_value: &[u8]) -> Result<(), Error> {
        let version = self.auth_version(auth_value);
        let Some(data) = self.data_if_any().await? else {
            return Ok(());
        };
        let Some(Value::Object(mut passport)) = data.get(PASSPORT_KEY).cloned() else {
            return Ok(());
        };
        passport.insert(VERSION_FIELD.to_owned(), Value::from(version));
        self.insert(PASSPORT_KEY, passport).await
    }

    /// Ends every other session of the signed-in user (in this process or any other
    /// sharing the store) and keeps this one; returns how many ended. `0` for an
    /// anonymous session. See [`destroy_all`].
    ///
    /// # Errors
    ///
    /// [`Error::Store`] (with [`StoreError::Unsupported`](crate::store::StoreError::Unsupported)
    /// from a store that keeps no per-user index, and in sealed-cookie mode).
    pub async fn log_out_other_sessions(&self) -> Result<usize, Error> {
        let Some(user) = self.user().await? else {
            return Ok(0);
        };
        let keep = self.id().await?;
        destroy_all(&**self.store(), &user, keep.as_ref())
            .await
            .map_err(|source| Error::Store {
                op: StoreOp::Admin,
                source,
            })
    }

    /// The keyed hash of an auth value, under the signing secret.
    fn auth_version(&self, auth_value: &[u8]) -> String {
        let mac = self.config().secrets.signing_mac();
        let tag = signature(&[DOMAIN, auth_value].concat(), mac);
        String::from_utf8_lossy(&tag).into_owned()
    }

    /// Whether `stored` is the keyed hash of `auth_value` under any secret, compared
    /// in constant time.
    fn auth_version_matches(&self, stored: &str, auth_value: &[u8]) -> bool {
        let msg = [DOMAIN, auth_value].concat();
        self.config().secrets.verify_macs().fold(false, |ok, mac| {
            ok | bool::from(signature(&msg, mac).as_slice().ct_eq(stored.as_bytes()))
        })
    }
}
