//! The demo binary as operators run it: on the Redis store (`REDIS_URL`) sessions
//! survive a restart of the demo; `rediss://` with `REDIS_CA_FILE` speaks TLS to a
//! server whose certificate a private CA signed; with `METRICS_PORT` it serves
//! Prometheus metrics.
//! Every process is stopped by PID.

use std::sync::Arc;

use session_tests::Client;
use session_tests::demo::Demo;
use session_tests::redis::{RedisServer, free_port};
use session_tests::tls::{Certs, TlsRedis};

const SECRET: (&str, &str) = ("SESSION_SECRET", "demo redis secret");

#[tokio::test]
async fn the_demo_keeps_sessions_in_redis_across_restarts() {
    let redis = RedisServer::start();
    let url = redis.url();
    let demo = Demo::start(&[SECRET, ("REDIS_URL", &url)]);
    assert_eq!(demo.store, "redis store");
    let mut c = Client::new(demo.addr);
    assert_eq!(c.get("/").await.json()["views"], 1);
    assert_eq!(c.post("/login?user=ada").await.json()["user"], "ada");
    drop(demo);

    let demo = Demo::start(&[SECRET, ("REDIS_URL", &url)]);
    let mut c2 = Client::new(demo.addr);
    c2.jar = c.jar.clone();
    assert_eq!(
        c2.get("/session").await.json()["user"],
        "ada",
        "the session outlived the demo process"
    );
    assert!(
        redis.command(&["KEYS", "sess:*"]).contains("sess:"),
        "stored under connect-redis's key"
    );
}

#[tokio::test]
async fn the_demo_speaks_tls_to_redis_with_a_private_ca() {
    let redis = TlsRedis::start(Arc::new(Certs::generate()), false);
    let ca = redis.certs.path("ca.crt").display().to_string();
    let demo = Demo::start(&[SECRET, ("REDIS_URL", &redis.url()), ("REDIS_CA_FILE", &ca)]);
    assert_eq!(demo.store, "redis store");
    let mut c = Client::new(demo.addr);
    assert_eq!(c.get("/").await.json()["views"], 1);
    assert_eq!(c.get("/").await.json()["views"], 2);
    let keys = redis.server.command(&["KEYS", "sess:*"]);
    assert!(keys.starts_with("*1\r\n"), "one session stored: {keys}");
}

#[tokio::test]
async fn the_demo_exports_prometheus_metrics() {
    let redis = RedisServer::start();
    let url = redis.url();
    let port = free_port(false).to_string();
    let demo = Demo::start(&[SECRET, ("REDIS_URL", &url), ("METRICS_PORT", &port)]);
    let mut c = Client::new(demo.addr);
    c.get("/").await;
    c.get("/").await;
    c.send_with("GET", "/", Some("connect.sid=s%3Aforged.sig"))
        .await;
    let metrics_addr = format!("127.0.0.1:{port}").parse().unwrap();
    let text = Client::new(metrics_addr).get("/metrics").await.body;
    for line in [
        "session_store_operations_total{op=\"create\"} 2", // the forged cookie is a new visitor
        "session_store_operations_total{op=\"load\"} 1",
        "session_store_operations_total{op=\"save\"} 1",
        "session_invalid_cookies_total{reason=\"bad_signature\"} 1",
        "session_lifecycle_total{event=\"created\"} 2",
        "session_store_duration_seconds_count{op=\"load\"} 1",
    ] {
        assert!(text.contains(line), "{line} in:\n{text}");
    }
}
