//! Store faults through the real adapter: 503 + Retry-After when loading fails (the
//! handler's answer is discarded), 500 without Set-Cookie when saving fails, a user
//! hook that replaces both, and a server that keeps serving once the store recovers.

use std::time::Duration;

use bytes::Bytes;
use session_core::{CookieOptions, Secrets, SessionConfig};
use session_hyper::{FailureKind, SessionLayer};
use session_store_memory::MemoryStore;
use session_tests::{FaultyStore, Op, TestServer};

fn config() -> SessionConfig {
    SessionConfig::builder(Secrets::new(["keyboard cat"]).unwrap())
        .cookie(CookieOptions {
            max_age: Some(Duration::from_secs(60)),
            ..CookieOptions::default()
        })
        .build()
        .unwrap()
}

async fn serve() -> (TestServer, FaultyStore<MemoryStore>) {
    let store = FaultyStore::new(MemoryStore::new());
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
async fn a_touch_failure_is_a_500() {
    let (server, store) = serve().await;
    let mut c = server.client();
    c.get("/").await;
    store.fail(Op::Touch, true);
    assert_eq!(c.get("/none").await.status, 500);
    store.fail(Op::Touch, false);
    assert_eq!(c.get("/none").await.status, 200);
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
    let store = FaultyStore::new(MemoryStore::new());
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
