//! The per-user index never outlives its sessions: checked after destroy and after
//! expiry, on each store's own representation of it.

use std::time::Duration;

use serde_json::json;
use session_core::SessionId;
use session_core::conformance::cases::record;
use session_core::store::SessionStore;
use session_store_memory::MemoryStore;
use session_store_redis::RedisStore;
use session_tests::redis::RedisServer;

fn signed_in(user: &str) -> serde_json::Value {
    json!({ "passport": { "user": user } })
}

#[tokio::test]
async fn the_memory_index_forgets_a_user_with_their_last_session() {
    let store = MemoryStore::builder().no_sweeper().build();
    let (a, b) = (
        SessionId::generate().unwrap(),
        SessionId::generate().unwrap(),
    );
    store
        .create(&a, &record(Some(60_000), signed_in("u")))
        .await
        .unwrap();
    store
        .create(&b, &record(Some(1_000), signed_in("u")))
        .await
        .unwrap();
    assert_eq!(store.indexed_users(), 1);
    store.destroy(&a).await.unwrap();
    assert_eq!(store.indexed_users(), 1, "b is still there");
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert!(
        store.sessions_of("u").await.unwrap().is_empty(),
        "expired: not listed"
    );
    store.sweep();
    assert_eq!(
        store.indexed_users(),
        0,
        "expired and swept: the user is gone"
    );

    // A save that signs the user out (passport.user removed) unindexes too.
    store
        .create(&a, &record(None, signed_in("v")))
        .await
        .unwrap();
    store
        .save(&a, &record(None, json!({})), None)
        .await
        .unwrap();
    assert_eq!(store.indexed_users(), 0);
    // And eviction or clear.
    store
        .create(&b, &record(None, signed_in("w")))
        .await
        .unwrap();
    store.clear().await.unwrap();
    assert_eq!(store.indexed_users(), 0);
}

/// The set's remaining life in seconds (-2: gone).
fn ttl(redis: &RedisServer, key: &str) -> i64 {
    redis
        .command(&["TTL", key])
        .trim()
        .trim_start_matches(':')
        .parse()
        .unwrap()
}

#[tokio::test]
async fn the_redis_set_lives_as_long_as_the_users_sessions_and_no_longer() {
    let redis = RedisServer::start();
    let store = RedisStore::connect(&redis.url()).await.unwrap();
    let set = "users:sess:ursula";
    let (a, b) = (
        SessionId::generate().unwrap(),
        SessionId::generate().unwrap(),
    );
    store
        .create(&a, &record(Some(600_000), signed_in("ursula")))
        .await
        .unwrap();
    store
        .create(&b, &record(Some(3_000), signed_in("ursula")))
        .await
        .unwrap();
    assert!(
        ttl(&redis, set) >= 600,
        "as long as the longest session: {}",
        ttl(&redis, set)
    );

    // Destroying every session deletes the set.
    store.destroy(&a).await.unwrap();
    store.destroy(&b).await.unwrap();
    assert_eq!(ttl(&redis, set), -2, "no sessions, no set");

    // A session kept alive by loads (each slides its TTL) keeps its set alive.
    let c = SessionId::generate().unwrap();
    store
        .create(&c, &record(Some(3_000), signed_in("ursula")))
        .await
        .unwrap();
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        assert!(store.load(&c).await.unwrap().is_some());
        let (session, index) = (
            ttl(&redis, &format!("sess:{}", c.expose())),
            ttl(&redis, set),
        );
        assert!(
            index >= session,
            "the set ({index} s) must outlive the session ({session} s)"
        );
    }
    assert_eq!(store.sessions_of("ursula").await.unwrap(), vec![c.clone()]);
    // Left alone, the session expires and the set follows within its margin (1 s).
    tokio::time::sleep(Duration::from_millis(3_100)).await;
    assert!(store.load(&c).await.unwrap().is_none());
    let started = std::time::Instant::now();
    while ttl(&redis, set) != -2 {
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "the set outlived its sessions"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
