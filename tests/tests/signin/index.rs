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
        .create(&c, &record(Some(5_000), signed_in("ursula")))
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
    tokio::time::sleep(Duration::from_millis(5_100)).await;
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

/// The set is written before the session: a listing in between must not drop the
/// member, or a session moving to a new id at that moment would escape "sign out
/// everywhere".
#[tokio::test]
async fn a_member_whose_session_is_not_written_yet_stays_in_the_set() {
    let redis = RedisServer::start();
    let store = RedisStore::connect(&redis.url()).await.unwrap();
    let id = SessionId::generate().unwrap();
    // The first half of a create: the id in the user's set, indexed now...
    let now = now_ms().to_string();
    redis.command(&["ZADD", "users:sess:vera", &now, id.expose()]);
    assert!(
        store.sessions_of("vera").await.unwrap().is_empty(),
        "not written yet"
    );
    // ...then the record lands.
    let record = record(Some(60_000), signed_in("vera"));
    let key = format!("sess:{}", id.expose());
    let bytes = String::from_utf8(record.encode()).unwrap();
    redis.command(&["SET", &key, &bytes, "EX", "60"]);
    assert_eq!(
        store.sessions_of("vera").await.unwrap(),
        vec![id],
        "the listing in between dropped the member"
    );

    // A member indexed long ago whose record is missing is gone (expired, or deleted by
    // another writer): it leaves the set when read, and the set stays small.
    let dead = SessionId::generate().unwrap();
    let long_ago = (now_ms() - 120_000).to_string();
    redis.command(&["ZADD", "users:sess:vera", &long_ago, dead.expose()]);
    assert_eq!(store.sessions_of("vera").await.unwrap().len(), 1);
    assert_eq!(
        redis.command(&["ZCARD", "users:sess:vera"]).trim(),
        ":1",
        "the dead member left"
    );
}

fn now_ms() -> u64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    u64::try_from(since.unwrap().as_millis()).unwrap()
}

/// A record express wrote (no bookkeeping) that a Rust process loaded once, and that
/// is then only touched: the touch script finds its user in `passport.user`.
#[tokio::test]
async fn touches_of_a_record_express_wrote_keep_its_users_set_alive() {
    let redis = RedisServer::start();
    let store = RedisStore::connect(&redis.url()).await.unwrap();
    let id = SessionId::generate().unwrap();
    let key = format!("sess:{}", id.expose());
    let express = r#"{"cookie":{"originalMaxAge":10000,"expires":"2099-01-01T00:00:00.000Z","httpOnly":true,"path":"/"},"passport":{"user":"zoe"}}"#;
    redis.command(&["SET", &key, express, "EX", "10"]);
    assert!(
        store.load(&id).await.unwrap().is_some(),
        "loaded once: indexed"
    );
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        store.touch(&id).await.unwrap();
        let (session, index) = (ttl(&redis, &key), ttl(&redis, "users:sess:zoe"));
        assert!(
            index >= session,
            "the set ({index} s) must outlive the session ({session} s)"
        );
    }
}

/// Requests that never read their session only touch it (the touch script): the
/// user's set must keep up with the session's TTL all the same.
#[tokio::test]
async fn touches_alone_keep_the_users_set_alive() {
    let redis = RedisServer::start();
    let store = RedisStore::connect(&redis.url()).await.unwrap();
    let set = "users:sess:walt";
    let id = SessionId::generate().unwrap();
    store
        .create(&id, &record(Some(10_000), signed_in("walt")))
        .await
        .unwrap();
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        store.touch(&id).await.unwrap();
        let (session, index) = (
            ttl(&redis, &format!("sess:{}", id.expose())),
            ttl(&redis, set),
        );
        assert!(
            index >= session,
            "the set ({index} s) must outlive the session ({session} s)"
        );
    }
    assert_eq!(store.sessions_of("walt").await.unwrap(), vec![id]);
}

/// Where the store may only use keys under its prefix, the index can be turned off.
#[tokio::test]
async fn the_index_can_be_turned_off() {
    let redis = RedisServer::start();
    let store = RedisStore::builder()
        .user_index(false)
        .connect(&redis.url())
        .await
        .unwrap();
    let id = SessionId::generate().unwrap();
    store
        .create(&id, &record(Some(60_000), signed_in("xena")))
        .await
        .unwrap();
    assert_eq!(ttl(&redis, "users:sess:xena"), -2, "no set written");
    let listed = store.sessions_of("xena").await;
    assert!(
        matches!(listed, Err(session_core::store::StoreError::Unsupported(_))),
        "{listed:?}"
    );
    store.destroy(&id).await.unwrap();
}

/// What a signed-in user costs Redis per request, counted with `MONITOR`: the index
/// script when a session is created (and when a TTL passes what this process gave
/// the set), nothing more on reads, writes and touches.
#[tokio::test]
async fn a_signed_in_session_costs_one_more_command_only_when_created_or_destroyed() {
    use session_core::adapter::SessionManager;
    use session_core::auth::Carry;
    use session_tests::redis::Monitor;

    let redis = RedisServer::start();
    let store = RedisStore::connect(&redis.url()).await.unwrap();
    let config = session_tests::config_with("monitor secret", Duration::from_secs(3600))
        .build()
        .unwrap();
    let m = SessionManager::new(config, std::sync::Arc::new(store));
    let mut monitor = Monitor::start(redis.port);
    let names = |cmds: &[String]| -> Vec<String> {
        cmds.iter()
            .map(|c| c.split(' ').next().unwrap().trim_matches('"').to_owned())
            .collect()
    };

    let s = m.start([], false);
    s.log_in("yuri", b"hash", Carry::DropData).await.unwrap();
    let set = s.finish().await.unwrap().set_cookie.unwrap();
    let cookie = set.split(';').next().unwrap().to_owned();
    assert_eq!(
        names(&monitor.take()),
        ["EVALSHA", "SET"],
        "created: index, then the session"
    );

    let s = m.start([cookie.as_bytes()], false);
    assert_eq!(s.user().await.unwrap().as_deref(), Some("yuri"));
    s.finish().await.unwrap();
    assert_eq!(names(&monitor.take()), ["GETEX"], "read: the load alone");

    let s = m.start([cookie.as_bytes()], false);
    s.insert("n", 1).await.unwrap();
    s.finish().await.unwrap();
    assert_eq!(
        names(&monitor.take()),
        ["GETEX", "EVALSHA"],
        "modified: load, compare-and-set"
    );

    let s = m.start([cookie.as_bytes()], false);
    s.finish().await.unwrap();
    assert_eq!(
        names(&monitor.take()),
        ["EVALSHA"],
        "untouched: the touch script alone"
    );

    let s = m.start([cookie.as_bytes()], false);
    s.log_out().await.unwrap();
    s.finish().await.unwrap();
    assert_eq!(
        names(&monitor.take()),
        ["GETDEL", "ZREM"],
        "destroyed: out of the set too"
    );
}
