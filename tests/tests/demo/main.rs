//! The demo binary as the README runs it: every route on the memory store, secret
//! rotation, and the Redis store across restarts with Prometheus metrics.

mod redis;
mod routes;
