//! The Redis store on a local three-primary Redis Cluster (`redis-server
//! --cluster-enabled yes` on free loopback ports, `redis-cli --cluster create`): the
//! whole conformance suite, and sessions through the real adapter.

use session_hyper::SessionLayer;
use session_store_redis::RedisStore;
use session_tests::TestServer;
use session_tests::redis::{RedisCluster, unique_prefix};

use crate::config;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_conformance_suite_passes_on_a_cluster_and_on_a_callers_cluster_connection() {
    let cluster = RedisCluster::start();
    let urls = cluster.urls();
    session_core::conformance::run_all(|| {
        let urls = urls.clone();
        async move {
            RedisStore::builder()
                .prefix(unique_prefix())
                .connect_cluster(urls)
                .await
                .unwrap()
        }
    })
    .await;

    // The same on the application's own cluster connection.
    let client = redis::cluster::ClusterClient::new(cluster.urls()).unwrap();
    let connection = client.get_async_connection().await.unwrap();
    session_core::conformance::run_all(|| {
        let connection = connection.clone();
        async move {
            RedisStore::builder()
                .prefix(unique_prefix())
                .from_cluster_connection(connection)
        }
    })
    .await;
    drop(cluster);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_work_through_the_adapter_on_a_cluster() {
    let cluster = RedisCluster::start();
    let store = RedisStore::builder()
        .prefix(unique_prefix())
        .connect_cluster(cluster.urls())
        .await
        .unwrap();
    let http = TestServer::start(SessionLayer::new(config(), store.clone())).await;
    // Many clients, so keys spread over all three primaries' slots.
    let mut clients: Vec<_> = (0..30).map(|_| http.client()).collect();
    for round in 1..=3 {
        for c in clients.iter_mut() {
            assert_eq!(c.get("/").await.json()["views"], round);
        }
    }
    use session_core::store::SessionStore;
    assert_eq!(store.len().await.unwrap(), 30, "SCAN covers every primary");
    let per_node: Vec<usize> = cluster
        .nodes
        .iter()
        .map(|n| {
            n.command(&["DBSIZE"])
                .trim_start_matches(':')
                .trim()
                .parse()
                .unwrap()
        })
        .collect();
    assert!(
        per_node.iter().filter(|&&k| k > 0).count() >= 2,
        "keys spread over the cluster: {per_node:?}"
    );
    clients[0].post("/logout").await;
    assert_eq!(store.len().await.unwrap(), 29);
}
