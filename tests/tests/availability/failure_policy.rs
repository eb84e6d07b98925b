//! Store faults through the real adapter: 503 + Retry-After when loading fails (the
//! handler's answer is discarded, or served without the session under
//! `FailurePolicy::Degrade`), the handler's answer without Set-Cookie when only the
//! touch fails, 500 without Set-Cookie when saving fails, 503 + Retry-After when the
//! store is full, a user hook that replaces them, and a server that keeps serving once
//! the store recovers.

use std::time::Duration;

use bytes::Bytes;
use session_core::{CookieOptions, Secrets, SessionConfig};
use session_hyper::{FailureKind, FailurePolicy, SessionLayer};
use session_store_memory::MemoryStore;
use session_tests::{Op, TestServer, TestStore};

fn config() -> SessionConfig {
    session_tests::config_with("keyboard cat", Duration::from_secs(60))
        .build()
        .unwrap()
}

async fn serve() -> (TestServer, TestStore<MemoryStore>) {
    let store = TestStore::new(MemoryStore::new());
    (
        TestServer::start(SessionLayer::new(config(), store.clone())).await,
        store,
    )
}

#[tokio::test]
async fn a_load_failure_is_a_503_with_retry_after() {
    let (server, store) = serve().await;
    let mut c = server.client();
    c.get("/").await;
    store.fail(Op::Load, true);
    let r = c.get("/").await;
    assert_eq!(r.status, 503);
    assert_eq!(r.header("retry-after").as_deref(), Some("1"));
    assert!(r.set_cookies().is_empty());
    assert!(
        !r.body.contains("views"),
        "the handler's answer must be discarded: {}",
        r.body
    );
    store.fail(Op::Load, false);
    assert_eq!(
        c.get("/").await.json()["views"],
        2,
        "recovers, and nothing was lost"
    );
}

#[tokio::test]
async fn a_save_failure_is_a_500_without_set_cookie() {
    let (server, store) = serve().await;
    let mut c = server.client();
    c.get("/").await;
    store.fail(Op::Save, true);
    let r = c.get("/").await;
    assert_eq!(r.status, 500);
    assert!(r.set_cookies().is_empty());
    assert!(!r.body.contains("views"));
    store.fail(Op::Save, false);
    assert_eq!(
        c.get("/").await.json()["views"],
        2,
        "the failed write did not land"
    );
}

#[tokio::test]
async fn a_create_failure_for_a_new_visitor_is_a_500_without_set_cookie() {
    let (server, store) = serve().await;
    store.fail(Op::Create, true);
    let mut c = server.client();
    let r = c.get("/").await;
    assert_eq!(r.status, 500);
    assert!(r.set_cookies().is_empty() && c.jar.is_empty());
}

#[tokio::test]
async fn a_touch_failure_serves_the_handler_response_without_set_cookie() {
    // rolling: every response of a loaded session would set the cookie.
    let store = TestStore::new(MemoryStore::new());
    let layer = SessionLayer::new(rolling(), store.clone());
    let server = TestServer::start(layer).await;
    let mut c = server.client();
    c.get("/").await;
    let ok = c.get("/read").await;
    assert_eq!(ok.status, 200);
    assert_eq!(
        ok.set_cookies().len(),
        1,
        "control: rolling sets the cookie"
    );
    store.fail(Op::Touch, true);
    // The handler never used the session: the end-of-request touch fails, unseen.
    let r = c.get("/none").await;
    assert_eq!((r.status.as_u16(), r.body.as_str()), (200, "{}"));
    assert!(r.set_cookies().is_empty());
    // The handler read it: its answer, without a cookie the store did not follow.
    let r = c.get("/read").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["views"], 1);
    assert!(r.set_cookies().is_empty(), "{:?}", r.set_cookies());
    assert_eq!(r.header("vary").as_deref(), Some("Cookie"));
    store.fail(Op::Touch, false);
    assert_eq!(c.get("/").await.json()["views"], 2, "nothing was lost");
}

#[tokio::test]
async fn pages_that_do_not_use_the_session_survive_an_outage_in_every_mode() {
    // Default rules: the end-of-request touch fails.
    let (server, store) = serve().await;
    let mut c = server.client();
    c.get("/").await;
    store.fail(Op::Touch, true);
    let r = c.get("/none").await;
    assert_eq!((r.status.as_u16(), r.body.as_str()), (200, "{}"));
    assert!(r.set_cookies().is_empty());

    // rolling / resave: the layer loads the session itself, and that load fails.
    for config in [rolling(), with(|b| b.resave(true))] {
        let store = TestStore::new(MemoryStore::new());
        let server = TestServer::start(SessionLayer::new(config, store.clone())).await;
        let mut c = server.client();
        c.get("/").await;
        for op in [Op::Load, Op::Touch, Op::Save] {
            store.fail(op, true);
        }
        let r = c.get("/none").await;
        assert_eq!((r.status.as_u16(), r.body.as_str()), (200, "{}"));
        assert!(r.set_cookies().is_empty());
        // A page that reads the session still cannot be served.
        assert_eq!(c.get("/read").await.status, 503);
    }

    // saveUninitialized: a new visitor's empty session cannot be created.
    let store = TestStore::new(MemoryStore::new());
    let layer = SessionLayer::new(with(|b| b.save_uninitialized(true)), store.clone());
    let server = TestServer::start(layer).await;
    store.fail(Op::Create, true);
    let r = server.client().get("/none").await;
    assert_eq!((r.status.as_u16(), r.body.as_str()), (200, "{}"));
    assert!(r.set_cookies().is_empty());
}

fn with(
    f: impl FnOnce(session_core::SessionConfigBuilder) -> session_core::SessionConfigBuilder,
) -> SessionConfig {
    f(
        SessionConfig::builder(Secrets::new(["keyboard cat"]).unwrap()).cookie(CookieOptions {
            max_age: Some(Duration::from_secs(60)),
            ..CookieOptions::default()
        }),
    )
    .build()
    .unwrap()
}

fn rolling() -> SessionConfig {
    SessionConfig::builder(Secrets::new(["keyboard cat"]).unwrap())
        .cookie(CookieOptions {
            max_age: Some(Duration::from_secs(60)),
            ..CookieOptions::default()
        })
        .rolling(true)
        .build()
        .unwrap()
}

#[tokio::test]
async fn degrade_serves_a_guest_page_when_loading_fails() {
    let store = TestStore::new(MemoryStore::new());
    let layer = SessionLayer::new(config(), store.clone()).failure_policy(FailurePolicy::Degrade);
    let server = TestServer::start(layer).await;
    let mut c = server.client();
    c.post("/login?user=ann").await;
    assert_eq!(c.get("/optional").await.json()["user"], "ann");
    store.fail(Op::Load, true);
    // The handler ignored the error: its guest page goes out, without a cookie.
    let r = c.get("/optional").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["user"], serde_json::Value::Null);
    assert!(r.set_cookies().is_empty());
    assert_eq!(r.header("vary").as_deref(), Some("Cookie"));
    // A handler that answers 5xx for the error still gets the failure response.
    let r = c.get("/strict").await;
    assert_eq!(r.status, 503);
    assert_eq!(r.header("retry-after").as_deref(), Some("1"));
    // Without Degrade, the same guest page is replaced by the 503.
    store.fail(Op::Load, false);
    let (strict, strict_store) = serve().await;
    let mut s = strict.client();
    s.post("/login?user=bob").await;
    strict_store.fail(Op::Load, true);
    assert_eq!(s.get("/optional").await.status, 503);
    // And the degraded user lost nothing.
    assert_eq!(c.get("/optional").await.json()["user"], "ann");
}

#[tokio::test]
async fn a_full_store_is_a_503_with_retry_after_and_old_sessions_keep_working() {
    let layer = SessionLayer::new(config(), MemoryStore::builder().capacity(1).build());
    let server = TestServer::start(layer).await;
    let mut first = server.client();
    first.get("/").await;
    let mut second = server.client();
    for _ in 0..3 {
        let r = second.get("/").await;
        assert_eq!(r.status, 503);
        assert_eq!(r.header("retry-after").as_deref(), Some("1"));
        assert!(r.set_cookies().is_empty());
    }
    // A visitor who stores nothing is not refused.
    assert_eq!(second.get("/none").await.status, 200);
    assert_eq!(first.get("/").await.json()["views"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_new_visitors_fills_the_store_and_existing_sessions_keep_working() {
    let layer = SessionLayer::new(config(), MemoryStore::builder().capacity(100).build());
    let server = TestServer::start(layer).await;
    let mut owner = server.client();
    assert_eq!(owner.get("/").await.json()["views"], 1);
    let flood: Vec<_> = (0..400)
        .map(|_| {
            let c = server.client();
            tokio::spawn(async move { c.send_with("POST", "/put?x=1", None).await })
        })
        .collect();
    // The owner keeps using the session while the flood runs.
    let mut views = 1;
    for _ in 0..20 {
        views += 1;
        assert_eq!(owner.get("/").await.json()["views"], views);
    }
    let mut by_status = std::collections::BTreeMap::<u16, usize>::new();
    for f in flood {
        let r = f.await.unwrap();
        if r.status == 503 {
            assert_eq!(r.header("retry-after").as_deref(), Some("1"));
            assert!(r.set_cookies().is_empty());
        }
        *by_status.entry(r.status.as_u16()).or_default() += 1;
    }
    // 99 places were free: exactly that many got a session, the rest a 503.
    assert_eq!(by_status.get(&200), Some(&99), "{by_status:?}");
    assert_eq!(by_status.get(&503), Some(&301), "{by_status:?}");
    assert_eq!(owner.get("/").await.json()["views"], views + 1);
}

#[tokio::test]
async fn the_byte_budget_is_a_503_for_the_write_that_passes_it() {
    let layer = SessionLayer::new(config(), MemoryStore::builder().max_bytes(4_096).build());
    let server = TestServer::start(layer).await;
    let mut c = server.client();
    c.get("/").await;
    let big = "x".repeat(5_000);
    let r = c.post(&format!("/put?blob={big}")).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.header("retry-after").as_deref(), Some("1"));
    assert_eq!(c.get("/").await.json()["views"], 2, "the session is intact");
}

#[tokio::test]
async fn requests_that_do_not_need_the_store_are_unaffected_by_an_outage() {
    let (server, store) = serve().await;
    for op in [Op::Load, Op::Create, Op::Save, Op::Touch, Op::Destroy] {
        store.fail(op, true);
    }
    let mut c = server.client();
    // A cookieless visitor who stores nothing never needs the store.
    assert_eq!(c.get("/none").await.status, 200);
    assert_eq!(c.get("/read").await.status, 200);
    // A bad cookie never reaches the store either.
    assert_eq!(
        c.send_with("GET", "/none", Some("connect.sid=s%3Ax.y"))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn the_failure_hook_replaces_the_default_answers() {
    let store = TestStore::new(MemoryStore::new());
    let layer = SessionLayer::new(config(), store.clone()).on_failure(|f| {
        let mut res = http::Response::new(Bytes::from(format!("custom {:?}", f.kind)));
        *res.status_mut() = match f.kind {
            FailureKind::Load => http::StatusCode::BAD_GATEWAY,
            _ => http::StatusCode::INSUFFICIENT_STORAGE,
        };
        res
    });
    let server = TestServer::start(layer).await;
    let mut c = server.client();
    c.get("/").await;
    store.fail(Op::Load, true);
    let r = c.get("/").await;
    assert_eq!((r.status.as_u16(), r.body.as_str()), (502, "custom Load"));
    store.fail(Op::Load, false);
    store.fail(Op::Save, true);
    let r = c.get("/").await;
    assert_eq!(
        (r.status.as_u16(), r.body.as_str()),
        (507, "custom Persist")
    );
}
