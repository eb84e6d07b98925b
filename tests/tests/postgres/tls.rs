//! TLS to PostgreSQL through rustls: a server whose certificate a private CA signed is
//! reached with that CA (the connection is encrypted: `pg_stat_ssl`), refused with
//! another CA, and `sslmode=require` alone verifies against Mozilla's roots (which do
//! not know the private CA, so it is refused too: never "encrypt but trust anything").

use std::time::Duration;

use serde_json::json;
use session_core::conformance::cases::{new_id, record};
use session_core::store::SessionStore;
use session_store_postgres::{PostgresStoreError, PostgresTls};
use session_tests::postgres::PgServer;
use session_tests::tls::Certs;

use super::builder;

#[tokio::test]
async fn a_private_ca_is_trusted_and_the_connection_is_encrypted() {
    let certs = Certs::generate();
    let pg = PgServer::start_tls(&certs);
    let tls = PostgresTls::new().ca_file(certs.path("ca.crt")).unwrap();
    let store = builder().tls(tls).connect(&pg.url()).await.unwrap();
    let id = new_id();
    store
        .create(&id, &record(Some(60_000), json!({"over": "tls"})))
        .await
        .unwrap();
    let loaded = store.load(&id).await.unwrap().unwrap();
    assert_eq!(loaded.record.data()["over"], "tls");
    let encrypted = pg.psql(
        "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a ON a.pid = s.pid \
         WHERE s.ssl AND a.usename = 'postgres' AND a.backend_type = 'client backend'",
    );
    assert_ne!(encrypted, "0", "the store's connections use TLS");
}

#[tokio::test]
async fn an_unknown_ca_is_refused() {
    let certs = Certs::generate();
    let pg = PgServer::start_tls(&certs);
    let other = PostgresTls::new()
        .ca_file(certs.path("other-ca.crt"))
        .unwrap();
    let err = builder()
        .query_timeout(Duration::from_secs(5))
        .tls(other)
        .connect(&pg.url())
        .await
        .unwrap_err();
    assert!(matches!(err, PostgresStoreError::Connect(_)), "{err:?}");
    let err = builder()
        .connect(&format!("{}?sslmode=require", pg.url()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, PostgresStoreError::Connect(_)),
        "sslmode=require verifies (Mozilla's roots): {err:?}"
    );
}
