//! The demo server: sessions on plain hyper 1, memory store by default.
//!
//! ```text
//! cargo run -p session-hyper --example demo
//! ```
//! Environment: `SESSION_SECRET` (comma-separated, the first signs), `PORT` (3000),
//! `HOST` (127.0.0.1), `REDIS_URL` (use the Redis store: `redis://host:port/db`, or a
//! comma-separated list of cluster nodes), `RUST_LOG` and `LOG_FORMAT=json` (logs),
//! `METRICS_PORT` (a Prometheus endpoint at `/metrics`).
//!
//! The HTML page for trying it in a browser: `GET /app` (see `page.rs`). JSON routes:
//! - `GET /`: increments `views`, answers `{"views":N}`
//! - `GET /session`: the session data, read-only
//! - `POST /login?user=NAME`: regenerates the session, stores `user`
//! - `POST /set?KEY=VALUE&...`: stores each pair as a string, answers the data
//! - `POST /logout`: destroys the session, answers `{}`
//! - `POST /incr`: increments `counter` atomically, answers `{"counter":N}`

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use serde_json::{Value, json};
use session_core::{CookieOptions, Error, SameSite, Secrets, Secure, Session, SessionConfig};
use session_hyper::SessionLayer;
use session_store_memory::MemoryStore;
use session_store_redis::RedisStore;
use tower::ServiceBuilder;

mod page;
mod telemetry;

const DEV_SECRET: &str = "development secret: set SESSION_SECRET in production";

type Body = Full<Bytes>;

async fn route(req: Request<hyper::body::Incoming>) -> Result<Response<Body>, Infallible> {
    let Some(session) = req.extensions().get::<Session>().cloned() else {
        return Ok(reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"error": "no session layer"}),
        ));
    };
    Ok(match (req.method(), req.uri().path()) {
        (&Method::GET, "/app") => page_or_error(page::show(&session).await),
        (&Method::POST, "/app/login") => {
            page_or_error(page::login(&session, req.into_body()).await)
        }
        (&Method::POST, "/app/logout") => page_or_error(page::logout(&session).await),
        _ => api(&session, &req).await,
    })
}

/// The JSON routes.
async fn api<B>(session: &Session, req: &Request<B>) -> Response<Body> {
    let query = req.uri().query().unwrap_or("");
    let result = match (req.method(), req.uri().path()) {
        (&Method::GET, "/") => views(session).await,
        (&Method::GET, "/session") => session.data().await.map(Value::Object),
        (&Method::POST, "/login") => login(session, query).await,
        (&Method::POST, "/set") => set(session, query).await,
        (&Method::POST, "/logout") => session.destroy().await.map(|()| json!({})),
        (&Method::POST, "/incr") => incr(session).await,
        _ => return reply(StatusCode::NOT_FOUND, json!({"error": "not found"})),
    };
    match result {
        Ok(body) => reply(StatusCode::OK, body),
        Err(e) => error_reply(&e),
    }
}

fn page_or_error(page: Result<Response<Body>, Error>) -> Response<Body> {
    page.unwrap_or_else(|e| error_reply(&e))
}

fn error_reply(e: &Error) -> Response<Body> {
    let status = if e.is_store() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::BAD_REQUEST
    };
    reply(status, json!({"error": e.to_string()}))
}

async fn views(session: &Session) -> Result<Value, Error> {
    let views = session.get::<u64>("views").await?.unwrap_or(0) + 1;
    session.insert("views", views).await?;
    Ok(json!({ "views": views }))
}

/// Exact under concurrency: `update` re-runs on the latest data if another request
/// saved in between.
async fn incr(session: &Session) -> Result<Value, Error> {
    let counter = session
        .update(|data| {
            let n = data.get("counter").and_then(Value::as_u64).unwrap_or(0) + 1;
            data.insert("counter".into(), n.into());
            n
        })
        .await?;
    Ok(json!({ "counter": counter }))
}

async fn login(session: &Session, query: &str) -> Result<Value, Error> {
    let user = pairs(query)
        .into_iter()
        .find(|(k, _)| k == "user")
        .map(|(_, v)| v)
        .unwrap_or_default();
    session.regenerate().await?;
    session.insert("user", &user).await?;
    Ok(json!({ "user": user }))
}

async fn set(session: &Session, query: &str) -> Result<Value, Error> {
    for (k, v) in pairs(query) {
        session.insert(&k, v).await?;
    }
    session.data().await.map(Value::Object)
}

fn pairs(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

fn reply(status: StatusCode, body: Value) -> Response<Body> {
    let mut res = Response::new(Full::from(body.to_string()));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    res
}

fn config() -> Result<SessionConfig, Error> {
    let secrets: Vec<String> = match std::env::var("SESSION_SECRET") {
        Ok(list) if !list.trim().is_empty() => {
            list.split(',').map(|s| s.trim().to_owned()).collect()
        }
        _ => {
            eprintln!(
                "warning: SESSION_SECRET is not set; using a fixed development secret (never do this in production)"
            );
            vec![DEV_SECRET.to_owned()]
        }
    };
    SessionConfig::builder(Secrets::new(secrets)?)
        .cookie(CookieOptions {
            max_age: Some(Duration::from_secs(24 * 3600)),
            // Secure only over HTTPS, so the cookie also works on plain http://127.0.0.1.
            secure: Secure::Auto,
            // Not sent on cross-site POSTs (a form on another site cannot sign you out).
            same_site: Some(SameSite::Lax),
            ..CookieOptions::default()
        })
        .build()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    telemetry::init_logs();
    let (layer, store_name) = match std::env::var("REDIS_URL") {
        Ok(url) if url.contains(',') => {
            let nodes: Vec<String> = url.split(',').map(|s| s.trim().to_owned()).collect();
            let store = RedisStore::builder().connect_cluster(nodes).await?;
            (SessionLayer::new(config()?, store), "redis cluster store")
        }
        Ok(url) if !url.is_empty() => {
            let store = RedisStore::builder().connect(&url).await?;
            (SessionLayer::new(config()?, store), "redis store")
        }
        _ => (
            SessionLayer::new(config()?, MemoryStore::new()),
            "memory store",
        ),
    };
    let service = ServiceBuilder::new()
        .layer(layer)
        .service(tower::service_fn(route));

    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let listener = tokio::net::TcpListener::bind((host.as_str(), port)).await?;
    if let Some(addr) = telemetry::init_metrics(&host)? {
        println!("metrics on http://{addr}/metrics");
    }
    println!(
        "listening on http://{} ({store_name})",
        listener.local_addr()?
    );

    loop {
        let (tcp, _) = tokio::select! {
            accepted = listener.accept() => accepted?,
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        let service = TowerToHyperService::new(service.clone());
        tokio::spawn(async move {
            if let Err(e) = Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tcp), service)
                .await
            {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
}
