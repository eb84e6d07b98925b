//! Sealed cookies against the store-backed memory path: iron seal and unseal alone
//! (iron's 1 PBKDF2 iteration, h3 2.x's 8,192), then whole requests through the session
//! lifecycle (no HTTP): start from the `Cookie` header, read or change, finish (the
//! `Set-Cookie`), for a sealed h3 cookie, a sealed h3 2.x cookie and `MemoryStore`.
//!
//! `cargo bench -p session-tests --bench sealed -- --noplot`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use session_core::adapter::SessionManager;
use session_core::sealed::{Iron, Passwords, SealedConfig};
use session_core::{Secrets, SessionConfig};
use session_store_memory::MemoryStore;

const PASSWORD: &str = "a benchmark password of at least 32 characters";

fn payload(bytes: usize) -> String {
    let data =
        json!({ "user": "ada", "roles": ["admin"], "pad": "x".repeat(bytes.saturating_sub(50)) });
    json!({ "id": "1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed", "createdAt": 1_700_000_000_000u64, "data": data })
        .to_string()
}

fn iron(c: &mut Criterion) {
    for iterations in [1, 8192] {
        let iron = Iron::new(Passwords::new([PASSWORD]).unwrap()).iterations(iterations);
        for size in [100, 2000] {
            let text = payload(size);
            let sealed = iron.seal(&text).unwrap();
            c.bench_function(
                &format!("iron/seal/{iterations} iterations/{size} B"),
                |b| b.iter(|| iron.seal(black_box(&text)).unwrap()),
            );
            // A seal coming back: with more than one iteration its keys are cached.
            c.bench_function(
                &format!("iron/unseal/{iterations} iterations/{size} B"),
                |b| b.iter(|| iron.unseal(black_box(&sealed)).unwrap()),
            );
            if iterations > 1 {
                // A seal seen for the first time (a new cache each time).
                c.bench_function(
                    &format!("iron/unseal, first time/{iterations} iterations/{size} B"),
                    |b| {
                        b.iter_batched(
                            || {
                                Iron::new(Passwords::new([PASSWORD]).unwrap())
                                    .iterations(iterations)
                            },
                            |fresh| fresh.unseal(black_box(&sealed)).unwrap(),
                            criterion::BatchSize::SmallInput,
                        )
                    },
                );
            }
        }
    }
}

fn managers() -> Vec<(&'static str, SessionManager)> {
    let h3 = || Passwords::new([PASSWORD]).unwrap();
    let store = SessionConfig::builder(Secrets::new([PASSWORD]).unwrap())
        .build()
        .unwrap();
    vec![
        // New visitors fill the store: the oldest sessions make room (opt-in LRU).
        (
            "memory store",
            SessionManager::new(
                store,
                Arc::new(
                    MemoryStore::builder()
                        .capacity(100_000)
                        .evict_lru(true)
                        .build(),
                ),
            ),
        ),
        (
            "sealed h3",
            SessionManager::sealed(SealedConfig::h3(h3()).build().unwrap()),
        ),
        (
            "sealed h3 2.x",
            SessionManager::sealed(SealedConfig::h3_v2(h3()).build().unwrap()),
        ),
    ]
}

fn requests(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for (name, m) in managers() {
        // A session holding a user and a small cart, as a signed-in visitor's would.
        let cookie = rt.block_on(async {
            let s = m.start(std::iter::empty(), true);
            s.insert("user", "ada").await.unwrap();
            s.insert("cart", json!([1, 2, 3])).await.unwrap();
            let set = s.finish().await.unwrap().set_cookie.unwrap();
            set.split(';').next().unwrap().to_owned()
        });
        c.bench_function(&format!("request/read-only/{name}"), |b| {
            b.iter(|| {
                rt.block_on(async {
                    let s = m.start([cookie.as_bytes()], true);
                    black_box(s.get::<String>("user").await.unwrap());
                    s.finish().await.unwrap()
                })
            })
        });
        c.bench_function(&format!("request/modified/{name}"), |b| {
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
        c.bench_function(&format!("request/new visitor writes/{name}"), |b| {
            b.iter(|| {
                rt.block_on(async {
                    let s = m.start(std::iter::empty(), true);
                    s.insert("n", 1).await.unwrap();
                    s.finish().await.unwrap()
                })
            })
        });
    }
}

criterion_group!(benches, iron, requests);
criterion_main!(benches);
