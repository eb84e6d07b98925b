//! The bound on requests waiting to write one session (issue #16): past
//! `max_queued_writes`, a request answers 503 with Retry-After at once instead of
//! queueing with its copy of the session; the queued ones all land.

use std::time::Duration;

use session_core::{CookieOptions, Secrets, SessionConfig};
use session_hyper::SessionLayer;
use session_store_memory::MemoryStore;
use session_tests::{TestServer, TestStore};

/// Another connection of the same user (same cookies).
fn same_user(server: &TestServer, c: &session_tests::Client) -> session_tests::Client {
    let mut other = server.client();
    other.jar = c.jar.clone();
    other
}

#[tokio::test]
async fn writers_past_the_queue_bound_get_a_503_and_the_queued_ones_land() {
    const QUEUE: usize = 3;
    const EXTRA: usize = 5;
    let store = TestStore::new(MemoryStore::new());
    let config = SessionConfig::builder(Secrets::new(["keyboard cat"]).unwrap())
        .cookie(CookieOptions {
            max_age: Some(Duration::from_secs(60)),
            ..CookieOptions::default()
        })
        .max_queued_writes(QUEUE)
        .build()
        .unwrap();
    let server = TestServer::start(SessionLayer::new(config, store.clone())).await;
    let mut c = server.client();
    assert_eq!(c.get("/").await.json()["views"], 1);
    store.hold_saves(true);

    // One writer holds the session's write lock, stuck in the store.
    let holder = {
        let c = same_user(&server, &c);
        tokio::spawn(async move {
            c.send_with("POST", "/put?w=0", c.cookie_header().as_deref())
                .await
        })
    };
    while store.saves_started() == 0 {
        tokio::task::yield_now().await;
    }
    // QUEUE more can wait behind it; the EXTRA beyond are refused at once (they
    // complete while the gate is still closed).
    let mut waiting = Vec::new();
    for i in 0..QUEUE + EXTRA {
        let c = same_user(&server, &c);
        waiting.push(tokio::spawn(async move {
            c.send_with(
                "POST",
                &format!("/put?w{i}=1"),
                c.cookie_header().as_deref(),
            )
            .await
        }));
    }
    // A regression (nobody refused) must fail, not hang: a deadline, not a timing.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut refused = 0;
    while refused < EXTRA {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {refused} of {EXTRA} requests beyond the queue bound were refused"
        );
        let mut i = 0;
        while i < waiting.len() {
            if waiting[i].is_finished() {
                let r = waiting.remove(i).await.unwrap();
                assert_eq!(r.status, 503, "{}", r.body);
                assert_eq!(r.header("retry-after").as_deref(), Some("1"));
                assert!(r.set_cookies().is_empty());
                refused += 1;
            } else {
                i += 1;
            }
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(waiting.len(), QUEUE, "exactly QUEUE requests wait");
    store.hold_saves(false);
    assert_eq!(holder.await.unwrap().status, 200);
    for w in waiting {
        assert_eq!(w.await.unwrap().status, 200);
    }
    // Every queued write landed (merged, none lost); the refused ones wrote nothing.
    let data = c.get("/read").await.json();
    let written = data
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| k.starts_with('w'))
        .count();
    assert_eq!(written, 1 + QUEUE, "{data}");
}
