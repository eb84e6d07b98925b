//! Pruning: a backlog of expired rows goes in bounded batches and live rows stay; one
//! instance prunes at a time (the advisory lock, held here by another connection); the
//! background task prunes on its interval and stops with the store.

use std::time::Duration;

use serde_json::json;
use session_core::conformance::cases::{new_id, record};
use session_core::store::SessionStore;
use session_tests::postgres::PgServer;

use super::{builder, store_on};

/// `n` expired rows in `table`.
fn expired_rows(server: &PgServer, table: &str, n: usize) {
    server.psql(&format!(
        "INSERT INTO {table} (sid, sess, expire) SELECT 'old' || i, '{{}}', now() - interval '1 day' \
         FROM generate_series(1, {n}) AS i"
    ));
}

fn rows(server: &PgServer, table: &str) -> usize {
    server
        .psql(&format!("SELECT count(*) FROM {table}"))
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_backlog_goes_in_batches_and_live_rows_stay() {
    let server = PgServer::start_with(&["log_statement=all"]);
    let store = store_on(&server, builder().prune_interval(None).prune_batch(1_000)).await;
    let table = store.table();
    expired_rows(&server, &table, 2_500);
    let live = new_id();
    store
        .create(&live, &record(Some(60_000), json!({})))
        .await
        .unwrap();
    let before = server.executed("FOR UPDATE SKIP LOCKED");
    assert_eq!(store.prune().await.unwrap(), Some(2_500));
    assert_eq!(
        server.executed("FOR UPDATE SKIP LOCKED") - before,
        3,
        "three statements of at most 1,000 rows"
    );
    assert_eq!(rows(&server, &table), 1);
    assert!(store.load(&live).await.unwrap().is_some());
    assert_eq!(store.prune().await.unwrap(), Some(0));
}

#[tokio::test]
async fn one_instance_prunes_at_a_time() {
    let server = PgServer::start();
    let store = store_on(&server, builder().prune_interval(None)).await;
    let table = store.table();
    expired_rows(&server, &table, 10);
    // Another instance's pruning run holds the table's lock (its key is documented).
    let (other, connection) = tokio_postgres::connect(&server.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    let driver = tokio::spawn(connection);
    let key = format!(
        "('x' || left(encode(sha256(convert_to('session-store-postgres prune ' || '{}', 'UTF8')), 'hex'), 16))::bit(64)::int8",
        table.replace('\'', "''")
    );
    let locked: bool = other
        .query_one(&format!("SELECT pg_try_advisory_lock({key})"), &[])
        .await
        .unwrap()
        .get(0);
    assert!(locked);
    assert_eq!(
        store.prune().await.unwrap(),
        None,
        "skipped while another prunes"
    );
    assert_eq!(rows(&server, &table), 10);
    drop(other);
    let _ = driver.await;
    // The lock goes with the other connection's backend, a moment after it closes.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match store.prune().await.unwrap() {
            Some(n) => break assert_eq!(n, 10),
            None => assert!(
                std::time::Instant::now() < deadline,
                "the lock was never free"
            ),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_background_task_prunes_and_stops_with_the_store() {
    let server = PgServer::start();
    let store = store_on(
        &server,
        builder().prune_interval(Some(Duration::from_millis(100))),
    )
    .await;
    let table = store.table();
    expired_rows(&server, &table, 50);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while rows(&server, &table) > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the task never pruned"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(store);
    expired_rows(&server, &table, 5);
    // Many intervals later the rows are still there: the task ended with the store.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(rows(&server, &table), 5);
}
