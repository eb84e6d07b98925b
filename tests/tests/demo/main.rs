//! The demo binary as the README runs it: every route on the memory store, secret
//! rotation, the Redis store across restarts with Prometheus metrics, and the sealed
//! `h3` cookies of `SESSION_MODE=h3-sealed` shared with a live h3 app.

mod redis;
mod routes;
mod sealed;
