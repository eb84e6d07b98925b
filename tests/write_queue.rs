//! The bound on requests waiting to write one session (issue #16): past
//! `max_queued_writes`, a request answers 503 with Retry-After at once instead of
//! queueing with its copy of the session; the queued ones all land.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use session_core::{
    CookieOptions, Loaded, Record, Secrets, SessionConfig, SessionId, SessionStore, StoreError,
    Version,
};
use session_hyper::SessionLayer;
use session_store_memory::MemoryStore;
use session_tests::TestServer;
use tokio::sync::watch;

/// A memory store whose `save` waits while the gate is closed.
#[derive(Debug, Clone)]
struct GatedStore {
    inner: MemoryStore,
    open: watch::Receiver<bool>,
    saving: Arc<AtomicUsize>,
}

#[async_trait]
impl SessionStore for GatedStore {
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
        self.saving.fetch_add(1, Ordering::SeqCst);
        let mut open = self.open.clone();
        let _ = open.wait_for(|o| *o).await;
        self.inner.save(id, record, expected).await
    }
    async fn touch(&self, id: &SessionId) -> Result<(), StoreError> {
        self.inner.touch(id).await
    }
    async fn destroy(&self, id: &SessionId) -> Result<(), StoreError> {
        self.inner.destroy(id).await
    }
}

/// Another connection of the same user (same cookies).
fn same_user(server: &TestServer, c: &session_tests::Client) -> session_tests::Client {
    let mut other = server.client();
    other.jar = c.jar.clone();
    other
}

#[tokio::test]
async fn writers_past_the_queue_bound_get_a_503_and_the_queued_ones_land() {
    const QUEUE: usize = 3;
    const EXTRA: usize = 5;
    let (gate, open) = watch::channel(true);
    let store = GatedStore {
        inner: MemoryStore::new(),
        open,
        saving: Arc::default(),
    };
    let config = SessionConfig::builder(Secrets::new(["keyboard cat"]).unwrap())
        .cookie(CookieOptions {
            max_age: Some(Duration::from_secs(60)),
            ..CookieOptions::default()
        })
        .max_queued_writes(QUEUE)
        .build()
        .unwrap();
    let server = TestServer::start(SessionLayer::new(config, store.clone())).await;
    let mut c = server.client();
    assert_eq!(c.get("/").await.json()["views"], 1);
    gate.send_replace(false);

    // One writer holds the session's write lock, stuck in the store.
    let holder = {
        let c = same_user(&server, &c);
        tokio::spawn(async move {
            c.send_with("POST", "/put?w=0", c.cookie_header().as_deref())
                .await
        })
    };
    while store.saving.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    // QUEUE more can wait behind it; the EXTRA beyond are refused at once (they
    // complete while the gate is still closed).
    let mut waiting = Vec::new();
    for i in 0..QUEUE + EXTRA {
        let c = same_user(&server, &c);
        waiting.push(tokio::spawn(async move {
            c.send_with(
                "POST",
                &format!("/put?w{i}=1"),
                c.cookie_header().as_deref(),
            )
            .await
        }));
    }
    // A regression (nobody refused) must fail, not hang: a deadline, not a timing.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut refused = 0;
    while refused < EXTRA {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {refused} of {EXTRA} requests beyond the queue bound were refused"
        );
        let mut i = 0;
        while i < waiting.len() {
            if waiting[i].is_finished() {
                let r = waiting.remove(i).await.unwrap();
                assert_eq!(r.status, 503, "{}", r.body);
                assert_eq!(r.header("retry-after").as_deref(), Some("1"));
                assert!(r.set_cookies().is_empty());
                refused += 1;
            } else {
                i += 1;
            }
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(waiting.len(), QUEUE, "exactly QUEUE requests wait");
    gate.send_replace(true);
    assert_eq!(holder.await.unwrap().status, 200);
    for w in waiting {
        assert_eq!(w.await.unwrap().status, 200);
    }
    // Every queued write landed (merged, none lost); the refused ones wrote nothing.
    let data = c.get("/read").await.json();
    let written = data
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| k.starts_with('w'))
        .count();
    assert_eq!(written, 1 + QUEUE, "{data}");
}
