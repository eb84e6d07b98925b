//! IP pinning holds for every operation (issue #17): with the owner's cookie from
//! another address, a logout, a login, the REST DELETE or an unset never end the
//! owner's session; and pinning without a client address fails closed.

use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use session_core::store::SessionStore;
use session_core::{CookieOptions, Secrets, SessionConfig, Unset};
use session_hyper::{SessionApiLayer, SessionLayer};
use session_store_memory::MemoryStore;
use session_tests::{Client, TestServer, guard};

fn pinned() -> SessionConfig {
    SessionConfig::builder(Secrets::new(["pinning secret"]).unwrap())
        .cookie(CookieOptions {
            max_age: Some(Duration::from_secs(600)),
            ..CookieOptions::default()
        })
        .ip_pinning(true)
        .unset(Unset::Destroy)
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_stolen_cookie_from_another_address_never_ends_the_owners_session() {
    let store = MemoryStore::new();
    let api = SessionApiLayer::new().methods([http::Method::GET, http::Method::DELETE]);
    let server =
        TestServer::start_with_api(SessionLayer::new(pinned(), store.clone()), Some(api)).await;
    let mut owner = server.client();
    owner.post("/login?user=ann").await;
    assert_eq!(owner.get("/read").await.json()["user"], "ann");
    for (method, path) in [
        ("POST", "/logout"),
        ("POST", "/login?user=eve"),
        ("DELETE", "/api/session"),
        ("POST", "/unset"),
    ] {
        let mut thief = owner.clone();
        thief.source_ip = Some("127.0.0.2".parse().unwrap());
        let r = thief.send(method, path).await;
        assert!(r.status.is_success(), "{method} {path}: {}", r.status);
        let mine = owner.get("/read").await;
        assert_eq!(
            mine.json()["user"],
            "ann",
            "{method} {path} from another address ended the owner's session"
        );
    }
    // The owner can still end it.
    let before = store.len().await.unwrap();
    owner.post("/logout").await;
    assert_eq!(store.len().await.unwrap(), before - 1);
    assert_eq!(
        owner.get("/read").await.json()["user"],
        serde_json::Value::Null
    );
}

/// A server that, unlike the test server, gives the layer no client address.
async fn serve_without_address(layer: SessionLayer) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let service = tower::ServiceBuilder::new()
                .layer(layer.clone())
                .service(tower::service_fn(session_tests::app::route));
            let service = TowerToHyperService::new(service);
            tokio::spawn(async move {
                let _ = Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn pinning_without_a_client_address_fails_closed_and_says_why() {
    guard::install();
    let store = MemoryStore::new();
    let addr = serve_without_address(SessionLayer::new(pinned(), store.clone())).await;
    let mut c = Client::new(addr);
    for _ in 0..3 {
        let r = c.get("/").await;
        assert_eq!(r.status, 500, "{}", r.body);
        assert!(r.set_cookies().is_empty());
    }
    assert_eq!(
        store.len().await.unwrap(),
        0,
        "no unpinned session was stored"
    );
    // A page that does not use the session still works.
    assert_eq!(c.get("/none").await.status, 200);
    let logs = guard::logs();
    assert!(logs.contains("needs the client address"), "{logs}");
}

/// Behind one trusted proxy that appends the address it saw (nginx's
/// `$proxy_add_x_forwarded_for`): whatever a thief puts in front, the entry the proxy
/// appended decides, so a forged `X-Forwarded-For` never reaches the owner's session.
#[tokio::test]
async fn a_forged_forwarded_for_never_reaches_the_owners_session() {
    const OWNER: &str = "203.0.113.7";
    const THIEF: &str = "198.51.100.9";
    let config = SessionConfig::builder(Secrets::new(["pinning secret"]).unwrap())
        .ip_pinning(true)
        .trust_proxy(true)
        .build()
        .unwrap();
    let server = TestServer::start(SessionLayer::new(config, MemoryStore::new())).await;
    let mut owner = server.client();
    // The proxy may write a port or an IPv4-mapped form: still the owner.
    owner.extra = vec![("x-forwarded-for".into(), format!("{OWNER}:51000"))];
    owner.post("/login?user=ann").await;
    owner.extra = vec![("x-forwarded-for".into(), format!("::ffff:{OWNER}"))];
    assert_eq!(owner.get("/read").await.json()["user"], "ann");

    let forgeries: [&[&str]; 5] = [
        &[OWNER],                        // the proxy appends a second header
        &[&format!("{OWNER}, ")],        // an empty entry before the proxy's
        &[&format!("{OWNER}:9999")],     // a port
        &[&format!("::ffff:{OWNER}")],   // an IPv4-mapped form
        &[&format!("{OWNER}, {OWNER}")], // two entries
    ];
    for forged in forgeries {
        let mut thief = owner.clone();
        thief.extra = forged
            .iter()
            .map(|v| ("x-forwarded-for".to_owned(), (*v).to_owned()))
            .collect();
        // What the proxy adds: the address it received the request from.
        thief.extra.push(("x-forwarded-for".into(), THIEF.into()));
        let r = thief.get("/read").await;
        assert_eq!(
            r.json()["user"],
            serde_json::Value::Null,
            "X-Forwarded-For {forged:?} reached the owner's session"
        );
        // The same in one header, as nginx joins them.
        thief.extra = vec![(
            "x-forwarded-for".into(),
            format!("{}, {THIEF}", forged.join(", ")),
        )];
        assert_eq!(
            thief.get("/read").await.json()["user"],
            serde_json::Value::Null,
            "X-Forwarded-For {forged:?}, {THIEF} reached the owner's session"
        );
    }
    assert_eq!(owner.get("/read").await.json()["user"], "ann");

    // Two trusted hops (a CDN, then a load balancer): the CDN's entry decides.
    let config = SessionConfig::builder(Secrets::new(["pinning secret"]).unwrap())
        .ip_pinning(true)
        .trust_proxy(session_core::TrustProxy::hops(2))
        .build()
        .unwrap();
    let server = TestServer::start(SessionLayer::new(config, MemoryStore::new())).await;
    let mut owner = server.client();
    owner.extra = vec![("x-forwarded-for".into(), format!("{OWNER}, 10.0.0.5"))];
    owner.post("/login?user=ann").await;
    assert_eq!(owner.get("/read").await.json()["user"], "ann");
    let mut thief = owner.clone();
    thief.extra = vec![(
        "x-forwarded-for".into(),
        format!("{OWNER}, {THIEF}, 10.0.0.5"),
    )];
    assert_eq!(
        thief.get("/read").await.json()["user"],
        serde_json::Value::Null
    );
    assert_eq!(owner.get("/read").await.json()["user"], "ann");
}
