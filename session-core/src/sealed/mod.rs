//! Sealed-cookie sessions: the data lives in the cookie itself, encrypted and
//! authenticated with iron (`Fe26.2*…`), as h3's `useSession` (Nuxt, Nitro, vinxi)
//! and iron-session (Next.js) keep it. No store is used.
//!
//! A [`SealedConfig`] says whose cookies to read and write;
//! [`SessionManager::sealed`](crate::adapter::SessionManager::sealed) (or an
//! adapter's equivalent) then gives handlers the same [`Session`](crate::Session)
//! handle as with a store. [`Iron`] seals and unseals other values.
//!
//! Concurrency: each response carries the whole session, so when two requests of
//! one browser change it at once, the cookie of the response that arrives last wins
//! (as in h3 and iron-session); [`Session::update`](crate::Session::update) is atomic
//! within a request only.

mod config;
mod format;
mod iron;
mod passwords;

pub use config::{SealedConfig, SealedConfigBuilder};
pub(crate) use format::Payload;
pub use format::SealFormat;
pub use iron::{Iron, UnsealError};
pub(crate) use iron::{
    IronOptions, RANDOM_BYTES, millis, now_ms, seal, seal_with, sealed_len, unseal,
};
pub use passwords::{MIN_PASSWORD_LEN, Passwords};
