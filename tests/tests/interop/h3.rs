//! Live interop with the real @scayle/h3-session 0.6.1 on h3 1.15 and unstorage's Redis
//! driver (tests/node/h3-app.mjs, pinned by package-lock.json) beside the Rust layer in
//! `Compat::H3Session` mode with the Redis store, sharing one private redis-server and
//! the same secrets (h3-session signs with the LAST one). Sessions pass both ways.
use serde_json::{Value, json};
use session_core::{Compat, Secrets, SessionConfig};
use session_hyper::SessionLayer;
use session_store_redis::RedisStore;
use session_tests::node::NodeApp;
use session_tests::redis::RedisServer;
use session_tests::{Client, TestServer};

const SECRETS: [&str; 2] = ["retired secret", "current secret"];

struct Pair {
    // Dropped in this order: the clients of Redis stop before Redis does.
    node: NodeApp,
    rust: TestServer,
    redis: RedisServer,
}

async fn pair() -> Pair {
    let redis = RedisServer::start();
    let store = RedisStore::connect(&redis.url()).await.unwrap();
    let config = SessionConfig::builder(Secrets::last_signs(SECRETS).unwrap())
        .compat(Compat::H3Session)
        .build()
        .unwrap();
    let rust = TestServer::start(SessionLayer::new(config, store)).await;
    let node = NodeApp::start_h3(&redis.url(), &SECRETS);
    Pair { node, rust, redis }
}

/// The payload of a one-value RESP reply (`$N\r\nvalue` or `:N`).
fn resp_value(raw: &str) -> String {
    raw.lines()
        .last()
        .unwrap_or_default()
        .trim()
        .trim_start_matches(':')
        .to_owned()
}

impl Pair {
    /// A request to the h3 app with `c`'s cookies (and keeping the ones it sets).
    async fn node(&self, c: &mut Client, method: &str, path: &str) -> Value {
        c.addr = self.node.addr;
        let r = c.send(method, path).await;
        assert_eq!(r.status, 200, "h3 app: {}", r.body);
        r.json()
    }
    async fn rust(&self, c: &mut Client, method: &str, path: &str) -> Value {
        c.addr = self.rust.addr;
        let r = c.send(method, path).await;
        assert_eq!(r.status, 200, "rust: {}", r.body);
        r.json()
    }
}

#[tokio::test]
async fn a_session_created_by_h3_session_works_in_rust_and_back() {
    let p = pair().await;
    let mut c = Client::new(p.node.addr);
    let created = p.node(&mut c, "POST", "/set?user=luke").await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "h3-session's UUID ids");
    // Stored by unstorage as the data alone, under connect-redis's key.
    assert_eq!(
        resp_value(&p.redis.command(&["GET", &format!("sess:{id}")])),
        r#"{"user":"luke"}"#
    );
    assert_eq!(
        p.rust(&mut c, "GET", "/read").await,
        json!({"user": "luke"})
    );
    p.rust(&mut c, "POST", "/set?side=light").await;
    let seen = p.node(&mut c, "GET", "/session").await;
    assert_eq!(seen["id"], id.as_str(), "the same session");
    assert_eq!(seen["data"], json!({"user": "luke", "side": "light"}));
}

#[tokio::test]
async fn a_session_created_in_rust_works_in_h3_session_and_back() {
    let p = pair().await;
    let mut c = Client::new(p.rust.addr);
    p.rust(&mut c, "POST", "/set?x=1").await;
    let cookie = c.jar["connect.sid"].clone();
    let id = cookie
        .trim_start_matches("s%3A")
        .rsplit_once('.')
        .unwrap()
        .0
        .to_owned();
    // What Rust wrote: no cookie key, and h3-session's default day as the TTL.
    let raw = resp_value(&p.redis.command(&["GET", &format!("sess:{id}")]));
    assert_eq!(raw, r#"{"x":"1"}"#);
    let ttl: i64 = resp_value(&p.redis.command(&["TTL", &format!("sess:{id}")]))
        .parse()
        .unwrap();
    assert!((86_000..=86_400).contains(&ttl), "ttl {ttl}");
    let seen = p.node(&mut c, "GET", "/session").await;
    assert_eq!(seen["id"], id.as_str(), "h3-session verified our cookie");
    assert_eq!(seen["data"], json!({"x": "1"}));
    p.node(&mut c, "POST", "/set?y=2").await;
    assert_eq!(
        p.rust(&mut c, "GET", "/read").await,
        json!({"x": "1", "y": "2"})
    );
}

#[tokio::test]
async fn cookies_signed_by_either_side_verify_on_the_other_with_the_same_signer() {
    let p = pair().await;
    let mut from_node = Client::new(p.node.addr);
    p.node(&mut from_node, "POST", "/set?a=1").await;
    let mut from_rust = Client::new(p.rust.addr);
    p.rust(&mut from_rust, "POST", "/set?b=2").await;
    // Both sign with the last secret: each side re-sends the cookie (rolling) unchanged.
    let node_cookie = from_node.jar["connect.sid"].clone();
    p.rust(&mut from_node, "GET", "/read").await;
    assert_eq!(from_node.jar["connect.sid"], node_cookie);
    let rust_cookie = from_rust.jar["connect.sid"].clone();
    p.node(&mut from_rust, "GET", "/session").await;
    assert_eq!(from_rust.jar["connect.sid"], rust_cookie);
}

#[tokio::test]
async fn destroy_on_either_side_ends_the_session_for_both() {
    let p = pair().await;
    let mut c = Client::new(p.node.addr);
    p.node(&mut c, "POST", "/set?user=leia").await;
    let mut copy = c.clone();
    p.rust(&mut c, "POST", "/logout").await;
    let seen = p.node(&mut copy, "GET", "/session").await;
    assert_eq!(seen["data"], json!({}), "h3-session finds nothing stored");

    let mut c = Client::new(p.rust.addr);
    p.rust(&mut c, "POST", "/set?user=han").await;
    let mut copy = c.clone();
    p.node(&mut c, "POST", "/destroy").await;
    assert_eq!(p.rust(&mut copy, "GET", "/read").await, json!({}));
}
