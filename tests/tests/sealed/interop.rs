//! Live interop with the real Node apps (tests/node/sealed-app.mjs): h3 1.x and 2.x
//! `useSession` and iron-session, each sharing its sealed cookie with the Rust service
//! in both directions.

use std::time::Duration;

use serde_json::{Value, json};
use session_core::sealed::{Passwords, SealedConfig};
use session_core::wire::iron_seal_at;
use session_hyper::SessionLayer;
use session_tests::node::NodeApp;
use session_tests::{Client, TestServer};

use crate::{P1, P2, passwords};

/// The Rust side's configuration for a Node app kind.
fn rust_config(kind: &str, list: &[&str], max_age: Option<u64>) -> SealedConfig {
    let builder = match kind {
        "h3" => SealedConfig::h3(passwords(list)),
        "h3v2" => SealedConfig::h3_v2(passwords(list)),
        _ => {
            // iron-session's map: the first of `list` is the highest id.
            let n = list.len() as u32;
            let map = list.iter().enumerate().map(|(i, p)| (n - i as u32, *p));
            SealedConfig::iron_session("iron", Passwords::iron_session(map).unwrap())
        }
    };
    match max_age {
        Some(s) => builder.max_age(Duration::from_secs(s)),
        None => builder,
    }
    .build()
    .unwrap()
}

/// The Node app's `PASSWORD` for the same list: h3 takes one string (it cannot
/// rotate); iron-session a map with the same ids as [`rust_config`].
fn node_password(kind: &str, list: &[&str]) -> String {
    match kind {
        "iron-session" => {
            let n = list.len();
            let map: serde_json::Map<String, Value> = list
                .iter()
                .enumerate()
                .map(|(i, p)| ((n - i).to_string(), json!(p)))
                .collect();
            Value::Object(map).to_string()
        }
        _ => json!(list[0]).to_string(),
    }
}

fn cookie_name(kind: &str) -> &'static str {
    if kind == "iron-session" { "iron" } else { "h3" }
}

/// The data as the Node app sees it.
async fn node_data(c: &mut Client) -> Value {
    let r = c.get("/session").await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["data"].clone()
}

const KINDS: [&str; 3] = ["h3", "h3v2", "iron-session"];

/// Created by the Node app: read, changed and ended by Rust, every step seen by Node;
/// then the other way round.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_shared_both_ways() {
    for kind in KINDS {
        let node = NodeApp::start_sealed(kind, &node_password(kind, &[P1]), Some(3600));
        let rust =
            TestServer::start(SessionLayer::sealed(rust_config(kind, &[P1], Some(3600)))).await;
        let name = cookie_name(kind);

        // Node → Rust → Node.
        let mut c = Client::new(node.addr);
        let r = c.post("/set?from=node&json=%7B%22n%22%3A1%7D").await;
        assert_eq!(r.status, 200, "{kind}: {}", r.body);
        let node_id = r.json()["id"].clone();
        c.addr = rust.addr;
        let data = c.get("/read").await.json();
        assert_eq!(data, json!({"from": "node", "n": 1}), "{kind}");
        if kind != "iron-session" {
            assert_eq!(
                c.get("/id").await.json()["id"],
                node_id,
                "{kind}: the same h3 session id"
            );
        }
        let r = c.post("/set?from=rust").await;
        assert!(r.set_cookie(name).is_some(), "{kind}");
        c.addr = node.addr;
        assert_eq!(
            node_data(&mut c).await,
            json!({"from": "rust", "n": 1}),
            "{kind}"
        );
        if kind != "iron-session" {
            assert_eq!(c.get("/session").await.json()["id"], node_id, "{kind}");
        }
        c.addr = rust.addr;
        c.post("/logout").await;
        assert!(!c.jar.contains_key(name), "{kind}: the cookie is removed");
        c.addr = node.addr;
        assert_eq!(
            node_data(&mut c).await,
            json!({}),
            "{kind}: Node sees the end"
        );

        // Rust → Node → Rust.
        let mut c = Client::new(rust.addr);
        c.post("/set?from=rust").await;
        c.post("/incr").await;
        let rust_id = c.get("/id").await.json()["id"].clone();
        c.addr = node.addr;
        assert_eq!(
            node_data(&mut c).await,
            json!({"from": "rust", "counter": 1}),
            "{kind}"
        );
        if kind != "iron-session" {
            assert_eq!(c.get("/session").await.json()["id"], rust_id, "{kind}");
        }
        let r = c.post("/set?from=node").await;
        assert_eq!(r.status, 200, "{kind}: {}", r.body);
        c.addr = rust.addr;
        assert_eq!(
            c.get("/read").await.json(),
            json!({"from": "node", "counter": 1}),
            "{kind}"
        );
        assert_eq!(c.post("/incr").await.json()["counter"], 2, "{kind}");
        c.addr = node.addr;
        assert_eq!(node_data(&mut c).await["counter"], 2, "{kind}");
        c.post("/clear").await;
        c.addr = rust.addr;
        assert_eq!(
            c.get("/read").await.json(),
            json!({}),
            "{kind}: Rust sees Node's clear"
        );
    }
}

/// Rotation both ways. Rust rotating first: it reads the Node app's old-password
/// cookie and answers with a new-password one, which the Node app reads once it has
/// rotated too. The Node app rotating first: Rust, still sealing with the old
/// password, reads the new one's cookies. (h3 takes a single password, so an h3 app
/// rotates by restarting with the new one; iron-session takes the map.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_rotate_both_ways() {
    for kind in KINDS {
        // Rust first.
        let old_node = NodeApp::start_sealed(kind, &node_password(kind, &[P1]), None);
        let rust =
            TestServer::start(SessionLayer::sealed(rust_config(kind, &[P2, P1], None))).await;
        let mut c = Client::new(old_node.addr);
        c.post("/set?user=ada").await;
        c.addr = rust.addr;
        assert_eq!(c.get("/read").await.json()["user"], "ada", "{kind}");
        c.post("/set?rotated=yes").await;
        let new_node = match kind {
            "iron-session" => NodeApp::start_sealed(kind, &node_password(kind, &[P2, P1]), None),
            _ => NodeApp::start_sealed(kind, &node_password(kind, &[P2]), None),
        };
        c.addr = new_node.addr;
        assert_eq!(
            node_data(&mut c).await,
            json!({"user": "ada", "rotated": "yes"}),
            "{kind}"
        );

        // The Node app first: it seals with P2; Rust still seals with P1 and reads P2.
        let rust_old_first = TestServer::start(SessionLayer::sealed(match kind {
            "iron-session" => SealedConfig::iron_session(
                "iron",
                Passwords::with_ids([("1", P1), ("2", P2)]).unwrap(),
            )
            .build()
            .unwrap(),
            _ => rust_config(kind, &[P1, P2], None),
        }))
        .await;
        let mut c = Client::new(new_node.addr);
        c.post("/set?user=grace").await;
        c.addr = rust_old_first.addr;
        assert_eq!(c.get("/read").await.json()["user"], "grace", "{kind}");
    }
}

/// An expired seal is refused on both sides: the Node app's to Rust, Rust's to the
/// Node app (each made as of two hours ago with a one-hour lifetime).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_seals_are_refused_on_both_sides() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let two_hours_ago = now - 2 * 3600 * 1000;
    for kind in KINDS {
        let node = NodeApp::start_sealed(kind, &node_password(kind, &[P1]), Some(3600));
        let rust =
            TestServer::start(SessionLayer::sealed(rust_config(kind, &[P1], Some(3600)))).await;
        let (text, iterations, id) = match kind {
            "iron-session" => (r#"{"user":"ada"}"#.to_owned(), 1, "1"),
            "h3" => (h3_payload(two_hours_ago), 1, ""),
            _ => (h3_payload(two_hours_ago), 8192, ""),
        };
        let pw = if id.is_empty() {
            passwords(&[P1])
        } else {
            Passwords::with_ids([(id, P1)]).unwrap()
        };
        let seal = iron_seal_at(
            &pw,
            &text,
            iterations,
            Some(Duration::from_secs(3600)),
            two_hours_ago,
        )
        .unwrap();
        let value = if kind == "iron-session" {
            format!("{seal}~2")
        } else {
            seal.clone()
        };
        let cookie = format!("{}={value}", cookie_name(kind));
        // The same seal, made fresh, is accepted by both: only the time differs.
        let fresh_text = if kind == "iron-session" {
            text.clone()
        } else {
            h3_payload(now)
        };
        let fresh = iron_seal_at(
            &pw,
            &fresh_text,
            iterations,
            Some(Duration::from_secs(3600)),
            now,
        )
        .unwrap();
        let fresh = if kind == "iron-session" {
            format!("{fresh}~2")
        } else {
            fresh
        };
        let fresh_cookie = format!("{}={fresh}", cookie_name(kind));
        for (side, addr) in [("node", node.addr), ("rust", rust.addr)] {
            let path = if side == "node" { "/session" } else { "/read" };
            let c = Client::new(addr);
            let r = c.send_with("GET", path, Some(&fresh_cookie)).await;
            let data = if side == "node" {
                r.json()["data"].clone()
            } else {
                r.json()
            };
            assert_eq!(data["user"], "ada", "{kind} {side} reads a fresh seal");
            let r = c.send_with("GET", path, Some(&cookie)).await;
            assert_eq!(r.status, 200, "{kind} {side}");
            let data = if side == "node" {
                r.json()["data"].clone()
            } else {
                r.json()
            };
            assert!(
                data.get("user").is_none(),
                "{kind} {side} refuses an expired seal: {data}"
            );
        }
    }
}

fn h3_payload(created_ms: u64) -> String {
    format!(
        r#"{{"id":"1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed","createdAt":{created_ms},"data":{{"user":"ada"}}}}"#
    )
}

/// h3 2.x's own upgrade path, with Rust in the middle: a cookie of an h3 1.x app is
/// read by the Rust side configured for h3 2.x, sealed again the 2.x way on that
/// request, and read by an h3 2.x app. And a session h3 2.x split into several
/// cookies (its value over 4,000 characters) is read whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h3_v2_upgrades_and_split_cookies() {
    let v1 = NodeApp::start_sealed("h3", &node_password("h3", &[P1]), None);
    let v2 = NodeApp::start_sealed("h3v2", &node_password("h3v2", &[P1]), None);
    let rust = TestServer::start(SessionLayer::sealed(rust_config("h3v2", &[P1], None))).await;
    let mut c = Client::new(v1.addr);
    c.post("/set?user=ada").await;
    let v1_cookie = c.jar["h3"].clone();
    c.addr = rust.addr;
    let r = c.get("/read").await;
    assert_eq!(r.json()["user"], "ada");
    assert!(r.set_cookie("h3").is_some(), "sealed again, the 2.x way");
    assert_ne!(c.jar["h3"], v1_cookie);
    c.addr = v2.addr;
    assert_eq!(node_data(&mut c).await["user"], "ada");
    c.addr = v1.addr;
    assert_eq!(
        node_data(&mut c).await,
        json!({}),
        "h3 1.x cannot read 2.x seals"
    );

    let mut c = Client::new(v2.addr);
    let big = "b".repeat(4500);
    let r = c.post(&format!("/set?big={big}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        c.jar
            .get("h3")
            .is_some_and(|v| v.starts_with("__chunked__")),
        "{:?}",
        c.jar.keys()
    );
    assert!(c.jar.contains_key("h3.2"), "{:?}", c.jar.keys());
    c.addr = rust.addr;
    let r = c.get("/read").await;
    assert_eq!(r.json()["big"].as_str().map(str::len), Some(4500));
}
