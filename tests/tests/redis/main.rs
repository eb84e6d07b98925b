//! The Redis store against private `redis-server` processes: the conformance suite,
//! connect-redis byte compatibility, command costs, faults, errors, TLS, Sentinel, the
//! application's own connection, and a local cluster.

mod cluster;
mod errors;
mod faults;
mod own_connection;
mod sentinel;
mod store;
mod tls;

use std::time::Duration;

use session_core::SessionConfig;

/// The configuration of the tests that serve HTTP: express's secret, an hour's cookie.
fn config() -> SessionConfig {
    session_tests::config_with("keyboard cat", Duration::from_secs(3600))
        .build()
        .unwrap()
}
