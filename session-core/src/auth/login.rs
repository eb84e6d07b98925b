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

/// What an auth version is the HMAC of: the domain, the user (length first, so no
/// two (user, value) pairs give the same bytes), the value.
fn message(user: &str, auth_value: &[u8]) -> Vec<u8> {
    let len = u64::try_from(user.len()).unwrap_or(u64::MAX).to_be_bytes();
    [DOMAIN, &len, user.as_bytes(), auth_value].concat()
}

impl Session {
    /// Signs `user` in: a new session id (against session fixation), with the data
    /// kept or dropped as `carry` says, and `user` recorded with a keyed hash of
    /// `auth_value` (see [the auth module](crate::auth)). The CSRF token starts over.
    /// A session signed in as another user never passes its data on: it starts over
    /// as with [`Carry::DropData`].
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
            Value::from(self.auth_version(user, auth_value)),
        );
        let someone_else = self.user().await?.is_some_and(|current| current != user);
        match carry {
            Carry::KeepData if !someone_else => {
                self.remove_value(CSRF_KEY).await?;
                self.insert(PASSPORT_KEY, passport).await?;
                self.cycle_id().await
            }
            _ => {
                self.regenerate().await?;
                self.insert(PASSPORT_KEY, passport).await
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
    /// given the current one if [`Users::accept_unversioned`] says so (the default),
    /// else destroyed. A version made under a retired secret is made again under the
    /// signing one.
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
        let current = users.auth_value(&user).await.map_err(Error::Users)?;
        let verdict = match (&current, version_of(&data)) {
            (None, _) => Verdict::End,
            (Some(value), Some(stored)) => self.check_version(&user, stored, value),
            (Some(_), None) if users.accept_unversioned() => Verdict::Restamp,
            (Some(_), None) => Verdict::End,
        };
        let outcome = match (verdict, current) {
            (Verdict::Current, _) => return Ok(Some(user)),
            (Verdict::Restamp, Some(value)) => {
                self.set_auth_value(&value).await.map(|()| Some(user))
            }
            _ => self.destroy().await.map(|()| None),
        };
        match outcome {
            // Another request ended the session meanwhile: nobody is signed in.
            Err(Error::Gone | Error::Destroyed) => Ok(None),
            other => other,
        }
    }

    /// Records a new auth value for the signed-in user of this session (after a
    /// password change made here), so that this session stays signed in while the
    /// others end on their next [`Session::signed_in`]. Does nothing for an anonymous
    /// session. Written at once ([`Session::update`]), so a concurrent request of this
    /// session that checks the new value already finds it.
    ///
    /// # Errors
    ///
    /// As [`Session::update`].
    pub async fn set_auth_value(&self, auth_value: &[u8]) -> Result<(), Error> {
        let Some(user) = self.user().await? else {
            return Ok(());
        };
        let version = Value::from(self.auth_version(&user, auth_value));
        self.update(|data| {
            let same_user = user_of(data).is_some_and(|u| u == user);
            if let (true, Some(Value::Object(passport))) = (same_user, data.get_mut(PASSPORT_KEY)) {
                passport.insert(VERSION_FIELD.to_owned(), version.clone());
            }
        })
        .await
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

    /// The keyed hash of a user's auth value, under the signing secret.
    fn auth_version(&self, user: &str, auth_value: &[u8]) -> String {
        let mac = self.config().secrets.signing_mac();
        let tag = signature(&message(user, auth_value), mac);
        String::from_utf8_lossy(&tag).into_owned()
    }

    /// Whether `stored` is the keyed hash of the user's `auth_value` under the signing
    /// secret, an older one, or none; every secret is tried, each in constant time.
    fn check_version(&self, user: &str, stored: &str, auth_value: &[u8]) -> Verdict {
        let msg = message(user, auth_value);
        let secrets = &self.config().secrets;
        let signing = signature(&msg, secrets.signing_mac());
        if bool::from(signing.as_slice().ct_eq(stored.as_bytes())) {
            return Verdict::Current;
        }
        let older = secrets.verify_macs().fold(false, |ok, mac| {
            ok | bool::from(signature(&msg, mac).as_slice().ct_eq(stored.as_bytes()))
        });
        if older {
            Verdict::Restamp
        } else {
            Verdict::End
        }
    }
}

/// What a check of the stored auth version decided.
enum Verdict {
    /// Made under the signing secret from the current value.
    Current,
    /// Valid, but to be made again under the signing secret (an older secret, or none
    /// at all from passport).
    Restamp,
    /// Signed in with another value, or the user is gone: the session ends.
    End,
}
