//! The memory store under contention (criterion): load, save and touch from 1 and 2
//! threads at once over 10,000 sessions. `cargo bench -p session-store-memory --bench
//! contention`. Figures: docs/benchmarks.md.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use session_core::SessionId;
use session_core::conformance::cases::record;
use session_core::store::{SessionStore, Version};
use session_store_memory::MemoryStore;

const SESSIONS: usize = 10_000;

#[derive(Clone, Copy)]
enum Op {
    Load,
    Save,
    Touch,
}

fn setup() -> (MemoryStore, Arc<Vec<SessionId>>) {
    let store = MemoryStore::builder().no_sweeper().build();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let ids: Vec<SessionId> = (0..SESSIONS)
        .map(|_| SessionId::generate().unwrap())
        .collect();
    rt.block_on(async {
        for (i, id) in ids.iter().enumerate() {
            store
                .create(id, &record(Some(86_400_000), serde_json::json!({ "n": i })))
                .await
                .unwrap();
        }
    });
    (store, Arc::new(ids))
}

/// Runs `iters` operations split over `threads` threads; the wall time.
fn run(
    store: &MemoryStore,
    ids: &Arc<Vec<SessionId>>,
    op: Op,
    threads: usize,
    iters: u64,
) -> Duration {
    let per = iters / threads as u64 + 1;
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            let store = store.clone();
            let ids = Arc::clone(ids);
            s.spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .unwrap();
                let rec = record(Some(86_400_000), serde_json::json!({ "n": t }));
                rt.block_on(async {
                    let mut i = t * 7919;
                    for _ in 0..per {
                        i = (i + 104_729) % SESSIONS;
                        let id = &ids[i];
                        match op {
                            Op::Load => {
                                std::hint::black_box(store.load(id).await.unwrap());
                            }
                            Op::Save => {
                                store.save(id, &rec, None::<&Version>).await.unwrap();
                            }
                            Op::Touch => store.touch(id).await.unwrap(),
                        }
                    }
                });
            });
        }
    });
    start.elapsed()
}

fn contention(c: &mut Criterion) {
    let (store, ids) = setup();
    for (name, op) in [("load", Op::Load), ("save", Op::Save), ("touch", Op::Touch)] {
        for threads in [1, 2] {
            c.bench_function(&format!("memory store/{name}/{threads} thread(s)"), |b| {
                b.iter_custom(|iters| run(&store, &ids, op, threads, iters))
            });
        }
    }
}

criterion_group!(benches, contention);
criterion_main!(benches);
