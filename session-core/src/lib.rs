//! # session-core
//!
//! Store-backed HTTP sessions compatible with Node's express-session: the same
//! cookie (`connect.sid=s%3A<id>.<signature>`), the same stored JSON, the same
//! end-of-request rules, so an express app and a Rust service can share secrets and a
//! store.
//!
//! This crate has no HTTP dependency. Adapters (`session-hyper`) and stores
//! (`session-store-memory`, `session-store-redis`) build on it; store authors depend
//! on `session-core`, not on an adapter.
//!
//! ## The request flow
//!
//! | step | what happens | where |
//! |---|---|---|
//! | 0 | configuration validated once | [`SessionConfig`] (`src/config/`) |
//! | 1 | our cookie found among the `Cookie` headers, percent-decoded | `src/cookie/read.rs` |
//! | 2 | `s:` stripped, signature checked against every secret in constant time | `src/signing.rs`, [`Secrets`] |
//! | 3 | a lazy [`Session`]; the store is read on first use | [`adapter::SessionManager`], `src/session/load.rs` |
//! | 4 | the handler reads and writes | [`Session`] (`src/session/mod.rs`, `commands.rs`) |
//! | 5 | save / touch / destroy decided by express's rules, persisted before the head | [`Session::finish`] (`src/session/finish/`, the rules in `rules.rs`; writing in `src/session/persist.rs`) |
//! | 6 | `Set-Cookie` built | `src/cookie/write.rs` |
//!
//! ## Who uses what
//!
//! - **Applications**: the root: [`SessionConfig`] and its options, [`Secrets`],
//!   [`Session`], [`Error`]; sign-in ([`auth`]), [`flash`] messages and [`csrf`]
//!   tokens on top of the session (with the `axum` feature, their extractors).
//! - **Store authors**: [`store`] (the [`SessionStore`](store::SessionStore) trait,
//!   the [`Record`](store::Record) codec) and, with the `conformance` feature, the
//!   shared conformance suite.
//! - **Adapters**: [`adapter`].
//! - **Operators**: the events and metrics below.
//! - **Tests, fuzzing, benchmarks**: [`wire`].
//!
//! A bad or unknown cookie is "no session": never an error, never a store call for a
//! bad signature, never a record for a visitor who stored nothing.
//!
//! ## Observability
//!
//! What the session layer tells operators: `tracing` spans and events, and metrics
//! through the `metrics` facade. Every event and metric is named here, once.
//!
//! Nothing is exported unless the application installs a `tracing` subscriber or a
//! `metrics` recorder (e.g. `metrics-exporter-prometheus`); without one, each call
//! below costs an atomic load.
//!
//! ### Spans
//!
//! | span | fields | around |
//! |---|---|---|
//! | `session.store` (debug) | `op`, `session`, `latency_us`, `outcome` | every store call |
//!
//! Adapters open a `session.request` span per request around these (see
//! `session-hyper`).
//!
//! ### Events
//!
//! Lifecycle events carry `event` = `created`, `regenerated`, `cycled`, `destroyed`
//! or `expired` (debug level). A cookie that names no usable session gives an
//! `invalid_cookie` event (debug; warn for a corrupt record) with `reason` =
//! `unsigned`, `bad_signature`, `malformed`, `unknown_id`, `corrupt_record`,
//! `ip_mismatch` (warn for these two) or, for a sealed cookie, `expired`. A stored cookie whose attributes were
//! replaced by the configured ones (unsafe `path`/`domain`, weaker than configured)
//! gives a `stored_cookie_replaced` event (warn, at most once per 10 s) with the
//! `attributes` replaced.
//!
//! A session appears in events and spans only as `session` = a 12-hex-digit keyed
//! hash of its id ([`SessionId`]'s `Display`), stable within the process; the id and
//! the secrets never appear.
//!
//! ### Metrics
//!
//! | name | kind | labels | counts |
//! |---|---|---|---|
//! | `session_store_operations_total` | counter | `op` | store calls: `load`, `create`, `save`, `touch`, `destroy` |
//! | `session_store_errors_total` | counter | `op` | store calls that failed (not "not found" or a conflict: those are answers) |
//! | `session_store_duration_seconds` | histogram (seconds) | `op` | store call latency |
//! | `session_invalid_cookies_total` | counter | `reason` | cookies that gave no session, by reason (above) |
//! | `session_lifecycle_total` | counter | `event` | sessions created, regenerated, cycled, destroyed, expired |
//! | `session_conflicts_total` | counter | | saves another request's write got in the way of (compare-and-set lost) |
//! | `session_conflict_retries_total` | counter | | re-applications of a request's changes after a conflict |
//! | `session_memory_store_sessions` | gauge | | sessions held by `session-store-memory` |
//! | `session_failures_total` | counter | `kind` | failure responses by an adapter: `load` (503), `overloaded` (503), `persist` (500), `gone` (409), `csrf` (403, `CsrfLayer`) |
//! | `session_degraded_total` | counter | `reason` | responses served without the session's store work: `touch_failed` (the end-of-request touch failed), `load_failed` (the adapter's `Degrade` policy served the handler's answer after a load failure) |
//! | `session_memory_store_bytes` | gauge | | encoded bytes held by `session-store-memory` |
//! | `session_memory_store_evictions_total` | counter | | sessions `session-store-memory` evicted to make room (opt-in LRU) |
//!
//! Conditions that repeat on every request while they last (a failed touch, a full
//! store) are logged at warn at most once per 10 s per call site; the metrics count
//! every occurrence.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

pub mod adapter;
pub mod auth;
mod byte_set;
mod config;
mod cookie;
pub mod csrf;
mod error;
#[cfg(feature = "axum")]
mod extract;
pub mod flash;
mod id;
mod manager;
mod pinning;
mod priority;
mod record;
mod same_site;
pub mod sealed;
mod secrets;
mod session;
mod signing;
pub mod store;
mod telemetry;
pub mod wire;

#[cfg(feature = "conformance")]
#[cfg_attr(docsrs, doc(cfg(feature = "conformance")))]
pub mod conformance;

pub use config::{
    Compat, Concurrency, CookieOptions, MissingCookie, SameSiteOption, Secure, SessionConfig,
    SessionConfigBuilder, TrustProxy, Unset,
};
pub use error::{Error, StoreOp};
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use extract::ExtractRejection;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use extract::{CsrfToken, Flashes, MaybeSignedIn, SignedIn};
pub use id::{RandomSourceError, SessionId};
pub use priority::Priority;
pub use record::CookieRecord;
pub use same_site::SameSite;
pub use secrets::Secrets;
pub use session::Session;
