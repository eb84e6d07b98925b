//! # session-store-redis
//!
//! A [`SessionStore`](session_core::store::SessionStore) on Redis (one node, a Redis
//! Cluster, or the primary [Redis Sentinel](RedisSentinel) names; TLS with `rediss://`
//! and [`RedisTls`] under the default `tls` feature; or the application's own connection:
//! [`RedisStoreBuilder::from_connection_manager`]) that shares sessions with Node's
//! express-session + connect-redis:
//!
//! | | connect-redis | here |
//! |---|---|---|
//! | key | `sess:` + id (`prefix`) | the same ([`RedisStoreBuilder::prefix`]) |
//! | value | `JSON.stringify(session)` | the same bytes shape (`session_core::store::Record`) |
//! | TTL | `ceil((expires - now) / 1000)` s, or `ttl` (86400) without expiry | the same ([`RedisStoreBuilder::ttl`]) |
//! | expired on write | `DEL` | `DEL` |
//! | touch | `EXPIRE`, payload not rewritten | the same, computed on the server from the record's `originalMaxAge` |
//! | `disableTouch`, `disableTTL` | yes | [`RedisStoreBuilder::disable_touch`], [`RedisStoreBuilder::disable_ttl`] |
//! | `all`, `length`, `clear` | `SCAN` | `SCAN` (on every primary of a cluster) |
//!
//! What it adds: `create` is `SET NX` (an id collision is detected, never an overwrite),
//! `save` is `SET XX` (a session destroyed meanwhile is not brought back), a conditional
//! save is one Lua script comparing a SHA-1 of the stored bytes (the payload needs no
//! version field, so express keeps reading it), a read-only request costs one command
//! (`GETEX` loads and slides the TTL), and every command has a deadline. Failures are
//! told apart ([`RedisStoreError`]: connect, TLS, credentials, timeout, configuration).
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod admin;
mod builder;
mod connection;
mod error;
mod replaceable;
mod scripts;
mod sentinel;
mod slide;
mod store;
#[cfg(feature = "tls")]
mod tls;
mod users;
#[cfg(not(feature = "tls"))]
mod tls {
    /// Without the `tls` feature there are no TLS settings to hold.
    #[derive(Clone, Debug)]
    pub(crate) enum RedisTls {}
}

pub use builder::{DEFAULT_COMMAND_TIMEOUT, DEFAULT_PREFIX, RedisStoreBuilder};
pub use error::RedisStoreError;
pub use sentinel::RedisSentinel;
pub use store::RedisStore;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub use tls::RedisTls;
