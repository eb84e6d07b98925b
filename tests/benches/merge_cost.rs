//! The cost of merge mode (conditional saves) against last-write-wins on an uncontended
//! session, per request, through the session lifecycle (no HTTP): load, read, write,
//! save. Memory store and Redis (a private redis-server on loopback, stopped by PID).
//!
//! `cargo bench -p session-tests --bench merge_cost`; prints a Markdown table.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Instant;

use session_core::adapter::SessionManager;
use session_core::store::SessionStore;
use session_core::{Concurrency, CookieOptions, Secrets, SessionConfig};
use session_store_memory::MemoryStore;
use session_store_redis::RedisStore;
use session_tests::redis::{RedisServer, unique_prefix};

const REQUESTS: usize = 20_000;
const REPEATS: usize = 3;

fn manager(store: Arc<dyn SessionStore>, mode: Concurrency) -> SessionManager {
    let config = SessionConfig::builder(Secrets::new(["bench secret"]).unwrap())
        .cookie(CookieOptions {
            max_age: Some(std::time::Duration::from_secs(3600)),
            ..Default::default()
        })
        .concurrency(mode)
        .build()
        .unwrap();
    SessionManager::new(config, store)
}

/// Mean microseconds per request for `REQUESTS` sequential modifying requests.
async fn run(m: &SessionManager) -> f64 {
    let first = m.start(std::iter::empty(), false);
    first.insert("views", 0).await.unwrap();
    let cookie = first.finish().await.unwrap().set_cookie.unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let start = Instant::now();
    for _ in 0..REQUESTS {
        let s = m.start([cookie.as_bytes()], false);
        let v: u64 = s.get("views").await.unwrap().unwrap();
        s.insert("views", v + 1).await.unwrap();
        s.finish().await.unwrap();
    }
    start.elapsed().as_secs_f64() * 1e6 / REQUESTS as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let redis = RedisServer::start();
    println!("| store | last-write-wins µs/request | merge µs/request | merge / lww |");
    println!("|---|---|---|---|");
    for store_name in ["memory", "redis"] {
        let mut lww = Vec::new();
        let mut merge = Vec::new();
        for _ in 0..REPEATS {
            for mode in [Concurrency::LastWriteWins, Concurrency::Merge] {
                let store: Arc<dyn SessionStore> = match store_name {
                    "memory" => Arc::new(MemoryStore::new()),
                    _ => Arc::new(
                        RedisStore::builder()
                            .prefix(unique_prefix())
                            .connect(&redis.url())
                            .await
                            .unwrap(),
                    ),
                };
                let us = run(&manager(store, mode)).await;
                match mode {
                    Concurrency::LastWriteWins => lww.push(us),
                    _ => merge.push(us),
                }
            }
        }
        let (l, m) = (median(lww), median(merge));
        println!("| {store_name} | {l:.2} | {m:.2} | {:.3} |", m / l);
    }
}
