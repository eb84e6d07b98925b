//! Overlapping requests on one session lose no update, through the real adapter, with
//! every store (memory, Redis, Postgres): 10,000 requests 20 in flight each setting its
//! own key keep all 10,000; 10,000 atomic increments end at exactly 10,000; a slow read does not undo a write; a
//! logout overlapping a slow write stays a logout.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use session_core::store::SessionStore;
use session_core::{Concurrency, SessionConfigBuilder};
use session_hyper::SessionLayer;
use session_store_memory::MemoryStore;
use session_tests::{Client, TestServer};

pub const REQUESTS: usize = 10_000;
pub const IN_FLIGHT: usize = 20;

fn config() -> SessionConfigBuilder {
    session_tests::config_with("keyboard cat", Duration::from_secs(3600))
}

/// Sends `n` requests with one cookie, `in_flight` at a time; returns every status and
/// the bodies of the failures.
pub async fn hammer(
    client: &Client,
    n: usize,
    in_flight: usize,
    request: fn(usize) -> (&'static str, String),
) -> Vec<(u16, String)> {
    let next = Arc::new(AtomicUsize::new(0));
    let cookie = client.cookie_header();
    let mut workers = Vec::new();
    for _ in 0..in_flight {
        let (next, client, cookie) = (Arc::clone(&next), client.clone(), cookie.clone());
        workers.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return statuses;
                }
                let (method, path) = request(i);
                let r = client.send_with(method, &path, cookie.as_deref()).await;
                let body = if r.status == 200 {
                    String::new()
                } else {
                    r.body
                };
                statuses.push((r.status.as_u16(), body));
            }
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    all
}

macro_rules! concurrency_tests {
    ($name:ident, $factory:expr) => {
        mod $name {
            use super::*;

            async fn serve(cfg: SessionConfigBuilder) -> (TestServer, Client) {
                let store = $factory.await;
                // Failures carry their error chain in the body, for the assertion messages.
                let layer = SessionLayer::new(cfg.build().unwrap(), store).on_failure(|f| {
                    let mut chain = f.error.to_string();
                    let mut source = std::error::Error::source(f.error);
                    while let Some(e) = source {
                        chain.push_str(&format!(": {e}"));
                        source = e.source();
                    }
                    let mut res = http::Response::new(bytes::Bytes::from(chain));
                    *res.status_mut() = match f.kind {
                        session_hyper::FailureKind::Gone => http::StatusCode::CONFLICT,
                        session_hyper::FailureKind::Load => http::StatusCode::SERVICE_UNAVAILABLE,
                        _ => http::StatusCode::INTERNAL_SERVER_ERROR,
                    };
                    res
                });
                let server = TestServer::start(layer).await;
                let mut c = server.client();
                assert_eq!(c.get("/").await.status, 200);
                (server, c)
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn ten_thousand_overlapping_writes_of_different_keys_all_survive() {
                let (_server, mut c) = serve(config()).await;
                let statuses = hammer(&c, REQUESTS, IN_FLIGHT, |i| {
                    ("POST", format!("/put?k{i}=1"))
                })
                .await;
                let failed: Vec<_> = statuses.iter().filter(|(s, _)| *s != 200).collect();
                assert!(
                    failed.is_empty(),
                    "{} failed: {:?}",
                    failed.len(),
                    &failed[..failed.len().min(5)]
                );
                let data = c.get("/read").await.json();
                let keys = data
                    .as_object()
                    .unwrap()
                    .keys()
                    .filter(|k| k.starts_with('k'))
                    .count();
                assert_eq!(keys, REQUESTS, "every request's key is in the session");
                assert_eq!(data["views"], 1);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn ten_thousand_atomic_increments_are_exact() {
                let (_server, mut c) = serve(config()).await;
                let statuses =
                    hammer(&c, REQUESTS, IN_FLIGHT, |_| ("POST", "/incr".to_owned())).await;
                let failed: Vec<_> = statuses.iter().filter(|(s, _)| *s != 200).collect();
                assert!(
                    failed.is_empty(),
                    "{} failed: {:?}",
                    failed.len(),
                    &failed[..failed.len().min(5)]
                );
                assert_eq!(c.get("/read").await.json()["counter"], REQUESTS);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_slow_read_does_not_undo_an_overlapping_write() {
                // With resave on, the slow read saves at its end: merge mode must not
                // write its stale copy over the newer data.
                for resave in [false, true] {
                    let (server, mut c) = serve(config().resave(resave)).await;
                    let slow = {
                        let c = c.clone();
                        tokio::spawn(async move {
                            c.send_with("GET", "/slow-read?ms=300", c.cookie_header().as_deref())
                                .await
                        })
                    };
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    assert_eq!(c.post("/set?written=yes").await.status, 200);
                    assert_eq!(slow.await.unwrap().status, 200);
                    assert_eq!(
                        c.get("/read").await.json()["written"],
                        "yes",
                        "resave={resave}"
                    );
                    drop(server);
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn last_write_wins_mode_is_expresss_behaviour() {
                let (_server, mut c) = serve(
                    config()
                        .resave(true)
                        .concurrency(Concurrency::LastWriteWins),
                )
                .await;
                let slow = {
                    let c = c.clone();
                    tokio::spawn(async move {
                        c.send_with("GET", "/slow-read?ms=300", c.cookie_header().as_deref())
                            .await
                    })
                };
                tokio::time::sleep(Duration::from_millis(100)).await;
                c.post("/set?written=yes").await;
                slow.await.unwrap();
                assert!(
                    c.get("/read").await.json().get("written").is_none(),
                    "the stale copy overwrote the write, as in express"
                );
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_logout_overlapping_a_slow_write_stays_a_logout() {
                let (_server, mut c) = serve(config()).await;
                c.post("/set?user=ada").await;
                let before = c.clone();
                let slow = {
                    let c = c.clone();
                    tokio::spawn(async move {
                        c.send_with(
                            "POST",
                            "/slow-set?ms=300&late=1",
                            c.cookie_header().as_deref(),
                        )
                        .await
                    })
                };
                tokio::time::sleep(Duration::from_millis(100)).await;
                assert_eq!(c.post("/logout").await.status, 200);
                let late = slow.await.unwrap();
                assert_eq!(late.status, 409, "the late write is refused: {}", late.body);
                assert!(late.set_cookies().is_empty(), "and sends no cookie");
                let mut replay = before;
                assert_eq!(
                    replay.get("/read").await.json(),
                    serde_json::json!({}),
                    "the session stays destroyed"
                );
            }
        }
    };
}

concurrency_tests!(memory, async { MemoryStore::new() });
concurrency_tests!(redis, session_tests::redis_store());
concurrency_tests!(postgres, session_tests::postgres_store());

#[tokio::test]
async fn the_store_answers_are_what_merging_needs() {
    // The memory store is what most unit tests use: check it reports conflicts, so the
    // merge tests above exercise the retry path rather than passing by luck.
    let store = MemoryStore::new();
    let id = session_core::conformance::cases::new_id();
    let rec = session_core::conformance::cases::record(None, serde_json::json!({}));
    store.create(&id, &rec).await.unwrap();
    let v = store.load(&id).await.unwrap().unwrap().version;
    store.save(&id, &rec, Some(&v)).await.unwrap();
    assert!(matches!(
        store.save(&id, &rec, Some(&v)).await,
        Err(session_core::store::StoreError::Conflict)
    ));
}
