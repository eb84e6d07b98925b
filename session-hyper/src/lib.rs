//! # session-hyper
//!
//! express-session compatible sessions for hyper 1 and any tower stack (so axum).
//! [`SessionLayer`] wraps a service; every request then carries a
//! [`Session`] in its extensions, loaded from the store on first
//! use and saved (or touched) before the response head is returned.
//!
//! ## With plain hyper
//!
//! ```no_run
//! use std::convert::Infallible;
//! use std::time::Duration;
//! use bytes::Bytes;
//! use http::{Request, Response};
//! use http_body_util::Full;
//! use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
//! use hyper_util::server::conn::auto::Builder;
//! use hyper_util::service::TowerToHyperService;
//! use session_hyper::{Secrets, Session, SessionConfig, SessionLayer};
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
//! // HTTP/1 only: telling HTTP/1 from HTTP/2 would wait for the first bytes with no timer.
//! let mut http = Builder::new(TokioExecutor::new()).http1_only();
//! // 10 s: plenty for a real client's request head, short enough that silent or half-sent ones can't pile up.
//! http.http1().timer(TokioTimer::new()).header_read_timeout(Duration::from_secs(10));
//! loop {
//!     let tcp = match listener.accept().await {
//!         Ok((tcp, _)) => tcp,
//!         // Out of file descriptors (EMFILE) and the like: transient, so pause and go on.
//!         Err(e) => {
//!             eprintln!("accept failed: {e}");
//!             tokio::time::sleep(Duration::from_millis(100)).await;
//!             continue;
//!         }
//!     };
//!     let (http, service) = (http.clone(), TowerToHyperService::new(service.clone()));
//!     tokio::spawn(async move {
//!         let _ = http.serve_connection(TokioIo::new(tcp), service).await;
//!     });
//! }
//! # }
//! ```
//!
//! ## With axum
//!
//! With the `axum` feature, `Session` is an extractor (`Extension<Session>` works
//! without it) and [`Error`] is a response (503 when the store is down, 413 when the
//! session is too large, 400 for a refused key, 409 when the session ended
//! meanwhile), so handlers use `?`:
//!
//! ```text
//! async fn handler(session: Session) -> Result<String, Error> { /* ... */ }
//! let app = Router::new().route("/", get(handler)).layer(SessionLayer::new(config, MemoryStore::new()));
//! ```
//! `examples/axum.rs` is the complete program.
//!
//! ## Failures
//!
//! | what failed | default answer |
//! |---|---|
//! | loading (the store is down) | `503 Service Unavailable` with `Retry-After`; the handler's response is discarded, or, with [`FailurePolicy::Degrade`], served without `Set-Cookie` if it is not a 5xx |
//! | the end-of-request touch (the session was not changed) | the handler's response, without `Set-Cookie`; a warning (throttled) and `session_degraded_total` |
//! | saving (data would be lost) | `500` without `Set-Cookie` |
//! | the store is full, or too many requests wait to write one session | `503` with `Retry-After` |
//! | another request destroyed the session meanwhile | `409 Conflict` without `Set-Cookie` |
//!
//! [`SessionLayer::on_failure`] replaces these answers. The store error is logged with
//! `tracing`, never with a session id or a secret; conditions that repeat on every
//! request while they last (a failed touch, a full store) at most once per 10 s.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod api;
mod csrf_layer;
mod failure;
pub mod h3;
mod layer;
mod request_info;
mod respond;
mod service;

pub use api::{DEFAULT_BODY_LIMIT, SessionApi, SessionApiLayer};
pub use csrf_layer::{CsrfBody, CsrfLayer, CsrfService, DEFAULT_FORM_LIMIT};
pub use failure::{Failure, FailureKind, FailurePolicy};
pub use layer::SessionLayer;
pub use request_info::ClientAddr;
pub use service::{ResponseFuture, SessionService};

// What an application needs, so it depends on this crate and a store crate only.
/// For stores written in the application: the `SessionStore` trait, `Record`, and
/// `async_trait` to implement it (session-core's `store` module).
pub use session_core::store;
pub use session_core::{
    Compat, Concurrency, CookieOptions, CookieRecord, Error, MissingCookie, Priority,
    RandomSourceError, SameSite, SameSiteOption, Secrets, Secure, Session, SessionConfig,
    SessionConfigBuilder, SessionId, StoreOp, TrustProxy, Unset,
};
/// The sign-in, flash and CSRF extractors (session-core's, with the `axum` feature).
#[cfg(feature = "axum")]
pub use session_core::{CsrfToken, ExtractRejection, Flashes, MaybeSignedIn, SignedIn};
/// Sign-in, flash messages and CSRF tokens on the session (session-core's modules).
pub use session_core::{auth, csrf, flash};
