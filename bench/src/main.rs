//! One server per load run, on a 1-worker tokio runtime unless `WORKERS` says otherwise:
//!
//! `bench-server <kind>` with `PORT` (0 = any; the address is printed), `REDIS_URL`,
//! `DATABASE_URL` and `WORKERS` (tokio worker threads, 1 by default),
//! where kind is `bare` (hyper 1 answering a constant: the ceiling), `ours-memory`,
//! `ours-redis`, `ours-postgres` (session-hyper with our stores; `ours-redis-lww` and
//! `ours-postgres-lww` save with `Concurrency::LastWriteWins` instead of
//! compare-and-set; `ours-postgres-touch-after` slides a row at most once a minute),
//! `ours-sealed-h3` and `ours-sealed-h3v2` (no store: h3 1.x and 2.x `useSession`'s
//! sealed cookie), `ts-memory`, `ts-redis` or `ts-postgres` (axum + tower-sessions,
//! signed cookies, its memory store, its fred Redis store or its sqlx Postgres store;
//! only in a build with the `peers` feature, see Cargo.toml). The Postgres servers use pools of 10 connections (node-pg's and sqlx's
//! default).
//!
//! Routes (the same on every kind): `GET /modify` (the session's `n` += 1), `GET /read`
//! (reads `n`), `GET /none` (does not touch the session). `bare` answers all alike.

use std::convert::Infallible;
use std::net::SocketAddr;

use http::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let kind = std::env::args().nth(1).unwrap_or_else(|| "bare".into());
    let workers = std::env::var("WORKERS")
        .ok()
        .and_then(|w| w.parse().ok())
        .unwrap_or(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()?;
    rt.block_on(run(kind))
}

async fn run(kind: String) -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(0);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let redis = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
    let database = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    match kind.as_str() {
        "bare" => serve(listener, addr, tower::service_fn(bare)).await,
        "ours-memory" => {
            // Room for the --big run (about 1.9 million sessions by its end).
            let store = session_store_memory::MemoryStore::builder()
                .capacity(4 << 20)
                .build();
            serve(listener, addr, ours(store, session_core::Concurrency::Merge)).await
        }
        "ours-redis" => {
            let store = session_store_redis::RedisStore::connect(&redis).await?;
            serve(listener, addr, ours(store, session_core::Concurrency::Merge)).await
        }
        "ours-redis-lww" => {
            let store = session_store_redis::RedisStore::connect(&redis).await?;
            serve(listener, addr, ours(store, session_core::Concurrency::LastWriteWins)).await
        }
        "ours-postgres" | "ours-postgres-lww" | "ours-postgres-touch-after" => {
            // touch-after: a read rewrites a row to slide its expiry at most once a minute.
            let touch_after = if kind == "ours-postgres-touch-after" { 60 } else { 0 };
            let store = session_store_postgres::PostgresStore::builder()
                .create_table_if_missing(true)
                .pool_size(10)
                .touch_after(std::time::Duration::from_secs(touch_after))
                .connect(&database)
                .await?;
            let concurrency = if kind == "ours-postgres-lww" {
                session_core::Concurrency::LastWriteWins
            } else {
                session_core::Concurrency::Merge
            };
            serve(listener, addr, ours(store, concurrency)).await
        }
        "ours-sealed-h3" | "ours-sealed-h3v2" => {
            serve(listener, addr, ours_sealed(kind == "ours-sealed-h3v2")).await
        }
        #[cfg(feature = "peers")]
        "ts-postgres" => {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(10)
                .connect(&database)
                .await?;
            let store = tower_sessions_sqlx_store::PostgresStore::new(pool);
            store.migrate().await?;
            serve(listener, addr, tower_sessions_app(store)).await
        }
        #[cfg(feature = "peers")]
        "ts-memory" => {
            let store = tower_sessions::MemoryStore::default();
            serve(listener, addr, tower_sessions_app(store)).await
        }
        #[cfg(feature = "peers")]
        "ts-redis" => {
            use tower_sessions_redis_store::fred::prelude::*;
            let config = Config::from_url(&redis)?;
            let pool = Pool::new(config, None, None, None, 1)?;
            pool.init().await?;
            let store = tower_sessions_redis_store::RedisStore::new(pool);
            serve(listener, addr, tower_sessions_app(store)).await
        }
        #[cfg(not(feature = "peers"))]
        "ts-memory" | "ts-redis" | "ts-postgres" => Err("the tower-sessions servers need `--features peers`".into()),
        other => Err(format!("unknown server kind {other:?}").into()),
    }
}

async fn serve<S>(
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
    service: S,
) -> Result<(), Box<dyn std::error::Error>>
where
    S: tower::Service<Request<hyper::body::Incoming>, Response = Response<axum::body::Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: std::error::Error + Send + Sync + 'static,
{
    println!("listening on http://{addr}");
    loop {
        let (tcp, _) = listener.accept().await?;
        let _ = tcp.set_nodelay(true);
        let service = TowerToHyperService::new(service.clone());
        tokio::spawn(async move {
            let _ = Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tcp), service)
                .await;
        });
    }
}

async fn bare(_: Request<hyper::body::Incoming>) -> Result<Response<axum::body::Body>, Infallible> {
    Ok(Response::new(axum::body::Body::from("ok")))
}

// ---- ours ------------------------------------------------------------------------------

/// With a save mode: `Merge` (the default: compare-and-set) or `LastWriteWins`.
fn ours(
    store: impl session_core::store::SessionStore,
    concurrency: session_core::Concurrency,
) -> impl tower::Service<
    Request<hyper::body::Incoming>,
    Response = Response<axum::body::Body>,
    Error = Infallible,
    Future = impl Send,
> + Clone
+ Send
+ 'static {
    let config = session_core::SessionConfig::builder(
        session_core::Secrets::new(["a benchmark secret of reasonable length"]).expect("secret"),
    )
    .concurrency(concurrency)
    .build()
    .expect("config");
    with_routes(session_hyper::SessionLayer::new(config, store))
}

/// Sealed-cookie sessions as h3 1.x (`v2`: 2.x) seals them, the same routes.
fn ours_sealed(
    v2: bool,
) -> impl tower::Service<
    Request<hyper::body::Incoming>,
    Response = Response<axum::body::Body>,
    Error = Infallible,
    Future = impl Send,
> + Clone
+ Send
+ 'static {
    use session_core::sealed::{Passwords, SealedConfig};
    let passwords = Passwords::new(["a benchmark password of at least 32 characters"]).expect("password");
    let config = if v2 { SealedConfig::h3_v2(passwords) } else { SealedConfig::h3(passwords) };
    with_routes(session_hyper::SessionLayer::sealed(config.build().expect("config")))
}

/// The bench routes behind a session layer.
fn with_routes(
    layer: session_hyper::SessionLayer,
) -> impl tower::Service<
    Request<hyper::body::Incoming>,
    Response = Response<axum::body::Body>,
    Error = Infallible,
    Future = impl Send,
> + Clone
+ Send
+ 'static {
    tower::ServiceBuilder::new()
        .layer(layer)
        .service(tower::service_fn(ours_route))
}

async fn ours_route(
    req: Request<hyper::body::Incoming>,
) -> Result<Response<axum::body::Body>, Infallible> {
    let Some(session) = req.extensions().get::<session_core::Session>().cloned() else {
        return Ok(text("no session layer"));
    };
    let body = match req.uri().path() {
        "/modify" => {
            let n = session.get::<u64>("n").await.ok().flatten().unwrap_or(0) + 1;
            let _ = session.insert("n", n).await;
            n.to_string()
        }
        "/read" => session.get::<u64>("n").await.ok().flatten().unwrap_or(0).to_string(),
        _ => "none".into(),
    };
    Ok(text(body))
}

fn text(s: impl Into<String>) -> Response<axum::body::Body> {
    Response::new(axum::body::Body::from(s.into()))
}

// ---- axum + tower-sessions -------------------------------------------------------------

#[cfg(feature = "peers")]
fn tower_sessions_app<S>(store: S) -> axum::Router
where
    S: tower_sessions::SessionStore + Clone,
{
    use axum::routing::get;
    let key = tower_sessions::cookie::Key::from(&[7u8; 64]);
    let layer = tower_sessions::SessionManagerLayer::new(store)
        .with_secure(false)
        .with_signed(key);
    axum::Router::new()
        .route("/modify", get(ts_modify))
        .route("/read", get(ts_read))
        .route("/none", get(|| async { "none" }))
        .layer(layer)
}

#[cfg(feature = "peers")]
async fn ts_modify(session: tower_sessions::Session) -> String {
    let n = session.get::<u64>("n").await.ok().flatten().unwrap_or(0) + 1;
    let _ = session.insert("n", n).await;
    n.to_string()
}

#[cfg(feature = "peers")]
async fn ts_read(session: tower_sessions::Session) -> String {
    session.get::<u64>("n").await.ok().flatten().unwrap_or(0).to_string()
}
