//! The per-request session state and its transitions; its changes are tracked by
//! [`ChangeLog`] (`changes.rs`).
//!
//! The fields are private: the steps (load, commands, finish, persist) read them
//! through accessors and change them only through the named transitions below.

use std::sync::Arc;

use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::changes::{ChangeLog, Changes};
use crate::error::Error;
use crate::id::SessionId;
use crate::record::{CookieRecord, Record, RecordMeta};
use crate::store::Version;

/// Where the session is in its life within this request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Not accessed yet: no store call made.
    Unloaded,
    /// Loaded from the store or newly created; usable.
    Ready,
    /// Destroyed in this request.
    Destroyed,
    /// Unset (express `req.session = null`).
    Unset,
}

/// What a session holds: its cookie, its data and the bookkeeping.
#[derive(Debug)]
pub(super) struct Contents {
    pub(super) cookie: CookieRecord,
    pub(super) data: Arc<Map<String, Value>>,
    pub(super) meta: RecordMeta,
    /// When the session was created (Unix milliseconds): h3's `createdAt`, sealed
    /// with the session in the sealed-cookie mode.
    pub(super) created_ms: u64,
    /// Sealed-cookie mode: the seal's other top-level fields, written back as read.
    pub(super) sealed_extra: Map<String, Value>,
}

#[derive(Debug)]
pub(crate) struct State {
    phase: Phase,
    /// The current id (`Some` once Ready).
    id: Option<SessionId>,
    cookie: CookieRecord,
    /// Shared with the store's copy and other requests until this request changes it.
    data: Arc<Map<String, Value>>,
    meta: RecordMeta,
    created_ms: u64,
    sealed_extra: Map<String, Value>,
    /// Sealed-cookie mode: the seal must be made again though nothing changed (it was
    /// made the legacy way).
    reseal: bool,
    /// Version of the stored record, for conditional saves.
    version: Option<Version>,
    /// A record exists in the store under `id` (loaded or written in this request).
    stored: bool,
    /// Loaded under the cookie's id and not re-identified since (express
    /// `cookieId === req.sessionID`).
    existing: bool,
    /// The store's expiry was set during this request (a sliding load or a write), so
    /// a touch at the end would be redundant.
    expiry_fresh: bool,
    /// A saved baseline exists (express `savedHash`).
    has_saved_baseline: bool,
    /// The id changed in this request (regenerate, cycle).
    id_changed: bool,
    /// The keys changed, with their values at load and at the last save.
    changes: ChangeLog,
    /// The handler used the session.
    accessed: bool,
    /// Loading failed in this request (the adapter answers 503 for it).
    load_error: Option<Error>,
}

impl State {
    /// Allocates nothing: most requests never use their session.
    pub(crate) fn unloaded() -> Self {
        // Placeholders until a load or a new session replaces them. One empty map per
        // thread: a process-wide one would be a reference count every core writes.
        thread_local! {
            static NO_DATA: Arc<Map<String, Value>> = Arc::default();
        }
        State {
            phase: Phase::Unloaded,
            id: None,
            cookie: CookieRecord {
                original_max_age: None,
                expires: None,
                http_only: true,
                path: String::new(),
                secure: None,
                domain: None,
                same_site: None,
                partitioned: None,
                priority: None,
            },
            data: NO_DATA.with(Arc::clone),
            meta: RecordMeta::default(),
            created_ms: 0,
            sealed_extra: Map::new(),
            reseal: false,
            version: None,
            stored: false,
            existing: false,
            expiry_fresh: false,
            has_saved_baseline: false,
            id_changed: false,
            changes: ChangeLog::default(),
            accessed: false,
            load_error: None,
        }
    }

    // ---- reads ------------------------------------------------------------------

    pub(super) fn phase(&self) -> Phase {
        self.phase
    }
    pub(super) fn id(&self) -> Option<&SessionId> {
        self.id.as_ref()
    }
    /// The id, if a record exists under it in the store.
    pub(super) fn stored_id(&self) -> Option<&SessionId> {
        self.id.as_ref().filter(|_| self.stored)
    }
    pub(super) fn cookie(&self) -> &CookieRecord {
        &self.cookie
    }
    pub(super) fn data(&self) -> &Arc<Map<String, Value>> {
        &self.data
    }
    pub(super) fn version(&self) -> Option<&Version> {
        self.version.as_ref()
    }
    pub(super) fn is_stored(&self) -> bool {
        self.stored
    }
    pub(super) fn is_existing(&self) -> bool {
        self.existing
    }
    pub(super) fn expiry_fresh(&self) -> bool {
        self.expiry_fresh
    }
    pub(super) fn has_saved_baseline(&self) -> bool {
        self.has_saved_baseline
    }
    pub(super) fn accessed(&self) -> bool {
        self.accessed
    }
    pub(super) fn created_ms(&self) -> u64 {
        self.created_ms
    }
    pub(super) fn sealed_extra(&self) -> &Map<String, Value> {
        &self.sealed_extra
    }
    pub(super) fn needs_reseal(&self) -> bool {
        self.reseal
    }

    // ---- life -------------------------------------------------------------------

    /// A record loaded from the store becomes the session. `existing`: it is the
    /// cookie's; `touched`: the load already slid its expiry; `baseline`: it counts as
    /// saved (express: unless `resave`).
    pub(super) fn adopt(
        &mut self,
        id: SessionId,
        contents: Contents,
        version: Version,
        existing: bool,
        touched: bool,
        baseline: bool,
    ) {
        self.become_ready(id, contents);
        self.version = Some(version);
        self.stored = true;
        self.existing = existing;
        self.expiry_fresh = touched;
        self.has_saved_baseline = baseline;
    }

    /// A new session that is not stored yet.
    pub(super) fn start_fresh(&mut self, id: SessionId, contents: Contents) {
        self.become_ready(id, contents);
    }

    /// A new session replacing the one this request had (`regenerate`).
    pub(super) fn start_over(&mut self, id: SessionId, contents: Contents) {
        self.become_ready(id, contents);
        self.id_changed = true;
    }

    /// The same session under a new id, not stored under it yet (`cycle_id`).
    pub(super) fn move_to_new_id(&mut self, id: SessionId) {
        self.id = Some(id);
        self.stored = false;
        self.existing = false;
        self.id_changed = true;
        self.version = None;
    }

    /// A `create` succeeded, under `id` (another one after a collision).
    pub(super) fn mark_created(&mut self, id: SessionId, version: Version) {
        self.id = Some(id);
        self.mark_saved(Some(version));
    }

    /// A save succeeded: the current state is the new baseline.
    pub(super) fn mark_saved(&mut self, version: Option<Version>) {
        self.version = version;
        self.stored = true;
        self.has_saved_baseline = true;
        self.expiry_fresh = true;
        self.changes.saved();
    }

    pub(super) fn mark_destroyed(&mut self) {
        self.phase = Phase::Destroyed;
        self.stored = false;
    }

    pub(super) fn mark_unset(&mut self) {
        self.phase = Phase::Unset;
    }

    /// Sealed-cookie mode: seal again at the end of the request.
    pub(super) fn mark_reseal(&mut self) {
        self.reseal = true;
    }

    pub(super) fn mark_accessed(&mut self) {
        self.accessed = true;
    }

    /// Remembers a load failure for `finish` (the first one wins).
    pub(super) fn record_load_error(&mut self, e: Error) {
        if self.load_error.is_none() {
            self.load_error = Some(e);
        }
    }

    pub(super) fn clear_load_error(&mut self) {
        self.load_error = None;
    }

    pub(super) fn take_load_error(&mut self) -> Option<Error> {
        self.load_error.take()
    }

    fn become_ready(&mut self, id: SessionId, contents: Contents) {
        self.phase = Phase::Ready;
        self.id = Some(id);
        self.cookie = contents.cookie;
        self.data = contents.data;
        self.meta = contents.meta;
        self.created_ms = contents.created_ms;
        self.sealed_extra = contents.sealed_extra;
        self.reseal = false;
        self.version = None;
        self.stored = false;
        self.existing = false;
        self.expiry_fresh = false;
        self.has_saved_baseline = false;
        self.id_changed = false;
        self.changes.clear();
    }

    // ---- the cookie -------------------------------------------------------------

    /// express `touch()`: `expires = now + originalMaxAge`. The clock is read only for
    /// a cookie with a lifetime (a browser-session cookie has no expiry to reset).
    pub(super) fn reset_expiry(&mut self, now: impl FnOnce() -> OffsetDateTime) {
        if self.cookie.original_max_age.is_some() {
            self.cookie.reset_expiry(now());
        }
    }
    /// A handler changed this session's cookie (validated by the caller).
    pub(super) fn set_cookie(&mut self, cookie: CookieRecord) {
        self.cookie = cookie;
    }

    // ---- the data ---------------------------------------------------------------

    pub(super) fn insert(&mut self, key: String, value: Value) {
        self.note_change(&key);
        self.data_mut().insert(key, value);
    }

    pub(super) fn remove(&mut self, key: &str) -> Option<Value> {
        if !self.data.contains_key(key) {
            return None;
        }
        self.note_change(key);
        self.data_mut().shift_remove(key)
    }

    /// Replaces all data; returns what it held (see [`State::restore_data`]).
    pub(super) fn set_data(&mut self, map: Map<String, Value>) -> Arc<Map<String, Value>> {
        let changed: Vec<String> = self
            .data
            .iter()
            .filter(|(k, v)| map.get(*k) != Some(*v))
            .map(|(k, _)| k.clone())
            .chain(map.keys().filter(|k| !self.data.contains_key(*k)).cloned())
            .collect();
        for k in &changed {
            self.note_change(k);
        }
        std::mem::replace(&mut self.data, Arc::new(map))
    }

    /// Puts back data returned by [`State::set_data`]: the change is undone.
    pub(super) fn restore_data(&mut self, data: Arc<Map<String, Value>>) {
        self.data = data;
    }

    /// Another writer's `data` (at `version`) becomes the current state, with
    /// `changes` (this request's) applied on top.
    pub(super) fn catch_up(
        &mut self,
        data: Arc<Map<String, Value>>,
        version: Version,
        changes: &[(String, Option<Value>)],
    ) {
        self.data = data;
        for (k, v) in changes {
            match v {
                Some(v) => self.data_mut().insert(k.clone(), v.clone()),
                None => self.data_mut().shift_remove(k),
            };
        }
        // Keys this request touched without changing now hold the other writer's
        // value: they are not this request's changes, so a later conflict must not
        // write them back.
        self.changes.keep_unsaved_only(changes);
        self.version = Some(version);
    }

    /// The data, to change: copied first if anyone else holds it (copy on write).
    fn data_mut(&mut self) -> &mut Map<String, Value> {
        Arc::make_mut(&mut self.data)
    }

    /// Records that `key` is about to change.
    fn note_change(&mut self, key: &str) {
        self.changes.note(key, &self.data);
    }

    /// express `isModified`.
    pub(super) fn modified(&self) -> bool {
        self.id_changed || self.changes.differs_since_load(&self.data)
    }

    /// express `isSaved`.
    pub(super) fn is_saved(&self) -> bool {
        self.has_saved_baseline && !self.changes.differs_since_save(&self.data)
    }

    /// Keys this request changed since the last save, with their current values.
    pub(super) fn pending_changes(&self) -> Changes {
        self.changes.pending(&self.data)
    }

    /// The current contents as a record (the data is shared, not copied).
    pub(super) fn record(&self) -> Record {
        Record::with_shared_data(
            self.cookie.clone(),
            Arc::clone(&self.data),
            self.meta.clone(),
        )
    }
}

#[cfg(test)]
mod tests;
