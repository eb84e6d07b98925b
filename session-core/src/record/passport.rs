//! Where a record names its signed-in user: passport.js's place, `passport.user`, with
//! this project's auth version beside it (`passport.authVersion`). Stores read the user
//! through `Record::user` for their per-user index; `auth` writes both.

use std::borrow::Cow;

use serde_json::{Map, Value};

/// The data key passport.js keeps its sign-in under.
pub const PASSPORT_KEY: &str = "passport";
/// The field of [`PASSPORT_KEY`] holding the user id.
pub(crate) const USER_FIELD: &str = "user";
/// The field of [`PASSPORT_KEY`] holding the keyed hash of the auth value.
pub(crate) const VERSION_FIELD: &str = "authVersion";

/// The field of the bookkeeping (`__sessionMeta`) repeating the signed-in user, in
/// unpadded base64url, where a store reads it from a record's first bytes. Derived from
/// `passport.user` on every write; never read back into the data.
pub(crate) const USER64_FIELD: &str = "user64";

/// The signed-in user of session data: a string, or a number as its digits.
pub(crate) fn user_of(data: &Map<String, Value>) -> Option<Cow<'_, str>> {
    match data.get(PASSPORT_KEY)?.get(USER_FIELD)? {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        _ => None,
    }
}

/// The stored auth version of session data.
pub(crate) fn version_of(data: &Map<String, Value>) -> Option<&str> {
    data.get(PASSPORT_KEY)?.get(VERSION_FIELD)?.as_str()
}
