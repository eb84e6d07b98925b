//! A store built from the application's own `redis` connection (one node, or a cluster
//! connection in `cluster.rs`) keeps the whole store contract, while the application
//! goes on using the same connection for its own commands.

use serde_json::json;
use session_core::conformance::cases::{new_id, record};
use session_core::store::SessionStore;
use session_store_redis::RedisStore;
use session_tests::redis::{RedisServer, shared, unique_prefix};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_conformance_suite_passes_on_a_callers_connection_manager() {
    let server = shared();
    let client = redis::Client::open(server.url()).unwrap();
    let manager = client.get_connection_manager().await.unwrap();
    session_core::conformance::run_all(|| {
        let manager = manager.clone();
        async move {
            RedisStore::builder()
                .prefix(unique_prefix())
                .from_connection_manager(manager)
        }
    })
    .await;

    drop(server);
}

#[tokio::test]
async fn the_application_and_the_store_share_one_connection() {
    let server = RedisServer::start();
    let client = redis::Client::open(server.url()).unwrap();
    let manager = client.get_connection_manager().await.unwrap();
    let store = RedisStore::builder()
        .prefix(unique_prefix())
        .from_connection_manager(manager.clone());
    let id = new_id();
    store
        .create(&id, &record(Some(60_000), json!({"n": 1})))
        .await
        .unwrap();
    let mut app = manager.clone();
    let _: () = redis::cmd("SET")
        .arg("app:key")
        .arg("app value")
        .query_async(&mut app)
        .await
        .unwrap();
    assert_eq!(store.len().await.unwrap(), 1, "the prefix keeps them apart");
    let value: String = redis::cmd("GET")
        .arg("app:key")
        .query_async(&mut app)
        .await
        .unwrap();
    assert_eq!(value, "app value");
    // One client connection besides the one asking (`CLIENT LIST` over a fresh one).
    let clients = server.command(&["CLIENT", "LIST"]);
    assert_eq!(clients.matches("id=").count(), 2, "{clients}");
}
