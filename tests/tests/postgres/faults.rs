//! PostgreSQL faults through the real adapter: the server stopped and restarted under
//! load (only 503 or 500 meanwhile, recovery after, nothing acknowledged lost), and a
//! statement stuck behind a lock ended by the deadline on both sides (the request
//! answers 503, and the server cancels the statement by its `statement_timeout`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use session_hyper::SessionLayer;
use session_tests::TestServer;
use session_tests::postgres::PgServer;

use super::{builder, config, store_on};

const DEADLINE: Duration = Duration::from_millis(300);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_and_restarted_under_load_gives_only_503_or_500_then_recovers() {
    let mut pg = PgServer::start();
    let store = store_on(&pg, builder().query_timeout(DEADLINE)).await;
    let http = TestServer::start(SessionLayer::new(config(), store)).await;
    let mut c = http.client();
    for _ in 0..10 {
        assert_eq!(c.get("/").await.status, 200);
    }
    // Load: four workers on the same session for the whole test.
    let running = Arc::new(AtomicBool::new(true));
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (c, running) = (c.clone(), Arc::clone(&running));
            tokio::spawn(async move {
                let cookie = c.cookie_header();
                let mut statuses = Vec::new();
                for i in 0.. {
                    if !running.load(Ordering::Relaxed) {
                        break;
                    }
                    let key = format!("w{w}_{i}");
                    let path = format!("/put?{key}=1");
                    let r = c.send_with("POST", &path, cookie.as_deref()).await;
                    statuses.push((key, r.status.as_u16()));
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                statuses
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    tokio::task::block_in_place(|| pg.stop());
    let mut outage = Vec::new();
    for _ in 0..10 {
        outage.push(c.get("/").await.status.as_u16());
    }
    assert!(
        outage.iter().all(|s| *s == 503 || *s == 500),
        "only 503/500 while PostgreSQL is down: {outage:?}"
    );
    assert!(outage.contains(&503), "a failed load is a 503: {outage:?}");
    tokio::task::block_in_place(|| pg.restart());
    let restarted = Instant::now();
    let mut recovered = None;
    for _ in 0..400 {
        let r = c.get("/read").await;
        if r.status == 200 {
            recovered = Some(restarted.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let recovered = recovered.expect("the store did not recover after PostgreSQL came back");
    println!("recovered {recovered:?} after the restart");
    running.store(false, Ordering::Relaxed);
    let mut statuses = Vec::new();
    for w in workers {
        statuses.extend(w.await.unwrap());
    }
    let odd: Vec<_> = statuses
        .iter()
        .filter(|(_, s)| !matches!(s, 200 | 500 | 503))
        .collect();
    assert!(odd.is_empty(), "under load: only 200, 500 or 503: {odd:?}");
    assert!(
        statuses.iter().any(|(_, s)| *s != 200),
        "the outage was seen under load"
    );
    // Every acknowledged write is in the session (the data is on disk); one whose save
    // failed may or may not have landed (a 500 says "unknown").
    let data = c.get("/read").await.json();
    let lost: Vec<_> = statuses
        .iter()
        .filter(|(key, s)| *s == 200 && data.get(key).is_none())
        .collect();
    assert!(lost.is_empty(), "acknowledged writes lost: {lost:?}");
    let views = c.get("/").await.json()["views"].as_u64().unwrap_or(0);
    assert!(views > 10, "the session outlived the outage: views {views}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_stuck_behind_a_lock_is_ended_on_both_sides() {
    let pg = PgServer::start();
    let store = store_on(&pg, builder().query_timeout(DEADLINE)).await;
    let table = store.table();
    let http = TestServer::start(SessionLayer::new(config(), store)).await;
    let mut c = http.client();
    assert_eq!(c.get("/").await.status, 200);

    let locker = pg.lock_table(&table).await;
    let r = tokio::time::timeout(Duration::from_secs(10), c.get("/read"))
        .await
        .expect("the request answers instead of waiting for the lock");
    assert_eq!(r.status, 503, "{}", r.body);
    // The server ends the abandoned statement itself (statement_timeout): nothing of
    // ours stays queued behind the lock.
    let waiting =
        || pg.psql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'");
    let deadline = Instant::now() + Duration::from_secs(10);
    while waiting() != "0" {
        assert!(
            Instant::now() < deadline,
            "a statement still waits on the lock"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    locker.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(
        c.get("/read").await.status,
        200,
        "served again once the lock is gone"
    );
}

/// A statement abandoned at its deadline does not hold the pool: on a pool of one
/// connection shared by two stores (the application's pool, so no server-side statement
/// timeout), a request of the other store is served while the abandoned statement still
/// waits for its lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_statement_does_not_keep_its_connection_in_the_pool() {
    let pg = PgServer::start();
    let manager = deadpool_postgres::Manager::new(pg.url().parse().unwrap(), tokio_postgres::NoTls);
    let pool = deadpool_postgres::Pool::builder(manager)
        .max_size(1)
        .build()
        .unwrap();
    let stuck = builder()
        .query_timeout(DEADLINE)
        .from_pool(pool.clone())
        .await
        .unwrap();
    let free = builder()
        .query_timeout(DEADLINE)
        .from_pool(pool)
        .await
        .unwrap();
    let id = session_core::conformance::cases::new_id();
    let rec = session_core::conformance::cases::record(Some(60_000), serde_json::json!({}));
    use session_core::store::SessionStore;
    stuck.create(&id, &rec).await.unwrap();
    free.create(&id, &rec).await.unwrap();

    let locker = pg.lock_table(&stuck.table()).await;
    assert!(
        stuck.load(&id).await.is_err(),
        "the locked table's load times out"
    );
    let loaded = free.load(&id).await;
    assert!(
        matches!(loaded, Ok(Some(_))),
        "the other store is served: {loaded:?}"
    );
    locker.batch_execute("ROLLBACK").await.unwrap();
}
