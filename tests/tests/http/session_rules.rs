//! express-session's rules at the `Session` level, without HTTP: the cases of
//! express-session-reference.md section 7 that need no server, plus this project's own
//! (merge on conflict, no resurrection, timeouts, size limits, corrupt records).

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use session_core::adapter::SessionManager;
use session_core::conformance::cases::record;
use session_core::store::{Record, RecordMeta, SessionStore};
use session_core::{
    Concurrency, CookieOptions, Error, MissingCookie, Secrets, Session, SessionConfig,
    SessionConfigBuilder, SessionId,
};
use session_store_memory::MemoryStore;
use session_tests::{Op, TestStore};

fn builder() -> SessionConfigBuilder {
    SessionConfig::builder(Secrets::new(["keyboard cat"]).unwrap()).cookie(CookieOptions {
        max_age: Some(Duration::from_secs(60)),
        ..CookieOptions::default()
    })
}

fn manager(b: SessionConfigBuilder) -> (SessionManager, TestStore<MemoryStore>) {
    let store = TestStore::new(MemoryStore::new());
    (
        SessionManager::new(b.build().unwrap(), Arc::new(store.clone())),
        store,
    )
}

/// The `Cookie` header a browser would send back for a Set-Cookie.
fn cookie_of(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

fn request(m: &SessionManager, cookie: Option<&str>) -> Session {
    m.start(cookie.map(str::as_bytes), false)
}

/// A first request that stores `views = 1`; returns its cookie.
async fn existing(m: &SessionManager) -> String {
    let s = request(m, None);
    s.insert("views", 1).await.unwrap();
    cookie_of(&s.finish().await.unwrap().set_cookie.unwrap())
}

async fn id_of(m: &SessionManager, cookie: &str) -> SessionId {
    request(m, Some(cookie)).id().await.unwrap().unwrap()
}

#[tokio::test]
async fn reload_of_a_session_destroyed_meanwhile_is_not_found() {
    let (m, _) = manager(builder());
    let c = existing(&m).await;
    let a = request(&m, Some(&c));
    a.get::<u64>("views").await.unwrap();
    request(&m, Some(&c)).destroy().await.unwrap();
    assert!(
        matches!(a.reload().await, Err(Error::NotFound)),
        "express: failed to load session"
    );
}

#[tokio::test]
async fn reload_brings_in_other_changes_and_prevents_the_end_of_request_save() {
    let (m, store) = manager(builder());
    let c = existing(&m).await;
    let a = request(&m, Some(&c));
    a.get::<u64>("views").await.unwrap();
    let b = request(&m, Some(&c));
    b.insert("other", "x").await.unwrap();
    b.finish().await.unwrap();
    a.reload().await.unwrap();
    assert_eq!(
        a.get::<String>("other").await.unwrap().as_deref(),
        Some("x")
    );
    store.reset();
    a.finish().await.unwrap();
    assert_eq!(store.count(Op::Save), 0);
}

#[tokio::test]
async fn touch_resets_the_cookie_expiry() {
    let (m, _) = manager(builder());
    let c = existing(&m).await;
    let s = request(&m, Some(&c));
    let before = s.cookie().await.unwrap().expires.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    s.touch().await.unwrap();
    assert!(s.cookie().await.unwrap().expires.unwrap() > before);
}

#[tokio::test]
async fn a_session_destroyed_before_it_was_loaded_still_shows_a_whole_cookie() {
    let (m, _) = manager(builder());
    let c = existing(&m).await;
    let s = request(&m, Some(&c));
    s.destroy().await.unwrap();
    assert_eq!(s.cookie().await.unwrap().path, "/");
}

#[tokio::test]
async fn original_max_age_equals_max_age_and_set_max_age_moves_expires() {
    let (m, _) = manager(builder());
    let s = request(&m, None);
    let cookie = s.cookie().await.unwrap();
    assert_eq!(cookie.original_max_age, Some(60_000));
    s.set_max_age(Some(Duration::from_secs(3600)))
        .await
        .unwrap();
    let cookie = s.cookie().await.unwrap();
    assert_eq!(cookie.original_max_age, Some(3_600_000));
    let left = cookie.expires.unwrap() - time::OffsetDateTime::now_utc();
    assert!(left > time::Duration::minutes(59), "{left}");
}

#[tokio::test]
async fn a_browser_session_cookie_is_not_reset_when_the_data_changes() {
    let (m, _) = manager(builder().cookie(CookieOptions::default()));
    let c = existing(&m).await;
    let s = request(&m, Some(&c));
    s.insert("views", 2).await.unwrap();
    let out = s.finish().await.unwrap();
    assert!(
        out.set_cookie.is_none(),
        "express: no Set-Cookie for a modified browser-session cookie"
    );
    assert_eq!(
        request(&m, Some(&c)).get::<u64>("views").await.unwrap(),
        Some(2)
    );
}

#[tokio::test]
async fn custom_genid_and_name_reach_the_cookie() {
    let (m, _) = manager(builder().genid(|| "apple".into()).name("sessid"));
    let s = request(&m, None);
    s.insert("x", 1).await.unwrap();
    let sc = s.finish().await.unwrap().set_cookie.unwrap();
    assert!(
        sc.starts_with("sessid=s%3Aapple.D8Y%2BpkTAmeR0PobOhY4G97PRW%2Bj7bUnP%2F5m6%2FOn1MCU;"),
        "{sc}"
    );
}

#[tokio::test]
async fn only_data_keys_are_visible_and_reserved_keys_are_refused() {
    let (m, _) = manager(builder());
    let s = request(&m, None);
    s.insert("test1", 1).await.unwrap();
    s.insert("test2", 2).await.unwrap();
    assert_eq!(
        s.data().await.unwrap().keys().collect::<Vec<_>>(),
        ["test1", "test2"]
    );
    for key in ["cookie", "save", "__proto__", "__sessionMeta", "id"] {
        assert!(
            matches!(s.insert(key, 1).await, Err(Error::ReservedKey { .. })),
            "{key}"
        );
    }
}

#[tokio::test]
async fn an_expired_session_gives_a_new_session_with_a_new_id() {
    let (m, _) = manager(builder().cookie(CookieOptions {
        max_age: Some(Duration::from_millis(5)),
        ..Default::default()
    }));
    let c = existing(&m).await;
    let old = c.clone();
    tokio::time::sleep(Duration::from_millis(30)).await;
    let s = request(&m, Some(&old));
    assert_eq!(s.get::<u64>("views").await.unwrap(), None);
    s.insert("views", 1).await.unwrap();
    let new = cookie_of(&s.finish().await.unwrap().set_cookie.unwrap());
    assert_ne!(new, old);
}

/// A store whose records are corrupt or lack a cookie, to check that loads of them are
/// fresh sessions, never errors.
async fn stored_raw(m: &SessionManager, store: &dyn SessionStore, bytes: &[u8]) -> String {
    let c = existing(m).await;
    let id = id_of(m, &c).await;
    let rec = Record::decode(bytes, usize::MAX).unwrap();
    store.save(&id, &rec, None).await.unwrap();
    c
}

#[tokio::test]
async fn a_record_without_cookie_is_a_fresh_session_unless_allowed() {
    let (m, store) = manager(builder());
    let c = stored_raw(&m, &store, br#"{"user":"luke"}"#).await;
    let s = request(&m, Some(&c));
    assert_eq!(
        s.get::<String>("user").await.unwrap(),
        None,
        "express answers 500 here; we start fresh"
    );

    let (m, store) = manager(builder().missing_cookie(MissingCookie::UseDefaults));
    let c = stored_raw(&m, &store, br#"{"user":"luke"}"#).await;
    let s = request(&m, Some(&c));
    assert_eq!(
        s.get::<String>("user").await.unwrap().as_deref(),
        Some("luke")
    );
    assert_eq!(s.cookie().await.unwrap().original_max_age, Some(60_000));
}

#[tokio::test]
async fn an_oversized_stored_record_is_a_fresh_session() {
    let (m, store) = manager(builder().max_record_bytes(200));
    let c = existing(&m).await;
    let id = id_of(&m, &c).await;
    store
        .save(
            &id,
            &record(Some(60_000), json!({"blob": "x".repeat(500)})),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        request(&m, Some(&c)).get::<String>("blob").await.unwrap(),
        None
    );
}

#[tokio::test]
async fn an_oversized_session_is_not_saved() {
    let (m, store) = manager(builder().max_record_bytes(200));
    let s = request(&m, None);
    s.insert("blob", "x".repeat(500)).await.unwrap();
    assert!(matches!(s.finish().await, Err(Error::TooLarge { .. })));
    assert_eq!(store.count(Op::Create), 0);
}

#[tokio::test]
async fn the_absolute_deadline_ends_a_session_however_active() {
    let (m, store) = manager(builder().absolute_timeout(Duration::from_secs(3600)));
    let c = existing(&m).await;
    let id = id_of(&m, &c).await;
    let loaded = store.load(&id).await.unwrap().unwrap();
    assert!(
        loaded.record.meta().absolute_expiry.is_some(),
        "the deadline is stored in the record"
    );
    // Move the stored deadline into the past, as if the session were old.
    let meta = RecordMeta {
        absolute_expiry: Some(time::OffsetDateTime::now_utc() - time::Duration::seconds(1)),
        ..RecordMeta::default()
    };
    let old = Record::new(
        loaded.record.cookie().unwrap().clone(),
        loaded.record.data().clone(),
        meta,
    );
    store.save(&id, &old, None).await.unwrap();
    let s = request(&m, Some(&c));
    assert_eq!(s.get::<u64>("views").await.unwrap(), None);
    assert!(
        store.load(&id).await.unwrap().is_none(),
        "the expired session is deleted"
    );
}

#[tokio::test]
async fn idle_and_absolute_timeouts_are_written_beside_the_data() {
    let (m, store) = manager(
        builder()
            .idle_timeout(Duration::from_secs(1800))
            .absolute_timeout(Duration::from_secs(86400)),
    );
    let c = existing(&m).await;
    let rec = store
        .load(&id_of(&m, &c).await)
        .await
        .unwrap()
        .unwrap()
        .record;
    let json: serde_json::Value = serde_json::from_slice(&rec.encode()).unwrap();
    assert_eq!(json["__sessionMeta"]["idleTimeout"], 1_800_000);
    assert!(
        json["__sessionMeta"]["absoluteExpiry"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
}

#[tokio::test]
async fn overlapping_requests_changing_different_keys_both_survive() {
    let (m, _) = manager(builder());
    let c = existing(&m).await;
    let a = request(&m, Some(&c));
    let b = request(&m, Some(&c));
    a.get::<u64>("views").await.unwrap();
    b.get::<u64>("views").await.unwrap();
    a.insert("from_a", 1).await.unwrap();
    b.insert("from_b", 2).await.unwrap();
    b.remove::<u64>("views").await.unwrap();
    a.finish().await.unwrap();
    b.finish().await.unwrap();
    let data = request(&m, Some(&c)).data().await.unwrap();
    assert_eq!(
        serde_json::Value::Object(data),
        json!({"from_a": 1, "from_b": 2})
    );
}

#[tokio::test]
async fn last_write_wins_mode_behaves_like_express() {
    let (m, _) = manager(builder().concurrency(Concurrency::LastWriteWins));
    let c = existing(&m).await;
    let a = request(&m, Some(&c));
    let b = request(&m, Some(&c));
    a.insert("from_a", 1).await.unwrap();
    b.insert("from_b", 2).await.unwrap();
    a.finish().await.unwrap();
    b.finish().await.unwrap();
    let data = request(&m, Some(&c)).data().await.unwrap();
    assert!(
        !data.contains_key("from_a"),
        "express loses the first writer's change"
    );
}

#[tokio::test]
async fn a_write_after_another_request_destroyed_the_session_does_not_resurrect_it() {
    let (m, store) = manager(builder());
    let c = existing(&m).await;
    let id = id_of(&m, &c).await;
    let slow = request(&m, Some(&c));
    slow.insert("late", true).await.unwrap();
    request(&m, Some(&c)).destroy().await.unwrap();
    assert!(matches!(slow.finish().await, Err(Error::Gone)));
    assert!(store.load(&id).await.unwrap().is_none());
}

#[tokio::test]
async fn after_destroy_writes_fail_and_regenerate_starts_over() {
    let (m, _) = manager(builder());
    let c = existing(&m).await;
    let s = request(&m, Some(&c));
    s.destroy().await.unwrap();
    assert!(matches!(s.insert("x", 1).await, Err(Error::Destroyed)));
    assert_eq!(s.get::<u64>("views").await.unwrap(), None);
    assert!(
        s.finish()
            .await
            .unwrap()
            .set_cookie
            .unwrap()
            .contains("Expires=Thu, 01 Jan 1970")
    );

    let s = request(&m, Some(&c));
    s.destroy().await.unwrap();
    s.regenerate().await.unwrap();
    s.insert("fresh", true).await.unwrap();
    let sc = s.finish().await.unwrap().set_cookie.unwrap();
    assert_ne!(cookie_of(&sc), c);
}

#[tokio::test]
async fn a_record_written_by_node_keeps_its_unknown_keys() {
    let (m, store) = manager(builder());
    let c = existing(&m).await;
    let id = id_of(&m, &c).await;
    let node = br#"{"cookie":{"originalMaxAge":60000,"expires":"2099-01-01T00:00:00.000Z","httpOnly":true,"path":"/"},"passport":{"user":42},"flash":{},"views":1}"#;
    store
        .save(&id, &Record::decode(node, usize::MAX).unwrap(), None)
        .await
        .unwrap();
    let s = request(&m, Some(&c));
    s.insert("views", 2).await.unwrap();
    s.finish().await.unwrap();
    let rec = store.load(&id).await.unwrap().unwrap().record;
    let json: serde_json::Value = serde_json::from_slice(&rec.encode()).unwrap();
    assert_eq!(json["passport"]["user"], 42);
    assert_eq!(json["flash"], json!({}));
    assert_eq!(json["views"], 2);
    // The save refreshed the payload's expiry from originalMaxAge.
    assert!(json["cookie"]["expires"].as_str().unwrap() < "2099");
}

#[tokio::test]
async fn a_new_session_is_created_once_even_after_an_explicit_save() {
    let (m, store) = manager(builder());
    let s = request(&m, None);
    s.insert("a", 1).await.unwrap();
    s.save().await.unwrap();
    let out = s.finish().await.unwrap();
    assert!(out.set_cookie.is_some());
    assert_eq!((store.count(Op::Create), store.count(Op::Save)), (1, 0));
}

#[tokio::test]
async fn a_saved_record_carries_its_measured_size_so_loads_need_not_measure() {
    let (m, store) = manager(builder());
    let c = existing(&m).await;
    let loaded = store.load(&id_of(&m, &c).await).await.unwrap().unwrap();
    assert_eq!(
        loaded.record.stored_len(),
        Some(loaded.record.encode().len())
    );
    // A record put into the store directly has no known size, and is measured on load
    // (an_oversized_stored_record_is_a_fresh_session covers the limit on that path).
    let direct = record(None, json!({"a": 1}));
    assert_eq!(direct.stored_len(), None);
}
