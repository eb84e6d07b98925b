//! `TestStore`: the one forwarding store of the suites. It wraps a real store and,
//! as each test asks, counts calls per operation, fails chosen operations, holds
//! saves until released, answers `Corrupt` for one id, answers `Conflict` to the next
//! save, or keeps something alive (a server process) for as long as the store lives.

use std::any::Any;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use session_core::SessionId;
use session_core::store::{Loaded, Record, SessionStore, StoreError, Version};

/// A store operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Load,
    Create,
    Save,
    Touch,
    Destroy,
}

const OPS: usize = 5;

/// A forwarding store with switches; clones share their counters and switches.
#[derive(Clone)]
pub struct TestStore<S> {
    inner: S,
    knobs: Arc<Knobs>,
}

struct Knobs {
    counts: [AtomicUsize; OPS],
    failing: [AtomicBool; OPS],
    failing_once: [AtomicBool; OPS],
    /// `false` while saves are held.
    saves_open: tokio::sync::watch::Sender<bool>,
    saves_started: AtomicUsize,
    corrupt_id: Mutex<Option<String>>,
    conflict_next_save: AtomicBool,
    kept: Mutex<Vec<Arc<dyn Any + Send + Sync>>>,
}

impl<S: std::fmt::Debug> std::fmt::Debug for TestStore<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestStore")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S> TestStore<S> {
    pub fn new(inner: S) -> Self {
        TestStore {
            inner,
            knobs: Arc::new(Knobs {
                counts: Default::default(),
                failing: Default::default(),
                failing_once: Default::default(),
                saves_open: tokio::sync::watch::Sender::new(true),
                saves_started: AtomicUsize::new(0),
                corrupt_id: Mutex::new(None),
                conflict_next_save: AtomicBool::new(false),
                kept: Mutex::new(Vec::new()),
            }),
        }
    }

    /// The same store, keeping `thing` alive as long as any clone lives.
    pub fn keeping<T: Send + Sync + 'static>(self, thing: T) -> Self {
        self.knobs
            .kept
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Arc::new(thing));
        self
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Calls of `op` so far.
    pub fn count(&self, op: Op) -> usize {
        self.knobs.counts[op as usize].load(Ordering::SeqCst)
    }
    /// All calls so far.
    pub fn total(&self) -> usize {
        self.knobs
            .counts
            .iter()
            .map(|c| c.load(Ordering::SeqCst))
            .sum()
    }
    pub fn reset(&self) {
        for c in &self.knobs.counts {
            c.store(0, Ordering::SeqCst);
        }
    }

    /// While `on`, `op` fails with a backend error.
    pub fn fail(&self, op: Op, on: bool) {
        self.knobs.failing[op as usize].store(on, Ordering::SeqCst);
    }
    /// The next call of `op` fails with a backend error (the ones after it do not).
    pub fn fail_once(&self, op: Op) {
        self.knobs.failing_once[op as usize].store(true, Ordering::SeqCst);
    }
    /// While `on`, every `save` waits (after counting itself as started).
    pub fn hold_saves(&self, on: bool) {
        self.knobs.saves_open.send_replace(!on);
    }
    /// How many saves have begun, held or not.
    pub fn saves_started(&self) -> usize {
        self.knobs.saves_started.load(Ordering::SeqCst)
    }
    /// Loads of `id` answer `Corrupt`.
    pub fn corrupt_for(self, id: &str) -> Self {
        *self
            .knobs
            .corrupt_id
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(id.to_owned());
        self
    }
    /// The next save answers `Conflict`, as if another request had saved in between.
    pub fn conflict_next_save(&self) {
        self.knobs.conflict_next_save.store(true, Ordering::SeqCst);
    }

    /// Counts `op` and fails it if asked to.
    fn enter(&self, op: Op) -> Result<(), StoreError> {
        self.knobs.counts[op as usize].fetch_add(1, Ordering::SeqCst);
        self.fault(op)
    }

    /// The injected failure of `op`, if one is switched on.
    fn fault(&self, op: Op) -> Result<(), StoreError> {
        let i = op as usize;
        if self.knobs.failing[i].load(Ordering::SeqCst)
            || self.knobs.failing_once[i].swap(false, Ordering::SeqCst)
        {
            return Err(StoreError::backend(std::io::Error::other(format!(
                "injected {op:?} fault"
            ))));
        }
        Ok(())
    }
}

#[async_trait]
impl<S: SessionStore> SessionStore for TestStore<S> {
    async fn load(&self, id: &SessionId) -> Result<Option<Loaded>, StoreError> {
        self.enter(Op::Load)?;
        let corrupt = self
            .knobs
            .corrupt_id
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_deref()
            == Some(id.expose());
        if corrupt {
            return Err(StoreError::Corrupt(
                Record::decode(b"{", 1024).expect_err("not JSON"),
            ));
        }
        self.inner.load(id).await
    }
    async fn create(&self, id: &SessionId, record: &Record) -> Result<Version, StoreError> {
        self.enter(Op::Create)?;
        self.inner.create(id, record).await
    }
    async fn save(
        &self,
        id: &SessionId,
        record: &Record,
        expected: Option<&Version>,
    ) -> Result<Option<Version>, StoreError> {
        self.knobs.counts[Op::Save as usize].fetch_add(1, Ordering::SeqCst);
        self.knobs.saves_started.fetch_add(1, Ordering::SeqCst);
        let _ = self
            .knobs
            .saves_open
            .subscribe()
            .wait_for(|open| *open)
            .await;
        self.fault(Op::Save)?;
        if self.knobs.conflict_next_save.swap(false, Ordering::SeqCst) {
            return Err(StoreError::Conflict);
        }
        self.inner.save(id, record, expected).await
    }
    async fn touch(&self, id: &SessionId) -> Result<(), StoreError> {
        self.enter(Op::Touch)?;
        self.inner.touch(id).await
    }
    async fn destroy(&self, id: &SessionId) -> Result<(), StoreError> {
        self.enter(Op::Destroy)?;
        self.inner.destroy(id).await
    }
    async fn exists(&self, id: &SessionId) -> Result<bool, StoreError> {
        self.inner.exists(id).await
    }
    async fn sessions_of(&self, user: &str) -> Result<Vec<SessionId>, StoreError> {
        self.inner.sessions_of(user).await
    }
    async fn all(&self) -> Result<Vec<(SessionId, Record)>, StoreError> {
        self.inner.all().await
    }
    async fn len(&self) -> Result<usize, StoreError> {
        self.inner.len().await
    }
    async fn clear(&self) -> Result<(), StoreError> {
        self.inner.clear().await
    }
}
