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
