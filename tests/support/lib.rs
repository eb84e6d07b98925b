//! Support for the integration tests: a real hyper server with the session layer on
//! 127.0.0.1:0, a cookie-keeping HTTP client, the demo binary as a child process, and
//! one forwarding store (`TestStore`) for counting calls and injecting faults.

pub mod app;
pub mod client;
pub mod demo;
pub mod guard;
pub mod node;
pub mod postgres;
pub mod redis;
pub mod sentinel;
pub mod server;
pub mod stores;
pub mod telemetry;
pub mod tls;

pub use client::{Client, Reply};
pub use server::TestServer;
pub use stores::{Op, TestStore};

/// The tests' usual configuration: one secret and a cookie that lasts `max_age`.
pub fn config_with(
    secret: &str,
    max_age: std::time::Duration,
) -> session_core::SessionConfigBuilder {
    session_core::SessionConfig::builder(session_core::Secrets::new([secret]).unwrap()).cookie(
        session_core::CookieOptions {
            max_age: Some(max_age),
            ..session_core::CookieOptions::default()
        },
    )
}

/// A Redis store with a fresh key prefix on the shared test server (kept alive by it).
pub async fn redis_store() -> TestStore<session_store_redis::RedisStore> {
    let server = redis::shared();
    let store = session_store_redis::RedisStore::builder()
        .prefix(redis::unique_prefix())
        .connect(&server.url())
        .await
        .expect("connect to the test redis-server");
    TestStore::new(store).keeping(server)
}

/// A Postgres store on a table of its own (created) on the shared test server, with a
/// small pool (many stores share the server in parallel tests), kept alive by it.
pub async fn postgres_store() -> TestStore<session_store_postgres::PostgresStore> {
    let server = postgres::shared();
    let store = session_store_postgres::PostgresStore::builder()
        .table(postgres::unique_table())
        .create_table_if_missing(true)
        .pool_size(4)
        .query_timeout(std::time::Duration::from_secs(5))
        .connect(&server.url())
        .await
        .expect("connect to the test PostgreSQL");
    TestStore::new(store).keeping(server)
}

/// A Redis store over TLS (`rediss://`, the test CA) with a fresh key prefix on the
/// shared TLS test server (kept alive by it).
pub async fn redis_tls_store() -> TestStore<session_store_redis::RedisStore> {
    let server = tls::shared();
    let store = session_store_redis::RedisStore::builder()
        .prefix(redis::unique_prefix())
        .tls(
            session_store_redis::RedisTls::new()
                .ca_file(server.certs.path("ca.crt"))
                .unwrap(),
        )
        .connect(&server.url())
        .await
        .expect("connect to the TLS test redis-server");
    TestStore::new(store).keeping(server)
}

// The README and the guides in docs/ are compiled (and their runnable blocks run) as
// doc tests of this crate, so every code block in them is checked.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
#[cfg(doctest)]
#[doc = include_str!("../../docs/guide.md")]
pub struct GuideDoctests;
#[cfg(doctest)]
#[doc = include_str!("../../docs/store-authors.md")]
pub struct StoreAuthorsDoctests;
#[cfg(doctest)]
#[doc = include_str!("../../docs/redis-store.md")]
pub struct RedisStoreDoctests;
#[cfg(doctest)]
#[doc = include_str!("../../docs/postgres-store.md")]
pub struct PostgresStoreDoctests;
#[cfg(doctest)]
#[doc = include_str!("../../docs/migrating-from-express-session.md")]
pub struct MigrationDoctests;
#[cfg(doctest)]
#[doc = include_str!("../../docs/concurrency.md")]
pub struct ConcurrencyDoctests;
#[cfg(doctest)]
#[doc = include_str!("../../docs/observability.md")]
pub struct ObservabilityDoctests;
#[cfg(doctest)]
#[doc = include_str!("../../docs/coming-from-h3-and-nuxt.md")]
pub struct ComingFromH3Doctests;
#[cfg(doctest)]
#[doc = include_str!("../../session-core/README.md")]
pub struct SessionCoreReadmeDoctests;
#[cfg(doctest)]
#[doc = include_str!("../../session-hyper/README.md")]
pub struct SessionHyperReadmeDoctests;
#[cfg(doctest)]
#[doc = include_str!("../../session-store-memory/README.md")]
pub struct MemoryStoreReadmeDoctests;
#[cfg(doctest)]
#[doc = include_str!("../../session-store-redis/README.md")]
pub struct RedisStoreReadmeDoctests;
#[cfg(doctest)]
#[doc = include_str!("../../session-store-postgres/README.md")]
pub struct PostgresStoreReadmeDoctests;
