//! The layer in an axum app, with `Session` as an extractor, over a real server.

use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use session_core::{CookieOptions, Secrets, Session, SessionConfig};
use session_hyper::SessionLayer;
use session_store_memory::MemoryStore;
use session_tests::Client;

async fn counter(session: Session) -> String {
    let views = session.get::<u64>("views").await.unwrap().unwrap_or(0) + 1;
    session.insert("views", views).await.unwrap();
    views.to_string()
}

async fn logout(axum::Extension(session): axum::Extension<Session>) -> &'static str {
    session.destroy().await.unwrap();
    "bye"
}

#[tokio::test]
async fn sessions_work_in_axum_with_the_extractor_and_extension() {
    let config = SessionConfig::builder(Secrets::new(["keyboard cat"]).unwrap())
        .cookie(CookieOptions {
            max_age: Some(Duration::from_secs(60)),
            ..CookieOptions::default()
        })
        .build()
        .unwrap();
    let app = Router::new()
        .route("/", get(counter))
        .route("/logout", post(logout))
        .layer(SessionLayer::new(config, MemoryStore::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let mut c = Client::new(addr);
    for n in 1..=3 {
        assert_eq!(c.get("/").await.body, n.to_string());
    }
    let r = c.post("/logout").await;
    assert_eq!(r.body, "bye");
    assert!(r.set_cookie("connect.sid").unwrap().contains("1970"));
    assert_eq!(c.get("/").await.body, "1");
    server.abort();
}

#[tokio::test]
async fn the_extractor_without_the_layer_is_a_clear_500() {
    let app = Router::new().route("/", get(counter));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let r = Client::new(addr).get("/").await;
    assert_eq!(r.status, 500);
    assert!(r.body.contains("session layer"), "{}", r.body);
    server.abort();
}

/// Serves `app` on a free loopback port.
async fn serve(app: Router) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, server)
}

/// express decides whether the cookie path applies from the original URL; inside a
/// nested router the layer sees the path with the prefix stripped, so it must look at
/// axum's `OriginalUri`.
#[tokio::test]
async fn the_cookie_path_applies_to_the_original_url_in_a_nested_router() {
    let config = || {
        SessionConfig::builder(Secrets::new(["keyboard cat"]).unwrap())
            .cookie(CookieOptions {
                path: "/foo/bar".into(),
                max_age: Some(Duration::from_secs(60)),
                ..CookieOptions::default()
            })
            .build()
            .unwrap()
    };
    let inner = Router::new()
        .route("/bar", get(counter))
        .route("/foo/bar", get(counter))
        .layer(SessionLayer::new(config(), MemoryStore::new()));
    let (nested, server) = serve(Router::new().nest("/foo", inner)).await;
    let mut c = Client::new(nested);
    let r = c.get("/foo/bar").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, "1");
    assert!(
        r.set_cookie("connect.sid")
            .unwrap()
            .contains("Path=/foo/bar")
    );
    assert_eq!(c.get("/foo/bar").await.body, "2");
    // /foo/foo/bar is outside /foo/bar: no session, whatever the inner router sees.
    let outside = c.get("/foo/foo/bar").await;
    assert_eq!(outside.status, 500, "the extractor finds no session");
    assert!(outside.set_cookie("connect.sid").is_none());
    server.abort();

    // Not nested: the same rule.
    let flat = Router::new()
        .route("/foo/bar", get(counter))
        .route("/elsewhere", get(counter))
        .layer(SessionLayer::new(config(), MemoryStore::new()));
    let (addr, server) = serve(flat).await;
    let mut c = Client::new(addr);
    assert_eq!(c.get("/foo/bar").await.body, "1");
    assert_eq!(c.get("/foo/bar").await.body, "2");
    let outside = c.get("/elsewhere").await;
    assert_eq!(outside.status, 500);
    assert!(outside.set_cookie("connect.sid").is_none());
    server.abort();
}

/// Handlers use `?` on session errors; each answers with its own status, never 200.
#[tokio::test]
async fn session_errors_are_responses_with_the_right_status() {
    use session_tests::{Op, TestStore};

    // `update` saves at once and undoes a change it cannot save, so the 413 stands.
    async fn set(
        session: Session,
        axum::extract::Path(key): axum::extract::Path<String>,
    ) -> Result<String, session_core::Error> {
        session.insert(&key, "small").await?;
        session
            .update(|data| data.insert("notes".into(), "x".repeat(2000).into()))
            .await?;
        Ok("saved".into())
    }
    let config = SessionConfig::builder(Secrets::new(["keyboard cat"]).unwrap())
        .max_record_bytes(1000)
        .build()
        .unwrap();
    let store = TestStore::new(MemoryStore::new());
    let app = Router::new()
        .route("/", get(counter_or_error))
        .route("/set/{key}", post(set))
        .layer(SessionLayer::new(config, store.clone()));
    let (addr, server) = serve(app).await;
    let mut c = Client::new(addr);
    assert_eq!(c.get("/").await.body, "1");

    let reserved = c.post("/set/cookie").await;
    assert_eq!(reserved.status, 400, "{}", reserved.body);
    assert!(reserved.body.contains("reserved"), "{}", reserved.body);
    let big = c.post("/set/notes").await;
    assert_eq!(big.status, 413, "{}", big.body);

    store.fail(Op::Load, true);
    let down = c.get("/").await;
    assert_eq!(down.status, 503, "{}", down.body);
    assert_eq!(down.header("retry-after").as_deref(), Some("1"));
    store.fail(Op::Load, false);
    server.abort();
}

async fn counter_or_error(session: Session) -> Result<String, session_core::Error> {
    let views = session.get::<u64>("views").await?.unwrap_or(0) + 1;
    session.insert("views", views).await?;
    Ok(views.to_string())
}
