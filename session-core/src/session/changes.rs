//! The change log of one request's session: for each key the handler changed, the
//! value it had when the session was loaded and, until the next save, the value it
//! had at the last save. express-session hashes the whole session instead; this gives
//! the same answers (a key set back to its old value is not a change) and tells a
//! conflicting save exactly which keys this request changed.

use std::collections::HashMap;

use serde_json::{Map, Value};

/// Data changes as `(key, new value)`; `None`: removed.
pub(super) type Changes = Vec<(String, Option<Value>)>;

/// One changed key's earlier values.
#[derive(Debug)]
struct Earlier {
    /// At load (or creation).
    at_load: Option<Value>,
    /// At the last save.
    at_save: SinceSave,
}

/// A changed key since the last save.
#[derive(Debug)]
enum SinceSave {
    /// Not changed since the last save.
    Unchanged,
    /// Changed: it was this (`None`: absent).
    Was(Option<Value>),
}

/// One map for both baselines: one entry (and one copy of the key) per changed key.
/// Keys come from the application's own code, so a fast seeded hash is enough.
#[derive(Debug, Default)]
pub(super) struct ChangeLog(HashMap<String, Earlier, foldhash::fast::RandomState>);

impl ChangeLog {
    /// Records that `key`, now `current` in `data`, is about to change.
    pub(super) fn note(&mut self, key: &str, data: &Map<String, Value>) {
        let current = || data.get(key).cloned();
        match self.0.get_mut(key) {
            Some(e) if matches!(e.at_save, SinceSave::Unchanged) => {
                e.at_save = SinceSave::Was(current());
            }
            Some(_) => {}
            None => {
                let value = current();
                let earlier = Earlier {
                    at_save: SinceSave::Was(value.clone()),
                    at_load: value,
                };
                self.0.insert(key.to_owned(), earlier);
            }
        }
    }

    /// Whether `data` differs from what was loaded (express `isModified`, for data).
    pub(super) fn differs_since_load(&self, data: &Map<String, Value>) -> bool {
        self.0
            .iter()
            .any(|(k, e)| data.get(k) != e.at_load.as_ref())
    }

    /// Whether `data` differs from what was last saved.
    pub(super) fn differs_since_save(&self, data: &Map<String, Value>) -> bool {
        self.unsaved(data).next().is_some()
    }

    /// The keys changed since the last save, with their values in `data`.
    pub(super) fn pending(&self, data: &Map<String, Value>) -> Changes {
        self.unsaved(data)
            .map(|k| (k.clone(), data.get(k).cloned()))
            .collect()
    }

    fn unsaved<'a>(&'a self, data: &'a Map<String, Value>) -> impl Iterator<Item = &'a String> {
        self.0.iter().filter_map(move |(k, e)| match &e.at_save {
            SinceSave::Was(old) if data.get(k) != old.as_ref() => Some(k),
            _ => None,
        })
    }

    /// A save happened: the saved baseline is now the data.
    pub(super) fn saved(&mut self) {
        for e in self.0.values_mut() {
            e.at_save = SinceSave::Unchanged;
        }
    }

    /// After catching up with another writer: only `kept` keys stay changes since
    /// the last save (the others now hold that writer's value).
    pub(super) fn keep_unsaved_only(&mut self, kept: &[(String, Option<Value>)]) {
        for (k, e) in &mut self.0 {
            if !kept.iter().any(|(changed, _)| changed == k) {
                e.at_save = SinceSave::Unchanged;
            }
        }
    }

    /// A new session, or a session loaded anew: nothing changed yet.
    pub(super) fn clear(&mut self) {
        self.0.clear();
    }
}
