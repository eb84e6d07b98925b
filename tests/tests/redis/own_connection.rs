//! A store built from the application's own `redis` connection (one node, or a cluster
//! connection in `cluster.rs`) keeps the whole store contract, while the application
//! goes on using the same connection for its own commands.

use session_core::store::SessionStore;
use session_store_redis::RedisStore;
use session_tests::redis::{shared, unique_prefix};

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

    // The application's commands and the store's share the connection.
    let store = RedisStore::builder()
        .prefix(unique_prefix())
        .from_connection_manager(manager.clone());
    let mut app = manager.clone();
    let _: () = redis::cmd("SET")
        .arg("app:key")
        .arg("app value")
        .query_async(&mut app)
        .await
        .unwrap();
    assert_eq!(store.len().await.unwrap(), 0, "the prefix keeps them apart");
    let value: String = redis::cmd("GET")
        .arg("app:key")
        .query_async(&mut app)
        .await
        .unwrap();
    assert_eq!(value, "app value");
    drop(server);
}
