//! Sealed-cookie sessions: the data lives in the cookie itself, encrypted and
//! authenticated with iron (`Fe26.2*…`), as h3's `useSession` (Nuxt, Nitro, vinxi)
//! and iron-session (Next.js) keep it. No store is used.
//!
//! A [`SealedConfig`] says whose cookies to read and write;
//! [`SessionManager::sealed`](crate::adapter::SessionManager::sealed) (or an
//! adapter's equivalent) then gives handlers the same [`Session`](crate::Session)
//! handle as with a store. [`Iron`] seals and unseals other values.
//!
//! The format is iron's (`Fe26.2`), byte-compatible with iron-webcrypto 1.x and 2.x
//! (and so with @hapi/iron and h3 2.x's own copy): AES-256-CBC, HMAC-SHA256, keys
//! derived with PBKDF2-HMAC-SHA1 from the password and a random salt. It is built on
//! the RustCrypto crates (`aes`, `cbc`, `hmac`, `sha1`, `sha2`, `pbkdf2`) rather than on
//! the one Rust iron crate, hapi-iron-oxide: its single release (0.1.0) is built on the
//! previous generation of those crates (aes 0.8, sha2 0.10, pbkdf2 0.12, rand 0.8), so
//! it would put a second copy of each into every build beside the ones this crate
//! already uses for cookie signing, and it counts the password's minimum length in
//! bytes where iron counts JavaScript characters. The format itself is a composition of
//! these primitives, each used as its crate documents; known-answer tests compare every
//! byte with seals made by the real iron-webcrypto.
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
