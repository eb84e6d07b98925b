//! The single-task conformance cases. Each takes a fresh, isolated store.

use std::time::Duration;

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::id::SessionId;
use crate::record::{CookieRecord, Record, RecordMeta};
use crate::store::{SessionStore, StoreError};

/// A fresh random id.
pub fn new_id() -> SessionId {
    match SessionId::generate() {
        Ok(id) => id,
        Err(e) => panic!("the OS random source failed: {e}"),
    }
}

/// A record with express's shape: `maxAge` (ms) or a browser-session cookie, and data.
pub fn record(max_age_ms: Option<i64>, data: Value) -> Record {
    let mut cookie = CookieRecord::default();
    if let Some(ms) = max_age_ms {
        cookie.original_max_age = Some(ms);
        cookie.reset_expiry(OffsetDateTime::now_utc());
    }
    let data = match data {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    Record::new(cookie, data, RecordMeta::default())
}

fn data_of(store_result: Option<crate::store::Loaded>) -> Map<String, Value> {
    store_result
        .expect("the session should be there")
        .record
        .data()
        .clone()
}

/// Loading an id the store never saw gives `None`.
pub async fn missing_id_loads_none(store: &dyn SessionStore) {
    assert!(store.load(&new_id()).await.unwrap().is_none());
}

/// An express-shaped record survives a round trip: nested JSON, unicode, big and
/// fractional numbers, empty arrays and objects, and every cookie attribute.
pub async fn create_then_load_round_trips_express_shape(store: &dyn SessionStore) {
    let id = new_id();
    let bytes = br#"{"cookie":{"originalMaxAge":3600000,"partitioned":true,"priority":"high","expires":"2099-07-30T13:00:00.000Z","secure":true,"httpOnly":true,"domain":"example.com","path":"/","sameSite":"lax"},"user":{"name":"Ada \u00e9\u4e2d\ud83d\ude00","roles":["admin"],"meta":{}},"empty":[],"big":9007199254740993,"neg":-12.5,"nil":null,"flag":false}"#;
    let rec = Record::decode(bytes, usize::MAX).unwrap();
    store.create(&id, &rec).await.unwrap();
    let loaded = store
        .load(&id)
        .await
        .unwrap()
        .expect("created session loads");
    assert_eq!(loaded.record.data(), rec.data());
    assert_eq!(loaded.record.cookie(), rec.cookie());
    let again: Value = serde_json::from_slice(&loaded.record.encode()).unwrap();
    let original: Value = serde_json::from_slice(bytes).unwrap();
    assert_eq!(
        again, original,
        "the record must come back unchanged in meaning"
    );
}

/// `create` on an existing id is `IdTaken` and leaves the stored session alone.
pub async fn create_on_taken_id_conflicts(store: &dyn SessionStore) {
    let id = new_id();
    store
        .create(&id, &record(None, json!({"owner": "first"})))
        .await
        .unwrap();
    let second = store
        .create(&id, &record(None, json!({"owner": "second"})))
        .await;
    assert!(matches!(second, Err(StoreError::IdTaken)), "got {second:?}");
    assert_eq!(data_of(store.load(&id).await.unwrap())["owner"], "first");
}

/// An unconditional `save` replaces an existing session's data.
pub async fn save_replaces_an_existing_session(store: &dyn SessionStore) {
    let id = new_id();
    store
        .create(&id, &record(Some(60_000), json!({"n": 1})))
        .await
        .unwrap();
    let v = store
        .save(&id, &record(Some(60_000), json!({"n": 2})), None)
        .await;
    assert!(matches!(v, Ok(Some(_))), "got {v:?}");
    assert_eq!(
        data_of(store.load(&id).await.unwrap()),
        *json!({"n": 2}).as_object().unwrap()
    );
}

/// A `save` after `destroy` is `NotFound` and does not bring the session back.
pub async fn update_after_destroy_is_not_found(store: &dyn SessionStore) {
    let id = new_id();
    store
        .create(&id, &record(None, json!({"a": 1})))
        .await
        .unwrap();
    let loaded = store.load(&id).await.unwrap().unwrap();
    store.destroy(&id).await.unwrap();
    let r = store.save(&id, &record(None, json!({"a": 2})), None).await;
    assert!(
        matches!(r, Err(StoreError::NotFound)),
        "unconditional save: {r:?}"
    );
    let r = store
        .save(&id, &record(None, json!({"a": 2})), Some(&loaded.version))
        .await;
    assert!(
        matches!(r, Err(StoreError::NotFound)),
        "conditional save: {r:?}"
    );
    assert!(store.load(&id).await.unwrap().is_none(), "resurrected");
}

/// Destroying an unknown id is not an error.
pub async fn destroy_of_unknown_id_is_ok(store: &dyn SessionStore) {
    store.destroy(&new_id()).await.unwrap();
}

/// A conditional save with the loaded version works once; a second one with the same
/// (now stale) version is a `Conflict` and writes nothing.
pub async fn stale_version_update_conflicts(store: &dyn SessionStore) {
    let id = new_id();
    store
        .create(&id, &record(None, json!({"n": 0})))
        .await
        .unwrap();
    let v0 = store.load(&id).await.unwrap().unwrap().version;
    let v1 = store
        .save(&id, &record(None, json!({"n": 1})), Some(&v0))
        .await
        .unwrap()
        .unwrap();
    assert_ne!(v0, v1, "a save must produce a new version");
    let stale = store
        .save(&id, &record(None, json!({"n": 99})), Some(&v0))
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict)), "got {stale:?}");
    let now = store.load(&id).await.unwrap().unwrap();
    assert_eq!(now.record.data()["n"], 1);
    assert_eq!(now.version, v1, "load must report the current version");
    store
        .save(&id, &record(None, json!({"n": 2})), Some(&v1))
        .await
        .unwrap();
}

/// `touch` extends a session's life from its `originalMaxAge` without rewriting the
/// data; a live session whose payload `expires` has passed is still live (the store's
/// own expiry decides: connect-redis touches without rewriting the payload).
pub async fn touch_extends_without_rewriting_data(store: &dyn SessionStore) {
    let id = new_id();
    // One hour of life, but the payload's expires is only 1 s away (as a stale
    // Node-touched record would be once that second passes).
    let mut rec = record(Some(3_600_000), json!({"keep": "me"}));
    let mut cookie = rec.cookie().unwrap().clone();
    cookie.expires = Some(OffsetDateTime::now_utc() + time::Duration::seconds(1));
    rec = Record::new(cookie, rec.data().clone(), RecordMeta::default());
    store.create(&id, &rec).await.unwrap();
    store.touch(&id).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let loaded = store
        .load(&id)
        .await
        .unwrap()
        .expect("touched session must outlive its payload expires");
    assert_eq!(
        loaded.record.data(),
        rec.data(),
        "touch must not rewrite data"
    );
}

/// `touch` of an unknown id is `NotFound` and creates nothing.
pub async fn touch_of_unknown_id_is_not_found(store: &dyn SessionStore) {
    let id = new_id();
    let r = store.touch(&id).await;
    assert!(matches!(r, Err(StoreError::NotFound)), "got {r:?}");
    assert!(store.load(&id).await.unwrap().is_none());
}

/// A record past the store's expiry is never returned, listed or counted.
pub async fn expired_record_is_not_returned(store: &dyn SessionStore) {
    let id = new_id();
    store
        .create(&id, &record(Some(1_000), json!({"x": 1})))
        .await
        .unwrap();
    assert!(store.load(&id).await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    assert!(
        store.load(&id).await.unwrap().is_none(),
        "expired session returned"
    );
    match store.all().await {
        Ok(all) => assert!(all.iter().all(|(i, _)| *i != id), "expired session listed"),
        Err(e) => assert!(matches!(e, StoreError::Unsupported(_)), "{e:?}"),
    }
    match store.len().await {
        Ok(n) => assert_eq!(n, 0, "expired session counted"),
        Err(e) => assert!(matches!(e, StoreError::Unsupported(_)), "{e:?}"),
    }
}

/// A save whose expiry is already past deletes the session instead of failing; a
/// create of such a record stores nothing.
pub async fn save_with_past_expiry_deletes(store: &dyn SessionStore) {
    let id = new_id();
    store
        .create(&id, &record(Some(60_000), json!({"x": 1})))
        .await
        .unwrap();
    let mut past = record(Some(60_000), json!({"x": 2}));
    let mut cookie = past.cookie().unwrap().clone();
    cookie.expires = Some(OffsetDateTime::now_utc() - time::Duration::minutes(5));
    past = Record::new(cookie, past.data().clone(), RecordMeta::default());
    let r = store.save(&id, &past, None).await;
    assert!(matches!(r, Ok(None)), "got {r:?}");
    assert!(store.load(&id).await.unwrap().is_none());
    let other = new_id();
    store.create(&other, &past).await.unwrap();
    assert!(store.load(&other).await.unwrap().is_none());
}

/// `all`, `len` and `clear` either work on this store's sessions or answer exactly
/// `Unsupported`.
pub async fn all_len_clear_or_unsupported(store: &dyn SessionStore) {
    let ids: Vec<SessionId> = (0..3).map(|_| new_id()).collect();
    for (n, id) in ids.iter().enumerate() {
        store
            .create(id, &record(None, json!({ "n": n })))
            .await
            .unwrap();
    }
    match store.all().await {
        Ok(mut all) => {
            all.sort_by(|a, b| a.0.cmp(&b.0));
            let mut want = ids.clone();
            want.sort();
            assert_eq!(all.iter().map(|(i, _)| i.clone()).collect::<Vec<_>>(), want);
            for (id, rec) in &all {
                let n = ids.iter().position(|i| i == id).unwrap();
                assert_eq!(rec.data()["n"], n);
            }
        }
        Err(e) => assert!(matches!(e, StoreError::Unsupported(_)), "all: {e:?}"),
    }
    match store.len().await {
        Ok(n) => assert_eq!(n, 3),
        Err(e) => assert!(matches!(e, StoreError::Unsupported(_)), "len: {e:?}"),
    }
    store.destroy(&ids[0]).await.unwrap();
    if let Ok(n) = store.len().await {
        assert_eq!(n, 2);
    }
    match store.clear().await {
        Ok(()) => {
            for id in &ids {
                assert!(store.load(id).await.unwrap().is_none());
            }
            if let Ok(n) = store.len().await {
                assert_eq!(n, 0);
            }
        }
        Err(e) => assert!(matches!(e, StoreError::Unsupported(_)), "clear: {e:?}"),
    }
}

/// Ids with unusual but valid characters work like any other, and do not collide.
pub async fn unusual_but_valid_ids(store: &dyn SessionStore) {
    let long = "x".repeat(crate::id::MAX_ID_LEN);
    let raw = [
        "a",
        "a.b.c",
        "x/y+z==",
        "1:7c8b-uuid",
        "~_-",
        "*",
        long.as_str(),
        "A",
        "prefix*",
    ];
    let ids: Vec<SessionId> = raw.iter().filter_map(|r| SessionId::parse(r)).collect();
    assert!(ids.len() >= 7, "the id alphabet changed");
    for (n, id) in ids.iter().enumerate() {
        // Another case may use the same fixed ids on a shared server: start clean.
        store.destroy(id).await.unwrap();
        store
            .create(id, &record(None, json!({ "n": n })))
            .await
            .unwrap();
    }
    for (n, id) in ids.iter().enumerate() {
        assert_eq!(data_of(store.load(id).await.unwrap())["n"], n, "{id:?}");
        store.destroy(id).await.unwrap();
        assert!(store.load(id).await.unwrap().is_none());
    }
}
