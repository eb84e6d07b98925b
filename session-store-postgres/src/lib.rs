//! # session-store-postgres
//!
//! A [`SessionStore`](session_core::store::SessionStore) on PostgreSQL that shares
//! connect-pg-simple's table with Node's express-session, so an express app and a Rust
//! service read and write the same sessions:
//!
//! | | connect-pg-simple | here |
//! |---|---|---|
//! | table | `session (sid varchar primary key, sess json, expire timestamp(6))`, index on `expire` | the same ([`PostgresStoreBuilder::table`], [`PostgresStoreBuilder::schema`]) |
//! | `sess` | `JSON.stringify(session)` | the same text, byte for byte (the `json` type keeps it as written) |
//! | `expire` | `to_timestamp(ceil(cookie.expires / 1000))`, or now + `ttl` (one day) | the same, in SQL ([`PostgresStoreBuilder::ttl`]) |
//! | read | `expire >= now` | the same |
//! | touch | `UPDATE expire` on every read | the same in the read itself; at most once per [`PostgresStoreBuilder::touch_after`] if set |
//! | `disableTouch`, `createTableIfMissing` | yes | [`PostgresStoreBuilder::disable_touch`], [`PostgresStoreBuilder::create_table_if_missing`] |
//! | pruning | every 15 min (jittered), one `DELETE` | the same interval, one instance at a time (advisory lock), in batches |
//!
//! What it adds: `create` never overwrites a live session (an id collision is
//! detected), `save` never brings back a destroyed one, a conditional save compares a
//! SHA-256 of the stored text so no update is lost between processes, a read-only
//! request costs one statement (the read slides the expiry), every call has a deadline,
//! and a missing or wrong table is a typed error at start ([`PostgresStoreError`]).
//!
//! Times are computed by the server (`to_timestamp` of Unix seconds) exactly as
//! connect-pg-simple computes them, so a `timestamp` column without time zone holds the
//! same values whichever side wrote them, whatever the server's `TimeZone`. Like
//! node-pg, this store leaves the connection's `TimeZone` to the server.
//!
//! ## Why tokio-postgres and deadpool-postgres (not sqlx)
//!
//! The store sends about ten fixed statements whose text depends on the configured
//! table name, so it needs neither a query builder nor compile-time checked queries;
//! what it needs is prepared statements per connection (deadpool-postgres's
//! `prepare_cached`), a small pool with deadlines on waiting, creating and recycling,
//! and a driver that sends the JSON as text and leaves the session's time zone to the
//! server. tokio-postgres (the driver sqlx-free Rust Postgres stacks build on) with
//! deadpool-postgres does exactly that, with a fraction of sqlx's dependencies and
//! build time. Applications on sqlx keep their pool for their own queries; this store
//! opens its own (or takes a deadpool one: [`PostgresStoreBuilder::from_pool`]).
//!
//! ## Features
//!
//! `tls` (on by default): TLS to the database through rustls ([`PostgresTls`]).
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod builder;
mod checkout;
mod error;
mod prune;
mod schema;
mod sql;
mod store;
#[cfg(feature = "tls")]
mod tls;
mod values;

pub use builder::{
    DEFAULT_PRUNE_BATCH, DEFAULT_PRUNE_INTERVAL, DEFAULT_QUERY_TIMEOUT, DEFAULT_TABLE,
    PostgresStoreBuilder,
};
pub use deadpool_postgres::Pool;
pub use error::PostgresStoreError;
pub use store::PostgresStore;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub use tls::PostgresTls;
