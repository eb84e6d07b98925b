//! The memory store's byte budget, its opt-in LRU eviction and its shared decoded
//! copies (issue #16: bounded memory).

// Test code: clippy.toml allows unwrap in tests, but not in tests/ files (rust-clippy#16122).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::json;
use session_core::SessionId;
use session_core::conformance::cases::{new_id, record};
use session_core::store::{Record, SessionStore, StoreError};
use session_store_memory::MemoryStore;

/// A record of about `bytes` encoded bytes.
fn sized(bytes: usize) -> Record {
    record(None, json!({ "blob": "x".repeat(bytes) }))
}

/// The ids held, read without marking anyone as used.
async fn held(store: &MemoryStore) -> HashSet<SessionId> {
    store
        .all()
        .await
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect()
}

async fn create(store: &MemoryStore, r: &Record) -> Result<SessionId, StoreError> {
    let id = new_id();
    store.create(&id, r).await.map(|_| id)
}

#[tokio::test]
async fn the_byte_budget_refuses_new_and_growing_sessions_and_keeps_the_others() {
    let store = MemoryStore::builder()
        .max_bytes(10_000)
        .no_sweeper()
        .build();
    let a = create(&store, &sized(4_000)).await.unwrap();
    let b = create(&store, &sized(4_000)).await.unwrap();
    let held = store.bytes();
    assert!((8_000..9_000).contains(&held), "{held}");
    // A new session that does not fit is refused; so is one larger than the budget.
    assert!(matches!(
        create(&store, &sized(4_000)).await,
        Err(StoreError::Full)
    ));
    assert!(matches!(
        create(&store, &sized(20_000)).await,
        Err(StoreError::Full)
    ));
    assert_eq!((store.entries(), store.bytes()), (2, held));
    // An existing session cannot grow past the budget either...
    let v = store.load(&a).await.unwrap().unwrap().version;
    assert!(matches!(
        store.save(&a, &sized(7_000), Some(&v)).await,
        Err(StoreError::Full)
    ));
    assert_eq!(store.bytes(), held, "a refused save counts nothing");
    // ...but both keep working, and shrinking or destroying frees room.
    let small = sized(100);
    store.save(&a, &small, Some(&v)).await.unwrap();
    assert!(store.load(&b).await.unwrap().is_some());
    assert!(store.bytes() < held - 3_000);
    store.destroy(&b).await.unwrap();
    let c = create(&store, &sized(8_000)).await.unwrap();
    assert!(store.load(&c).await.unwrap().is_some());
    store.destroy(&a).await.unwrap();
    store.destroy(&c).await.unwrap();
    assert_eq!((store.entries(), store.bytes()), (0, 0));
}

#[tokio::test]
async fn without_eviction_a_full_store_evicts_nobody() {
    let store = MemoryStore::builder().capacity(3).no_sweeper().build();
    let ids: Vec<_> = (0..3).map(|_| new_id()).collect();
    for id in &ids {
        store.create(id, &sized(10)).await.unwrap();
    }
    assert!(matches!(
        create(&store, &sized(10)).await,
        Err(StoreError::Full)
    ));
    for id in &ids {
        assert!(store.load(id).await.unwrap().is_some());
    }
}

#[tokio::test]
async fn eviction_spares_used_sessions_in_favour_of_idle_ones() {
    let store = MemoryStore::builder()
        .capacity(64)
        .evict_lru(true)
        .no_sweeper()
        .build();
    let mut ids = Vec::new();
    for _ in 0..64 {
        ids.push(create(&store, &sized(10)).await.unwrap());
    }
    // One eviction makes the hand pass (and clear) every entry once.
    let first = create(&store, &sized(10)).await.unwrap();
    let now = held(&store).await;
    let survivors: Vec<SessionId> = ids.iter().filter(|id| now.contains(*id)).cloned().collect();
    assert_eq!(survivors.len(), 63);
    // Use the first half again; the second half stays idle.
    let (hot, cold) = survivors.split_at(32);
    for id in hot {
        store.touch(id).await.unwrap();
    }
    // Make room for 8 more: every victim must come from the idle half (the hand
    // passes each ring at most once in that many evictions, so a used session keeps
    // its second chance).
    for _ in 0..8 {
        create(&store, &sized(10)).await.unwrap();
    }
    let now = held(&store).await;
    for id in hot {
        assert!(now.contains(id), "a used session was evicted");
    }
    let cold_left = cold.iter().filter(|id| now.contains(*id)).count();
    assert_eq!(cold_left, cold.len() - 8);
    assert!(now.contains(&first));
    assert_eq!(store.entries(), 64);
}

#[tokio::test]
async fn eviction_makes_room_by_bytes_too() {
    let store = MemoryStore::builder()
        .max_bytes(10_000)
        .evict_lru(true)
        .no_sweeper()
        .build();
    for _ in 0..9 {
        create(&store, &sized(1_000)).await.unwrap();
    }
    let big = create(&store, &sized(5_000)).await.unwrap();
    assert!(store.load(&big).await.unwrap().is_some());
    assert!(store.bytes() <= 10_000, "{}", store.bytes());
    assert!(store.entries() <= 6);
    // Larger than the whole budget: refused, nobody evicted for nothing.
    let before = store.entries();
    assert!(matches!(
        create(&store, &sized(20_000)).await,
        Err(StoreError::Full)
    ));
    assert_eq!(store.entries(), before);
}

#[tokio::test]
async fn a_save_larger_than_the_whole_budget_evicts_nobody() {
    let store = MemoryStore::builder()
        .max_bytes(10_000)
        .evict_lru(true)
        .no_sweeper()
        .build();
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(create(&store, &sized(1_000)).await.unwrap());
    }
    let v = store.load(&ids[0]).await.unwrap().unwrap().version;
    assert!(matches!(
        store.save(&ids[0], &sized(20_000), Some(&v)).await,
        Err(StoreError::Full)
    ));
    assert_eq!(held(&store).await.len(), 5, "nobody evicted for nothing");
}

#[tokio::test]
async fn concurrent_loads_share_one_decoded_copy() {
    let store = MemoryStore::new();
    let id = create(&store, &sized(100_000)).await.unwrap();
    let a = store.load(&id).await.unwrap().unwrap();
    let b = store.load(&id).await.unwrap().unwrap();
    assert!(Arc::ptr_eq(a.record.shared_data(), b.record.shared_data()));
}
