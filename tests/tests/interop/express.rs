//! Live interop with the real thing: express 5 + express-session 1.19 + connect-redis 9
//! (tests/node, pinned by package-lock.json) and the Rust layer with the Redis store,
//! sharing one private redis-server and the same secrets. Every scenario runs both ways.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{Value, json};
use session_core::{CookieOptions, Secrets, SessionConfig};
use session_hyper::SessionLayer;
use session_store_redis::RedisStore;
use session_tests::node::{NodeApp, NodeConfig};
use session_tests::redis::RedisServer;
use session_tests::{Client, TestServer};

/// One Redis, one express app, one Rust server, configured alike.
struct Pair {
    // Dropped in this order: the clients of Redis stop before Redis does.
    node: NodeApp,
    rust: TestServer,
    redis: RedisServer,
}

#[derive(Clone)]
struct Setup {
    secrets: Vec<&'static str>,
    max_age_ms: Option<u64>,
    rolling: bool,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            secrets: vec!["keyboard cat"],
            max_age_ms: Some(3_600_000),
            rolling: false,
        }
    }
}

async fn rust_server(redis: &RedisServer, s: &Setup) -> TestServer {
    let store = RedisStore::connect(&redis.url()).await.unwrap();
    let config = SessionConfig::builder(Secrets::new(&s.secrets).unwrap())
        .cookie(CookieOptions {
            max_age: s.max_age_ms.map(Duration::from_millis),
            ..CookieOptions::default()
        })
        .rolling(s.rolling)
        .build()
        .unwrap();
    TestServer::start(SessionLayer::new(config, store)).await
}

fn node_server(redis: &RedisServer, s: &Setup) -> NodeApp {
    NodeApp::start(&NodeConfig {
        redis_url: redis.url(),
        secrets: s.secrets.iter().map(|s| s.to_string()).collect(),
        max_age_ms: s.max_age_ms,
        rolling: s.rolling,
    })
}

async fn pair(s: Setup) -> Pair {
    let redis = RedisServer::start();
    let node = node_server(&redis, &s);
    let rust = rust_server(&redis, &s).await;
    Pair { node, rust, redis }
}

impl Pair {
    /// (first, second) for a direction.
    fn sides(&self, node_first: bool) -> (SocketAddr, SocketAddr) {
        if node_first {
            (self.node.addr, self.rust.addr)
        } else {
            (self.rust.addr, self.node.addr)
        }
    }
}

async fn at(c: &mut Client, addr: SocketAddr, method: &str, path: &str) -> session_tests::Reply {
    c.addr = addr;
    let r = c.send(method, path).await;
    assert_eq!(r.status, 200, "{method} {path} on {addr}: {}", r.body);
    r
}

/// A session created on one side is read and modified on the other, and the change is
/// seen back on the first.
async fn created_read_modified_seen_back(node_first: bool) {
    let p = pair(Setup::default()).await;
    let (first, second) = p.sides(node_first);
    let mut c = Client::new(first);
    assert_eq!(at(&mut c, first, "GET", "/").await.json()["views"], 1);
    assert_eq!(at(&mut c, second, "GET", "/").await.json()["views"], 2);
    at(&mut c, second, "POST", "/set?from=second&lang=fr%20CA").await;
    let data = at(&mut c, first, "GET", "/session").await.json();
    assert_eq!(data, json!({"views": 2, "from": "second", "lang": "fr CA"}));
    assert_eq!(at(&mut c, first, "GET", "/").await.json()["views"], 3);
    assert_eq!(
        at(&mut c, second, "GET", "/session").await.json()["views"],
        3
    );
}

/// Login (regenerate) on one side invalidates the pre-login cookie on the other.
async fn regenerate_invalidates_the_old_cookie(node_first: bool) {
    let p = pair(Setup::default()).await;
    let (first, second) = p.sides(node_first);
    let mut c = Client::new(first);
    at(&mut c, first, "GET", "/").await;
    let old = c.clone();
    let login = at(&mut c, first, "POST", "/login?user=ada").await;
    assert!(login.set_cookie("connect.sid").is_some());
    assert_ne!(c.jar, old.jar);
    let mut stale = old;
    assert_eq!(
        at(&mut stale, second, "GET", "/session").await.json(),
        json!({}),
        "old cookie is dead"
    );
    assert_eq!(
        at(&mut c, second, "GET", "/session").await.json(),
        json!({"user": "ada"})
    );
}

/// Logout (destroy) on one side is honoured by the other.
async fn destroy_is_honoured(node_first: bool) {
    let p = pair(Setup::default()).await;
    let (first, second) = p.sides(node_first);
    let mut c = Client::new(first);
    at(&mut c, first, "POST", "/set?user=ada").await;
    let before = c.clone();
    at(&mut c, first, "POST", "/logout").await;
    let mut replay = before;
    assert_eq!(
        at(&mut replay, second, "GET", "/session").await.json(),
        json!({})
    );
    assert_eq!(
        p.redis.command(&["DBSIZE"]).trim(),
        ":0",
        "nothing left in Redis"
    );
}

/// Nested objects, unicode, large integers and empty arrays survive, as Node sees them.
async fn nested_data_survives(node_first: bool) {
    let p = pair(Setup::default()).await;
    let (first, second) = p.sides(node_first);
    let mut c = Client::new(first);
    at(&mut c, first, "POST", "/complex").await;
    let check = at(&mut c, second, "GET", "/complex-check").await.json();
    assert_eq!(check["equal"], true, "{check}");
    at(&mut c, second, "POST", "/set?touched_by=second").await;
    for side in [first, second, p.node.addr] {
        let check = at(&mut c, side, "GET", "/complex-check").await.json();
        assert_eq!(check["equal"], true, "{check}");
    }
}

macro_rules! both_ways {
    ($($scenario:ident),* $(,)?) => {
        mod node_first {
            $( #[tokio::test] async fn $scenario() { super::$scenario(true).await } )*
        }
        mod rust_first {
            $( #[tokio::test] async fn $scenario() { super::$scenario(false).await } )*
        }
    };
}

both_ways!(
    created_read_modified_seen_back,
    regenerate_invalidates_the_old_cookie,
    destroy_is_honoured,
    nested_data_survives
);

fn attrs(set_cookie: &str) -> (Vec<String>, Option<String>) {
    let mut names = Vec::new();
    let mut expires = None;
    for a in set_cookie.split("; ").skip(1) {
        let (name, value) = a.split_once('=').unwrap_or((a, ""));
        if name == "Expires" {
            expires = Some(value.to_owned());
        }
        names.push(name.to_owned());
    }
    names.sort();
    (names, expires)
}

fn parse_http_date(s: &str) -> time::OffsetDateTime {
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::PrimitiveDateTime::parse(s, &fmt)
        .unwrap()
        .assume_utc()
}

fn redis_ttl(redis: &RedisServer, c: &Client) -> i64 {
    let cookie = &c.jar["connect.sid"];
    let id = cookie.trim_start_matches("s%3A").split('.').next().unwrap();
    redis
        .command(&["TTL", &format!("sess:{id}")])
        .trim_start_matches(':')
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn max_age_and_rolling_behave_the_same_on_both_sides() {
    for rolling in [false, true] {
        let p = pair(Setup {
            rolling,
            ..Setup::default()
        })
        .await;
        let mut cookies = Vec::new();
        for side in [p.node.addr, p.rust.addr] {
            let mut c = Client::new(side);
            let created = at(&mut c, side, "GET", "/")
                .await
                .set_cookie("connect.sid")
                .expect("a new session sets a cookie");
            cookies.push(created);
            let t = redis_ttl(&p.redis, &c);
            assert!(
                (3_598..=3_600).contains(&t),
                "TTL after a write on {side}: {t}"
            );
            // Read-only requests: Set-Cookie only with rolling, on both sides.
            for other in [p.node.addr, p.rust.addr] {
                let r = at(&mut c, other, "GET", "/session").await;
                assert_eq!(
                    r.set_cookie("connect.sid").is_some(),
                    rolling,
                    "rolling={rolling} read on {other}"
                );
                if let Some(sc) = r.set_cookie("connect.sid") {
                    cookies.push(sc);
                }
                let t = redis_ttl(&p.redis, &c);
                assert!(
                    (3_598..=3_600).contains(&t),
                    "TTL after a read on {other}: {t}"
                );
            }
            // A modification: Set-Cookie on both sides (the cookie has an expiry).
            for other in [p.node.addr, p.rust.addr] {
                assert!(
                    at(&mut c, other, "GET", "/")
                        .await
                        .set_cookie("connect.sid")
                        .is_some()
                );
            }
        }
        let (names, _) = attrs(&cookies[0]);
        assert_eq!(names, ["Expires", "HttpOnly", "Path"], "{}", cookies[0]);
        let expiries: Vec<time::OffsetDateTime> = cookies
            .iter()
            .map(|sc| {
                let (n, e) = attrs(sc);
                assert_eq!(n, names, "same attributes from both sides: {sc}");
                parse_http_date(&e.unwrap())
            })
            .collect();
        let (min, max) = (
            expiries.iter().min().unwrap(),
            expiries.iter().max().unwrap(),
        );
        assert!(
            *max - *min < time::Duration::seconds(10),
            "Expires agree: {cookies:?}"
        );
    }
}

#[tokio::test]
async fn browser_session_cookies_match_and_use_connect_redis_default_ttl() {
    let p = pair(Setup {
        max_age_ms: None,
        ..Setup::default()
    })
    .await;
    for side in [p.node.addr, p.rust.addr] {
        let mut c = Client::new(side);
        let sc = at(&mut c, side, "GET", "/")
            .await
            .set_cookie("connect.sid")
            .unwrap();
        assert_eq!(attrs(&sc).0, ["HttpOnly", "Path"], "{sc}");
        let t = redis_ttl(&p.redis, &c);
        assert!((86_398..=86_400).contains(&t), "{t}");
        for other in [p.node.addr, p.rust.addr] {
            assert_eq!(
                at(&mut c, other, "GET", "/session").await.json()["views"],
                1
            );
        }
    }
}

#[tokio::test]
async fn secret_rotation_keeps_old_cookies_working_on_both_sides() {
    let redis = RedisServer::start();
    let old = Setup {
        secrets: vec!["old secret"],
        ..Setup::default()
    };
    let rotated = Setup {
        secrets: vec!["new secret", "old secret"],
        ..Setup::default()
    };
    let node_old = node_server(&redis, &old);
    let rust_old = rust_server(&redis, &old).await;
    let node_new = node_server(&redis, &rotated);
    let rust_new = rust_server(&redis, &rotated).await;

    for creator in [node_old.addr, rust_old.addr] {
        let mut c = Client::new(creator);
        at(&mut c, creator, "GET", "/").await;
        let signed_old = c.clone();
        // Node with [new, old] reads the old cookie (and, resave off, does not re-sign it).
        let mut n = signed_old.clone();
        assert_eq!(
            at(&mut n, node_new.addr, "GET", "/session").await.json()["views"],
            1
        );
        // Rust with [new, old] reads it and re-issues it signed with the new secret.
        let mut r = signed_old.clone();
        let reissued = at(&mut r, rust_new.addr, "GET", "/session").await;
        assert_eq!(reissued.json()["views"], 1);
        assert!(
            reissued.set_cookie("connect.sid").is_some(),
            "re-signed under the new secret"
        );
        assert_ne!(r.jar, signed_old.jar);
        // The re-issued cookie works on Node (it verifies with the first secret)...
        assert_eq!(
            at(&mut r, node_new.addr, "GET", "/").await.json()["views"],
            2
        );
        // ...and not on a server that only knows the old secret.
        let mut only_old = r.clone();
        assert_eq!(
            at(&mut only_old, node_old.addr, "GET", "/session")
                .await
                .json(),
            json!({})
        );
    }
}

#[tokio::test]
async fn a_session_node_kept_alive_by_reads_is_still_valid_in_rust() {
    // maxAge 2 s: Node's reads only EXPIRE the key, so the stored `expires` goes stale.
    let p = pair(Setup {
        max_age_ms: Some(2_000),
        ..Setup::default()
    })
    .await;
    let mut c = Client::new(p.node.addr);
    at(&mut c, p.node.addr, "GET", "/").await;
    for _ in 0..8 {
        tokio::time::sleep(Duration::from_millis(400)).await;
        at(&mut c, p.node.addr, "GET", "/session").await;
    }
    let id = c.jar["connect.sid"]
        .trim_start_matches("s%3A")
        .split('.')
        .next()
        .unwrap()
        .to_owned();
    let raw = p.redis.command(&["GET", &format!("sess:{id}")]);
    let stored: Value = serde_json::from_str(raw.split_once("\r\n").unwrap().1.trim()).unwrap();
    let expires = time::OffsetDateTime::parse(
        stored["cookie"]["expires"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert!(
        expires < time::OffsetDateTime::now_utc(),
        "the payload's expires must be stale for this test: {stored}"
    );
    let data = at(&mut c, p.rust.addr, "GET", "/session").await.json();
    assert_eq!(
        data["views"], 1,
        "the live key is a live session in Rust too"
    );
    // And Rust's own writes keep it alive for Node.
    assert_eq!(at(&mut c, p.rust.addr, "GET", "/").await.json()["views"], 2);
    assert_eq!(
        at(&mut c, p.node.addr, "GET", "/session").await.json()["views"],
        2
    );
}
