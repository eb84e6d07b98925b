//! The Redis store over TLS against a private `redis-server` with TLS enabled
//! (certificates made by `openssl` for the test): the conformance suite (the HTTP
//! lifecycle suite runs over TLS in `tests/http/lifecycle.rs`), a CA that did not sign
//! the server's certificate, client certificates (mTLS) present and missing, and a
//! cluster whose nodes speak TLS.

use std::sync::Arc;

use serde_json::json;
use session_core::conformance::cases::{new_id, record};
use session_core::store::SessionStore;
use session_store_redis::{RedisStore, RedisStoreError, RedisTls};
use session_tests::redis::unique_prefix;
use session_tests::tls::{Certs, TlsRedis, TlsRedisCluster};

fn ca(certs: &Certs, name: &str) -> RedisTls {
    RedisTls::new().ca_file(certs.path(name)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_conformance_suite_passes_over_tls() {
    let server = session_tests::tls::shared();
    session_core::conformance::run_all(|| {
        let server = server.clone();
        async move {
            RedisStore::builder()
                .prefix(unique_prefix())
                .tls(ca(&server.certs, "ca.crt"))
                .connect(&server.url())
                .await
                .unwrap()
        }
    })
    .await;
}

#[tokio::test]
async fn a_certificate_from_another_ca_is_a_tls_error_at_connect() {
    let server = session_tests::tls::shared();
    for tls in [Some(ca(&server.certs, "other-ca.crt")), None] {
        let builder = RedisStore::builder();
        let builder = match tls {
            Some(tls) => builder.tls(tls),
            None => builder, // the system's roots do not know the test CA either
        };
        let err = builder.connect(&server.url()).await.unwrap_err();
        assert!(
            matches!(&err, RedisStoreError::Tls { .. }),
            "a TLS error: {err:?}"
        );
        assert!(
            err.to_string().contains("certificate"),
            "the message names the cause: {err}"
        );
    }
}

#[tokio::test]
async fn client_certificates_are_presented_when_the_server_asks() {
    let certs = Arc::new(Certs::generate());
    let server = TlsRedis::start(certs.clone(), true);

    let with_cert = ca(&certs, "ca.crt")
        .client_cert_files(certs.path("client.crt"), certs.path("client.key"))
        .unwrap();
    let store = RedisStore::builder()
        .prefix(unique_prefix())
        .tls(with_cert)
        .connect(&server.url())
        .await
        .expect("mTLS with the client certificate");
    let id = new_id();
    store
        .create(&id, &record(Some(60_000), json!({"user": "ann"})))
        .await
        .unwrap();
    let loaded = store.load(&id).await.unwrap().unwrap();
    assert_eq!(loaded.record.data()["user"], "ann");

    let err = RedisStore::builder()
        .tls(ca(&certs, "ca.crt"))
        .connect(&server.url())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, RedisStoreError::Tls { .. }),
        "without a client certificate: a TLS error, got {err:?}"
    );
}

#[tokio::test]
async fn unreadable_certificate_files_are_named() {
    let err = RedisTls::new()
        .ca_file("/nonexistent/session-tests/ca.crt")
        .unwrap_err();
    assert!(matches!(err, RedisStoreError::File { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("/nonexistent/session-tests/ca.crt"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_conformance_suite_passes_on_a_tls_cluster() {
    let cluster = TlsRedisCluster::start(Arc::new(Certs::generate()));
    let urls = cluster.urls();
    let tls = ca(&cluster.nodes[0].certs, "ca.crt");
    session_core::conformance::run_all(|| {
        let (urls, tls) = (urls.clone(), tls.clone());
        async move {
            RedisStore::builder()
                .prefix(unique_prefix())
                .tls(tls)
                .connect_cluster(urls)
                .await
                .unwrap()
        }
    })
    .await;
    drop(cluster);
}
