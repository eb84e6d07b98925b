//! The `Session` handle: typed reads and writes, loaded from the store on first use.

mod changes;
mod commands;
mod cookie_attributes;
mod finish;
mod load;
mod persist;
mod request_info;
mod sealed;
mod state;
mod write_slot;

use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tokio::sync::Mutex;

pub use finish::Outcome;
pub use request_info::RequestInfo;
use state::{Phase, State};
pub(crate) use write_slot::WriteLocks;

use crate::config::SessionConfig;
use crate::cookie::{Found, IncomingId, Signature};
use crate::error::Error;
use crate::id::SessionId;
use crate::record::{CookieRecord, is_reserved_key};
use crate::sealed::SealedConfig;
use crate::store::SessionStore;

/// One request's session. Cheap to clone (all clones are the same session).
///
/// Nothing is read from the store until the first call that needs the data, so a
/// request that never uses its session costs no store call. Every data method is
/// `async` for that reason. At the end of the request the adapter calls
/// [`Session::finish`], which saves or touches as express-session would, before the
/// response head goes out.
///
/// # Examples
///
/// ```
/// use session_core::{Error, Session};
///
/// async fn count_visit(session: &Session) -> Result<u64, Error> {
///     let views: u64 = session.get("views").await?.unwrap_or(0);
///     session.insert("views", views + 1).await?;
///     Ok(views + 1)
/// }
/// ```
///
/// [`SessionManager`](crate::adapter::SessionManager) shows a whole request.
#[derive(Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

/// What every session of one manager shares: one reference count per request instead
/// of one per part (each is a cache line that every core writes).
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) store: Arc<dyn SessionStore>,
    pub(crate) config: Arc<SessionConfig>,
    pub(crate) locks: Arc<WriteLocks>,
    /// Sealed-cookie mode: the data lives in the cookie and `store` is never called.
    pub(crate) sealed: Option<Arc<SealedConfig>>,
}

struct Inner {
    shared: Arc<Shared>,
    incoming: Option<IncomingId>,
    /// The incoming cookie's signature, when it is the signing secret's: the same id
    /// goes back without signing it again.
    incoming_signature: Option<Signature>,
    secure_request: bool,
    client_ip: Option<std::net::IpAddr>,
    /// The session came from the session header, or the request carried the header
    /// and no cookie of ours (header transport): only then is the token sent back in
    /// a header. Sealed-cookie mode: the first candidate seal is the header's.
    header_client: bool,
    /// Sealed-cookie mode: the request's candidate seals (the session header's, then
    /// the cookies'), unsealed on first use.
    seals: Box<[String]>,
    state: Mutex<State>,
}

impl Session {
    /// A session for a request that carried `incoming` (a verified cookie id, if any),
    /// sharing its manager's store, configuration and per-session write locks. `info.secure` decides
    /// `secure: auto` and `sameSite: auto` for new sessions and whether a `Secure`
    /// cookie may be set.
    pub(crate) fn with_locks(
        shared: Arc<Shared>,
        incoming: Option<Found>,
        info: RequestInfo<'_>,
        header_client: bool,
        seals: Box<[String]>,
    ) -> Self {
        let incoming_signature = incoming
            .as_ref()
            .filter(|f| !f.incoming.resign)
            .map(|f| f.signature);
        Session {
            inner: Arc::new(Inner {
                shared,
                incoming: incoming.map(|f| f.incoming),
                incoming_signature,
                secure_request: info.secure,
                client_ip: info.client_ip,
                header_client,
                seals,
                state: Mutex::new(State::unloaded()),
            }),
        }
    }

    /// The signature of `id` under the signing secret, when the request's cookie
    /// carried it.
    pub(super) fn known_signature(&self, id: &SessionId) -> Option<Signature> {
        let incoming = self.inner.incoming.as_ref()?;
        (incoming.id == *id).then_some(self.inner.incoming_signature?)
    }

    /// Reads `key` as `T`. `None` when absent (or after destroy).
    ///
    /// # Errors
    ///
    /// [`Error::Store`] if loading failed; [`Error::Value`] if the stored value is not a `T`.
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        match self.get_value(key).await? {
            None => Ok(None),
            Some(v) => serde_json::from_value(v)
                .map(Some)
                .map_err(|source| Error::Value {
                    key: key.to_owned(),
                    source,
                }),
        }
    }

    /// Reads `key` as JSON.
    ///
    /// # Errors
    ///
    /// [`Error::Store`] if loading failed.
    pub(crate) async fn get_value(&self, key: &str) -> Result<Option<Value>, Error> {
        let mut st = self.inner.state.lock().await;
        if !self.ready(&mut st).await? {
            return Ok(None);
        }
        Ok(st.data().get(key).cloned())
    }

    /// Stores `value` under `key`.
    ///
    /// # Errors
    ///
    /// [`Error::ReservedKey`] for `cookie`, `__sessionMeta` and the names express-session
    /// drops on load (`save`, `id`, `__proto__`, ...); [`Error::Value`] if `value` does
    /// not serialize; [`Error::Destroyed`] after [`Session::destroy`]; [`Error::Store`]
    /// if loading failed.
    pub async fn insert<T: Serialize>(&self, key: &str, value: T) -> Result<(), Error> {
        if self.is_reserved(key) {
            return Err(Error::ReservedKey {
                key: key.to_owned(),
            });
        }
        let value = serde_json::to_value(value).map_err(|source| Error::Value {
            key: key.to_owned(),
            source,
        })?;
        self.insert_value(key, value).await
    }

    async fn insert_value(&self, key: &str, value: Value) -> Result<(), Error> {
        let mut st = self.inner.state.lock().await;
        self.writable(&mut st).await?;
        if let Some(sealed) = self.sealed() {
            return self.write_sealed(&mut st, sealed, |data| {
                data.insert(key.to_owned(), value);
            });
        }
        st.insert(key.to_owned(), value);
        Ok(())
    }

    /// Removes `key`, returning its value as `T`.
    ///
    /// # Errors
    ///
    /// As [`Session::get`] and [`Session::insert`].
    pub async fn remove<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        match self.remove_value(key).await? {
            None => Ok(None),
            Some(v) => serde_json::from_value(v)
                .map(Some)
                .map_err(|source| Error::Value {
                    key: key.to_owned(),
                    source,
                }),
        }
    }

    /// Removes `key`, returning its JSON value.
    ///
    /// # Errors
    ///
    /// [`Error::Destroyed`] after destroy; [`Error::Store`] if loading failed.
    pub(crate) async fn remove_value(&self, key: &str) -> Result<Option<Value>, Error> {
        let mut st = self.inner.state.lock().await;
        self.writable(&mut st).await?;
        if let Some(sealed) = self.sealed() {
            // A session read from a cookie larger than this layer writes (h3 2.x's
            // split cookies) may still not fit: the handler hears it now.
            return self.write_sealed(&mut st, sealed, |data| data.shift_remove(key));
        }
        Ok(st.remove(key))
    }

    /// Removes every data key (the session and its id stay).
    ///
    /// # Errors
    ///
    /// [`Error::Destroyed`] after destroy; [`Error::Store`] if loading failed.
    pub async fn clear(&self) -> Result<(), Error> {
        let mut st = self.inner.state.lock().await;
        self.writable(&mut st).await?;
        st.set_data(Map::new());
        Ok(())
    }

    /// Merges the keys of `partial` (anything that serializes to a JSON object) into
    /// the data, each key replaced whole: h3's `session.update({...})`. For a
    /// read-modify-write that must be exact under concurrency, use [`Session::update`].
    ///
    /// ```
    /// # async fn f(session: &session_core::Session) -> Result<(), session_core::Error> {
    /// session.merge(serde_json::json!({ "theme": "dark", "lang": "en" })).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::NotAnObject`], [`Error::ReservedKey`] (nothing is changed then),
    /// [`Error::Value`], [`Error::Destroyed`], [`Error::Store`] if loading failed.
    pub async fn merge<T: Serialize>(&self, partial: T) -> Result<(), Error> {
        let map = self.to_object(partial)?;
        let mut st = self.inner.state.lock().await;
        self.writable(&mut st).await?;
        if let Some(sealed) = self.sealed() {
            return self.write_sealed(&mut st, sealed, |data| data.extend(map));
        }
        for (k, v) in map {
            st.insert(k, v);
        }
        Ok(())
    }

    /// Replaces all data with `data` (anything that serializes to a JSON object).
    ///
    /// # Errors
    ///
    /// As [`Session::merge`].
    pub async fn replace<T: Serialize>(&self, data: T) -> Result<(), Error> {
        let map = self.to_object(data)?;
        let mut st = self.inner.state.lock().await;
        self.writable(&mut st).await?;
        if let Some(sealed) = self.sealed() {
            return self.write_sealed(&mut st, sealed, |data| *data = map);
        }
        st.set_data(map);
        Ok(())
    }

    /// A copy of all data keys.
    ///
    /// # Errors
    ///
    /// [`Error::Store`] if loading failed.
    pub async fn data(&self) -> Result<Map<String, Value>, Error> {
        let mut st = self.inner.state.lock().await;
        if !self.ready(&mut st).await? {
            return Ok(Map::new());
        }
        Ok((**st.data()).clone())
    }

    /// The session id (a new session gets one now). `None` after destroy, and for
    /// iron-session's sealed cookies, which carry no id.
    ///
    /// # Errors
    ///
    /// [`Error::Store`] if loading failed.
    pub async fn id(&self) -> Result<Option<SessionId>, Error> {
        let mut st = self.inner.state.lock().await;
        if !self.ready(&mut st).await? || self.sealed().is_some_and(|s| !s.format.has_id()) {
            return Ok(None);
        }
        Ok(st.id().cloned())
    }

    /// A copy of the session's cookie.
    ///
    /// # Errors
    ///
    /// [`Error::Store`] if loading failed.
    pub async fn cookie(&self) -> Result<CookieRecord, Error> {
        let mut st = self.inner.state.lock().await;
        if !self.ready(&mut st).await? && st.id().is_none() {
            // Destroyed or unset before anything was loaded: no cookie of its own.
            return Ok(CookieRecord::default());
        }
        Ok(st.cookie().clone())
    }

    /// The data as it stands (shared, nothing copied), or `None` after destroy or unset.
    pub(crate) async fn data_if_any(&self) -> Result<Option<Arc<Map<String, Value>>>, Error> {
        let mut st = self.inner.state.lock().await;
        if !self.ready(&mut st).await? {
            return Ok(None);
        }
        Ok(Some(st.data().clone()))
    }

    /// The configuration this session follows.
    pub(crate) fn config(&self) -> &SessionConfig {
        &self.inner.shared.config
    }

    /// The store behind this session, for administrative work from a handler.
    pub fn store(&self) -> &Arc<dyn SessionStore> {
        &self.inner.shared.store
    }

    /// Ensures the session is loaded or created; `false` if destroyed or unset.
    async fn ready(&self, st: &mut State) -> Result<bool, Error> {
        st.mark_accessed();
        match st.phase() {
            Phase::Ready => Ok(true),
            Phase::Destroyed | Phase::Unset => Ok(false),
            Phase::Unloaded => match self.load_or_create(st).await {
                Ok(()) => {
                    st.clear_load_error();
                    Ok(true)
                }
                Err(e) => {
                    // Keep the first failure for `finish`; give the handler its own copy.
                    let copy = match &e {
                        Error::Store { op, .. } => Error::Store {
                            op: *op,
                            source: crate::store::StoreError::backend(LoadFailed),
                        },
                        Error::NoClientAddress => Error::NoClientAddress,
                        _ => Error::NotFound,
                    };
                    st.record_load_error(e);
                    Err(copy)
                }
            },
        }
    }

    async fn writable(&self, st: &mut State) -> Result<(), Error> {
        if self.ready(st).await? {
            Ok(())
        } else {
            Err(Error::Destroyed)
        }
    }
}

impl Session {
    /// `value` as a JSON object without reserved keys.
    fn to_object<T: Serialize>(&self, value: T) -> Result<Map<String, Value>, Error> {
        let value = serde_json::to_value(value).map_err(|source| Error::Value {
            key: String::new(),
            source,
        })?;
        let Value::Object(map) = value else {
            return Err(Error::NotAnObject);
        };
        if let Some(k) = map.keys().find(|k| self.is_reserved(k)) {
            return Err(Error::ReservedKey { key: k.clone() });
        }
        Ok(map)
    }

    /// Refuses an `update` closure's result that changed a reserved key.
    fn no_reserved_change(
        &self,
        current: &Map<String, Value>,
        work: &Map<String, Value>,
    ) -> Result<(), Error> {
        match current
            .keys()
            .chain(work.keys())
            .find(|k| self.is_reserved(k) && current.get(*k) != work.get(*k))
        {
            Some(k) => Err(Error::ReservedKey { key: k.clone() }),
            None => Ok(()),
        }
    }

    /// A key the handler may not set: express-session's own names, or in the
    /// sealed-cookie mode those the sealing app would not keep.
    fn is_reserved(&self, key: &str) -> bool {
        match self.sealed() {
            Some(sealed) => sealed.format.is_reserved(key),
            None => is_reserved_key(key),
        }
    }
}

/// The cause given to the handler when loading failed; the original error (with its
/// source chain) is reported once, by [`Session::finish`].
#[derive(Debug, thiserror::Error)]
#[error("loading the session failed; the adapter reports the store error")]
struct LoadFailed;

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Session");
        if let Ok(st) = self.inner.state.try_lock() {
            d.field("phase", &st.phase()).field("id", &st.id());
        }
        d.field("has_cookie", &self.inner.incoming.is_some())
            .finish_non_exhaustive()
    }
}
