//! The Redis store against a real `redis-server` started by the tests: the shared
//! conformance suite, connect-redis byte compatibility, and the commands each kind of
//! request costs (counted with MONITOR).

use std::time::Duration;

use serde_json::{Value, json};
use session_core::conformance::cases::{new_id, record};
use session_core::store::{Record, SessionStore, StoreError};
use session_core::{CookieOptions, Secrets, SessionConfig};
use session_hyper::SessionLayer;
use session_store_redis::RedisStore;
use session_tests::redis::{Monitor, RedisServer, unique_prefix};
use session_tests::{TestServer, redis_store};

session_core::store_conformance_tests!(redis_store());

async fn store_on(server: &RedisServer) -> RedisStore {
    RedisStore::builder()
        .prefix(unique_prefix())
        .connect(&server.url())
        .await
        .unwrap()
}

fn ttl(server: &RedisServer, key: &str) -> i64 {
    let reply = server.command(&["TTL", key]);
    reply.trim_start_matches(':').trim().parse().unwrap()
}

fn raw_get(server: &RedisServer, key: &str) -> Option<Value> {
    let reply = server.command(&["GET", key]);
    let body = reply.split_once("\r\n")?.1.trim_end_matches("\r\n");
    serde_json::from_str(body).ok()
}

#[tokio::test]
async fn records_are_stored_exactly_as_connect_redis_stores_them() {
    let server = RedisServer::start();
    let store = RedisStore::builder().connect(&server.url()).await.unwrap();
    let id = new_id();
    store
        .create(
            &id,
            &record(Some(60_000), json!({"views": 3, "user": {"name": "ada"}})),
        )
        .await
        .unwrap();
    let key = format!("sess:{}", id.expose());
    let stored = raw_get(&server, &key).expect("key sess:<id> holds JSON");
    assert_eq!(stored["views"], 3);
    assert_eq!(stored["cookie"]["originalMaxAge"], 60_000);
    assert_eq!(stored["cookie"]["httpOnly"], true);
    assert!(stored["cookie"]["expires"].as_str().unwrap().ends_with('Z'));
    let t = ttl(&server, &key);
    assert!(
        (59..=60).contains(&t),
        "TTL from cookie.expires in seconds: {t}"
    );

    let browser = new_id();
    store
        .create(&browser, &record(None, json!({})))
        .await
        .unwrap();
    let t = ttl(&server, &format!("sess:{}", browser.expose()));
    assert!((86_399..=86_400).contains(&t), "default TTL one day: {t}");
}

#[tokio::test]
async fn touch_only_extends_the_ttl() {
    let server = RedisServer::start();
    let store = store_on(&server).await;
    let id = new_id();
    store
        .create(&id, &record(Some(3_600_000), json!({"a": 1})))
        .await
        .unwrap();
    let key = store.key(&id);
    server.command(&["EXPIRE", &key, "5"]);
    let before = server.command(&["GET", &key]);
    store.touch(&id).await.unwrap();
    assert!(
        ttl(&server, &key) > 3_590,
        "touch re-applies originalMaxAge"
    );
    assert_eq!(
        server.command(&["GET", &key]),
        before,
        "touch must not rewrite the value"
    );
}

#[tokio::test]
async fn options_like_connect_redis() {
    let server = RedisServer::start();
    let no_ttl = RedisStore::builder()
        .prefix("app:")
        .disable_ttl(true)
        .connect(&server.url())
        .await
        .unwrap();
    let id = new_id();
    no_ttl
        .create(&id, &record(Some(60_000), json!({})))
        .await
        .unwrap();
    assert_eq!(
        ttl(&server, &format!("app:{}", id.expose())),
        -1,
        "disableTTL stores without expiry"
    );

    let no_touch = RedisStore::builder()
        .prefix(unique_prefix())
        .disable_touch(true)
        .connect(&server.url())
        .await
        .unwrap();
    let id = new_id();
    no_touch
        .create(&id, &record(Some(3_600_000), json!({})))
        .await
        .unwrap();
    let key = no_touch.key(&id);
    server.command(&["EXPIRE", &key, "100"]);
    let loaded = no_touch.load(&id).await.unwrap().unwrap();
    assert!(!loaded.touched);
    no_touch.touch(&id).await.unwrap();
    assert!(ttl(&server, &key) <= 100, "disableTouch never extends");

    let short = RedisStore::builder()
        .prefix(unique_prefix())
        .ttl(Duration::from_secs(120))
        .connect(&server.url())
        .await
        .unwrap();
    let id = new_id();
    short.create(&id, &record(None, json!({}))).await.unwrap();
    assert!((119..=120).contains(&ttl(&server, &short.key(&id))));
}

#[tokio::test]
async fn a_stale_payload_expires_is_not_expiry() {
    // A Node-touched session: live key, payload expires in the past.
    let server = RedisServer::start();
    let store = store_on(&server).await;
    let id = new_id();
    let node = br#"{"cookie":{"originalMaxAge":3600000,"expires":"2001-01-01T00:00:00.000Z","httpOnly":true,"path":"/"},"user":"ada"}"#;
    let key = store.key(&id);
    server.command(&[
        "SET",
        &key,
        std::str::from_utf8(node).unwrap(),
        "EX",
        "3600",
    ]);
    let loaded = store
        .load(&id)
        .await
        .unwrap()
        .expect("a live key is a live session");
    assert_eq!(loaded.record.data()["user"], "ada");
    let t = ttl(&server, &key);
    assert!(
        (3_590..=3_600).contains(&t),
        "the record's own TTL, not the default: {t}"
    );
}

/// The sliding load sets each record's own TTL, whatever the previous one asked for.
#[tokio::test]
async fn each_load_slides_to_the_records_own_ttl() {
    let server = RedisServer::start();
    let store = store_on(&server).await;
    let plant = |max_age_ms: u64, extra: &str| {
        let id = new_id();
        let key = store.key(&id);
        let v = format!(
            r#"{{"cookie":{{"originalMaxAge":{max_age_ms},"expires":null,"httpOnly":true,"path":"/"}}{extra},"n":1}}"#
        );
        server.command(&["SET", &key, &v, "EX", "100"]);
        (id, key)
    };
    let (hour, hour_key) = plant(3_600_000, "");
    let (month, month_key) = plant(30 * 86_400_000, "");
    let (idle, idle_key) = plant(3_600_000, r#","__sessionMeta":{"idleTimeout":600000}"#);
    for _ in 0..2 {
        for (id, key, want) in [
            (&hour, &hour_key, 3_600),
            (&month, &month_key, 30 * 86_400),
            (&idle, &idle_key, 600),
            (&month, &month_key, 30 * 86_400),
            (&hour, &hour_key, 3_600),
        ] {
            store.load(id).await.unwrap().unwrap();
            let t = ttl(&server, key);
            assert!((want - 10..=want).contains(&t), "{key}: {t}, want {want}");
        }
    }
}

/// A server without GETEX (before Redis 6.2; here GETEX is renamed away): eager
/// stores ask at connect, lazy ones learn from the first refusal; both slide the TTL
/// with GET + EXPIRE, and nothing fails.
#[tokio::test]
async fn without_getex_loads_fall_back_to_get_and_expire() {
    let server = RedisServer::start_with(&[
        "--save",
        "",
        "--appendonly",
        "no",
        "--rename-command",
        "GETEX",
        "",
    ]);
    let eager = store_on(&server).await;
    let lazy = RedisStore::builder().lazy(&server.url()).unwrap();
    for store in [&eager, &lazy] {
        let id = new_id();
        let key = store.key(&id);
        let v = r#"{"cookie":{"originalMaxAge":3600000,"expires":null,"httpOnly":true,"path":"/"},"n":1}"#;
        server.command(&["SET", &key, v, "EX", "100"]);
        for _ in 0..2 {
            let loaded = store.load(&id).await.unwrap().unwrap();
            assert!(loaded.touched);
            let t = ttl(&server, &key);
            assert!((3_590..=3_600).contains(&t), "{t}");
        }
    }
}

/// The touch script reads a record's first 4 KiB: each layout gets its own TTL, and a
/// record it cannot read there keeps its TTL (for its next load to set).
#[tokio::test]
async fn the_touch_reads_the_ttl_from_the_first_bytes_of_any_layout() {
    let server = RedisServer::start();
    let store = store_on(&server).await;
    let big = format!(r#","big":"{}""#, "x".repeat(8_000));
    let cookie = |ms: &str, path: &str| {
        format!(
            r#"{{"cookie":{{"originalMaxAge":{ms},"expires":null,"httpOnly":true,"path":"{path}"}}"#
        )
    };
    let meta = r#","__sessionMeta":{"absoluteExpiry":"2999-01-01T00:00:00.000Z","idleTimeout":1800000,"clientPin":"ab}"}"#;
    let cases: Vec<(String, String, i64)> = vec![
        // (what, value, expected TTL; -1: left as planted)
        (
            "small, meta after cookie".into(),
            format!(r#"{}{meta},"a":1}}"#, cookie("3600000", "/")),
            1_800,
        ),
        (
            "large, meta after cookie".into(),
            format!("{}{meta}{big}}}", cookie("3600000", "/")),
            1_800,
        ),
        (
            "large, no meta".into(),
            format!("{}{big}}}", cookie("3600000", "/")),
            3_600,
        ),
        (
            "large, null maxAge: the default".into(),
            format!("{}{big}}}", cookie("null", "/")),
            86_400,
        ),
        (
            "large, quote and brace in the path".into(),
            format!("{}{meta}{big}}}", cookie("3600000", r#"/a\"}b"#)),
            1_800,
        ),
        (
            "large, data with a brace".into(),
            format!(r#"{},"x":"}}"{big}}}"#, cookie("7200000", "/")),
            7_200,
        ),
        (
            "large, meta first (no cookie)".into(),
            format!("{{{}{big}}}", &meta[1..]),
            1_800,
        ),
        (
            "small, old layout: meta last".into(),
            format!(r#"{},"a":1{meta}}}"#, cookie("3600000", "/")),
            1_800,
        ),
        (
            "small, data first".into(),
            format!(r#"{{"a":1,{}}}"#, &cookie("7200000", "/")[1..]),
            7_200,
        ),
        (
            "large, data first: left".into(),
            format!("{{{},{}}}", &big[1..], &cookie("7200000", "/")[1..]),
            -1,
        ),
        (
            "large, cookie beyond 4 KiB: left".into(),
            format!("{}{big}}}", cookie("3600000", &"p".repeat(5_000))),
            -1,
        ),
    ];
    for (what, value, want) in cases {
        let id = new_id();
        let key = store.key(&id);
        server.command(&["SET", &key, &value, "EX", "100"]);
        assert!(
            Record::decode(value.as_bytes(), usize::MAX).is_ok(),
            "{what}: valid JSON"
        );
        store.touch(&id).await.unwrap();
        let t = ttl(&server, &key);
        let want = if want < 0 { 100 } else { want };
        assert!(
            (want - 10..=want).contains(&t),
            "{what}: TTL {t}, want {want}"
        );
    }
}

#[tokio::test]
async fn ids_never_become_patterns_and_all_scans_only_this_prefix() {
    let server = RedisServer::start();
    let a = RedisStore::builder()
        .prefix("p[1]:")
        .connect(&server.url())
        .await
        .unwrap();
    let b = RedisStore::builder()
        .prefix("p1:")
        .connect(&server.url())
        .await
        .unwrap();
    a.create(&new_id(), &record(None, json!({"s": "a"})))
        .await
        .unwrap();
    b.create(&new_id(), &record(None, json!({"s": "b"})))
        .await
        .unwrap();
    assert_eq!(
        a.len().await.unwrap(),
        1,
        "the glob in the prefix must match literally"
    );
    let all = a.all().await.unwrap();
    assert_eq!(all[0].1.data()["s"], "a");
    a.clear().await.unwrap();
    assert_eq!((a.len().await.unwrap(), b.len().await.unwrap()), (0, 1));
}

#[tokio::test]
async fn oversized_records_are_refused_on_save_and_on_load() {
    let server = RedisServer::start();
    let store = RedisStore::builder()
        .prefix(unique_prefix())
        .max_record_bytes(1_000)
        .connect(&server.url())
        .await
        .unwrap();
    let id = new_id();
    let big = record(None, json!({"blob": "x".repeat(2_000)}));
    assert!(matches!(
        store.create(&id, &big).await,
        Err(StoreError::Backend(_))
    ));
    assert!(
        store.load(&id).await.unwrap().is_none(),
        "nothing was written"
    );
    let key = store.key(&id);
    let bytes = String::from_utf8(big.encode()).unwrap();
    server.command(&["SET", &key, &bytes]);
    assert!(matches!(store.load(&id).await, Err(StoreError::Corrupt(_))));
}

#[tokio::test]
async fn corrupt_records_load_as_corrupt() {
    let server = RedisServer::start();
    let store = store_on(&server).await;
    for bad in ["not json", "[1,2]", r#"{"cookie":"x"}"#] {
        let id = new_id();
        server.command(&["SET", &store.key(&id), bad]);
        assert!(
            matches!(store.load(&id).await, Err(StoreError::Corrupt(_))),
            "{bad}"
        );
    }
}

/// Commands the adapter sends per kind of request, as a client-side count.
#[tokio::test]
async fn each_kind_of_request_costs_the_minimum_of_commands() {
    let server = RedisServer::start();
    let store = store_on(&server).await;
    let config = SessionConfig::builder(Secrets::new(["keyboard cat"]).unwrap())
        .cookie(CookieOptions {
            max_age: Some(Duration::from_secs(3600)),
            ..CookieOptions::default()
        })
        .build()
        .unwrap();
    let http = TestServer::start(SessionLayer::new(config, store)).await;
    let mut monitor = Monitor::start(server.port);
    let mut c = http.client();

    c.get("/none").await;
    assert_eq!(
        monitor.take(),
        Vec::<String>::new(),
        "an untouched new visitor costs nothing"
    );

    c.get("/").await;
    let cmds = monitor.take();
    assert_eq!(
        cmds.len(),
        1,
        "a new visitor who stores something: one SET NX: {cmds:?}"
    );
    assert!(
        cmds[0].starts_with("\"SET\"") && cmds[0].contains("\"NX\""),
        "{cmds:?}"
    );

    c.get("/read").await;
    let cmds = monitor.take();
    assert_eq!(
        cmds.len(),
        1,
        "read-only: load and TTL slide in one command: {cmds:?}"
    );
    assert!(cmds[0].starts_with("\"GETEX\""), "{cmds:?}");
    assert!(
        cmds[0].ends_with("\"EX\" \"3600\""),
        "the record's own TTL: {cmds:?}"
    );

    c.get("/").await;
    let cmds = monitor.take();
    assert_eq!(cmds.len(), 2, "modified: load + save: {cmds:?}");

    c.get("/none").await;
    let cmds = monitor.take();
    assert_eq!(
        cmds.len(),
        1,
        "untouched with a cookie: one touch: {cmds:?}"
    );

    let forged = "connect.sid=s%3Aforged.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    c.send_with("GET", "/read", Some(forged)).await;
    assert_eq!(
        monitor.take(),
        Vec::<String>::new(),
        "a bad signature never reaches Redis"
    );
    // Writing after a forged cookie creates a fresh session: one SET NX, no lookup.
    c.send_with("GET", "/", Some(forged)).await;
    let cmds = monitor.take();
    assert_eq!(cmds.len(), 1, "{cmds:?}");
    assert!(cmds[0].starts_with("\"SET\""), "{cmds:?}");
}

#[tokio::test]
async fn a_conditional_save_needs_no_version_field_in_the_payload() {
    let server = RedisServer::start();
    let store = store_on(&server).await;
    let id = new_id();
    store
        .create(&id, &record(None, json!({"n": 1})))
        .await
        .unwrap();
    let v = store.load(&id).await.unwrap().unwrap().version;
    // Another writer (e.g. Node) rewrites the value: the digest no longer matches.
    let key = store.key(&id);
    let node =
        r#"{"cookie":{"originalMaxAge":null,"expires":null,"httpOnly":true,"path":"/"},"n":2}"#;
    server.command(&["SET", &key, node, "KEEPTTL"]);
    let r = store
        .save(&id, &record(None, json!({"n": 3})), Some(&v))
        .await;
    assert!(matches!(r, Err(StoreError::Conflict)), "{r:?}");
    let stored = raw_get(&server, &key).unwrap();
    assert_eq!(stored["n"], 2);
    assert!(stored.get("version").is_none() && stored.get("__version").is_none());
    let _ = Record::decode(node.as_bytes(), usize::MAX).unwrap();
}

/// Records planted in Redis (another writer, or a tampered store) cannot inject cookie
/// attributes, drop the cookie, weaken it, or ask for a TTL beyond ten years.
#[tokio::test]
async fn planted_cookie_attributes_and_ttls_are_held_to_the_configuration() {
    const SECRET: &str = "planted secret";
    const TEN_YEARS: i64 = 315_360_000;
    session_tests::guard::install();
    let server = RedisServer::start();
    let store = RedisStore::builder().connect(&server.url()).await.unwrap();
    let config = SessionConfig::builder(Secrets::new([SECRET]).unwrap())
        .cookie(CookieOptions {
            max_age: Some(Duration::from_secs(600)),
            ..CookieOptions::default()
        })
        .build()
        .unwrap();
    let web = TestServer::start(SessionLayer::new(config, store)).await;
    let planted = [
        ("/; Domain=evil.example; SameSite=None", json!(false)),
        ("/\r\nX-Injected: 1", json!(true)),
        ("no-slash", json!(true)),
    ];
    for (path, http_only) in planted {
        let id = new_id();
        let key = format!("sess:{}", id.expose());
        let value = json!({
            "cookie": {
                "originalMaxAge": 1e15,
                "expires": "9999-12-31T23:59:59.000Z",
                "httpOnly": http_only,
                "path": path,
            },
            "views": 1,
        });
        server.command(&["SET", &key, &value.to_string()]);
        let cookie = format!(
            "connect.sid={}",
            session_core::wire::encode_uri_component(&format!(
                "s:{}",
                session_core::wire::sign(id.expose(), SECRET.as_bytes())
            ))
        );
        let c = web.client();
        let r = c.send_with("GET", "/", Some(&cookie)).await;
        assert_eq!(
            r.json()["views"],
            2,
            "the planted session is used: {path:?}"
        );
        let sc = r
            .set_cookie("connect.sid")
            .unwrap_or_else(|| panic!("{path:?}: the cookie was dropped"));
        let attrs: Vec<&str> = sc.split(';').map(str::trim).collect();
        assert!(attrs.contains(&"Path=/"), "{path:?}: {sc}");
        assert!(attrs.contains(&"HttpOnly"), "{path:?}: {sc}");
        assert!(
            !sc.contains("evil") && !sc.contains("SameSite") && !sc.contains("Injected"),
            "{path:?}: {sc}"
        );
        let t = ttl(&server, &key);
        assert!((1..=TEN_YEARS).contains(&t), "{path:?}: TTL {t} s");
        let stored = raw_get(&server, &key).unwrap();
        assert_eq!(stored["cookie"]["path"], "/", "{path:?}: stored repaired");
    }
    let logs = session_tests::guard::logs();
    assert!(logs.contains("stored_cookie_replaced"), "warned");
}
