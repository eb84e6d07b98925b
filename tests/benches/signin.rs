//! What being signed in costs a request: the same whole requests (start from the
//! `Cookie` header, read or change, finish) for an anonymous session and one naming a
//! user in `passport.user` (which the stores now index), on `MemoryStore` and on Redis;
//! then the sign-in calls themselves.
//!
//! Redis: a private redis-server on loopback, started here and stopped by PID.
//! `cargo bench -p session-tests --bench signin -- --noplot`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use session_core::adapter::SessionManager;
use session_core::store::SessionStore;
use session_core::{Secrets, SessionConfig};
use session_store_memory::MemoryStore;
use session_store_redis::RedisStore;
use session_tests::redis::RedisServer;

const SECRET: &str = "a benchmark secret";

fn stores(
    rt: &tokio::runtime::Runtime,
    server: &RedisServer,
) -> Vec<(&'static str, Arc<dyn SessionStore>)> {
    let url = server.url();
    let redis = rt.block_on(async {
        RedisStore::builder()
            .prefix(format!("bench-{}:", std::process::id()))
            .connect(&url)
            .await
            .unwrap()
    });
    vec![
        // New sessions fill the store: the oldest make room (opt-in LRU).
        (
            "memory",
            Arc::new(
                MemoryStore::builder()
                    .capacity(100_000)
                    .evict_lru(true)
                    .build(),
            ),
        ),
        ("redis", Arc::new(redis)),
    ]
}

fn manager(store: Arc<dyn SessionStore>) -> SessionManager {
    let config = SessionConfig::builder(Secrets::new([SECRET]).unwrap())
        .build()
        .unwrap();
    SessionManager::new(config, store)
}

fn data(signed_in: bool) -> Value {
    if signed_in {
        json!({ "passport": { "user": "ada" }, "cart": [1, 2, 3] })
    } else {
        json!({ "cart": [1, 2, 3] })
    }
}

fn requests(c: &mut Criterion) {
    let rt = runtime();
    let server = RedisServer::start();
    for (store_name, store) in stores(&rt, &server) {
        let m = manager(store);
        for (who, signed_in) in [("anonymous", false), ("signed in", true)] {
            let cookie = rt.block_on(async {
                let s = m.start(std::iter::empty(), true);
                s.merge(data(signed_in)).await.unwrap();
                cookie_of(s).await
            });
            c.bench_function(&format!("request/read-only/{who}/{store_name}"), |b| {
                b.iter(|| {
                    rt.block_on(async {
                        let s = m.start([cookie.as_bytes()], true);
                        black_box(s.get::<Value>("cart").await.unwrap());
                        s.finish().await.unwrap()
                    })
                })
            });
            c.bench_function(&format!("request/modified/{who}/{store_name}"), |b| {
                let mut n = 0u64;
                b.iter(|| {
                    n += 1;
                    rt.block_on(async {
                        let s = m.start([cookie.as_bytes()], true);
                        s.insert("n", n).await.unwrap();
                        s.finish().await.unwrap()
                    })
                })
            });
            c.bench_function(&format!("request/new session/{who}/{store_name}"), |b| {
                b.iter(|| {
                    rt.block_on(async {
                        let s = m.start(std::iter::empty(), true);
                        s.merge(data(signed_in)).await.unwrap();
                        s.finish().await.unwrap()
                    })
                })
            });
        }
    }
}

/// A current-thread runtime for the benchmarks' `block_on`.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The `name=value` of the cookie a finished new session sets.
async fn cookie_of(s: session_core::Session) -> String {
    let set = s.finish().await.unwrap().set_cookie.unwrap();
    set.split(';').next().unwrap().to_owned()
}

struct Users;

#[session_core::store::async_trait]
impl session_core::auth::Users for Users {
    async fn auth_value(
        &self,
        _user: &str,
    ) -> Result<Option<Vec<u8>>, session_core::auth::BoxError> {
        Ok(Some(b"password hash".to_vec()))
    }
}

/// The sign-in calls: the checked read every signed-in request makes, a sign-in that
/// keeps the visitor's data (a new id: create, check the old one, delete it), and
/// ending a user's ten sessions.
fn sign_in(c: &mut Criterion) {
    use session_core::auth::{Carry, destroy_all};
    let rt = runtime();
    let server = RedisServer::start();
    for (store_name, store) in stores(&rt, &server) {
        let m = manager(store.clone());
        let cookie = rt.block_on(async {
            let s = m.start(std::iter::empty(), true);
            s.log_in("ada", b"password hash", Carry::DropData)
                .await
                .unwrap();
            cookie_of(s).await
        });
        c.bench_function(&format!("sign-in/read, user unchecked/{store_name}"), |b| {
            b.iter(|| {
                rt.block_on(async {
                    let s = m.start([cookie.as_bytes()], true);
                    black_box(s.user().await.unwrap());
                    s.finish().await.unwrap()
                })
            })
        });
        c.bench_function(&format!("sign-in/read, user checked/{store_name}"), |b| {
            b.iter(|| {
                rt.block_on(async {
                    let s = m.start([cookie.as_bytes()], true);
                    black_box(s.signed_in(&Users).await.unwrap());
                    s.finish().await.unwrap()
                })
            })
        });
        c.bench_function(&format!("sign-in/log_in keeping data/{store_name}"), |b| {
            b.iter_batched(
                || {
                    rt.block_on(async {
                        let s = m.start(std::iter::empty(), true);
                        s.merge(data(false)).await.unwrap();
                        let set = s.finish().await.unwrap().set_cookie.unwrap();
                        set.split(';').next().unwrap().to_owned()
                    })
                },
                |anonymous| {
                    rt.block_on(async {
                        let s = m.start([anonymous.as_bytes()], true);
                        s.log_in("bo", b"password hash", Carry::KeepData)
                            .await
                            .unwrap();
                        s.finish().await.unwrap()
                    })
                },
                criterion::BatchSize::SmallInput,
            )
        });
        c.bench_function(
            &format!("sign-in/destroy_all, 10 sessions/{store_name}"),
            |b| {
                b.iter_batched(
                    || {
                        rt.block_on(async {
                            for _ in 0..10 {
                                let s = m.start(std::iter::empty(), true);
                                s.log_in("cy", b"password hash", Carry::DropData)
                                    .await
                                    .unwrap();
                                s.finish().await.unwrap();
                            }
                        })
                    },
                    |()| rt.block_on(async { destroy_all(&*store, "cy", None).await.unwrap() }),
                    criterion::BatchSize::PerIteration,
                )
            },
        );
    }
}

criterion_group!(benches, requests, sign_in);
criterion_main!(benches);
