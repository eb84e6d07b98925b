//! The Redis store against private `redis-server` processes: the conformance suite,
//! connect-redis byte compatibility, command costs, faults, and a local cluster.

mod cluster;
mod faults;
mod store;
