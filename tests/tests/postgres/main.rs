//! The Postgres store against private PostgreSQL servers: the conformance suite,
//! connect-pg-simple's table and values, statements per request, touch-after, the
//! table checks at start, pruning, live interop with express-session +
//! connect-pg-simple, faults, and two demo processes on one database.

mod faults;
mod interop;
mod processes;
mod prune;
mod schema;
mod server;
mod store;
mod tls;

use std::time::Duration;

use session_core::SessionConfig;
use session_store_postgres::{PostgresStore, PostgresStoreBuilder};
use session_tests::postgres::{PgServer, unique_table};

/// The configuration of the tests that serve HTTP: express's secret, an hour's cookie.
fn config() -> SessionConfig {
    session_tests::config_with("keyboard cat", Duration::from_secs(3600))
        .build()
        .unwrap()
}

/// A builder for a table of its own, created, with a small pool.
fn builder() -> PostgresStoreBuilder {
    PostgresStore::builder()
        .table(unique_table())
        .create_table_if_missing(true)
        .pool_size(4)
        .query_timeout(Duration::from_secs(5))
}

/// A store on `server` with `builder`'s settings.
async fn store_on(server: &PgServer, builder: PostgresStoreBuilder) -> PostgresStore {
    builder.connect(&server.url()).await.unwrap()
}
