//! # session-hyper
//!
//! express-session compatible sessions for hyper 1 and any tower stack (so axum).
//! [`SessionLayer`] wraps a service; every request then carries a
//! [`Session`](session_core::Session) in its extensions, loaded from the store on first
//! use and saved (or touched) before the response head is returned.
//!
//! ## With plain hyper
//!
//! ```no_run
//! use std::convert::Infallible;
//! use bytes::Bytes;
//! use http::{Request, Response};
//! use http_body_util::Full;
//! use hyper_util::rt::{TokioExecutor, TokioIo};
//! use hyper_util::server::conn::auto::Builder;
//! use hyper_util::service::TowerToHyperService;
//! use session_core::{Secrets, Session, SessionConfig};
//! use session_hyper::SessionLayer;
//! use session_store_memory::MemoryStore;
//! use tower::ServiceBuilder;
//!
//! async fn handler(req: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
//!     let session = req.extensions().get::<Session>().expect("SessionLayer is installed").clone();
//!     let views: u64 = session.get("views").await.ok().flatten().unwrap_or(0) + 1;
//!     let _ = session.insert("views", views).await;
//!     Ok(Response::new(Full::from(format!("{{\"views\":{views}}}"))))
//! }
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = SessionConfig::builder(Secrets::new(["a long random secret"])?).build()?;
//! let layer = SessionLayer::new(config, MemoryStore::new());
//! let service = ServiceBuilder::new().layer(layer).service(tower::service_fn(handler));
//!
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! loop {
//!     let (tcp, _) = listener.accept().await?;
//!     let service = TowerToHyperService::new(service.clone());
//!     tokio::spawn(async move {
//!         let _ = Builder::new(TokioExecutor::new()).serve_connection(TokioIo::new(tcp), service).await;
//!     });
//! }
//! # }
//! ```
//!
//! ## With axum
//!
//! With the `axum` feature, `Session` is an extractor (`Extension<Session>` works
//! without it):
//!
//! ```text
//! async fn handler(session: Session) -> String { /* ... */ }
//! let app = Router::new().route("/", get(handler)).layer(SessionLayer::new(config, MemoryStore::new()));
//! ```
//! `examples/axum.rs` is the complete program.
//!
//! ## Failures
//!
//! A store failure while loading answers `503 Service Unavailable` with `Retry-After`
//! (the handler's response is discarded); a failure while saving answers `500` without
//! `Set-Cookie`; a session destroyed meanwhile by another request answers `409
//! Conflict` without `Set-Cookie`. [`SessionLayer::on_failure`] replaces these answers.
//! The store error is logged with `tracing`, never with a session id or a secret.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod api;
mod failure;
pub mod h3;
mod layer;
mod request_info;
mod respond;
mod service;

pub use api::{DEFAULT_BODY_LIMIT, SessionApi, SessionApiLayer};
pub use failure::{Failure, FailureKind};
pub use layer::SessionLayer;
pub use request_info::ClientAddr;
pub use service::{ResponseFuture, SessionService};
