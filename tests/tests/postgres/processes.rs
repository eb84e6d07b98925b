//! The demo as operators run it on PostgreSQL (`DATABASE_URL`): the table created at
//! start, sessions kept across a restart, and two demo processes on one database losing
//! none of 10,000 overlapping writes of different keys.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use session_tests::Client;
use session_tests::demo::Demo;
use session_tests::postgres::PgServer;

const SECRET: (&str, &str) = ("SESSION_SECRET", "demo postgres secret");
const REQUESTS: usize = 10_000;
const IN_FLIGHT: usize = 20;
const SESSIONS: usize = 5;

#[tokio::test]
async fn the_demo_keeps_sessions_in_postgres_across_restarts() {
    let pg = PgServer::start();
    let url = pg.url();
    let demo = Demo::start(&[SECRET, ("DATABASE_URL", &url)]);
    assert_eq!(demo.store, "postgres store");
    let mut c = Client::new(demo.addr);
    assert_eq!(c.get("/").await.json()["views"], 1);
    assert_eq!(c.post("/login?user=ada").await.json()["user"], "ada");
    drop(demo);

    let demo = Demo::start(&[SECRET, ("DATABASE_URL", &url)]);
    let mut again = Client::new(demo.addr);
    again.jar = c.jar.clone();
    assert_eq!(again.get("/session").await.json()["user"], "ada");
    assert_eq!(
        pg.psql("SELECT count(*) FROM session WHERE sess->>'user' = 'ada'"),
        "1",
        "in connect-pg-simple's table"
    );
}

/// 10,000 writes of different keys to five sessions, 20 in flight: each session has four
/// writers, two on each process, so its saves keep overlapping across the processes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_database_lose_no_overlapping_write() {
    let pg = PgServer::start();
    let url = pg.url();
    let demos = [
        Demo::start(&[SECRET, ("DATABASE_URL", &url)]),
        Demo::start(&[SECRET, ("DATABASE_URL", &url)]),
    ];
    let mut sessions = Vec::new();
    for _ in 0..SESSIONS {
        let mut c = Client::new(demos[0].addr);
        assert_eq!(c.get("/").await.status, 200);
        sessions.push(c);
    }
    let next = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..IN_FLIGHT)
        .map(|w| {
            let session = w % SESSIONS;
            let client = Client::new(demos[(w / SESSIONS) % 2].addr);
            let (next, cookie) = (Arc::clone(&next), sessions[session].cookie_header());
            tokio::spawn(async move {
                let mut failed = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= REQUESTS {
                        return failed;
                    }
                    // Worker w writes keys of its own session only.
                    let path = format!("/set?s{session}_k{i}=1");
                    let r = client.send_with("POST", &path, cookie.as_deref()).await;
                    if r.status != 200 {
                        failed.push((r.status.as_u16(), r.body));
                    }
                }
            })
        })
        .collect();
    let mut failed = Vec::new();
    for worker in workers {
        failed.extend(worker.await.unwrap());
    }
    assert!(
        failed.is_empty(),
        "{} failed: {:?}",
        failed.len(),
        &failed[..failed.len().min(5)]
    );
    let mut total = 0;
    for (n, first) in sessions.iter().enumerate() {
        let mut other = Client::new(demos[1].addr);
        other.jar = first.jar.clone();
        let data = other.get("/session").await.json();
        let prefix = format!("s{n}_k");
        total += data
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| k.starts_with(&prefix))
            .count();
    }
    assert_eq!(total, REQUESTS, "every request's key is in its session");
}
