//! Redis faults through the real adapter: no Redis at start-up, a lazy store that
//! connects later, SIGKILL and restart mid-run, a pause longer than the deadline, and
//! durability of acknowledged saves with `appendonly yes`. Every server here is a
//! private `redis-server` on a free loopback port, stopped by PID.

use std::time::{Duration, Instant};

use serde_json::json;
use session_core::conformance::cases::{new_id, record};
use session_core::store::SessionStore;
use session_hyper::SessionLayer;

use crate::config;
use session_store_redis::RedisStore;
use session_tests::TestServer;
use session_tests::redis::{RedisServer, free_port, unique_prefix};

const DEADLINE: Duration = Duration::from_millis(250);

/// The adapter on a store connected to `redis`, with [`DEADLINE`].
async fn serve(redis: &RedisServer) -> TestServer {
    let store = RedisStore::builder()
        .prefix(unique_prefix())
        .command_timeout(DEADLINE)
        .connect(&redis.url())
        .await
        .unwrap();
    TestServer::start(SessionLayer::new(config(), store)).await
}

#[tokio::test]
async fn start_up_without_redis_is_a_clear_error() {
    let url = format!("redis://127.0.0.1:{}/", free_port(false));
    let err = RedisStore::builder()
        .command_timeout(DEADLINE)
        .connect(&url)
        .await
        .unwrap_err();
    assert!(
        matches!(err, session_store_redis::RedisStoreError::Connect { .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "could not connect to Redis: connection refused"
    );
}

#[tokio::test]
async fn a_lazy_store_serves_once_redis_comes_up() {
    let port = free_port(false);
    let store = RedisStore::builder()
        .prefix(unique_prefix())
        .command_timeout(DEADLINE)
        .lazy(&format!("redis://127.0.0.1:{port}/"))
        .unwrap();
    let http = TestServer::start(SessionLayer::new(config(), store)).await;
    let mut c = http.client();
    assert_eq!(
        c.get("/none").await.status,
        200,
        "requests that need no store work while Redis is down"
    );
    assert_eq!(
        c.get("/").await.status,
        500,
        "a write fails cleanly while Redis is down"
    );
    let _server = RedisServer::start_on(port, &["--save", "", "--appendonly", "no"]);
    let start = Instant::now();
    let mut status = 0;
    while start.elapsed() < Duration::from_secs(10) {
        status = c.get("/").await.status.as_u16();
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, 200, "the lazy store connected once Redis was up");
    println!(
        "lazy store served {:?} after Redis came up",
        start.elapsed()
    );
    assert_eq!(c.get("/").await.json()["views"], 2);
}

#[tokio::test]
async fn sigkill_and_restart_mid_run_gives_only_503_or_500_then_recovers() {
    let mut redis = RedisServer::start();
    let http = serve(&redis).await;
    let mut c = http.client();
    for _ in 0..20 {
        assert_eq!(c.get("/").await.status, 200);
    }
    redis.kill();
    let mut outage = Vec::new();
    for _ in 0..20 {
        outage.push(c.get("/").await.status.as_u16());
    }
    assert!(
        outage.iter().all(|s| *s == 503 || *s == 500),
        "only 503/500 while Redis is down: {outage:?}"
    );
    assert!(outage.contains(&503), "a failed load is a 503: {outage:?}");

    redis.restart();
    let restarted = Instant::now();
    let mut recovered = None;
    for _ in 0..400 {
        let r = c.get("/").await;
        assert!(
            matches!(r.status.as_u16(), 200 | 500 | 503),
            "{:?}",
            r.status
        );
        if r.status == 200 {
            recovered = Some(restarted.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let recovered = recovered.expect("the store did not recover after Redis came back");
    println!("recovered {recovered:?} after the restart");
    // Without persistence the old session is gone: a fresh one starts, and works.
    assert_eq!(c.get("/").await.status, 200);
}

#[tokio::test]
async fn a_pause_longer_than_the_deadline_is_a_503_not_a_hang() {
    let redis = RedisServer::start();
    let http = serve(&redis).await;
    let mut c = http.client();
    c.get("/").await;
    redis.command(&["CLIENT", "PAUSE", "3000", "ALL"]);
    // Were the deadline not enforced, this would wait out the pause and answer 200.
    let r = c.get("/").await;
    assert_eq!(r.status, 503, "{}", r.body);
    redis.command(&["CLIENT", "UNPAUSE"]);
    let mut ok = false;
    for _ in 0..100 {
        if c.get("/read").await.status == 200 {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(ok, "the store serves again after the pause");
}

#[tokio::test]
async fn acknowledged_saves_survive_sigkill_with_appendonly() {
    let mut redis = RedisServer::start_with(&[
        "--save",
        "",
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
    ]);
    let store = RedisStore::builder()
        .prefix(unique_prefix())
        .connect(&redis.url())
        .await
        .unwrap();
    let mut ids = Vec::new();
    for n in 0..200 {
        let id = new_id();
        store
            .create(&id, &record(Some(3_600_000), json!({ "n": n })))
            .await
            .unwrap();
        ids.push(id);
    }
    let v = store.load(&ids[0]).await.unwrap().unwrap().version;
    store
        .save(
            &ids[0],
            &record(Some(3_600_000), json!({"n": "updated"})),
            Some(&v),
        )
        .await
        .unwrap();
    redis.kill();
    redis.restart();
    let mut loaded = None;
    for _ in 0..100 {
        if let Ok(l) = store.load(&ids[0]).await {
            loaded = l;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        loaded.expect("acknowledged update survives").record.data()["n"],
        "updated"
    );
    for (n, id) in ids.iter().enumerate().skip(1) {
        let l = store
            .load(id)
            .await
            .unwrap()
            .expect("every acknowledged create survives");
        assert_eq!(l.record.data()["n"], n);
    }
}
