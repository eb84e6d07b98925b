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
