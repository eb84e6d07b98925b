//! A session made by the real express-session + connect-redis, captured once by
//! tests/node/make-fixture.sh (tests/data/express-fixture.json), checked here without
//! Node: the cookie verifies and names the key, the stored bytes decode, re-encode to the
//! same bytes, and load through the session layer's rules.

use std::sync::Arc;

use serde_json::Value;
use session_core::adapter::SessionManager;
use session_core::store::{Record, SessionStore};
use session_core::wire::find_session_id;
use session_core::{Secrets, SessionConfig};
use session_store_memory::MemoryStore;

fn fixture() -> Value {
    serde_json::from_str(include_str!("../../data/express-fixture.json")).unwrap()
}

#[test]
fn the_express_cookie_verifies_and_names_the_connect_redis_key() {
    let f = fixture();
    let secrets = Secrets::new([f["secret"].as_str().unwrap()]).unwrap();
    let cookie = f["cookie"].as_str().unwrap();
    let found = find_session_id([cookie.as_bytes()], "connect.sid", &secrets).unwrap();
    assert_eq!(
        format!("sess:{}", found.id.expose()),
        f["key"].as_str().unwrap()
    );
    assert!(!found.resign);
    // express's Set-Cookie shape: Path, Expires, HttpOnly; never Max-Age.
    let sc = f["set_cookie"].as_str().unwrap();
    assert!(
        sc.contains("; Path=/")
            && sc.contains("; Expires=")
            && sc.contains("; HttpOnly")
            && !sc.contains("Max-Age")
    );
}

#[test]
fn the_stored_bytes_decode_and_re_encode_byte_for_byte() {
    let f = fixture();
    let stored = f["stored"].as_str().unwrap();
    let record = Record::decode(stored.as_bytes(), 1 << 20).unwrap();
    let cookie = record.cookie().unwrap();
    assert_eq!(cookie.original_max_age, Some(86_400_000));
    assert!(cookie.http_only);
    assert_eq!(record.data()["views"], 1);
    assert_eq!(
        record.data()["counters"]["max_safe"],
        9_007_199_254_740_991_i64
    );
    assert_eq!(
        String::from_utf8(record.encode()).unwrap(),
        stored,
        "what Rust writes back is what Node wrote"
    );
}

#[tokio::test]
async fn the_session_loads_through_the_session_rules() {
    let f = fixture();
    let store = MemoryStore::new();
    let secrets = Secrets::new([f["secret"].as_str().unwrap()]).unwrap();
    let cookie = f["cookie"].as_str().unwrap();
    let id = find_session_id([cookie.as_bytes()], "connect.sid", &secrets)
        .unwrap()
        .id;
    let mut record = Record::decode(f["stored"].as_str().unwrap().as_bytes(), 1 << 20).unwrap();
    // The fixture's expiry is in the past by now; a live key is a live session, so give
    // the memory store a record whose lifetime starts now (as a Redis TTL would be).
    let mut c = record.cookie().unwrap().clone();
    c.reset_expiry(time::OffsetDateTime::now_utc());
    record = Record::new(c, record.data().clone(), record.meta().clone());
    store.create(&id, &record).await.unwrap();
    let manager = SessionManager::new(
        SessionConfig::builder(secrets).build().unwrap(),
        Arc::new(store),
    );
    let session = manager.start([cookie.as_bytes()], false);
    assert_eq!(
        session.get::<String>("user").await.unwrap().as_deref(),
        Some("ada")
    );
    assert_eq!(
        session.get::<Value>("flags").await.unwrap(),
        Some(serde_json::json!([true, false, null]))
    );
}
