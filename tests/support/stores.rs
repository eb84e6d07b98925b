//! Store decorators: `CountingStore` counts calls per operation; `FaultyStore` fails
//! chosen operations on demand, or holds saves until released. Both wrap a real store.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

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

/// Counts calls to the wrapped store.
#[derive(Debug, Clone)]
pub struct CountingStore<S> {
    inner: S,
    counts: Arc<[AtomicUsize; OPS]>,
}

impl<S> CountingStore<S> {
    pub fn new(inner: S) -> Self {
        CountingStore {
            inner,
            counts: Arc::new(Default::default()),
        }
    }
    pub fn count(&self, op: Op) -> usize {
        self.counts[op as usize].load(Ordering::SeqCst)
    }
    /// All calls so far.
    pub fn total(&self) -> usize {
        self.counts.iter().map(|c| c.load(Ordering::SeqCst)).sum()
    }
    pub fn reset(&self) {
        for c in self.counts.iter() {
            c.store(0, Ordering::SeqCst);
        }
    }
    fn hit(&self, op: Op) {
        self.counts[op as usize].fetch_add(1, Ordering::SeqCst);
    }
}

#[async_trait]
impl<S: SessionStore> SessionStore for CountingStore<S> {
    async fn load(&self, id: &SessionId) -> Result<Option<Loaded>, StoreError> {
        self.hit(Op::Load);
        self.inner.load(id).await
    }
    async fn create(&self, id: &SessionId, record: &Record) -> Result<Version, StoreError> {
        self.hit(Op::Create);
        self.inner.create(id, record).await
    }
    async fn save(
        &self,
        id: &SessionId,
        record: &Record,
        expected: Option<&Version>,
    ) -> Result<Option<Version>, StoreError> {
        self.hit(Op::Save);
        self.inner.save(id, record, expected).await
    }
    async fn touch(&self, id: &SessionId) -> Result<(), StoreError> {
        self.hit(Op::Touch);
        self.inner.touch(id).await
    }
    async fn destroy(&self, id: &SessionId) -> Result<(), StoreError> {
        self.hit(Op::Destroy);
        self.inner.destroy(id).await
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

/// Fails the chosen operations with a backend error while switched on; holds every
/// `save` while saves are held.
#[derive(Debug, Clone)]
pub struct FaultyStore<S> {
    inner: S,
    failing: Arc<[AtomicBool; OPS]>,
    saves_open: Arc<tokio::sync::watch::Sender<bool>>,
    saves_started: Arc<AtomicUsize>,
}

impl<S> FaultyStore<S> {
    pub fn new(inner: S) -> Self {
        FaultyStore {
            inner,
            failing: Arc::new(Default::default()),
            saves_open: Arc::new(tokio::sync::watch::Sender::new(true)),
            saves_started: Arc::default(),
        }
    }
    pub fn fail(&self, op: Op, on: bool) {
        self.failing[op as usize].store(on, Ordering::SeqCst);
    }
    /// While `true`, every `save` waits (after counting itself as started).
    pub fn hold_saves(&self, on: bool) {
        self.saves_open.send_replace(!on);
    }
    /// How many saves have begun, held or not.
    pub fn saves_started(&self) -> usize {
        self.saves_started.load(Ordering::SeqCst)
    }
    fn check(&self, op: Op) -> Result<(), StoreError> {
        if self.failing[op as usize].load(Ordering::SeqCst) {
            Err(StoreError::backend(std::io::Error::other(format!(
                "injected {op:?} fault"
            ))))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl<S: SessionStore> SessionStore for FaultyStore<S> {
    async fn load(&self, id: &SessionId) -> Result<Option<Loaded>, StoreError> {
        self.check(Op::Load)?;
        self.inner.load(id).await
    }
    async fn create(&self, id: &SessionId, record: &Record) -> Result<Version, StoreError> {
        self.check(Op::Create)?;
        self.inner.create(id, record).await
    }
    async fn save(
        &self,
        id: &SessionId,
        record: &Record,
        expected: Option<&Version>,
    ) -> Result<Option<Version>, StoreError> {
        self.saves_started.fetch_add(1, Ordering::SeqCst);
        let _ = self.saves_open.subscribe().wait_for(|open| *open).await;
        self.check(Op::Save)?;
        self.inner.save(id, record, expected).await
    }
    async fn touch(&self, id: &SessionId) -> Result<(), StoreError> {
        self.check(Op::Touch)?;
        self.inner.touch(id).await
    }
    async fn destroy(&self, id: &SessionId) -> Result<(), StoreError> {
        self.check(Op::Destroy)?;
        self.inner.destroy(id).await
    }
}

/// A store that keeps something alive (a server process) for as long as it lives.
#[derive(Debug)]
pub struct Guarded<S, G> {
    pub inner: S,
    pub guard: Arc<G>,
}

impl<S: Clone, G> Clone for Guarded<S, G> {
    fn clone(&self) -> Self {
        Guarded {
            inner: self.inner.clone(),
            guard: Arc::clone(&self.guard),
        }
    }
}

#[async_trait]
impl<S: SessionStore, G: std::fmt::Debug + Send + Sync + 'static> SessionStore for Guarded<S, G> {
    async fn load(&self, id: &SessionId) -> Result<Option<Loaded>, StoreError> {
        self.inner.load(id).await
    }
    async fn create(&self, id: &SessionId, record: &Record) -> Result<Version, StoreError> {
        self.inner.create(id, record).await
    }
    async fn save(
        &self,
        id: &SessionId,
        record: &Record,
        expected: Option<&Version>,
    ) -> Result<Option<Version>, StoreError> {
        self.inner.save(id, record, expected).await
    }
    async fn touch(&self, id: &SessionId) -> Result<(), StoreError> {
        self.inner.touch(id).await
    }
    async fn destroy(&self, id: &SessionId) -> Result<(), StoreError> {
        self.inner.destroy(id).await
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
