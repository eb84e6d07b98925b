//! The conformance suite must be able to fail: each broken store below violates one
//! rule of the contract, and the case for that rule must panic on it.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use session_core::SessionId;
use session_core::conformance::cases;
use session_core::store::{Loaded, Record, SessionStore, StoreError, Version};
use session_store_memory::MemoryStore;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Bug {
    /// `create` overwrites an existing id (express's upsert).
    CreateOverwrites,
    /// `save` writes even when the session was destroyed.
    SaveResurrects,
    /// `save` ignores the expected version.
    IgnoresVersion,
    /// `touch` rewrites the data.
    TouchRewrites,
    /// `load` returns expired sessions.
    ReturnsExpired,
}

#[derive(Debug)]
struct Broken {
    inner: MemoryStore,
    bug: Bug,
    /// Every record ever written, so a broken store can return expired ones.
    ever: Mutex<HashMap<SessionId, Record>>,
}

#[async_trait]
impl SessionStore for Broken {
    async fn load(&self, id: &SessionId) -> Result<Option<Loaded>, StoreError> {
        let found = self.inner.load(id).await?;
        if found.is_none() && self.bug == Bug::ReturnsExpired {
            let seen = self.ever.lock().unwrap().get(id).cloned();
            return Ok(seen.map(|r| Loaded::new(r, Version::from_u64(0))));
        }
        Ok(found)
    }
    async fn create(&self, id: &SessionId, record: &Record) -> Result<Version, StoreError> {
        self.ever.lock().unwrap().insert(id.clone(), record.clone());
        if self.bug == Bug::CreateOverwrites {
            self.inner.destroy(id).await?;
        }
        self.inner.create(id, record).await
    }
    async fn save(
        &self,
        id: &SessionId,
        record: &Record,
        expected: Option<&Version>,
    ) -> Result<Option<Version>, StoreError> {
        match (self.bug, self.inner.save(id, record, expected).await) {
            (Bug::SaveResurrects, Err(StoreError::NotFound)) => {
                self.inner.create(id, record).await.map(Some)
            }
            (Bug::IgnoresVersion, Err(StoreError::Conflict)) => {
                self.inner.save(id, record, None).await
            }
            (_, other) => other,
        }
    }
    async fn touch(&self, id: &SessionId) -> Result<(), StoreError> {
        if self.bug == Bug::TouchRewrites {
            let rec = cases::record(Some(3_600_000), serde_json::json!({"rewritten": true}));
            self.inner.save(id, &rec, None).await?;
        }
        self.inner.touch(id).await
    }
    async fn destroy(&self, id: &SessionId) -> Result<(), StoreError> {
        self.inner.destroy(id).await
    }
}

/// Runs `case` against a store with `bug` and says whether it failed.
async fn fails<F, Fut>(bug: Bug, case: F) -> bool
where
    F: FnOnce(&'static Broken) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let store: &'static Broken = Box::leak(Box::new(Broken {
        inner: MemoryStore::new(),
        bug,
        ever: Default::default(),
    }));
    tokio::spawn(case(store)).await.is_err_and(|e| e.is_panic())
}

#[tokio::test]
async fn each_broken_store_fails_its_case() {
    assert!(
        fails(Bug::CreateOverwrites, |s| {
            cases::create_on_taken_id_conflicts(s)
        })
        .await
    );
    assert!(
        fails(Bug::SaveResurrects, |s| {
            cases::update_after_destroy_is_not_found(s)
        })
        .await
    );
    assert!(
        fails(Bug::IgnoresVersion, |s| {
            cases::stale_version_update_conflicts(s)
        })
        .await
    );
    assert!(
        fails(Bug::TouchRewrites, |s| {
            cases::touch_extends_without_rewriting_data(s)
        })
        .await
    );
    assert!(
        fails(Bug::ReturnsExpired, |s| {
            cases::expired_record_is_not_returned(s)
        })
        .await
    );
}

#[tokio::test]
async fn the_same_cases_pass_on_the_real_store() {
    let store: &'static MemoryStore = Box::leak(Box::new(MemoryStore::new()));
    cases::create_on_taken_id_conflicts(store).await;
    cases::update_after_destroy_is_not_found(store).await;
    cases::stale_version_update_conflicts(store).await;
}
