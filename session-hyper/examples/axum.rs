//! Sessions in axum: `Session` is an extractor with the `axum` feature.
//!
//! ```text
//! cargo run -p session-hyper --example axum --features axum
//! ```

use axum::Router;
use axum::routing::get;
use session_core::{Error, Secrets, Session, SessionConfig};
use session_hyper::SessionLayer;
use session_store_memory::MemoryStore;

/// `session_core::Error` is an axum response (503 when the store is down, 413 when
/// the session is too large, ...), so handlers use `?`.
async fn counter(session: Session) -> Result<String, Error> {
    let views: u64 = session.get("views").await?.unwrap_or(0) + 1;
    session.insert("views", views).await?;
    Ok(format!("{{\"views\":{views}}}"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secret = std::env::var("SESSION_SECRET").unwrap_or_else(|_| "development secret".into());
    let config = SessionConfig::builder(Secrets::new([secret])?).build()?;
    let app = Router::new()
        .route("/", get(counter))
        .layer(SessionLayer::new(config, MemoryStore::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
