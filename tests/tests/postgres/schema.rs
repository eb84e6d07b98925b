//! The table at start: created as connect-pg-simple's table.sql creates it (in a schema
//! too, once when instances start together), and a missing or different table is a
//! typed error naming it, not a failed request later.

use serde_json::json;
use session_core::conformance::cases::{new_id, record};
use session_core::store::SessionStore;
use session_store_postgres::{PostgresStore, PostgresStoreError};
use session_tests::postgres::{PgServer, unique_table};

use super::builder;

#[tokio::test]
async fn the_created_table_is_connect_pg_simples() {
    let server = PgServer::start();
    server.psql("CREATE SCHEMA app");
    let store = builder()
        .schema("app")
        .table("session")
        .connect(&server.url())
        .await
        .unwrap();
    assert_eq!(store.table(), "\"app\".\"session\"");
    let columns = server.psql(
        "SELECT column_name || ' ' || data_type || ' ' || is_nullable FROM information_schema.columns \
         WHERE table_schema = 'app' AND table_name = 'session' ORDER BY ordinal_position",
    );
    assert_eq!(
        columns,
        "sid character varying NO\nsess json NO\nexpire timestamp without time zone NO"
    );
    let indexes =
        server.psql("SELECT indexname FROM pg_indexes WHERE schemaname = 'app' ORDER BY indexname");
    // connect-pg-simple's two, and the per-user index behind `sessions_of`.
    assert_eq!(
        indexes,
        "IDX_session_expire\nIDX_session_user\nsession_pkey"
    );
    assert_eq!(
        server.psql("SELECT datetime_precision FROM information_schema.columns WHERE table_schema = 'app' AND column_name = 'expire'"),
        "6"
    );
}

#[tokio::test]
async fn instances_starting_together_create_the_table_once() {
    let server = PgServer::start();
    let table = unique_table();
    let url = server.url();
    let starts = (0..6).map(|_| {
        let (table, url) = (table.clone(), url.clone());
        tokio::spawn(async move { builder().table(table).connect(&url).await })
    });
    for start in starts {
        start.await.unwrap().expect("every instance starts");
    }
    let n = server.psql(&format!(
        "SELECT count(*) FROM pg_class WHERE relname = '{table}'"
    ));
    assert_eq!(n, "1");
}

#[tokio::test]
async fn a_missing_or_different_table_is_a_typed_error_at_start() {
    let server = PgServer::start();
    let err = PostgresStore::builder()
        .table("absent")
        .connect(&server.url())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, PostgresStoreError::MissingTable { table } if table == "\"absent\""),
        "{err:?}"
    );
    assert!(err.to_string().contains("create_table_if_missing"));

    for (name, ddl, says) in [
        (
            "jsonb_sess",
            "(sid varchar PRIMARY KEY, sess jsonb NOT NULL, expire timestamp(6) NOT NULL)",
            "sess is jsonb",
        ),
        (
            "no_key",
            "(sid varchar NOT NULL, sess json NOT NULL, expire timestamp(6) NOT NULL)",
            "primary key",
        ),
        (
            "partial_key",
            "(sid varchar NOT NULL, sess json NOT NULL, expire timestamp(6) NOT NULL); \
             CREATE UNIQUE INDEX ON partial_key (sid) WHERE expire > '2000-01-01'",
            "primary key",
        ),
        (
            "no_expire",
            "(sid varchar PRIMARY KEY, sess json NOT NULL)",
            "no column expire",
        ),
    ] {
        server.psql(&format!("CREATE TABLE {name} {ddl}"));
        let err = PostgresStore::builder()
            .table(name)
            .connect(&server.url())
            .await
            .unwrap_err();
        match &err {
            PostgresStoreError::WrongSchema { reason, .. } => {
                assert!(reason.contains(says), "{name}: {reason}");
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    // A table with a time zone, or text ids, is fine.
    server.psql(
        "CREATE TABLE tz (sid text PRIMARY KEY, sess json NOT NULL, expire timestamptz NOT NULL)",
    );
    PostgresStore::builder()
        .table("tz")
        .connect(&server.url())
        .await
        .expect("timestamptz and text are accepted");
}

#[tokio::test]
async fn nothing_listening_and_a_bad_url_are_told_apart() {
    let port = session_tests::redis::free_port(false);
    let err = PostgresStore::connect(&format!("postgres://postgres@127.0.0.1:{port}/postgres"))
        .await
        .unwrap_err();
    assert!(matches!(err, PostgresStoreError::Connect(_)), "{err:?}");
    let err = PostgresStore::connect("postgres://a@b:notaport/c")
        .await
        .unwrap_err();
    assert!(matches!(err, PostgresStoreError::Url(_)), "{err:?}");
    let server = PgServer::start();
    let url = format!("{}_absent", server.url());
    let err = PostgresStore::connect(&url).await.unwrap_err();
    assert!(
        matches!(&err, PostgresStoreError::Auth { code, .. } if code == "3D000"),
        "no such database: {err:?}"
    );
    let url = server.url().replace("postgres@", "nobody_here@");
    let err = PostgresStore::connect(&url).await.unwrap_err();
    assert!(
        matches!(&err, PostgresStoreError::Auth { code, .. } if code == "28000"),
        "{err:?}"
    );
}

/// Any table name works in every statement, the names the statements give their own
/// parts included (`stored`, `f`, `s`, `cur`, `slid`).
#[tokio::test]
async fn table_names_never_clash_with_the_statements_own_names() {
    let server = PgServer::start();
    for name in ["stored", "f", "s", "cur", "slid"] {
        let store = builder().table(name).connect(&server.url()).await.unwrap();
        let id = new_id();
        store
            .create(&id, &record(Some(3_600_000), json!({"n": 1})))
            .await
            .unwrap();
        // Due for a slide, so the load's UPDATE runs too.
        server.psql(&format!(
            "UPDATE \"{name}\" SET expire = expire - interval '10 minutes'"
        ));
        let loaded = store.load(&id).await.unwrap().expect("a live row");
        assert_eq!(loaded.record.data()["n"], 1, "{name}");
        assert!(loaded.touched, "{name}: slid by the load");
        store.touch(&id).await.unwrap();
        let changed = record(Some(3_600_000), json!({"n": 2}));
        store
            .save(&id, &changed, Some(&loaded.version))
            .await
            .unwrap();
        store.destroy(&id).await.unwrap();
        assert!(store.load(&id).await.unwrap().is_none(), "{name}");
    }
}
