//! Memory store at scale (run with `cargo bench -p session-store-memory --bench scale`):
//!
//! 1. bytes per session with 1,000,000 sessions (resident memory before and after);
//! 2. latency of store operations on live sessions while a sweep removes 1,000,000
//!    expired ones, against the same operations with no sweep running.
//!
//! Prints a Markdown table for docs/benchmarks.md. Not part of the test run.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use session_core::SessionId;
use session_core::conformance::cases::record;
use session_core::store::SessionStore;
use session_store_memory::MemoryStore;

const N: usize = 1_000_000;
const LIVE: usize = 10_000;

fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

fn ids(n: usize) -> Vec<SessionId> {
    (0..n).map(|_| SessionId::generate().unwrap()).collect()
}

fn block<F: std::future::Future>(rt: &tokio::runtime::Runtime, f: F) -> F::Output {
    rt.block_on(f)
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

/// Runs load+save on live sessions until `stop`, returning per-operation latencies (ns).
fn hammer(store: MemoryStore, live: Arc<Vec<SessionId>>, stop: Arc<AtomicBool>) -> Vec<u64> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut lat = Vec::with_capacity(4_000_000);
    let mut i = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let id = &live[i % live.len()];
        let t = Instant::now();
        let loaded = block(&rt, store.load(id)).unwrap().unwrap();
        block(&rt, store.save(id, &loaded.record, Some(&loaded.version))).unwrap();
        lat.push(t.elapsed().as_nanos() as u64);
        i += 1;
    }
    lat
}

fn measure_window(
    store: &MemoryStore,
    live: &Arc<Vec<SessionId>>,
    during: impl FnOnce(),
) -> Vec<u64> {
    let stop = Arc::new(AtomicBool::new(false));
    let worker = {
        let (store, live, stop) = (store.clone(), Arc::clone(live), Arc::clone(&stop));
        std::thread::spawn(move || hammer(store, live, stop))
    };
    std::thread::sleep(Duration::from_millis(100));
    during();
    stop.store(true, Ordering::Relaxed);
    let mut lat = worker.join().unwrap();
    lat.sort_unstable();
    lat
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();

    // 1. Bytes per session.
    let all = ids(N);
    let store = MemoryStore::builder().capacity(2 * N).no_sweeper().build();
    let rec = record(Some(86_400_000), json!({"views": 3, "user": "ada"}));
    let before = rss_bytes();
    for id in &all {
        block(&rt, store.create(id, &rec)).unwrap();
    }
    let after = rss_bytes();
    let per_session = (after - before) as f64 / N as f64;
    let encoded = rec.encode().len();
    drop(store);
    drop(all);

    // 2. Latency during a sweep of N expired sessions.
    let store = MemoryStore::builder().capacity(2 * N).no_sweeper().build();
    let mut short = record(Some(1_000), json!({}));
    for (i, id) in ids(N).into_iter().enumerate() {
        // One second of life from now (rebuilt often: filling takes longer than that).
        if i % 10_000 == 0 {
            short = record(Some(1_000), json!({"views": 1}));
        }
        block(&rt, store.create(&id, &short)).unwrap();
    }
    assert_eq!(store.entries(), N);
    let live = Arc::new(ids(LIVE));
    for id in live.iter() {
        block(&rt, store.create(id, &rec)).unwrap();
    }
    std::thread::sleep(Duration::from_millis(1_200)); // let the short ones expire

    let quiet = measure_window(&store, &live, || std::thread::sleep(Duration::from_secs(2)));
    let mut swept = 0;
    let mut sweep_time = Duration::ZERO;
    let during = measure_window(&store, &live, || {
        let t = Instant::now();
        swept = store.sweep();
        sweep_time = t.elapsed();
    });
    assert_eq!(swept, N, "the sweep must remove every expired session");

    println!("| measure | value |");
    println!("|---|---|");
    println!("| sessions | {N} |");
    println!("| record (express JSON) | {encoded} bytes encoded |");
    println!("| resident memory per session | {per_session:.0} bytes |");
    println!(
        "| sweep of {N} expired sessions | {:.0} ms |",
        sweep_time.as_secs_f64() * 1000.0
    );
    println!();
    println!("| load+save on {LIVE} live sessions | ops | p50 µs | p99 µs | max µs |");
    println!("|---|---|---|---|---|");
    for (name, lat) in [("no sweep (2 s)", &quiet), ("during the sweep", &during)] {
        println!(
            "| {name} | {} | {:.2} | {:.2} | {:.0} |",
            lat.len(),
            percentile(lat, 0.50),
            percentile(lat, 0.99),
            *lat.last().unwrap() as f64 / 1000.0
        );
    }
}
