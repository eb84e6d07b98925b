//! IP pinning holds for every operation (issue #17): with the owner's cookie from
//! another address, a logout, a login, the REST DELETE or an unset never end the
//! owner's session; and pinning without a client address fails closed.

use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use session_core::{CookieOptions, Secrets, SessionConfig, SessionStore, Unset};
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
