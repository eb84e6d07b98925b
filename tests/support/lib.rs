//! Support for the integration tests: a real hyper server with the session layer on
//! 127.0.0.1:0, a cookie-keeping HTTP client, and store decorators for counting calls
//! and injecting faults.

pub mod app;
pub mod client;
pub mod server;
pub mod stores;

pub use client::{Client, Reply};
pub use server::TestServer;
pub use stores::{CountingStore, FaultyStore, Op};

// The README and the guides in docs/ are compiled (and their runnable blocks run) as
// doc tests of this crate, so every code block in them is checked.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
#[cfg(doctest)]
#[doc = include_str!("../../docs/guide.md")]
pub struct GuideDoctests;
#[cfg(doctest)]
#[doc = include_str!("../../docs/store-authors.md")]
pub struct StoreAuthorsDoctests;
