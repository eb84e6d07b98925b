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
//! | 0 | configuration validated once | [`config`] |
//! | 1 | our cookie found among the `Cookie` headers, percent-decoded | [`cookie::read`] |
//! | 2 | `s:` stripped, signature checked against every secret in constant time | [`signing`], [`Secrets`] |
//! | 3 | a lazy [`Session`]; the store is read on first use | [`SessionManager::start`], [`SessionStore::load`] |
//! | 4 | the handler reads and writes | [`Session`] |
//! | 5 | save / touch / destroy decided by express's rules, persisted before the head | [`finish`], [`Session::finish`] |
//! | 6 | `Set-Cookie` built | [`cookie::write`] |
//!
//! A bad or unknown cookie is "no session": never an error, never a store call for a
//! bad signature, never a record for a visitor who stored nothing.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod config;
pub mod cookie;
mod error;
pub mod finish;
mod id;
mod manager;
mod pinning;
pub mod record;
mod secrets;
mod session;
pub mod signing;
mod store;
pub mod telemetry;

#[cfg(feature = "conformance")]
pub mod conformance;
#[cfg(feature = "axum")]
mod extract;

pub use config::{
    Compat, Concurrency, CookieOptions, MissingCookie, Priority, SameSite, Secure, SessionConfig,
    SessionConfigBuilder, TrustProxy, Unset,
};
pub use error::{Error, StoreOp};
pub use id::{MAX_ID_LEN, SessionId};
pub use manager::{RequestInfo, SessionManager};
pub use record::{CookieRecord, Meta, Record, RecordError};
pub use secrets::Secrets;
pub use session::{MAX_SAVE_ATTEMPTS, Outcome, Session};
pub use store::{Loaded, SessionStore, StoreError, Version};
