//! What h3, Nitro, @scayle/h3-session and nuxt-session users rely on, through a real
//! hyper server: the header transport, the session REST endpoints (allow-list, body
//! limit, invalid JSON), IP pinning (real peer addresses 127.0.0.1 / 127.0.0.2, and
//! `X-Forwarded-For` behind a trusted proxy), the h3-style helpers, the initial-data
//! hook, store access from a handler, and the @scayle/h3-session compatibility mode.
use std::time::Duration;

use http::Method;
use serde_json::json;
use session_core::store::{Record, SessionStore};
use session_core::{Compat, CookieOptions, Secrets, SessionConfig, SessionId};
use session_hyper::{SessionApiLayer, SessionLayer};
use session_store_memory::MemoryStore;
use session_tests::{Client, Op, TestServer, TestStore, guard};

const SECRET: &str = "h3 features secret";
const HEADER: &str = "x-connect.sid-session";

fn builder() -> session_core::SessionConfigBuilder {
    SessionConfig::builder(Secrets::new([SECRET]).unwrap()).cookie(CookieOptions {
        max_age: Some(Duration::from_secs(600)),
        ..CookieOptions::default()
    })
}

async fn serve(config: SessionConfig) -> TestServer {
    TestServer::start(SessionLayer::new(config, MemoryStore::new())).await
}

/// A request carrying only the session header (no cookies).
async fn with_header(c: &Client, path: &str, value: Option<&str>) -> session_tests::Reply {
    let mut c = c.clone();
    c.jar.clear();
    if let Some(v) = value {
        c.extra.push((HEADER.to_owned(), v.to_owned()));
    }
    c.send("GET", path).await
}

// ---- header transport ----------------------------------------------------------------

#[tokio::test]
async fn a_header_only_client_keeps_its_session() {
    let server = serve(builder().header_transport(true).build().unwrap()).await;
    let c = server.client();
    // A header client without a session yet sends the header empty.
    let first = with_header(&c, "/", Some("")).await;
    assert_eq!(first.json()["views"], 1);
    let token = first
        .header(HEADER)
        .expect("the session header is returned");
    assert!(
        token.starts_with("s%3A"),
        "the cookie's signed value: {token}"
    );
    // The same value as the cookie.
    let cookie = first.set_cookie("connect.sid").unwrap();
    assert!(cookie.starts_with(&format!("connect.sid={token};")));
    for n in 2..=4 {
        let r = with_header(&c, "/", Some(&token)).await;
        assert_eq!(r.json()["views"], n, "no cookie, only the header");
    }
    // Unencoded `s:` values work too.
    let raw = token
        .replace("%3A", ":")
        .replace("%2B", "+")
        .replace("%2F", "/");
    assert_eq!(with_header(&c, "/", Some(&raw)).await.json()["views"], 5);
}

#[tokio::test]
async fn the_cookie_still_works_and_a_valid_header_wins() {
    let server = serve(builder().header_transport(true).build().unwrap()).await;
    let mut a = server.client();
    a.extra.push((HEADER.to_owned(), String::new()));
    let token_a = a.get("/").await.header(HEADER).unwrap();
    a.extra.clear();
    a.get("/").await; // a: 2 views, by cookie
    let mut b = server.client();
    b.get("/").await; // b: 1 view, by cookie
    assert_eq!(b.get("/").await.json()["views"], 2, "cookies keep working");
    // b's cookie and a's header: the header wins.
    let mut both = b.clone();
    both.extra.push((HEADER.to_owned(), token_a.clone()));
    assert_eq!(both.get("/read").await.json()["views"], 2);
    assert_eq!(both.get("/").await.json()["views"], 3, "a's session");
    // A forged header falls back to the cookie.
    let mut forged = b.clone();
    forged
        .extra
        .push((HEADER.to_owned(), "s%3Aforged.AAAA".to_owned()));
    assert_eq!(forged.get("/").await.json()["views"], 3, "b's session");
}

/// The token never goes where page scripts or shared caches could keep it: only to a
/// request that carried the header, with `Cache-Control: no-store`, and the header is
/// named in `Vary`.
#[tokio::test]
async fn the_token_goes_only_to_header_clients_and_is_never_cached() {
    let server = serve(builder().header_transport(true).build().unwrap()).await;
    let vary = |r: &session_tests::Reply| {
        r.headers
            .get_all("vary")
            .iter()
            .map(|v| v.to_str().unwrap().to_ascii_lowercase())
            .collect::<Vec<_>>()
            .join(", ")
    };
    // A browser that only uses the cookie.
    let mut browser = server.client();
    for _ in 0..2 {
        let r = browser.get("/").await;
        assert!(r.set_cookie("connect.sid").is_some());
        assert!(
            r.header(HEADER).is_none(),
            "the token was sent to a cookie-only client"
        );
        assert!(
            vary(&r).contains("cookie") && vary(&r).contains(HEADER),
            "{}",
            vary(&r)
        );
    }
    // A page script adding the header (empty, or forged) to the browser's requests:
    // the cookie's session answers, and its id never comes back in the header.
    for value in ["", "s%3Aforged.AAAA"] {
        let mut script = browser.clone();
        script.extra = vec![(HEADER.to_owned(), value.to_owned())];
        let r = script.get("/").await;
        assert!(r.json()["views"].as_u64() > Some(1), "the cookie's session");
        assert!(
            r.set_cookie("connect.sid").is_some(),
            "the session's cookie is re-sent (the test needs a response that sets it)"
        );
        assert!(
            r.header(HEADER).is_none(),
            "the cookie session's token was sent to a script ({value:?})"
        );
    }
    // A header client: the token, never stored by a cache.
    let c = server.client();
    let first = with_header(&c, "/", Some("")).await;
    let token = first.header(HEADER).expect("the token, to a header client");
    let cache = first.header("cache-control").unwrap_or_default();
    assert!(cache.contains("no-store"), "Cache-Control: {cache}");
    assert!(vary(&first).contains(HEADER), "{}", vary(&first));
    let again = with_header(&c, "/", Some(&token)).await;
    assert_eq!(again.json()["views"], 2);
    if again.header(HEADER).is_some() {
        let cache = again.header("cache-control").unwrap_or_default();
        assert!(cache.contains("no-store"), "Cache-Control: {cache}");
    }
}

#[tokio::test]
async fn the_header_is_ignored_unless_enabled_and_can_be_renamed() {
    let server = serve(builder().build().unwrap()).await;
    let c = server.client();
    let first = with_header(&c, "/", None).await;
    assert!(first.header(HEADER).is_none());
    let cookie = first.set_cookie("connect.sid").unwrap();
    let value = cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("connect.sid=");
    let r = with_header(&c, "/", Some(value)).await;
    assert_eq!(r.json()["views"], 1, "transport off: a new session");

    let server = serve(builder().header_name("X-Session-Token").build().unwrap()).await;
    let mut c = server.client();
    c.jar.clear();
    c.extra.push(("X-Session-Token".into(), String::new()));
    let token = c
        .send_with("GET", "/", None)
        .await
        .header("x-session-token")
        .unwrap();
    c.extra = vec![("x-session-token".into(), token)];
    assert_eq!(c.send_with("GET", "/", None).await.json()["views"], 2);

    assert!(
        builder().header_name("cookie").build().is_err(),
        "the cookie header cannot carry it"
    );
}

// ---- REST endpoints ------------------------------------------------------------------

async fn api_server(api: SessionApiLayer) -> TestServer {
    guard::install();
    TestServer::start_with_api(
        SessionLayer::new(builder().build().unwrap(), MemoryStore::new()),
        Some(api),
    )
    .await
}

const JSON: &str = "application/json";

async fn call(c: &mut Client, method: &str, body: Option<&str>) -> session_tests::Reply {
    let r = match body {
        Some(b) => c.send_body(method, "/api/session", JSON, b).await,
        None => {
            let cookie = c.cookie_header();
            c.send_with(method, "/api/session", cookie.as_deref()).await
        }
    };
    for sc in r.set_cookies() {
        let pair = sc.split(';').next().unwrap();
        let (name, value) = pair.split_once('=').unwrap();
        if value.is_empty() || sc.contains("Expires=Thu, 01 Jan 1970") {
            c.jar.remove(name);
        } else {
            c.jar.insert(name.to_owned(), value.to_owned());
        }
    }
    r
}

#[tokio::test]
async fn session_endpoints_read_overwrite_merge_and_destroy() {
    let api =
        SessionApiLayer::new().methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE]);
    let server = api_server(api).await;
    let mut c = server.client();
    let r = call(&mut c, "GET", None).await;
    assert_eq!((r.status.as_u16(), r.json()), (200, json!({})));
    assert!(r.set_cookies().is_empty(), "reading stores nothing");

    let r = call(&mut c, "POST", Some(r#"{"a":1,"b":{"c":[1,2]}}"#)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"a":1,"b":{"c":[1,2]}}));
    assert!(
        c.jar.contains_key("connect.sid"),
        "writing creates the session"
    );

    let r = call(&mut c, "PATCH", Some(r#"{"b":3,"d":"x"}"#)).await;
    assert_eq!(r.json(), json!({"a":1,"b":3,"d":"x"}));
    assert_eq!(
        c.get("/read").await.json(),
        json!({"a":1,"b":3,"d":"x"}),
        "stored"
    );

    let r = call(&mut c, "POST", Some(r#"{"z":true}"#)).await;
    assert_eq!(r.json(), json!({"z":true}), "POST overwrites");

    let r = call(&mut c, "DELETE", None).await;
    assert_eq!(r.status, 204);
    assert!(!c.jar.contains_key("connect.sid"), "the cookie is removed");
    assert_eq!(call(&mut c, "GET", None).await.json(), json!({}));
}

#[tokio::test]
async fn bad_bodies_get_a_clear_4xx_and_change_nothing() {
    let api = SessionApiLayer::new()
        .methods([Method::GET, Method::POST, Method::PATCH])
        .body_limit(64);
    let server = api_server(api).await;
    let mut c = server.client();
    call(&mut c, "POST", Some(r#"{"keep":1}"#)).await;
    for (body, status, says) in [
        ("{not json", 400, "invalid JSON"),
        ("[1,2,3]", 400, "JSON object"),
        ("", 400, "invalid JSON"),
        (r#"{"cookie":{}}"#, 400, "reserved"),
        (r#"{"__sessionMeta":1}"#, 400, "reserved"),
        (
            &format!(r#"{{"big":"{}"}}"#, "x".repeat(100)),
            413,
            "larger than 64 bytes",
        ),
    ] {
        let r = call(&mut c, "PATCH", Some(body)).await;
        assert_eq!(r.status.as_u16(), status, "{body:?}: {}", r.body);
        let error = r.json()["error"].as_str().unwrap_or_default().to_owned();
        assert!(error.contains(says), "{body:?}: {error}");
    }
    let r = c
        .send_body("PATCH", "/api/session", "text/plain", r#"{"a":1}"#)
        .await;
    assert_eq!(r.status, 415, "only application/json");
    assert_eq!(call(&mut c, "GET", None).await.json(), json!({"keep":1}));
}

/// Keys starting with `__` belong to the server: a client can neither set them nor,
/// by replacing the data, remove them. Growing the session past its limit is the
/// client's mistake: 413, nothing changed, nothing logged as an error.
#[tokio::test]
async fn clients_never_write_server_keys_nor_log_errors_by_growing_the_session() {
    guard::install();
    let config = builder().max_record_bytes(600).build().unwrap();
    let api = SessionApiLayer::new().methods([Method::GET, Method::POST, Method::PATCH]);
    let server =
        TestServer::start_with_api(SessionLayer::new(config, MemoryStore::new()), Some(api)).await;
    let mut c = server.client();
    c.post("/set?__role=user&name=ann").await;
    for method in ["PATCH", "POST"] {
        let r = call(&mut c, method, Some(r#"{"__role":"admin"}"#)).await;
        assert_eq!(r.status, 400, "{method}: {}", r.body);
        assert!(r.body.contains("reserved"), "{}", r.body);
    }
    let r = call(&mut c, "POST", Some(r#"{"theme":"dark"}"#)).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!({"__role":"user","theme":"dark"}),
        "POST replaces the client's keys only"
    );
    assert_eq!(c.get("/read").await.json()["__role"], "user");

    // Past the 600-byte limit (the body itself is within the 16 KiB body limit).
    let big = format!(r#"{{"notes":"{}"}}"#, "x".repeat(1000));
    for method in ["PATCH", "POST"] {
        let r = call(&mut c, method, Some(&big)).await;
        assert_eq!(r.status, 413, "{method}: {}", r.body);
        assert!(r.body.contains("exceeds the limit"), "{}", r.body);
    }
    assert_eq!(
        c.get("/read").await.json(),
        json!({"__role":"user","theme":"dark"}),
        "nothing changed"
    );
    let logs = guard::logs();
    let errors: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("ERROR") && l.contains("limit of 600 bytes"))
        .collect();
    assert!(errors.is_empty(), "client-caused error lines: {errors:?}");
}

/// A REST write the store refused is refused as a whole: the end of the request does
/// not write it behind the client's back once the store is back.
#[tokio::test]
async fn a_rest_write_the_store_refused_changes_nothing() {
    let store = TestStore::new(MemoryStore::new());
    let api = SessionApiLayer::new().methods([Method::GET, Method::POST, Method::PATCH]);
    let layer = SessionLayer::new(builder().build().unwrap(), store.clone());
    let server = TestServer::start_with_api(layer, Some(api)).await;
    let mut c = server.client();
    assert_eq!(call(&mut c, "POST", Some(r#"{"a":1}"#)).await.status, 200);
    store.fail_once(Op::Save);
    let r = call(&mut c, "PATCH", Some(r#"{"a":2}"#)).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(
        call(&mut c, "GET", None).await.json(),
        json!({"a":1}),
        "the refused change was written after all"
    );
}

#[tokio::test]
async fn methods_off_the_allow_list_are_not_routed() {
    let server = api_server(SessionApiLayer::new()).await; // GET only
    let mut c = server.client();
    c.post("/set?user=ada").await;
    for method in ["POST", "PATCH", "DELETE"] {
        let r = call(
            &mut c,
            method,
            if method == "DELETE" {
                None
            } else {
                Some(r#"{"user":"eve"}"#)
            },
        )
        .await;
        assert_eq!(
            r.json()["error"],
            "not found",
            "{method} reaches the app's own routes, not the endpoint"
        );
    }
    assert_eq!(
        call(&mut c, "GET", None).await.json(),
        json!({"user":"ada"})
    );
    // Only the exact base path.
    assert_eq!(c.get("/api/session/x").await.json()["error"], "not found");

    let moved = api_server(SessionApiLayer::new().with_base_path("/_session")).await;
    let mut c = moved.client();
    c.post("/set?k=v").await;
    let cookie = c.cookie_header();
    let r = c.send_with("GET", "/_session", cookie.as_deref()).await;
    assert_eq!(r.json(), json!({"k":"v"}));
}

// ---- IP pinning ----------------------------------------------------------------------

#[tokio::test]
async fn a_session_is_pinned_to_the_peer_address() {
    guard::install();
    let server = serve(builder().ip_pinning(true).build().unwrap()).await;
    let mut owner = server.client();
    owner.get("/").await;
    assert_eq!(owner.get("/").await.json()["views"], 2);
    // The same cookie from another address: a fresh session, the owner's is untouched.
    let mut thief = owner.clone();
    thief.source_ip = Some("127.0.0.2".parse().unwrap());
    let r = thief.get("/").await;
    assert_eq!(r.json()["views"], 1, "another address gets a fresh session");
    assert_ne!(thief.jar["connect.sid"], owner.jar["connect.sid"]);
    assert_eq!(
        owner.get("/").await.json()["views"],
        3,
        "the owner keeps theirs"
    );
    let logs = guard::logs();
    assert!(logs.contains("ip_mismatch"), "the mismatch is logged");
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_pins() {
    let trusted = serve(
        builder()
            .ip_pinning(true)
            .trust_proxy(true)
            .build()
            .unwrap(),
    )
    .await;
    let mut c = trusted.client();
    c.extra
        .push(("x-forwarded-for".into(), "10.0.0.1, 203.0.113.7".into()));
    c.get("/").await;
    assert_eq!(c.get("/").await.json()["views"], 2);
    let mut moved = c.clone();
    moved.extra = vec![("x-forwarded-for".into(), "198.51.100.1".into())];
    assert_eq!(moved.get("/").await.json()["views"], 1);

    // Without trust, X-Forwarded-For is ignored: it can neither pin nor unpin.
    let untrusted = serve(builder().ip_pinning(true).build().unwrap()).await;
    let mut c = untrusted.client();
    c.extra
        .push(("x-forwarded-for".into(), "203.0.113.7".into()));
    c.get("/").await;
    c.extra = vec![("x-forwarded-for".into(), "198.51.100.1".into())];
    assert_eq!(c.get("/").await.json()["views"], 2);
}

#[tokio::test]
async fn the_record_keeps_a_hash_not_the_address() {
    let store = MemoryStore::new();
    let server = TestServer::start(SessionLayer::new(
        builder().ip_pinning(true).build().unwrap(),
        store.clone(),
    ))
    .await;
    let mut c = server.client();
    c.extra
        .push(("x-forwarded-for".into(), "203.0.113.7".into()));
    c.get("/").await;
    let all = store.all().await.unwrap();
    let encoded = String::from_utf8(all[0].1.encode()).unwrap();
    assert!(encoded.contains("clientPin"), "{encoded}");
    assert!(!encoded.contains("127.0.0.1") && !encoded.contains("203.0.113.7"));
}

// ---- helpers, initial data, store access ---------------------------------------------

#[tokio::test]
async fn h3_style_helpers_work_through_the_layer() {
    let server = serve(builder().build().unwrap()).await;
    let mut c = server.client();
    assert_eq!(c.get("/h3/count").await.json()["count"], 1);
    let r = c.get("/h3/count").await;
    assert_eq!(r.json()["count"], 2);
    assert!(r.json()["id"].as_str().is_some_and(|id| id.len() == 32));
    c.post("/h3/clear").await;
    assert!(
        !c.jar.contains_key("connect.sid"),
        "clear_session removes the cookie"
    );
    assert_eq!(c.get("/h3/count").await.json()["count"], 1, "a new session");
}

#[tokio::test]
async fn initial_data_is_the_starting_state_not_a_change() {
    let store = MemoryStore::new();
    let config = builder()
        .initial_data(|| {
            let mut m = serde_json::Map::new();
            m.insert("cart".into(), json!([]));
            m
        })
        .build()
        .unwrap();
    let server = TestServer::start(SessionLayer::new(config, store.clone())).await;
    let mut c = server.client();
    let r = c.get("/read").await;
    assert_eq!(r.json(), json!({"cart": []}));
    assert!(r.set_cookies().is_empty(), "not saved: nothing was stored");
    assert_eq!(store.len().await.unwrap(), 0);
    c.post("/set?x=1").await;
    assert_eq!(c.get("/read").await.json(), json!({"cart": [], "x": "1"}));
}

#[tokio::test]
async fn a_handler_can_end_every_session_of_a_user_through_the_store() {
    let store = MemoryStore::new();
    let server =
        TestServer::start(SessionLayer::new(builder().build().unwrap(), store.clone())).await;
    let mut clients = Vec::new();
    for user in ["ada", "ada", "bob"] {
        let mut c = server.client();
        c.post(&format!("/login?user={user}")).await;
        clients.push(c);
    }
    let mut admin = server.client();
    assert_eq!(
        admin.post("/admin/end-user?user=ada").await.json()["ended"],
        2
    );
    assert_eq!(clients[0].get("/read").await.json(), json!({}));
    assert_eq!(clients[1].get("/read").await.json(), json!({}));
    assert_eq!(clients[2].get("/read").await.json()["user"], "bob");
}

// ---- @scayle/h3-session compatibility mode ------------------------------------------

fn h3_config(secrets: Secrets) -> Result<SessionConfig, session_core::Error> {
    SessionConfig::builder(secrets)
        .compat(Compat::H3Session)
        .build()
}

#[test]
fn the_signing_secret_must_be_explicit_in_h3_mode() {
    let err = h3_config(Secrets::new(["old", "new"]).unwrap()).unwrap_err();
    assert!(err.to_string().contains("LAST secret"), "{err}");
    let config = h3_config(Secrets::last_signs(["old", "new"]).unwrap()).unwrap();
    assert!(
        format!("{config:?}").contains("rolling: true"),
        "h3-session re-sends the cookie on every response"
    );
}

#[tokio::test]
async fn h3_mode_writes_data_only_records_and_max_age_cookies() {
    let store = MemoryStore::new();
    let config = h3_config(Secrets::last_signs(["old", "mySecret"]).unwrap()).unwrap();
    let server = TestServer::start(SessionLayer::new(config, store.clone())).await;
    let mut c = server.client();
    let r = c.post("/set?user=luke").await;
    let cookie = r.set_cookie("connect.sid").unwrap();
    assert!(cookie.contains("Max-Age=86400"), "{cookie}");
    assert!(!cookie.contains("Expires"), "{cookie}");
    let (id, record) = store.all().await.unwrap().remove(0);
    assert_eq!(
        String::from_utf8(record.encode()).unwrap(),
        r#"{"user":"luke"}"#
    );
    // Signed with the LAST secret: the h3-session known answer.
    let signed = session_core::wire::sign(id.expose(), b"mySecret");
    assert!(cookie.starts_with(&format!(
        "connect.sid={}",
        session_core::wire::encode_uri_component(&format!("s:{signed}"))
    )));
    // Re-sent on a read (rolling), and a record written without a cookie loads.
    let luke = SessionId::parse("Luke").unwrap();
    let record = Record::decode(br#"{"user":"luke","n":1}"#, 1024).unwrap();
    store.create(&luke, &record).await.unwrap();
    let mut lc = server.client();
    lc.jar.insert(
        "connect.sid".into(),
        "s%3ALuke.qgkMwFbWmKhCsCGpAgWunY49jYk1ULKSJFyxnx37tuo".into(),
    );
    let r = lc.get("/read").await;
    assert_eq!(r.json(), json!({"user":"luke","n":1}));
    assert!(
        r.set_cookie("connect.sid")
            .is_some_and(|c| c.contains("Max-Age=86400"))
    );
}

#[tokio::test]
async fn h3_mode_is_off_by_default() {
    let server = serve(builder().build().unwrap()).await;
    let mut c = server.client();
    let cookie = c.post("/set?a=1").await.set_cookie("connect.sid").unwrap();
    assert!(cookie.contains("Expires=") && !cookie.contains("Max-Age"));
}

/// express lets a handler set `req.session.cookie.*` for one session: the attributes
/// reach `Set-Cookie` and the stored record's `cookie` object (as express stores them),
/// validated like configuration and never weaker than it.
#[tokio::test]
async fn a_handler_sets_cookie_attributes_for_one_session() {
    let store = MemoryStore::new();
    let config = builder()
        .cookie(CookieOptions {
            max_age: Some(Duration::from_secs(600)),
            http_only: false,
            ..CookieOptions::default()
        })
        .build()
        .unwrap();
    let server = TestServer::start(SessionLayer::new(config, store.clone())).await;
    let mut c = server.client();
    let r = c
        .post("/cookie?path=/&domain=example.test&sameSite=strict&httpOnly=true&user=ann")
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let sc = r.set_cookie("connect.sid").unwrap();
    for attr in [
        "Path=/",
        "Domain=example.test",
        "SameSite=Strict",
        "HttpOnly",
    ] {
        assert!(sc.split("; ").any(|a| a == attr), "{attr} in {sc}");
    }
    let all = store.all().await.unwrap();
    let stored: serde_json::Value = serde_json::from_slice(&all[0].1.encode()).unwrap();
    assert_eq!(stored["cookie"]["domain"], "example.test");
    assert_eq!(stored["cookie"]["sameSite"], "strict");
    assert_eq!(stored["cookie"]["httpOnly"], true);

    // Refused like configuration: attribute injection, SameSite=None without Secure.
    for bad in [
        "path=/;%20Domain=evil.example",
        "sameSite=none",
        "domain=a%0Db",
    ] {
        let r = c.post(&format!("/cookie?{bad}")).await;
        assert_eq!(r.status, 418, "{bad}: {}", r.body);
        assert!(
            r.body.contains("invalid configuration") || r.body.contains("cookie."),
            "{}",
            r.body
        );
    }
    let sc = c
        .post("/cookie?x=1")
        .await
        .set_cookie("connect.sid")
        .unwrap();
    assert!(
        !sc.contains("evil") && !sc.contains("SameSite=None"),
        "{sc}"
    );

    // Never weaker than configured: HttpOnly configured, so it cannot be turned off.
    let strict = TestServer::start(SessionLayer::new(
        builder().build().unwrap(),
        MemoryStore::new(),
    ))
    .await;
    let mut c = strict.client();
    let r = c.post("/cookie?httpOnly=false").await;
    assert_eq!(r.status, 418, "{}", r.body);
}
