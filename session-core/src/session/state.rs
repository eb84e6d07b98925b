//! The per-request session state and its change tracking.
//!
//! express-session detects a modification by hashing the whole session; here each
//! changed key remembers the value it had at load and at the last save, which gives
//! the same answers (a key set back to its old value is not a change) and tells a
//! conflicting save exactly which keys this request changed.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};

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

#[derive(Debug)]
pub(crate) struct State {
    pub(crate) phase: Phase,
    /// The current id (`Some` once Ready).
    pub(crate) id: Option<SessionId>,
    pub(crate) cookie: CookieRecord,
    /// Shared with the store's copy and other requests until this request changes it.
    pub(crate) data: Arc<Map<String, Value>>,
    pub(crate) meta: RecordMeta,
    /// Version of the stored record, for conditional saves.
    pub(crate) version: Option<Version>,
    /// A record exists in the store under `id` (loaded or written in this request).
    pub(crate) stored: bool,
    /// Loaded under the cookie's id and not re-identified since (express
    /// `cookieId === req.sessionID`).
    pub(crate) existing: bool,
    /// The store's expiry was set during this request (a sliding load or a write), so
    /// a touch at the end would be redundant.
    pub(crate) expiry_fresh: bool,
    /// A saved baseline exists (express `savedHash`).
    pub(crate) has_saved_baseline: bool,
    /// The id changed in this request (regenerate, cycle).
    pub(crate) id_changed: bool,
    /// Value each changed key had when the session was loaded or created.
    since_load: HashMap<String, Option<Value>>,
    /// Value each changed key had at the last save (or load).
    since_save: HashMap<String, Option<Value>>,
    /// The handler used the session.
    pub(crate) accessed: bool,
    /// Loading failed in this request (the adapter answers 503 for it).
    pub(crate) load_error: Option<crate::error::Error>,
}

impl State {
    pub(crate) fn unloaded() -> Self {
        State {
            phase: Phase::Unloaded,
            id: None,
            cookie: CookieRecord::default(),
            data: Arc::default(),
            meta: RecordMeta::default(),
            version: None,
            stored: false,
            existing: false,
            expiry_fresh: false,
            has_saved_baseline: false,
            id_changed: false,
            since_load: HashMap::new(),
            since_save: HashMap::new(),
            accessed: false,
            load_error: None,
        }
    }

    /// Becomes a session with this id and contents; trackers start afresh.
    pub(crate) fn become_ready(
        &mut self,
        id: SessionId,
        cookie: CookieRecord,
        data: Arc<Map<String, Value>>,
        meta: RecordMeta,
    ) {
        self.phase = Phase::Ready;
        self.id = Some(id);
        self.cookie = cookie;
        self.data = data;
        self.meta = meta;
        self.since_load.clear();
        self.since_save.clear();
    }

    /// The data, to change: copied first if anyone else holds it (copy on write).
    pub(crate) fn data_mut(&mut self) -> &mut Map<String, Value> {
        Arc::make_mut(&mut self.data)
    }

    /// Records that `key` is about to change.
    pub(crate) fn note_change(&mut self, key: &str) {
        if !self.since_load.contains_key(key) {
            self.since_load
                .insert(key.to_owned(), self.data.get(key).cloned());
        }
        if !self.since_save.contains_key(key) {
            self.since_save
                .insert(key.to_owned(), self.data.get(key).cloned());
        }
    }

    /// Records that every current key is about to change (clear, wholesale replace).
    pub(crate) fn note_change_all(&mut self, extra: impl Iterator<Item = String>) {
        let keys: Vec<String> = self.data.keys().cloned().chain(extra).collect();
        for k in keys {
            self.note_change(&k);
        }
    }

    fn differs(&self, tracked: &HashMap<String, Option<Value>>) -> bool {
        tracked
            .iter()
            .any(|(k, old)| self.data.get(k) != old.as_ref())
    }

    /// express `isModified`.
    pub(crate) fn modified(&self) -> bool {
        self.id_changed || self.differs(&self.since_load)
    }

    /// express `isSaved`.
    pub(crate) fn is_saved(&self) -> bool {
        self.has_saved_baseline && !self.differs(&self.since_save)
    }

    /// Keys this request changed since the last save, with their current values
    /// (`None`: removed).
    pub(crate) fn pending_changes(&self) -> Vec<(String, Option<Value>)> {
        self.since_save
            .iter()
            .filter(|(k, old)| self.data.get(*k) != old.as_ref())
            .map(|(k, _)| (k.clone(), self.data.get(k).cloned()))
            .collect()
    }

    /// A save succeeded: the current state is the new baseline.
    pub(crate) fn mark_saved(&mut self, version: Option<Version>) {
        self.version = version;
        self.stored = true;
        self.has_saved_baseline = true;
        self.expiry_fresh = true;
        self.since_save.clear();
    }

    /// The current contents as a record (the data is shared, not copied).
    pub(crate) fn record(&self) -> Record {
        Record::with_shared_data(
            self.cookie.clone(),
            Arc::clone(&self.data),
            self.meta.clone(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ready() -> State {
        let mut s = State::unloaded();
        let mut data = Map::new();
        data.insert("a".into(), json!(1));
        s.become_ready(
            SessionId::parse("x").unwrap(),
            CookieRecord::default(),
            Arc::new(data),
            RecordMeta::default(),
        );
        s.has_saved_baseline = true;
        s
    }

    #[test]
    fn a_value_set_back_is_not_a_change() {
        let mut s = ready();
        s.note_change("a");
        s.data_mut().insert("a".into(), json!(2));
        assert!(s.modified() && !s.is_saved());
        s.data_mut().insert("a".into(), json!(1));
        assert!(!s.modified() && s.is_saved());
    }

    #[test]
    fn pending_changes_are_since_the_last_save() {
        let mut s = ready();
        s.note_change("b");
        s.data_mut().insert("b".into(), json!(true));
        s.mark_saved(None);
        assert!(s.pending_changes().is_empty());
        assert!(s.modified(), "still modified relative to the load");
        s.note_change("a");
        s.data_mut().shift_remove("a");
        assert_eq!(s.pending_changes(), vec![("a".to_owned(), None)]);
    }
}
