//! The demo server: sessions on plain hyper 1, memory store by default.
//!
//! ```text
//! cargo run -p session-hyper --example demo
//! ```
//! Environment: `SESSION_SECRET` (comma-separated, the first signs), `PORT` (3000),
//! `HOST` (127.0.0.1), `REDIS_URL` (use the Redis store: `redis://host:port/db`, `rediss://` for
//! TLS, or a comma-separated list of cluster nodes), `REDIS_CA_FILE` (a private CA in
//! PEM for `rediss://`), `DATABASE_URL` (use the PostgreSQL store instead:
//! `postgres://user:password@host:port/database`, connect-pg-simple's `session` table,
//! created if missing), `SESSION_MODE=h3-sealed` (no store: each session is sealed
//! into an `h3` cookie as h3's `useSession` does, readable by a Nuxt/Nitro app with
//! the same password; `SESSION_SECRET` is then the password list, each at least 32
//! characters, the first sealing), `RUST_LOG` and `LOG_FORMAT=json` (logs),
//! `METRICS_PORT` (a Prometheus endpoint at `/metrics`), `HEADER_READ_TIMEOUT_MS`
//! (10000: a connection that has not sent a complete request head in that time, or
//! that stays idle that long between requests, is closed).
//!
//! The HTML page for trying it in a browser: `GET /app` (see `page.rs`: sign-in,
//! flash messages, "sign out everywhere else"; its forms carry a CSRF token, and
//! `CsrfLayer` refuses a `POST /app/...` without it). JSON routes, for scripts and
//! `curl`, left outside the CSRF check so they stay one-liners: the `SameSite=Lax`
//! cookie keeps another site's forms from acting in a visitor's session, but not from
//! signing the visitor in as someone else through `POST /login` (login CSRF). A real
//! application checks every unsafe route:
//! - `GET /health`: `{"ok":true}` without using the session (for load balancers; it
//!   stays up during a store outage)
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
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use serde_json::{Value, json};
use session_core::sealed::{Passwords, SealedConfig};
use session_core::{CookieOptions, Error, SameSiteOption, Secrets, Secure, Session, SessionConfig};
use session_hyper::{CsrfBody, CsrfLayer, SessionLayer};
use session_store_memory::MemoryStore;
use session_store_postgres::PostgresStore;
use session_store_redis::{RedisStore, RedisStoreBuilder, RedisStoreError, RedisTls};
use tower::ServiceBuilder;

mod page;
mod telemetry;

const DEV_SECRET: &str = "development secret: set SESSION_SECRET in production";

type Body = Full<Bytes>;

async fn route(
    req: Request<CsrfBody<hyper::body::Incoming>>,
) -> Result<Response<Body>, Infallible> {
    // Never uses the session, so it answers during a store outage too: a request with
    // a session cookie still gets the end-of-request touch, and a failed touch leaves
    // the response as it is.
    if req.method() == Method::GET && req.uri().path() == "/health" {
        return Ok(reply(StatusCode::OK, json!({"ok": true})));
    }
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
        (&Method::POST, "/app/logout-everywhere") => {
            page_or_error(page::logout_everywhere(&session).await)
        }
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

/// Store failures and capacity limits pass: 503 with `Retry-After`; the rest is the
/// request's fault.
fn error_reply(e: &Error) -> Response<Body> {
    if e.is_store() || e.is_overloaded() {
        let mut res = reply(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"error": e.to_string()}),
        );
        res.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        return res;
    }
    reply(StatusCode::BAD_REQUEST, json!({"error": e.to_string()}))
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
    SessionConfig::builder(Secrets::new(secrets())?)
        .cookie(CookieOptions {
            max_age: Some(Duration::from_secs(24 * 3600)),
            // Secure only over HTTPS, so the cookie also works on plain http://127.0.0.1.
            secure: Secure::Auto,
            // Not sent on cross-site POSTs (a form on another site cannot sign you out).
            same_site: Some(SameSiteOption::Lax),
            ..CookieOptions::default()
        })
        .build()
}

/// `SESSION_MODE=h3-sealed`: h3 `useSession`'s sealed `h3` cookie, one day, with the
/// same attributes as the store-backed mode.
fn sealed_config() -> Result<SealedConfig, Error> {
    SealedConfig::h3(Passwords::new(secrets())?)
        .max_age(Duration::from_secs(24 * 3600))
        .cookie(|c| {
            c.secure = Secure::Auto;
            c.same_site = Some(SameSiteOption::Lax);
        })
        .build()
}

/// `SESSION_SECRET`: a comma-separated list, the first signs (or seals).
fn secrets() -> Vec<String> {
    match std::env::var("SESSION_SECRET") {
        Ok(list) if !list.trim().is_empty() => {
            list.split(',').map(|s| s.trim().to_owned()).collect()
        }
        _ => {
            eprintln!(
                "warning: SESSION_SECRET is not set; using a fixed development secret (never do this in production)"
            );
            vec![DEV_SECRET.to_owned()]
        }
    }
}

/// The Redis store's settings: `REDIS_CA_FILE` names a private CA (PEM) for `rediss://`.
fn redis_builder() -> Result<RedisStoreBuilder, RedisStoreError> {
    let builder = RedisStore::builder();
    match std::env::var("REDIS_CA_FILE") {
        Ok(path) if !path.is_empty() => Ok(builder.tls(RedisTls::new().ca_file(path)?)),
        _ => Ok(builder),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    telemetry::init_logs();
    let database_url = std::env::var("DATABASE_URL").unwrap_or_default();
    let sealed = match std::env::var("SESSION_MODE").unwrap_or_default().as_str() {
        "" | "store" => false,
        "h3-sealed" => true,
        other => {
            return Err(format!("unknown SESSION_MODE {other:?}: use h3-sealed or store").into());
        }
    };
    let (layer, store_name) = match std::env::var("REDIS_URL") {
        _ if sealed => (
            SessionLayer::sealed(sealed_config()?),
            "h3 sealed cookies, no store",
        ),
        _ if !database_url.is_empty() => {
            let store = PostgresStore::builder()
                .create_table_if_missing(true)
                .connect(&database_url)
                .await?;
            (SessionLayer::new(config()?, store), "postgres store")
        }
        Ok(url) if url.contains(',') => {
            let nodes: Vec<String> = url.split(',').map(|s| s.trim().to_owned()).collect();
            let store = redis_builder()?.connect_cluster(nodes).await?;
            (SessionLayer::new(config()?, store), "redis cluster store")
        }
        Ok(url) if !url.is_empty() => {
            let store = redis_builder()?.connect(&url).await?;
            (SessionLayer::new(config()?, store), "redis store")
        }
        _ => (
            SessionLayer::new(config()?, MemoryStore::new()),
            "memory store",
        ),
    };
    let service = ServiceBuilder::new()
        .layer(layer)
        // The HTML page's forms carry the token; the JSON routes are for scripts.
        .layer(CsrfLayer::new().exempt(|req| !req.uri.path().starts_with("/app")))
        .service(tower::service_fn(route));

    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let header_read_timeout = Duration::from_millis(
        std::env::var("HEADER_READ_TIMEOUT_MS")
            .ok()
            .and_then(|ms| ms.trim().parse().ok())
            .unwrap_or(10_000),
    );
    let listener = tokio::net::TcpListener::bind((host.as_str(), port)).await?;
    if let Some(addr) = telemetry::init_metrics(&host)? {
        println!("metrics on http://{addr}/metrics");
    }
    println!(
        "listening on http://{} ({store_name})",
        listener.local_addr()?
    );

    // HTTP/1 only: telling HTTP/1 from HTTP/2 would wait for a client's first bytes with
    // no timer, so a client that connects and sends nothing would hold its connection.
    let mut http = Builder::new(TokioExecutor::new()).http1_only();
    // Slow or silent clients must not hold a file descriptor forever (10 s by default:
    // plenty for a real client's request head, short enough that stalled ones can't pile up).
    http.http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    loop {
        let tcp = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                // Out of file descriptors (EMFILE, ENFILE), a connection reset while
                // queued...: all transient. The queued connection stays there, so pause
                // (instead of spinning) until other connections close, then go on.
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed; retrying in 100 ms");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        let service = TowerToHyperService::new(service.clone());
        let http = http.clone();
        tokio::spawn(async move {
            if let Err(e) = http.serve_connection(TokioIo::new(tcp), service).await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
}
