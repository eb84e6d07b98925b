//! The shared store conformance suite, plus the memory store's own capacity and
//! sweeper behaviour.

// Test code: clippy.toml allows unwrap in tests, but not in tests/ files (rust-clippy#16122).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use serde_json::json;
use session_core::conformance::cases::{new_id, record};
use session_core::store::{SessionStore, StoreError};
use session_store_memory::MemoryStore;

session_core::store_conformance_tests!(async { MemoryStore::new() });

#[tokio::test]
async fn run_all_entry_point_works_too() {
    session_core::conformance::run_all(|| async { MemoryStore::builder().no_sweeper().build() })
        .await;
}

#[tokio::test]
async fn full_store_refuses_new_sessions_and_keeps_old_ones() {
    let store = MemoryStore::builder().capacity(2).build();
    let (a, b, c) = (new_id(), new_id(), new_id());
    store
        .create(&a, &record(None, json!({"u": "a"})))
        .await
        .unwrap();
    store
        .create(&b, &record(None, json!({"u": "b"})))
        .await
        .unwrap();
    assert!(matches!(
        store.create(&c, &record(None, json!({}))).await,
        Err(StoreError::Full)
    ));
    // Existing users keep working, and a freed slot can be used again.
    assert!(store.load(&a).await.unwrap().is_some());
    store
        .save(&b, &record(None, json!({"u": "b2"})), None)
        .await
        .unwrap();
    store.destroy(&a).await.unwrap();
    store.create(&c, &record(None, json!({}))).await.unwrap();
    assert_eq!(store.len().await.unwrap(), 2);
}

#[tokio::test]
async fn a_failed_create_does_not_leak_capacity() {
    let store = MemoryStore::builder().capacity(1).build();
    let a = new_id();
    store.create(&a, &record(None, json!({}))).await.unwrap();
    for _ in 0..10 {
        assert!(matches!(
            store.create(&a, &record(None, json!({}))).await,
            Err(StoreError::IdTaken | StoreError::Full)
        ));
    }
    store.destroy(&a).await.unwrap();
    assert_eq!(store.entries(), 0);
    store
        .create(&new_id(), &record(None, json!({})))
        .await
        .unwrap();
}

#[tokio::test]
async fn sweeper_removes_expired_entries_and_frees_capacity() {
    let store = MemoryStore::builder()
        .capacity(100)
        .sweep_interval(Duration::from_millis(50))
        .build();
    for _ in 0..100 {
        store
            .create(&new_id(), &record(Some(100), json!({})))
            .await
            .unwrap();
    }
    assert_eq!(store.entries(), 100);
    // Bounded wait for the sweeper (no timing assertion: only that it happens).
    let mut waited = 0;
    while store.entries() > 0 && waited < 100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += 1;
    }
    assert_eq!(store.entries(), 0, "the sweeper did not run");
    store
        .create(&new_id(), &record(None, json!({})))
        .await
        .unwrap();
}

#[tokio::test]
async fn sweeper_thread_stops_when_the_store_is_dropped() {
    // The thread holds only a Weak and exits when the store's drop closes its channel.
    // Count this process's threads (Linux) before, with and after eight stores.
    let threads = || {
        std::fs::read_dir("/proc/self/task")
            .map(|d| d.count())
            .unwrap_or(0)
    };
    let before = threads();
    let stores: Vec<MemoryStore> = (0..8)
        .map(|_| {
            MemoryStore::builder()
                .sweep_interval(Duration::from_millis(10))
                .build()
        })
        .collect();
    assert!(threads() >= before + 8, "sweeper threads did not start");
    drop(stores);
    let mut waited = 0;
    while threads() > before && waited < 200 {
        std::thread::sleep(Duration::from_millis(10));
        waited += 1;
    }
    assert!(threads() <= before, "sweeper threads outlived their stores");
}

#[tokio::test]
async fn manual_sweep_counts_removed() {
    let store = MemoryStore::builder().no_sweeper().build();
    for _ in 0..5 {
        store
            .create(&new_id(), &record(Some(1), json!({})))
            .await
            .unwrap();
    }
    store
        .create(&new_id(), &record(None, json!({})))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(store.sweep(), 5);
    assert_eq!(store.entries(), 1);
}
