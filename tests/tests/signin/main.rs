//! Sign-in building blocks through real servers on the memory, Redis and PostgreSQL
//! stores: log in and out, the extractors, the auth version, "sign out everywhere"
//! (also across demo processes), flash messages, CSRF tokens, their races, and the
//! per-user index's lifetime.

mod app;
mod csrf;
mod everywhere;
mod flash;
mod flow;
mod index;
mod passport;
mod races;

use std::sync::Arc;

use session_core::SessionId;
use session_core::store::SessionStore;
use session_core::wire::{encode_uri_component, sign};

pub const SECRET: &str = "sign-in test secret";

/// The three stores, each fresh (Redis: its own prefix; Postgres: its own table).
pub async fn stores() -> Vec<(&'static str, Arc<dyn SessionStore>)> {
    vec![
        ("memory", Arc::new(session_store_memory::MemoryStore::new())),
        ("redis", Arc::new(session_tests::redis_store().await)),
        ("postgres", Arc::new(session_tests::postgres_store().await)),
    ]
}

/// The session id a client's cookie names.
pub fn id_of(client: &session_tests::Client) -> SessionId {
    let value = client.jar.get("connect.sid").expect("a session cookie");
    let decoded = value.replace("%3A", ":");
    let signed = decoded.strip_prefix("s:").unwrap();
    SessionId::parse(signed.rsplit_once('.').unwrap().0).unwrap()
}

/// A `Cookie` header for `id`, signed with the test secret.
pub fn cookie_for(id: &SessionId) -> String {
    format!(
        "connect.sid={}",
        encode_uri_component(&format!("s:{}", sign(id.expose(), SECRET.as_bytes())))
    )
}
