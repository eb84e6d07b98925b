//! Hostile input through the real adapter, as raw bytes over TCP (so non-UTF-8 and
//! oversized headers really arrive): every case answers 200 with a fresh session, makes
//! no store call for an invalid signature, and the server keeps serving. Corrupt stored
//! records (in a real Redis) are fresh sessions with a warning, never a 5xx. Logs never
//! carry a session id or a secret.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use session_core::SessionConfig;
use session_core::wire::sign;
use session_hyper::SessionLayer;
use session_store_memory::MemoryStore;
use session_store_redis::RedisStore;
use session_tests::redis::RedisServer;
use session_tests::{Op, TestServer, TestStore, guard};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SECRET: &str = "bad input secret";

fn config() -> SessionConfig {
    session_tests::config_with(SECRET, Duration::from_secs(3600))
        .build()
        .unwrap()
}

/// One request with raw header bytes; (status, body).
async fn raw(addr: SocketAddr, path: &str, cookie_lines: &[Vec<u8>]) -> (u16, String) {
    let mut req =
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n").into_bytes();
    for line in cookie_lines {
        req.extend_from_slice(b"Cookie: ");
        req.extend_from_slice(line);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"\r\n");
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(&req).await.unwrap();
    let mut resp = Vec::new();
    tcp.read_to_end(&mut resp).await.unwrap();
    let text = String::from_utf8_lossy(&resp);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn cookie(id: &str, secret: &str) -> String {
    session_core::wire::encode_uri_component(&format!("s:{}", sign(id, secret.as_bytes())))
}

/// A cookie whose signature has `+` or `/`, re-spelled in base64url: must not verify.
fn url_safe_variant() -> String {
    let (id, sig) = (0..)
        .map(|n| format!("urlsafe{n}"))
        .map(|id| {
            let sig = sign(&id, SECRET.as_bytes())
                .rsplit('.')
                .next()
                .unwrap()
                .to_owned();
            (id, sig)
        })
        .find(|(_, sig)| sig.contains('+') || sig.contains('/'))
        .unwrap();
    format!(
        "connect.sid=s:{id}.{}",
        sig.replace('+', "-").replace('/', "_")
    )
}

fn views(body: &str) -> Value {
    serde_json::from_str::<Value>(body)
        .map(|v| v["views"].clone())
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn hostile_cookie_headers_give_a_fresh_session_and_no_store_call() {
    let store = TestStore::new(MemoryStore::new());
    let server = TestServer::start(SessionLayer::new(config(), store.clone())).await;
    let a = server.addr;
    // A real session to tamper with.
    let mut c = server.client();
    c.get("/").await;
    let good = c.jar["connect.sid"].clone();
    let id = good
        .trim_start_matches("s%3A")
        .split('.')
        .next()
        .unwrap()
        .to_owned();
    let sig = good.split('.').nth(1).unwrap().to_owned();
    let raw_sig = sign(&id, SECRET.as_bytes())
        .split('.')
        .nth(1)
        .unwrap()
        .to_owned();

    let mut cases: Vec<(&str, Vec<Vec<u8>>)> = vec![
        (
            "keyless segments",
            vec![b"connect.sid; ; =; a; ==".to_vec()],
        ),
        ("empty value", vec![b"connect.sid=".to_vec()]),
        ("quoted empty", vec![b"connect.sid=\"\"".to_vec()]),
        (
            "bad percent-encoding in ours",
            vec![format!("connect.sid=s%3A{id}%zz.{sig}").into_bytes()],
        ),
        ("lone percent", vec![b"connect.sid=%".to_vec()]),
        (
            "non-UTF-8 value",
            vec![b"connect.sid=s:\xff\xfe\xfd.abc".to_vec()],
        ),
        (
            "non-UTF-8 everywhere",
            vec![b"\xff\xff=\xfe; connect.sid=s%3A\xc3\x28.x; \x80".to_vec()],
        ),
        (
            "missing s:",
            vec![format!("connect.sid={id}.{sig}").into_bytes()],
        ),
        (
            "no dot",
            vec![format!("connect.sid=s%3A{id}{sig}").into_bytes()],
        ),
        (
            "several dots",
            vec![format!("connect.sid=s%3A{id}.x.y.{sig}").into_bytes()],
        ),
        (
            "padded signature",
            vec![format!("connect.sid=s%3A{id}.{raw_sig}%3D").into_bytes()],
        ),
        ("url-safe signature", vec![url_safe_variant().into_bytes()]),
        (
            "short signature",
            vec![format!("connect.sid=s:{id}.{}", &raw_sig[..42]).into_bytes()],
        ),
        (
            "long signature",
            vec![format!("connect.sid=s:{id}.{raw_sig}A").into_bytes()],
        ),
        (
            "trailing garbage",
            vec![format!("connect.sid={good}garbage").into_bytes()],
        ),
        (
            "leading garbage",
            vec![format!("connect.sid=garbage{good}").into_bytes()],
        ),
        (
            "multibyte at the split",
            vec![format!("connect.sid=s:{id}\u{e9}.{raw_sig}").into_bytes()],
        ),
        (
            "multibyte in the signature",
            vec![format!("connect.sid=s:{id}.{}\u{1F600}", &raw_sig[..39]).into_bytes()],
        ),
        (
            "retired secret",
            vec![format!("connect.sid={}", cookie(&id, "a retired secret")).into_bytes()],
        ),
        (
            "10,000 cookies",
            vec![
                (0..10_000)
                    .map(|i| format!("c{i}=v{i}"))
                    .collect::<Vec<_>>()
                    .join("; ")
                    .into_bytes(),
            ],
        ),
        (
            "10,000 bad cookies of our name",
            vec![
                (0..10_000)
                    .map(|i| format!("connect.sid=s:{i}.x"))
                    .collect::<Vec<_>>()
                    .join("; ")
                    .into_bytes(),
            ],
        ),
        (
            "64 KB of junk before ours",
            vec![format!("{}; connect.sid={good}", "j=".repeat(33_000)).into_bytes()],
        ),
        (
            "400 KB header",
            vec![format!("{}; connect.sid={good}", "x=1; ".repeat(80_000)).into_bytes()],
        ),
    ];
    // Validly signed, but not an acceptable id: refused before the store.
    for bad_id in ["a b", "%", "x*", "\u{e9}t\u{e9}", &"a".repeat(300)] {
        cases.push((
            "signed id outside the alphabet",
            vec![format!("connect.sid={}", cookie(bad_id, SECRET)).into_bytes()],
        ));
    }
    for (name, lines) in &cases {
        store.reset();
        let (status, body) = raw(a, "/", lines).await;
        assert_eq!(status, 200, "{name}: {body}");
        assert_eq!(views(&body), 1, "{name}: a fresh session: {body}");
        assert_eq!(
            store.count(Op::Load),
            0,
            "{name}: no store call for an invalid cookie"
        );
        // The server keeps serving, and the real session is untouched.
        let (status, body) = raw(a, "/read", &[format!("connect.sid={good}").into_bytes()]).await;
        assert_eq!(
            (status, views(&body)),
            (200, Value::from(1)),
            "{name}: server still serving"
        );
    }
}

#[tokio::test]
async fn bad_cookies_cannot_hide_the_good_one() {
    let store = TestStore::new(MemoryStore::new());
    let server = TestServer::start(SessionLayer::new(config(), store.clone())).await;
    let mut c = server.client();
    c.get("/").await;
    let good = c.jar["connect.sid"].clone();
    let bad = format!("connect.sid={}", cookie("evil", "wrong secret"));
    let cases: Vec<Vec<Vec<u8>>> = vec![
        vec![format!("{bad}; connect.sid={good}").into_bytes()],
        vec![format!("connect.sid={good}; {bad}").into_bytes()],
        vec![
            bad.clone().into_bytes(),
            format!("connect.sid={good}").into_bytes(),
        ],
        vec![format!("a=%zz; connect.sid={good}").into_bytes()],
        vec![format!("connect.sid=\"{good}\"").into_bytes()],
        vec![[&b"\xff=1; connect.sid="[..], good.as_bytes()].concat()],
        vec![format!("{}; connect.sid={good}", "p=q; ".repeat(1_600)).into_bytes()],
    ];
    for lines in cases {
        let (status, body) = raw(server.addr, "/read", &lines).await;
        assert_eq!(
            (status, views(&body)),
            (200, Value::from(1)),
            "{:?}",
            String::from_utf8_lossy(&lines[0])[..60.min(lines[0].len())].to_owned()
        );
    }
}

#[tokio::test]
async fn corrupt_stored_records_are_a_fresh_session_with_a_warning() {
    let redis = RedisServer::start();
    let store = RedisStore::builder().connect(&redis.url()).await.unwrap();
    let server = TestServer::start(SessionLayer::new(config(), store)).await;
    let deep = format!(
        "{{\"cookie\":{{\"originalMaxAge\":null,\"expires\":null,\"httpOnly\":true,\"path\":\"/\"}},\"x\":{}{}}}",
        "[".repeat(5_000),
        "]".repeat(5_000)
    );
    let huge = format!(
        "{{\"cookie\":{{\"originalMaxAge\":null,\"expires\":null,\"httpOnly\":true,\"path\":\"/\"}},\"blob\":\"{}\"}}",
        "x".repeat(20 << 20)
    );
    let cases: Vec<(&str, String)> = vec![
        ("invalid json", "{not json".into()),
        ("not an object", "[1,2,3]".into()),
        ("wrong cookie type", r#"{"cookie":"yes","views":1}"#.into()),
        ("wrong field types", r#"{"cookie":{"originalMaxAge":"soon","expires":42,"httpOnly":"y","path":7}}"#.into()),
        ("missing cookie", r#"{"views":41}"#.into()),
        ("extreme date", r#"{"cookie":{"originalMaxAge":1,"expires":"+275760-09-13T00:00:00.000Z","httpOnly":true,"path":"/"}}"#.into()),
        ("impossible date", r#"{"cookie":{"originalMaxAge":1,"expires":"2026-02-31T99:00:00.000Z","httpOnly":true,"path":"/"}}"#.into()),
        ("huge number", r#"{"cookie":{"originalMaxAge":1e400,"expires":null,"httpOnly":true,"path":"/"}}"#.into()),
        ("deep nesting", deep),
        ("20 MB payload", huge),
    ];
    for (n, (name, value)) in cases.iter().enumerate() {
        let id = format!("corrupt{n}");
        let mut set = redis::cmd("SET");
        set.arg(format!("sess:{id}")).arg(value.as_bytes());
        let client = redis::Client::open(redis.url().as_str()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let _: () = set.query_async(&mut conn).await.unwrap();
        let (status, body) = raw(
            server.addr,
            "/",
            &[format!("connect.sid={}", cookie(&id, SECRET)).into_bytes()],
        )
        .await;
        assert_eq!(status, 200, "{name}: {body}");
        assert_eq!(views(&body), 1, "{name}: a fresh session");
    }
    let logs = guard::logs();
    assert!(
        logs.contains("stored session unusable") && logs.contains("reason=\"corrupt_record\""),
        "warnings logged"
    );
    assert!(logs.contains("WARN"), "at warning level");
}

#[tokio::test]
async fn logs_never_carry_a_session_id_or_a_secret() {
    guard::install();
    let store = MemoryStore::new();
    let server = TestServer::start(SessionLayer::new(config(), store)).await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        let mut c = server.client();
        c.get("/").await;
        c.post("/set?x=1").await;
        c.post("/cycle").await;
        c.post("/login?user=ada").await;
        let cookie = c.jar["connect.sid"].clone();
        ids.push(
            cookie
                .trim_start_matches("s%3A")
                .split('.')
                .next()
                .unwrap()
                .to_owned(),
        );
        c.send_with("GET", "/", Some("connect.sid=s%3Aforged.AAAA"))
            .await;
        c.send_with("GET", "/", Some("connect.sid=unsigned")).await;
        c.post("/logout").await;
    }
    let logs = guard::logs();
    for event in [
        "session created",
        "session regenerated",
        "session cycled",
        "session destroyed",
        "session cookie rejected",
    ] {
        assert!(logs.contains(event), "lifecycle event {event:?} is logged");
    }
    assert!(
        logs.contains("reason=\"bad_signature\"") || logs.contains("reason=bad_signature"),
        "rejections carry a reason"
    );
    for id in &ids {
        assert!(
            !logs.contains(id.as_str()),
            "a session id leaked into the logs"
        );
    }
    assert!(!logs.contains(SECRET), "the secret leaked into the logs");
    // Sessions are identified by a 12-hex-digit keyed hash.
    assert!(
        logs.lines().any(|l| l.contains("session created")
            && l.split("session=")
                .nth(1)
                .is_some_and(|h| h.len() >= 12 && h[..12].chars().all(|c| c.is_ascii_hexdigit()))),
        "hashed ids in events"
    );
}
