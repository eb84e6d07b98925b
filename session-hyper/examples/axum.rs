//! Sessions in axum: `Session` is an extractor with the `axum` feature.
//!
//! ```text
//! cargo run -p session-hyper --example axum --features axum
//! ```

use axum::Router;
use axum::routing::get;
use session_core::{Secrets, Session, SessionConfig};
use session_hyper::SessionLayer;
use session_store_memory::MemoryStore;

async fn counter(session: Session) -> Result<String, String> {
    let views: u64 = session
        .get("views")
        .await
        .map_err(|e| e.to_string())?
        .unwrap_or(0)
        + 1;
    session
        .insert("views", views)
        .await
        .map_err(|e| e.to_string())?;
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
