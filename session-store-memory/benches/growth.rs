//! Inserting into a growing memory store (run with
//! `cargo bench -p session-store-memory --bench growth`): every `create` is timed while a
//! store fills up, to show how long a request can wait while a shard of the map doubles
//! its table under its write lock.
//!
//! Two stores: the default capacity (1,048,576 sessions) filled to capacity, and one
//! built with a capacity of 4,194,304 filled with 2,000,000 sessions. Prints a Markdown
//! table for docs/benchmarks.md. Not part of the test run.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use serde_json::json;
use session_core::SessionId;
use session_core::conformance::cases::record;
use session_core::store::SessionStore;
use session_store_memory::{DEFAULT_CAPACITY, MemoryStore};

fn fill(capacity: usize, n: usize) -> Vec<u64> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let store = MemoryStore::builder()
        .capacity(capacity)
        .no_sweeper()
        .build();
    let rec = record(Some(86_400_000), json!({"views": 3, "user": "ada"}));
    let ids: Vec<SessionId> = (0..n).map(|_| SessionId::generate().unwrap()).collect();
    let mut lat = Vec::with_capacity(n);
    for id in &ids {
        let t = Instant::now();
        rt.block_on(store.create(id, &rec)).unwrap();
        lat.push(t.elapsed().as_nanos() as u64);
    }
    assert_eq!(store.entries(), n);
    lat
}

fn main() {
    println!(
        "| store | sessions inserted | inserts over 1 ms | time in them | p99.9 µs | max ms |"
    );
    println!("|---|---|---|---|---|---|");
    for (label, capacity, n) in [
        (
            "default capacity (1,048,576)",
            DEFAULT_CAPACITY,
            DEFAULT_CAPACITY,
        ),
        ("capacity 4,194,304", 4 << 20, 2_000_000),
    ] {
        let mut lat = fill(capacity, n);
        let slow: Vec<u64> = lat.iter().copied().filter(|&ns| ns > 1_000_000).collect();
        let in_slow = Duration::from_nanos(slow.iter().sum());
        lat.sort_unstable();
        let p999 = lat[(lat.len() - 1) * 999 / 1000] as f64 / 1000.0;
        let max = *lat.last().unwrap() as f64 / 1e6;
        println!(
            "| {label} | {n} | {} | {} ms | {p999:.1} | {max:.1} |",
            slow.len(),
            in_slow.as_millis()
        );
    }
}
