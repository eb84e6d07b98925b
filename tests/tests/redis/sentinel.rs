//! The Redis store through Redis Sentinel (one primary, one replica, three
//! `redis-sentinel` processes, all private): sessions survive a `SENTINEL FAILOVER` and
//! then a SIGKILL of the new primary, with only 503/500 during each and recovery after.

use std::time::{Duration, Instant};

use session_hyper::SessionLayer;

use crate::config;
use session_store_redis::{RedisSentinel, RedisStore};
use session_tests::redis::{command, unique_prefix};
use session_tests::sentinel::{SERVICE, SentinelSetup};
use session_tests::{Client, TestServer};

/// Requests until every client's session answers with its own user again; every
/// answer on the way is a 200, a 503 or a 500. Returns how long that took.
async fn ride_out(clients: &mut [Client], what: &str) -> Duration {
    let start = Instant::now();
    let mut statuses = Vec::new();
    loop {
        let mut all_back = true;
        for (i, c) in clients.iter_mut().enumerate() {
            let r = c.get("/session").await;
            statuses.push(r.status.as_u16());
            assert!(
                matches!(r.status.as_u16(), 200 | 500 | 503),
                "{what}: only 200/503/500, got {} ({:?})",
                r.status,
                r.body
            );
            if r.status == 200 {
                assert_eq!(
                    r.json()["user"],
                    format!("u{i}"),
                    "{what}: the session survived"
                );
            } else {
                all_back = false;
            }
        }
        if all_back {
            println!(
                "{what}: {} requests, {} not 200",
                statuses.len(),
                statuses.iter().filter(|s| **s != 200).count()
            );
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{what}: the store did not recover: {statuses:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_survive_a_failover_and_a_sigkilled_primary() {
    let mut setup = SentinelSetup::start();
    let store = RedisStore::builder()
        .prefix(unique_prefix())
        .command_timeout(Duration::from_millis(250))
        .connect_sentinel(RedisSentinel::new(SERVICE, setup.urls()))
        .await
        .unwrap();
    let http = TestServer::start(SessionLayer::new(config(), store)).await;
    let mut clients: Vec<Client> = (0..5).map(|_| http.client()).collect();
    for (i, c) in clients.iter_mut().enumerate() {
        assert_eq!(c.post(&format!("/login?user=u{i}")).await.status, 200);
        assert_eq!(c.get("/").await.json()["views"], 1);
    }
    setup.wait_replicated();

    // 1. An orderly failover: the replica is promoted, the old primary demoted.
    let first = setup.primary_port().unwrap();
    setup.failover();
    setup.wait_until(Duration::from_secs(30), "the failover", |s| {
        s.primary_port().is_some_and(|p| p != first)
    });
    // Until the sentinels demote it, the old primary still takes writes (which Redis
    // then drops when it resyncs): wait for that, so that the writes below must find
    // the new primary.
    setup.wait_until(
        Duration::from_secs(30),
        "the old primary's demotion",
        |_| command(first, &["ROLE"]).is_ok_and(|r| r.contains("slave")),
    );
    let took = ride_out(&mut clients, "SENTINEL FAILOVER").await;
    println!("recovered {took:?} after SENTINEL FAILOVER was acknowledged");
    for c in clients.iter_mut() {
        assert_eq!(
            c.get("/").await.json()["views"],
            2,
            "writes go to the new primary"
        );
    }

    // 2. The new primary dies: the sentinels agree it is down and promote the other.
    setup.wait_replicated();
    let second = setup.primary_port().unwrap();
    setup.primary().kill();
    let killed = Instant::now();
    let took = ride_out(&mut clients, "SIGKILL of the primary").await;
    println!(
        "recovered {took:?} after the SIGKILL ({:?})",
        killed.elapsed()
    );
    assert_ne!(setup.primary_port(), Some(second));
    for c in clients.iter_mut() {
        assert_eq!(c.get("/").await.json()["views"], 3);
    }
}
