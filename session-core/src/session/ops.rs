//! The methods that call the store: load, save, reload, destroy, regenerate, cycle_id,
//! touch, unset, and the end-of-request `finish`.

use std::sync::Arc;

use serde_json::{Map, Value};
use time::OffsetDateTime;
use tracing::warn;

use super::Session;
use super::WriteLock;
use super::state::{Phase, State};
use super::write_lock::Latest;
use crate::config::{Compat, Concurrency, MissingCookie, Unset};
use crate::cookie::write::{
    removal_cookie, session_cookie, session_cookie_with_max_age, signed_value,
};
use crate::error::{Error, StoreOp};
use crate::finish::{Facts, Persist, Policy, Untouched, decide, decide_untouched};
use crate::id::SessionId;
use crate::pinning;
use crate::record::{Meta, is_reserved_key};
use crate::store::{Loaded, StoreError, Version};
use crate::telemetry::{
    InvalidCookie, Lifecycle, conflict, invalid_cookie, lifecycle, store_call, touch_failed,
};

/// How many times a conflicting save is re-applied on the latest record.
pub const MAX_SAVE_ATTEMPTS: u32 = 256;
/// How many fresh ids a new session tries when `create` reports a collision.
const MAX_CREATE_ATTEMPTS: u32 = 4;

/// What the adapter must do to the response at the end of a request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Outcome {
    /// A `Set-Cookie` value to add: the session cookie or a removal cookie.
    pub set_cookie: Option<String>,
    /// The handler read the session, so the response depends on the `Cookie` header
    /// (`Vary: Cookie`).
    pub accessed: bool,
    /// With the header transport: the header to send, `(name, signed value)`, whenever
    /// the session cookie is set.
    pub session_header: Option<(String, String)>,
}

impl Session {
    /// Writes the session to the store now (express `req.session.save()`), refreshing
    /// the cookie expiry first so the stored TTL is right. An unchanged session is not
    /// written again at the end of the request.
    ///
    /// # Errors
    ///
    /// [`Error::Store`], [`Error::TooLarge`], [`Error::Gone`] (another request destroyed
    /// it), [`Error::Conflict`], [`Error::Destroyed`], [`Error::Busy`] (too many requests
    /// wait to write this session).
    pub async fn save(&self) -> Result<(), Error> {
        let mut st = self.inner.state.lock().await;
        self.writable(&mut st).await?;
        self.persist(&mut st).await
    }

    /// Replaces the data with what the store holds now (express `reload`).
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] if the store no longer has the session; [`Error::Store`].
    pub async fn reload(&self) -> Result<(), Error> {
        let mut st = self.inner.state.lock().await;
        self.writable(&mut st).await?;
        if !st.stored {
            return Err(Error::NotFound);
        }
        let id = st.id.clone().ok_or(Error::NotFound)?;
        let loaded = self.load_record(&id, false).await?.ok_or(Error::NotFound)?;
        self.adopt(&mut st, id, loaded);
        Ok(())
    }

    /// Deletes the session from the store now (express `destroy`). The response gets a
    /// removal cookie if the request carried one; later writes fail with
    /// [`Error::Destroyed`] until [`Session::regenerate`].
    ///
    /// # Errors
    ///
    /// [`Error::Store`].
    pub async fn destroy(&self) -> Result<(), Error> {
        let mut st = self.inner.state.lock().await;
        st.accessed = true;
        if let Some(id) = self.deletable_id(&st).await? {
            self.destroy_stored(&id).await?;
            lifecycle(Lifecycle::Destroyed, Some(&id));
        }
        st.phase = Phase::Destroyed;
        st.stored = false;
        Ok(())
    }

    /// A new id and empty data; the old record is deleted (express `regenerate`). Call
    /// it at login to prevent session fixation.
    ///
    /// # Errors
    ///
    /// [`Error::Store`], [`Error::InvalidGeneratedId`].
    pub async fn regenerate(&self) -> Result<(), Error> {
        let mut st = self.inner.state.lock().await;
        st.accessed = true;
        if let Some(id) = self.deletable_id(&st).await? {
            self.destroy_stored(&id).await?;
        }
        self.fresh(&mut st, OffsetDateTime::now_utc())?;
        st.id_changed = true;
        lifecycle(Lifecycle::Regenerated, st.id.as_ref());
        Ok(())
    }

    /// A new id, the data kept; the record moves to the new id now and the old one is
    /// deleted. Use it when privileges change but the data should stay.
    ///
    /// # Errors
    ///
    /// [`Error::Store`], [`Error::TooLarge`], [`Error::Destroyed`].
    pub async fn cycle_id(&self) -> Result<(), Error> {
        let mut st = self.inner.state.lock().await;
        self.writable(&mut st).await?;
        let old = st.id.clone().filter(|_| st.stored);
        st.id = Some(self.inner.config.generate_id()?);
        st.stored = false;
        st.existing = false;
        st.id_changed = true;
        st.version = None;
        self.persist(&mut st).await?;
        if let Some(old) = old {
            self.destroy_stored(&old).await?;
        }
        lifecycle(Lifecycle::Cycled, st.id.as_ref());
        Ok(())
    }

    /// Resets the cookie's expiry to now + its lifetime (express `touch`). The store's
    /// expiry is extended at the end of the request in any case.
    ///
    /// # Errors
    ///
    /// [`Error::Store`] if loading failed.
    pub async fn touch(&self) -> Result<(), Error> {
        let mut st = self.inner.state.lock().await;
        if self.ready(&mut st).await? {
            st.cookie.reset_expiry(OffsetDateTime::now_utc());
        }
        Ok(())
    }

    /// express `req.session = null`: with [`Unset::Keep`] nothing is saved and the store
    /// is left alone; with [`Unset::Destroy`] the stored session is deleted at the end
    /// of the request.
    pub async fn unset(&self) {
        let mut st = self.inner.state.lock().await;
        st.accessed = true;
        st.phase = Phase::Unset;
    }

    /// The end of the request: saves, touches or destroys as express-session's rules
    /// decide (see [`crate::finish`]) and returns the cookie to set. Call it once,
    /// before the response head is sent.
    ///
    /// A store failure that can lose nothing is not an error: the end-of-request touch,
    /// or the load and write that `rolling`, `resave` or `saveUninitialized` ask for when
    /// the handler did not use the session. It is logged (throttled) and counted in
    /// `session_degraded_total`, and the outcome sets no cookie.
    ///
    /// # Errors
    ///
    /// [`Error::Store`] with [`StoreOp::Load`] if loading failed during the request
    /// (the response should be a 503); another [`Error::Store`] if persisting failed (a
    /// 500 without Set-Cookie), unless [`Error::is_overloaded`] (a full store: 503 with
    /// `Retry-After`); [`Error::Busy`] (503 with `Retry-After`); [`Error::TooLarge`];
    /// [`Error::Gone`] if another request destroyed the session meanwhile.
    pub async fn finish(&self) -> Result<Outcome, Error> {
        let mut st = self.inner.state.lock().await;
        if let Some(e) = st.load_error.take() {
            return Err(e);
        }
        let config = &self.inner.config;
        let policy = Policy {
            save_uninitialized: config.save_uninitialized,
            rolling: config.rolling,
            resave: config.resave,
        };
        let incoming = self.inner.incoming.as_ref();
        // The handler did not use the session: whatever store work the rules still ask
        // for (a touch; with rolling, resave or saveUninitialized a load and a write)
        // can lose nothing, so its failure never replaces the handler's response.
        let untouched = st.phase == Phase::Unloaded;
        match st.phase {
            Phase::Unloaded => match decide_untouched(
                incoming.is_some(),
                incoming.is_some_and(|i| i.resign),
                policy,
            ) {
                Untouched::Nothing => return Ok(Outcome::default()),
                Untouched::Touch => {
                    if let Some(inc) = incoming {
                        // A failed touch loses nothing (the data is stored): the
                        // response goes out as the handler wrote it.
                        match store_call(StoreOp::Touch, &inc.id, self.inner.store.touch(&inc.id))
                            .await
                        {
                            Ok(()) | Err(StoreError::NotFound) => {}
                            Err(e) => touch_failed(&e),
                        }
                    }
                    return Ok(Outcome::default());
                }
                Untouched::Materialize => {
                    if let Err(e) = self.load_or_create(&mut st).await {
                        return untouched_failure(e);
                    }
                }
            },
            Phase::Destroyed => return Ok(self.removal(&st)),
            Phase::Unset => {
                if config.unset == Unset::Destroy {
                    if let Some(id) = self.deletable_id(&st).await? {
                        self.destroy_stored(&id).await?;
                        lifecycle(Lifecycle::Destroyed, Some(&id));
                    }
                    return Ok(self.removal(&st));
                }
                return Ok(Outcome {
                    accessed: true,
                    ..Outcome::default()
                });
            }
            Phase::Ready => {}
        }

        let now = OffsetDateTime::now_utc();
        st.cookie.reset_expiry(now);
        let facts = Facts {
            is_new: !st.existing,
            modified: st.modified(),
            has_saved_baseline: st.has_saved_baseline,
            saved: st.is_saved(),
            expires_set: st.cookie.expires.is_some(),
            resign: st.existing && incoming.is_some_and(|i| i.resign),
        };
        let decision = decide(facts, policy);
        let mut touched = true;
        match decision.persist {
            Persist::Save => {
                if let Err(e) = self.persist(&mut st).await {
                    return if untouched {
                        untouched_failure(e)
                    } else {
                        Err(e)
                    };
                }
            }
            Persist::Touch if !st.expiry_fresh => {
                if let Some(id) = st.id.clone() {
                    let touch = self.inner.store.touch(&id);
                    match store_call(StoreOp::Touch, &id, touch).await {
                        Ok(()) => {}
                        Err(StoreError::NotFound) => return Err(Error::Gone),
                        // Nothing is lost: served as written, without a cookie whose
                        // expiry the store did not follow.
                        Err(e) => {
                            touch_failed(&e);
                            touched = false;
                        }
                    }
                }
            }
            Persist::Touch | Persist::Nothing => {}
        }
        let insecure = st.cookie.secure == Some(true) && !self.inner.secure_request;
        let (set_cookie, session_header) = match (
            &st.id,
            decision.set_cookie && touched && !insecure && st.stored,
        ) {
            (Some(id), true) => {
                let cookie = match config.max_age_attribute() {
                    Some(age) => session_cookie_with_max_age(
                        &config.name,
                        id,
                        &config.secrets,
                        &st.cookie,
                        age,
                    ),
                    None => session_cookie(&config.name, id, &config.secrets, &st.cookie),
                };
                let header = config
                    .header_name()
                    .map(|h| (h.to_owned(), signed_value(id, &config.secrets)));
                (Some(cookie), header)
            }
            _ => (None, None),
        };
        Ok(Outcome {
            set_cookie,
            accessed: st.accessed,
            session_header,
        })
    }

    /// The id whose record this request may delete: the current one, or the cookie's.
    /// With IP pinning, the cookie's only after its record was read and its pin
    /// matched: a stolen cookie used from elsewhere never ends the owner's session.
    async fn deletable_id(&self, st: &State) -> Result<Option<SessionId>, Error> {
        if st.phase == Phase::Ready {
            return Ok(st.id.clone().filter(|_| st.stored));
        }
        let Some(inc) = &self.inner.incoming else {
            return Ok(None);
        };
        if !self.inner.config.ip_pinning {
            return Ok(Some(inc.id.clone()));
        }
        self.require_client_address()?;
        Ok(match self.load_record(&inc.id, true).await? {
            Some(loaded) if self.pin_matches(&inc.id, loaded.record.meta()) => Some(inc.id.clone()),
            _ => None,
        })
    }

    /// IP pinning needs the client's address: without one it fails closed.
    fn require_client_address(&self) -> Result<(), Error> {
        if self.inner.config.ip_pinning && self.inner.client_ip.is_none() {
            return Err(Error::NoClientAddress);
        }
        Ok(())
    }

    fn removal(&self, st: &State) -> Outcome {
        let cookie = if st.id.is_some() {
            st.cookie.clone()
        } else {
            self.inner
                .config
                .new_cookie(OffsetDateTime::now_utc(), self.inner.secure_request)
        };
        let set_cookie = self
            .inner
            .incoming
            .is_some()
            .then(|| removal_cookie(&self.inner.config.name, &cookie));
        Outcome {
            set_cookie,
            accessed: true,
            session_header: None,
        }
    }

    /// Loads the cookie's session, or starts a new one when there is none to load.
    pub(super) async fn load_or_create(&self, st: &mut State) -> Result<(), Error> {
        self.require_client_address()?;
        let now = OffsetDateTime::now_utc();
        if let Some(inc) = &self.inner.incoming {
            match self.load_record(&inc.id, true).await? {
                Some(loaded) if loaded.record.is_past_absolute_deadline(now) => {
                    lifecycle(Lifecycle::Expired, Some(&inc.id));
                    self.destroy_stored(&inc.id).await?;
                }
                Some(loaded) if !self.pin_matches(&inc.id, loaded.record.meta()) => {}
                Some(loaded) => {
                    self.adopt(st, inc.id.clone(), loaded);
                    return Ok(());
                }
                None => {}
            }
        }
        self.fresh(st, now)
    }

    /// Reads a record; corrupt or unusable records are "no session" plus a warning.
    /// `from_cookie`: the id came with the request, so "not found" is an invalid cookie.
    async fn load_record(
        &self,
        id: &SessionId,
        from_cookie: bool,
    ) -> Result<Option<Loaded>, Error> {
        match store_call(StoreOp::Load, id, self.inner.store.load(id)).await {
            Ok(Some(loaded)) => {
                let limit = self.inner.config.max_record_bytes;
                if loaded.record.cookie().is_none()
                    && self.inner.config.missing_cookie == MissingCookie::Reject
                {
                    invalid_cookie(InvalidCookie::CorruptRecord, Some(id), "no cookie object");
                    return Ok(None);
                }
                // Records carry their size when it is known (decoded from bytes, or
                // measured by this layer before saving); others, e.g. put into a store
                // directly, are measured here without allocating.
                let size = loaded
                    .record
                    .stored_len()
                    .unwrap_or_else(|| loaded.record.encoded_len());
                if size > limit {
                    invalid_cookie(
                        InvalidCookie::CorruptRecord,
                        Some(id),
                        "over the size limit",
                    );
                    return Ok(None);
                }
                Ok(Some(loaded))
            }
            Ok(None) => {
                if from_cookie {
                    invalid_cookie(InvalidCookie::UnknownId, Some(id), "no stored session");
                }
                Ok(None)
            }
            Err(StoreError::Corrupt(e)) => {
                let detail = e.to_string();
                invalid_cookie(InvalidCookie::CorruptRecord, Some(id), &detail);
                Ok(None)
            }
            Err(e) => Err(Error::store(StoreOp::Load)(e)),
        }
    }

    /// IP pinning: whether this request's client may use the loaded session. A record
    /// without a pin (written before pinning was on) is pinned at its next save.
    fn pin_matches(&self, id: &SessionId, meta: &Meta) -> bool {
        let config = &self.inner.config;
        if !config.ip_pinning {
            return true;
        }
        let ok = match (&meta.client_pin, self.inner.client_ip) {
            (None, _) => true,
            (Some(pin), Some(ip)) => pinning::matches(&config.secrets, pin, ip),
            (Some(_), None) => false,
        };
        if !ok {
            invalid_cookie(
                InvalidCookie::IpMismatch,
                Some(id),
                "the session belongs to another client address",
            );
        }
        ok
    }

    /// The pin for this request's client, when IP pinning is on.
    fn client_pin(&self) -> Option<String> {
        let config = &self.inner.config;
        match (config.ip_pinning, self.inner.client_ip) {
            (true, Some(ip)) => Some(pinning::pin(&config.secrets, ip)),
            _ => None,
        }
    }

    /// Takes a loaded record as the current state.
    fn adopt(&self, st: &mut State, id: SessionId, loaded: Loaded) {
        let Loaded {
            record,
            version,
            touched,
        } = loaded;
        let (cookie, data, mut meta) = record.into_parts();
        if meta.client_pin.is_none() {
            meta.client_pin = self.client_pin();
        }
        let cookie = cookie.unwrap_or_else(|| {
            self.inner
                .config
                .new_cookie(OffsetDateTime::now_utc(), self.inner.secure_request)
        });
        st.become_ready(id, cookie, data, meta);
        st.version = Some(version);
        st.stored = true;
        st.existing = self
            .inner
            .incoming
            .as_ref()
            .is_some_and(|i| Some(&i.id) == st.id.as_ref());
        st.expiry_fresh = touched;
        st.has_saved_baseline = !self.inner.config.resave;
        st.id_changed = false;
    }

    /// Starts a new, unsaved session.
    fn fresh(&self, st: &mut State, now: OffsetDateTime) -> Result<(), Error> {
        let config = &self.inner.config;
        let id = config.generate_id()?;
        let mut meta = config.new_meta(now);
        meta.client_pin = self.client_pin();
        st.become_ready(
            id,
            config.new_cookie(now, self.inner.secure_request),
            Arc::new(config.initial_data()),
            meta,
        );
        st.version = None;
        st.stored = false;
        st.existing = false;
        st.expiry_fresh = false;
        st.has_saved_baseline = false;
        st.id_changed = false;
        Ok(())
    }

    /// Writes the current state, as [`Concurrency`] says: with `Merge`, a save that
    /// conflicts is re-applied (this request's changed keys only) on the latest record,
    /// up to [`MAX_SAVE_ATTEMPTS`] times.
    async fn persist(&self, st: &mut State) -> Result<(), Error> {
        let conditional = self.inner.config.concurrency == Concurrency::Merge;
        let lock = self.write_lock(st)?;
        let mut latest = match &lock {
            Some(l) => Some(l.lock().await),
            None => None,
        };
        // Another request of this process wrote since we loaded: start from that.
        if conditional
            && let Some(Some((version, record))) = latest.as_deref()
            && st.stored
            && st.version.as_ref() != Some(version)
        {
            let pending = st.pending_changes();
            apply_latest(
                st,
                Arc::clone(record.shared_data()),
                version.clone(),
                &pending,
            );
        }
        for attempt in 1..=MAX_SAVE_ATTEMPTS {
            match self.write_once(st, conditional).await? {
                Attempt::Written => {
                    keep_latest(st, lock.as_ref(), latest.as_deref_mut());
                    return Ok(());
                }
                Attempt::Conflict => {
                    conflict(st.id.as_ref(), attempt, attempt < MAX_SAVE_ATTEMPTS);
                    backoff(attempt).await;
                    let pending = st.pending_changes();
                    self.rebase(st, &pending).await?;
                }
            }
        }
        Err(Error::Conflict {
            attempts: MAX_SAVE_ATTEMPTS,
        })
    }

    /// Applies `f` to the latest stored data and saves at once, atomically: if another
    /// request saved in between, `f` runs again on what it saved. For exact counters and
    /// other read-modify-write updates; 20 parallel increments give exactly +20.
    ///
    /// Changes made earlier in this request are saved with it. `f` may run several
    /// times, so it should only compute from its argument.
    ///
    /// ```
    /// # async fn incr(session: &session_core::Session) -> Result<u64, session_core::Error> {
    /// let n = session
    ///     .update(|data| {
    ///         let n = data.get("counter").and_then(|v| v.as_u64()).unwrap_or(0) + 1;
    ///         data.insert("counter".into(), n.into());
    ///         n
    ///     })
    ///     .await?;
    /// # Ok(n) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::ReservedKey`] if `f` sets a reserved key; [`Error::Conflict`] after
    /// [`MAX_SAVE_ATTEMPTS`] conflicting attempts; [`Error::Gone`] if another request
    /// destroyed the session; [`Error::Busy`] if too many requests wait to write it;
    /// [`Error::Store`], [`Error::TooLarge`], [`Error::Destroyed`].
    pub async fn update<F, R>(&self, mut f: F) -> Result<R, Error>
    where
        F: FnMut(&mut Map<String, Value>) -> R,
    {
        let mut st = self.inner.state.lock().await;
        self.writable(&mut st).await?;
        let lock = self.write_lock(&st)?;
        let mut latest = match &lock {
            Some(l) => Some(l.lock().await),
            None => None,
        };
        let earlier = st.pending_changes();
        if let Some(Some((version, record))) = latest.as_deref()
            && st.stored
            && st.version.as_ref() != Some(version)
        {
            apply_latest(
                &mut st,
                Arc::clone(record.shared_data()),
                version.clone(),
                &earlier,
            );
        }
        for attempt in 1..=MAX_SAVE_ATTEMPTS {
            let mut work = (*st.data).clone();
            let out = f(&mut work);
            let changed: Vec<String> = st
                .data
                .keys()
                .chain(work.keys())
                .filter(|k| st.data.get(*k) != work.get(*k))
                .cloned()
                .collect();
            if let Some(k) = changed.iter().find(|k| is_reserved_key(k)) {
                return Err(Error::ReservedKey { key: k.clone() });
            }
            for k in &changed {
                st.note_change(k);
            }
            st.data = Arc::new(work);
            match self.write_once(&mut st, true).await? {
                Attempt::Written => {
                    keep_latest(&st, lock.as_ref(), latest.as_deref_mut());
                    return Ok(out);
                }
                Attempt::Conflict => {
                    conflict(st.id.as_ref(), attempt, attempt < MAX_SAVE_ATTEMPTS);
                    backoff(attempt).await;
                    self.rebase(&mut st, &earlier).await?;
                }
            }
        }
        Err(Error::Conflict {
            attempts: MAX_SAVE_ATTEMPTS,
        })
    }

    /// One write of the current state: `create` for a new id (another id on a
    /// collision), or `save`, conditional on the loaded version when `conditional`.
    async fn write_once(&self, st: &mut State, conditional: bool) -> Result<Attempt, Error> {
        let config = &self.inner.config;
        st.cookie.reset_expiry(OffsetDateTime::now_utc());
        let Some(mut id) = st.id.clone() else {
            return Err(Error::Destroyed);
        };
        let mut record = st.record();
        if config.compat == Compat::H3Session {
            record = record.without_cookie_key();
        }
        let size = record.encoded_len();
        if size > config.max_record_bytes {
            return Err(Error::TooLarge {
                size,
                limit: config.max_record_bytes,
            });
        }
        record.set_stored_len(size);
        let store = &self.inner.store;
        if !st.stored {
            let mut attempts = 0;
            let result = loop {
                attempts += 1;
                match store_call(StoreOp::Create, &id, store.create(&id, &record)).await {
                    Err(StoreError::IdTaken) if attempts < MAX_CREATE_ATTEMPTS => {
                        warn!("generated session id collided with a stored one; trying another");
                        id = config.generate_id()?;
                    }
                    other => break other,
                }
            };
            drop(record);
            let version = result.map_err(Error::store(StoreOp::Create))?;
            lifecycle(Lifecycle::Created, Some(&id));
            st.id = Some(id);
            st.mark_saved(Some(version));
            return Ok(Attempt::Written);
        }
        let expected = if conditional {
            st.version.as_ref()
        } else {
            None
        };
        let result = store_call(StoreOp::Save, &id, store.save(&id, &record, expected)).await;
        drop(record);
        match result {
            Ok(version) => {
                st.mark_saved(version);
                Ok(Attempt::Written)
            }
            Err(StoreError::NotFound) => Err(Error::Gone),
            Err(StoreError::Conflict) => Ok(Attempt::Conflict),
            Err(e) => Err(Error::store(StoreOp::Save)(e)),
        }
    }

    /// The write lock of the session's id, or [`Error::Busy`] when the queue is full.
    fn write_lock(&self, st: &State) -> Result<Option<WriteLock>, Error> {
        st.id
            .as_ref()
            .map(|id| {
                self.inner
                    .locks
                    .for_id_bounded(id, self.inner.config.max_queued_writes)
            })
            .transpose()
    }

    /// Deletes a stored session.
    async fn destroy_stored(&self, id: &SessionId) -> Result<(), Error> {
        store_call(StoreOp::Destroy, id, self.inner.store.destroy(id))
            .await
            .map_err(Error::store(StoreOp::Destroy))
    }

    /// After a conflict: the latest stored data, with `changes` applied on top.
    async fn rebase(
        &self,
        st: &mut State,
        changes: &[(String, Option<Value>)],
    ) -> Result<(), Error> {
        let id = st.id.clone().ok_or(Error::Destroyed)?;
        // Part of a save: a failure here loses the write, it is not a load failure.
        let latest = match self.load_record(&id, false).await {
            Ok(latest) => latest.ok_or(Error::Gone)?,
            Err(Error::Store { source, .. }) => {
                return Err(Error::Store {
                    op: StoreOp::Save,
                    source,
                });
            }
            Err(e) => return Err(e),
        };
        let (_, data, _) = latest.record.into_parts();
        apply_latest(st, data, latest.version, changes);
        Ok(())
    }
}

/// The end-of-request store work of a session the handler did not use failed: nothing
/// is lost, so the response goes out as written (without `Set-Cookie`); logged and
/// counted. Other errors (not the store's) are still errors.
fn untouched_failure(e: Error) -> Result<Outcome, Error> {
    if e.is_store() || e.is_overloaded() {
        touch_failed(&e);
        Ok(Outcome::default())
    } else {
        Err(e)
    }
}

/// Makes `data` (at `version`) the current state, with `changes` applied on top.
fn apply_latest(
    st: &mut State,
    data: Arc<Map<String, Value>>,
    version: Version,
    changes: &[(String, Option<Value>)],
) {
    st.data = data;
    for (k, v) in changes {
        match v {
            Some(v) => st.data_mut().insert(k.clone(), v.clone()),
            None => st.data_mut().shift_remove(k),
        };
    }
    st.version = Some(version);
}

/// After a write under the lock: keep what was written for the requests queued behind
/// (only if there are any; otherwise forget it, so nothing stale lingers).
fn keep_latest(st: &State, lock: Option<&WriteLock>, latest: Option<&mut Latest>) {
    let (Some(lock), Some(latest)) = (lock, latest) else {
        return;
    };
    *latest = match (&st.version, Arc::strong_count(lock) > 1) {
        (Some(v), true) => Some((v.clone(), st.record())),
        _ => None,
    };
}

/// Spreads out the retries of requests that conflicted with each other: yields to the
/// executor a random number of times, up to twice as many after each conflict (at most
/// 64). Yielding needs no timer, so it works on any runtime.
async fn backoff(attempt: u32) {
    let mut r = [0u8; 1];
    let _ = getrandom::fill(&mut r);
    let ceiling = 1u32 << attempt.min(6);
    for _ in 0..u32::from(r[0]) % ceiling {
        tokio::task::yield_now().await;
    }
}

/// The result of one write attempt.
enum Attempt {
    Written,
    Conflict,
}
