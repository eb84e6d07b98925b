//! `State`'s transitions and change tracking.

use super::*;
use serde_json::json;

fn ready() -> State {
    let mut s = State::unloaded();
    let mut data = Map::new();
    data.insert("a".into(), json!(1));
    let contents = Contents {
        cookie: CookieRecord::default(),
        data: Arc::new(data),
        meta: RecordMeta::default(),
        created_ms: 0,
        sealed_extra: Map::new(),
    };
    s.adopt(
        SessionId::parse("x").unwrap(), // ok: test fixture, "x" is a valid id
        contents,
        Version::from_u64(1),
        true,
        false,
        true,
    );
    s
}

#[test]
fn a_value_set_back_is_not_a_change() {
    let mut s = ready();
    s.insert("a".into(), json!(2));
    assert!(s.modified() && !s.is_saved());
    s.insert("a".into(), json!(1));
    assert!(!s.modified() && s.is_saved());
}

#[test]
fn pending_changes_are_since_the_last_save() {
    let mut s = ready();
    s.insert("b".into(), json!(true));
    s.mark_saved(None);
    assert!(s.pending_changes().is_empty());
    assert!(s.modified(), "still modified relative to the load");
    s.remove("a");
    assert_eq!(s.pending_changes(), vec![("a".to_owned(), None)]);
}

/// Found in review: a key set to its own value was reported, after catching up with
/// another writer, as this request's change to the other writer's value, which a
/// second conflict then wrote over a newer one.
#[test]
fn catching_up_does_not_adopt_the_other_writers_values_as_changes() {
    let mut s = ready();
    s.insert("a".into(), json!(1)); // tracked, unchanged
    s.insert("b".into(), json!("mine"));
    let mut theirs = Map::new();
    theirs.insert("a".into(), json!(2));
    let pending = s.pending_changes();
    s.catch_up(Arc::new(theirs), Version::from_u64(2), &pending);
    assert_eq!(s.data().get("a"), Some(&json!(2)));
    assert_eq!(
        s.pending_changes(),
        vec![("b".to_owned(), Some(json!("mine")))],
        "only this request's own change is pending"
    );
}

#[test]
fn replacing_the_data_tracks_only_what_differs_and_can_be_undone() {
    let mut s = ready();
    let mut same = Map::new();
    same.insert("a".into(), json!(1));
    s.set_data(same);
    assert!(!s.modified(), "the same data is not a change");
    let before = s.set_data(Map::new());
    assert_eq!(s.pending_changes(), vec![("a".to_owned(), None)]);
    s.restore_data(before);
    assert!(!s.modified() && s.pending_changes().is_empty());
}
