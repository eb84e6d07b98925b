//! The store on a real PostgreSQL: the shared conformance suite, connect-pg-simple's
//! values in its table, the statements each kind of request costs (counted in the
//! server's statement log), touch-after, and conditional saves across two stores.

use std::time::Duration;

use serde_json::json;
use session_core::conformance::cases::{new_id, record};
use session_core::store::{Record, SessionStore, StoreError};
use session_hyper::SessionLayer;
use session_tests::TestServer;
use session_tests::postgres::PgServer;

use super::{builder, config, store_on};

session_core::store_conformance_tests!(session_tests::postgres_store());

/// `SELECT <what> FROM <table> WHERE sid = <id>` through psql.
fn column(server: &PgServer, table: &str, what: &str, id: &str) -> String {
    server.psql(&format!("SELECT {what} FROM {table} WHERE sid = '{id}'"))
}

#[tokio::test]
async fn rows_hold_what_connect_pg_simple_writes() {
    let server = PgServer::start_with(&["timezone=Pacific/Auckland"]);
    let store = store_on(&server, builder()).await;
    let table = store.table();
    let id = new_id();
    let rec = record(Some(60_000), json!({"views": 3, "user": {"name": "ada é"}}));
    store.create(&id, &rec).await.unwrap();

    let sess = column(&server, &table, "sess::text", id.expose());
    assert_eq!(
        sess.as_bytes(),
        rec.encode(),
        "express's JSON, byte for byte"
    );
    // connect-pg-simple: to_timestamp(ceil(cookie.expires / 1000)), whatever the zone.
    let expires = rec.cookie().unwrap().expires.unwrap();
    let want = (expires.unix_timestamp_nanos() / 1_000_000 + 999).div_euclid(1000);
    let epoch = column(
        &server,
        &table,
        "extract(epoch from expire::timestamptz)::int8",
        id.expose(),
    );
    assert_eq!(epoch, want.to_string());
    let same = column(
        &server,
        &table,
        &format!("expire = to_timestamp({want})"),
        id.expose(),
    );
    assert_eq!(
        same, "t",
        "compared in the server's time zone, as connect-pg-simple does"
    );

    let browser = new_id();
    store
        .create(&browser, &record(None, json!({})))
        .await
        .unwrap();
    let left = column(
        &server,
        &table,
        "extract(epoch from expire::timestamptz - now())::int8",
        browser.expose(),
    );
    let left: i64 = left.parse().unwrap();
    assert!(
        (86_398..=86_401).contains(&left),
        "one day by default: {left}"
    );
}

#[tokio::test]
async fn rows_written_as_express_writes_them_load() {
    let server = PgServer::start();
    let store = store_on(&server, builder()).await;
    let table = store.table();
    let id = new_id();
    let text = r#"{"cookie":{"originalMaxAge":3600000,"expires":"2099-01-01T00:00:00.000Z","httpOnly":true,"path":"/"},"user":"ada","n":[1,2.5,null]}"#;
    server.psql(&format!(
        "INSERT INTO {table} (sid, sess, expire) VALUES ('{}', '{text}', to_timestamp(4070908800))",
        id.expose()
    ));
    let loaded = store.load(&id).await.unwrap().expect("the row loads");
    assert_eq!(loaded.record.data()["user"], "ada");
    assert_eq!(loaded.record.encode(), text.as_bytes());
    // A conditional save against that version succeeds: the digest is of the stored text.
    let next = Record::decode(text.replace("ada", "bob").as_bytes(), usize::MAX).unwrap();
    store.save(&id, &next, Some(&loaded.version)).await.unwrap();
    assert!(column(&server, &table, "sess::text", id.expose()).contains("bob"));
}

#[tokio::test]
async fn a_save_based_on_a_stale_read_conflicts_across_stores() {
    let server = PgServer::start();
    let a = store_on(&server, builder()).await;
    let b = store_on(&server, builder().table(a.table().trim_matches('"'))).await;
    let id = new_id();
    a.create(&id, &record(Some(60_000), json!({"n": 0})))
        .await
        .unwrap();
    let seen_by_a = a.load(&id).await.unwrap().unwrap();
    let seen_by_b = b.load(&id).await.unwrap().unwrap();
    b.save(
        &id,
        &record(Some(60_000), json!({"n": 1})),
        Some(&seen_by_b.version),
    )
    .await
    .unwrap();
    // A touch in between rewrites the row but not the data: no conflict from it.
    b.touch(&id).await.unwrap();
    let stale = a
        .save(
            &id,
            &record(Some(60_000), json!({"n": 2})),
            Some(&seen_by_a.version),
        )
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict)), "got {stale:?}");
    let fresh = a.load(&id).await.unwrap().unwrap();
    assert_eq!(fresh.record.data()["n"], 1);
    b.touch(&id).await.unwrap();
    a.save(
        &id,
        &record(Some(60_000), json!({"n": 3})),
        Some(&fresh.version),
    )
    .await
    .expect("a touch does not change the version");
}

#[tokio::test]
async fn an_expired_row_not_yet_pruned_does_not_block_its_id() {
    let server = PgServer::start();
    let store = store_on(&server, builder()).await;
    let id = new_id();
    store
        .create(&id, &record(Some(60_000), json!({"old": true})))
        .await
        .unwrap();
    server.psql(&format!(
        "UPDATE {} SET expire = now() - interval '1 hour'",
        store.table()
    ));
    assert!(store.load(&id).await.unwrap().is_none());
    let r = store
        .save(&id, &record(Some(60_000), json!({})), None)
        .await;
    assert!(
        matches!(r, Err(StoreError::NotFound)),
        "no resurrection: {r:?}"
    );
    store
        .create(&id, &record(Some(60_000), json!({"new": true})))
        .await
        .unwrap();
    let loaded = store.load(&id).await.unwrap().unwrap();
    assert_eq!(loaded.record.data().get("old"), None);
}

/// Statements on the table per request, counted in the server's log.
#[tokio::test]
async fn statements_per_request_one_to_read_two_to_modify_none_for_a_new_visitor() {
    let server = PgServer::start_with(&["log_statement=all"]);
    let store = store_on(&server, builder()).await;
    let table = store.table();
    let app = TestServer::start(SessionLayer::new(config(), store)).await;
    let mut c = app.client();
    let count = || server.executed(&table);

    let before = count();
    assert_eq!(c.get("/none").await.status, 200);
    assert_eq!(
        count() - before,
        0,
        "an untouched new visitor costs nothing"
    );
    let before = count();
    assert_eq!(c.get("/").await.json()["views"], 1);
    assert_eq!(count() - before, 1, "a new session: one INSERT");
    let before = count();
    assert_eq!(c.get("/read").await.json()["views"], 1);
    assert_eq!(
        count() - before,
        1,
        "a read-only request: one statement that also slides"
    );
    let before = count();
    assert_eq!(c.get("/").await.json()["views"], 2);
    assert_eq!(count() - before, 2, "a modified session: load and save");
    let before = count();
    assert_eq!(c.get("/none").await.status, 200);
    assert_eq!(
        count() - before,
        1,
        "a cookie but no use of the session: one touch"
    );
}

/// `expire` of `id`, in Unix seconds.
fn expire_of(server: &PgServer, table: &str, id: &str) -> i64 {
    column(
        server,
        table,
        "extract(epoch from expire::timestamptz)::int8",
        id,
    )
    .parse()
    .unwrap()
}

/// Whether a read and a touch rewrite `expire` when it is `moved_back` seconds short of
/// a full hour: always by default, only past the interval with `touch_after`, never with
/// `disable_touch`.
#[tokio::test]
async fn touch_after_and_disable_touch_decide_when_reads_rewrite_the_row() {
    let server = PgServer::start();
    let minute = Duration::from_secs(60);
    for (label, settings, moved_back, rewritten) in [
        ("default", builder(), 30, true),
        ("touch_after 60 s", builder().touch_after(minute), 30, false),
        ("touch_after 60 s", builder().touch_after(minute), 600, true),
        ("disable_touch", builder().disable_touch(true), 600, false),
    ] {
        let store = store_on(&server, settings).await;
        let table = store.table();
        let id = new_id();
        store
            .create(&id, &record(Some(3_600_000), json!({})))
            .await
            .unwrap();
        server.psql(&format!(
            "UPDATE {table} SET expire = expire - interval '{moved_back} seconds'"
        ));
        let before = expire_of(&server, &table, id.expose());
        assert!(store.load(&id).await.unwrap().is_some());
        store.touch(&id).await.unwrap();
        let after = expire_of(&server, &table, id.expose());
        assert_eq!(
            after > before,
            rewritten,
            "{label}, expiry {moved_back} s short: {before} -> {after}"
        );
        if rewritten {
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            assert!(
                (now + 3_599..=now + 3_601).contains(&after),
                "slid to maxAge: {after}"
            );
        }
    }
}

#[tokio::test]
async fn the_touch_reads_the_ttl_from_the_stored_record() {
    let server = PgServer::start();
    let store = store_on(&server, builder()).await;
    let table = store.table();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    for (text, want) in [
        // maxAge of ten minutes.
        (
            r#"{"cookie":{"originalMaxAge":600000,"expires":"2000-01-01T00:00:00.000Z"}}"#,
            600,
        ),
        // A browser-session cookie: the default (one day).
        (
            r#"{"cookie":{"originalMaxAge":null,"expires":null}}"#,
            86_400,
        ),
        // The idle timeout caps it.
        (
            r#"{"cookie":{"originalMaxAge":600000},"__sessionMeta":{"idleTimeout":120000}}"#,
            120,
        ),
        // Hostile numbers neither fail the statement nor live forever.
        (r#"{"cookie":{"originalMaxAge":1e400}}"#, 315_360_000),
        (r#"{"cookie":{"originalMaxAge":"600000"}}"#, 86_400),
        // A record that is not an object, or whose cookie is not one: the default.
        ("[1,2]", 86_400),
        (r#""text""#, 86_400),
        (r#"{"cookie":"text","__sessionMeta":[1]}"#, 86_400),
        // A repeated key: the last one, as JSON.parse reads it.
        (
            r#"{"cookie":{"originalMaxAge":60000},"cookie":{"originalMaxAge":600000}}"#,
            600,
        ),
    ] {
        let id = new_id();
        server.psql(&format!(
            "INSERT INTO {table} (sid, sess, expire) VALUES ('{}', '{text}', now() + interval '1 minute')",
            id.expose()
        ));
        store.touch(&id).await.unwrap();
        let left = expire_of(&server, &table, id.expose()) - now;
        assert!(
            (want - 1..=want + 2).contains(&left),
            "{text}: {left} s, want {want}"
        );
    }
}

/// A slide waiting on a row that a save is rewriting does not put back the expiry the
/// older record asked for: here the save shortens `maxAge` to a minute while the load's
/// slide waits for it, and the minute stands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slide_never_undoes_the_expiry_of_a_save_it_waited_for() {
    let server = PgServer::start();
    let store = store_on(&server, builder()).await;
    let table = store.table();
    let id = new_id();
    store
        .create(&id, &record(Some(3_600_000), json!({"v": 1})))
        .await
        .unwrap();
    // Due for a slide.
    server.psql(&format!(
        "UPDATE {table} SET expire = expire - interval '10 minutes'"
    ));
    let writer = server.connect().await;
    let shorter = record(Some(60_000), json!({"v": 2})).encode();
    writer
        .batch_execute(&format!(
            "BEGIN; UPDATE {table} SET sess = '{}', expire = now() + interval '60 seconds' \
             WHERE sid = '{}'",
            String::from_utf8(shorter).unwrap(),
            id.expose()
        ))
        .await
        .unwrap();
    let load = {
        let (store, id) = (store.clone(), id.clone());
        tokio::spawn(async move { store.load(&id).await })
    };
    // The load's slide now waits for the writer's row lock.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while server.psql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'") == "0"
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the slide never waited"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    writer.batch_execute("COMMIT").await.unwrap();
    assert!(load.await.unwrap().unwrap().is_some());
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let left = expire_of(&server, &table, id.expose()) - now;
    assert!(
        (55..=61).contains(&left),
        "the save's minute stands: {left} s left"
    );
}

/// The absolute deadline (kept in `__sessionMeta`, which the server's TTL does not
/// read) brings `expire` forward on a load.
#[tokio::test]
async fn a_load_caps_expire_at_the_absolute_deadline() {
    let server = PgServer::start();
    let store = store_on(&server, builder()).await;
    let table = store.table();
    let id = new_id();
    let d = time::OffsetDateTime::now_utc() + time::Duration::minutes(2);
    let iso = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
        d.year(),
        u8::from(d.month()),
        d.day(),
        d.hour(),
        d.minute(),
        d.second()
    );
    let text = format!(
        r#"{{"cookie":{{"originalMaxAge":3600000,"expires":null}},"__sessionMeta":{{"absoluteExpiry":"{iso}"}}}}"#
    );
    server.psql(&format!(
        "INSERT INTO {table} (sid, sess, expire) VALUES ('{}', '{text}', now() + interval '1 minute')",
        id.expose()
    ));
    assert!(store.load(&id).await.unwrap().is_some());
    let left = expire_of(&server, &table, id.expose()) - d.unix_timestamp();
    assert!(
        (0..=1).contains(&left),
        "expire at the deadline: {left} s off"
    );
}
