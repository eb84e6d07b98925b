//! Observability through the real adapter: the metrics (read back from a recording
//! `metrics` recorder) and the spans and events (read back from a capturing `tracing`
//! layer) that operators get. Tests in this file share the process-wide recorder, so
//! each holds `SERIAL` and compares counters before and after.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use session_core::store::{Loaded, Record, SessionStore, StoreError, Version};
use session_core::wire::encode_uri_component;
use session_core::wire::sign;
use session_core::{Secrets, SessionConfig, SessionId};
use session_hyper::SessionLayer;
use session_store_memory::MemoryStore;
use session_tests::telemetry::{self, events, metrics, spans};
use session_tests::{Op, TestServer, TestStore, guard};
use tokio::sync::Mutex;

// The metric names as the crates document them (session-core's "Observability" and
// session-store-memory's docs): a renamed metric fails here.
const STORE_OPERATIONS: &str = "session_store_operations_total";
const STORE_ERRORS: &str = "session_store_errors_total";
const STORE_DURATION: &str = "session_store_duration_seconds";
const INVALID_COOKIES: &str = "session_invalid_cookies_total";
const LIFECYCLE: &str = "session_lifecycle_total";
const CONFLICTS: &str = "session_conflicts_total";
const CONFLICT_RETRIES: &str = "session_conflict_retries_total";
const FAILURES: &str = "session_failures_total";
const MEMORY_STORE_SESSIONS: &str = "session_memory_store_sessions";

const SECRET: &str = "observability secret";
static SERIAL: Mutex<()> = Mutex::const_new(());

fn config() -> SessionConfig {
    session_tests::config_with(SECRET, Duration::from_secs(600))
        .build()
        .unwrap()
}

fn cookie_for(value: &str) -> String {
    format!(
        "connect.sid={}",
        encode_uri_component(&format!("s:{}", sign(value, SECRET.as_bytes())))
    )
}

/// Counter and gauge values by rendered key, and histogram sample counts.
struct Snap(HashMap<String, f64>);

impl Snap {
    fn take() -> Snap {
        telemetry::install_recorder();
        Snap(metrics())
    }
    fn get(&self, key: &str) -> f64 {
        self.0.get(key).copied().unwrap_or(0.0)
    }
    /// How much `key` grew since `self`, read from `now`.
    fn delta(&self, now: &Snap, key: &str) -> f64 {
        now.get(key) - self.get(key)
    }
}

async fn serve(store: impl SessionStore) -> TestServer {
    guard::install();
    telemetry::install_recorder();
    TestServer::start(SessionLayer::new(config(), store)).await
}

#[tokio::test]
async fn store_calls_are_counted_and_timed_by_operation() {
    let _serial = SERIAL.lock().await;
    let server = serve(MemoryStore::new()).await;
    let before = Snap::take();
    let mut c = server.client();
    c.get("/").await; // new visitor who stores: create
    c.get("/").await; // load + save
    c.get("/none").await; // untouched with a cookie: touch
    c.post("/logout").await; // load (lazy) is not needed: destroy by the cookie's id
    let after = Snap::take();
    for (op, n) in [
        ("create", 1.0),
        ("load", 1.0),
        ("save", 1.0),
        ("touch", 1.0),
        ("destroy", 1.0),
    ] {
        assert_eq!(
            before.delta(&after, &format!("{STORE_OPERATIONS}{{op={op}}}")),
            n,
            "{op} calls"
        );
        assert_eq!(
            before.delta(&after, &format!("{STORE_DURATION}{{op={op}}}")),
            n,
            "{op} latency samples"
        );
        assert_eq!(
            before.delta(&after, &format!("{STORE_ERRORS}{{op={op}}}")),
            0.0
        );
    }
    assert_eq!(
        before.delta(&after, &format!("{LIFECYCLE}{{event=created}}")),
        1.0
    );
    assert_eq!(
        before.delta(&after, &format!("{LIFECYCLE}{{event=destroyed}}")),
        1.0
    );
}

#[tokio::test]
async fn invalid_cookies_are_counted_by_reason_without_store_calls_for_bad_ones() {
    let _serial = SERIAL.lock().await;
    let server = serve(TestStore::new(MemoryStore::new()).corrupt_for("corrupt-record-id")).await;
    let c = server.client();
    let before = Snap::take();
    c.send_with("GET", "/", Some("connect.sid=plainvalue"))
        .await;
    c.send_with("GET", "/", Some("connect.sid=s%3Aabc.forgedsignature"))
        .await;
    c.send_with("GET", "/", Some(&cookie_for("not an id!")))
        .await;
    let mid = Snap::take();
    for reason in ["unsigned", "bad_signature", "malformed"] {
        assert_eq!(
            before.delta(&mid, &format!("{INVALID_COOKIES}{{reason={reason}}}")),
            1.0,
            "{reason}"
        );
    }
    assert_eq!(
        before.delta(&mid, &format!("{STORE_OPERATIONS}{{op=load}}")),
        0.0,
        "a cookie that does not verify costs no store call"
    );
    let unknown = SessionId::generate().unwrap();
    c.send_with("GET", "/", Some(&cookie_for(unknown.expose())))
        .await;
    c.send_with("GET", "/", Some(&cookie_for("corrupt-record-id")))
        .await;
    let after = Snap::take();
    for reason in ["unknown_id", "corrupt_record"] {
        assert_eq!(
            mid.delta(&after, &format!("{INVALID_COOKIES}{{reason={reason}}}")),
            1.0,
            "{reason}"
        );
    }
    assert_eq!(
        mid.delta(&after, &format!("{STORE_OPERATIONS}{{op=load}}")),
        2.0
    );
    // Each reason is also an event, with the session as a keyed hash.
    let evs = events();
    for reason in ["unsigned", "bad_signature", "malformed", "unknown_id"] {
        assert!(
            evs.iter().any(
                |e| e.fields.get("event").map(String::as_str) == Some("invalid_cookie")
                    && e.fields.get("reason").map(String::as_str) == Some(reason)
            ),
            "an invalid_cookie event with reason {reason}"
        );
    }
    let corrupt = evs
        .iter()
        .find(|e| e.fields.get("reason").map(String::as_str) == Some("corrupt_record"))
        .expect("a corrupt_record event");
    assert_eq!(corrupt.level, tracing::Level::WARN);
    let hash = &corrupt.fields["session"];
    assert_eq!(hash.len(), 12);
    assert!(hash.chars().all(|c| c.is_ascii_hexdigit()));
    assert!(!format!("{corrupt:?}").contains("corrupt-record-id"));
}

#[tokio::test]
async fn store_errors_are_counted_by_operation_and_failure_kind() {
    let _serial = SERIAL.lock().await;
    let store = TestStore::new(MemoryStore::new());
    let server = serve(store.clone()).await;
    let mut c = server.client();
    c.get("/").await;
    let before = Snap::take();
    store.fail(Op::Load, true);
    assert_eq!(c.get("/").await.status, 503);
    store.fail(Op::Load, false);
    store.fail(Op::Save, true);
    assert_eq!(c.get("/").await.status, 500);
    store.fail(Op::Save, false);
    let after = Snap::take();
    assert_eq!(
        before.delta(&after, &format!("{STORE_ERRORS}{{op=load}}")),
        1.0
    );
    assert_eq!(
        before.delta(&after, &format!("{STORE_ERRORS}{{op=save}}")),
        1.0
    );
    assert_eq!(
        before.delta(&after, &format!("{FAILURES}{{kind=load}}")),
        1.0
    );
    assert_eq!(
        before.delta(&after, &format!("{FAILURES}{{kind=persist}}")),
        1.0
    );
    let failed = spans()
        .into_iter()
        .filter(|s| {
            s.name == "session.store"
                && s.fields.get("outcome").map(String::as_str) == Some("error")
        })
        .count();
    assert!(failed >= 2, "failed store calls are marked in their span");
}

#[tokio::test]
async fn conflicts_and_retries_are_counted() {
    let _serial = SERIAL.lock().await;
    let store = TestStore::new(MemoryStore::new());
    let server = serve(store.clone()).await;
    let mut c = server.client();
    c.get("/").await;
    let before = Snap::take();
    store.conflict_next_save();
    let r = c.post("/set?k=v").await;
    assert_eq!(r.status, 200);
    let after = Snap::take();
    assert_eq!(before.delta(&after, CONFLICTS), 1.0);
    assert_eq!(before.delta(&after, CONFLICT_RETRIES), 1.0);
    assert_eq!(
        before.delta(&after, &format!("{STORE_OPERATIONS}{{op=save}}")),
        2.0,
        "the conflicting save and the re-applied one"
    );
    assert!(
        events()
            .iter()
            .any(|e| e.fields.get("event").map(String::as_str) == Some("conflict"))
    );
}

#[tokio::test]
async fn lifecycle_events_and_the_memory_store_gauge() {
    let _serial = SERIAL.lock().await;
    let store = MemoryStore::new();
    let server = serve(store.clone()).await;
    let before = Snap::take();
    let mut clients = Vec::new();
    for _ in 0..3 {
        let mut c = server.client();
        c.get("/").await;
        clients.push(c);
    }
    assert_eq!(Snap::take().get(MEMORY_STORE_SESSIONS), 3.0);
    clients[0].post("/login?user=ada").await; // regenerate: old record deleted, new created
    clients[1].post("/cycle").await;
    clients[2].post("/logout").await;
    let after = Snap::take();
    for (event, n) in [
        ("created", 5.0), // 3 visitors, the regenerated one, the cycled one
        ("regenerated", 1.0),
        ("cycled", 1.0),
        ("destroyed", 1.0),
    ] {
        assert_eq!(
            before.delta(&after, &format!("{LIFECYCLE}{{event={event}}}")),
            n,
            "{event}"
        );
    }
    assert_eq!(after.get(MEMORY_STORE_SESSIONS), 2.0);
    assert_eq!(store.len().await.unwrap(), 2);
}

#[tokio::test]
async fn an_expired_session_is_an_event() {
    let _serial = SERIAL.lock().await;
    guard::install();
    telemetry::install_recorder();
    let config = SessionConfig::builder(Secrets::new([SECRET]).unwrap())
        .absolute_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    // A store that keeps records past their lifetime (a TTL-enforcing store drops them
    // itself, and the cookie then names no stored session: `unknown_id`).
    let server = TestServer::start(SessionLayer::new(config, KeepsEverything::default())).await;
    let mut c = server.client();
    c.get("/").await;
    let before = Snap::take();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(c.get("/").await.json()["views"], 1, "a fresh session");
    let after = Snap::take();
    assert_eq!(
        before.delta(&after, &format!("{LIFECYCLE}{{event=expired}}")),
        1.0
    );
}

#[tokio::test]
async fn store_spans_nest_in_the_request_span_with_latency() {
    let _serial = SERIAL.lock().await;
    let server = serve(MemoryStore::new()).await;
    let mut c = server.client();
    c.get("/").await;
    c.get("/").await;
    let spans = spans();
    let store_spans: Vec<_> = spans.iter().filter(|s| s.name == "session.store").collect();
    for op in ["create", "load", "save"] {
        let s = store_spans
            .iter()
            .find(|s| {
                s.fields.get("op").map(String::as_str) == Some(op)
                    && s.fields.get("outcome").map(String::as_str) == Some("ok")
            })
            .unwrap_or_else(|| panic!("a successful session.store span for {op}"));
        assert_eq!(s.parent.as_deref(), Some("session.request"));
        assert!(
            s.fields["latency_us"].parse::<u64>().is_ok(),
            "latency recorded: {s:?}"
        );
        assert_eq!(s.fields["session"].len(), 12);
    }
    let request = spans
        .iter()
        .find(|s| s.name == "session.request")
        .expect("a request span");
    assert_eq!(request.fields["method"], "GET");
    assert_eq!(request.fields["path"], "/");
    let created = events()
        .into_iter()
        .find(|e| e.fields.get("event").map(String::as_str) == Some("created"))
        .expect("a created event");
    assert_eq!(
        created.scope.first().map(String::as_str),
        Some("session.request")
    );
}

/// A store that never expires anything.
#[derive(Clone, Debug, Default)]
struct KeepsEverything(Arc<std::sync::Mutex<HashMap<SessionId, Record>>>);

#[async_trait]
impl SessionStore for KeepsEverything {
    async fn load(&self, id: &SessionId) -> Result<Option<Loaded>, StoreError> {
        let map = self.0.lock().unwrap();
        Ok(map
            .get(id)
            .map(|r| Loaded::new(r.clone(), Version::from_u64(0))))
    }
    async fn create(&self, id: &SessionId, r: &Record) -> Result<Version, StoreError> {
        self.0.lock().unwrap().insert(id.clone(), r.clone());
        Ok(Version::from_u64(0))
    }
    async fn save(
        &self,
        id: &SessionId,
        r: &Record,
        _: Option<&Version>,
    ) -> Result<Option<Version>, StoreError> {
        self.0.lock().unwrap().insert(id.clone(), r.clone());
        Ok(Some(Version::from_u64(0)))
    }
    async fn touch(&self, _: &SessionId) -> Result<(), StoreError> {
        Ok(())
    }
    async fn destroy(&self, id: &SessionId) -> Result<(), StoreError> {
        self.0.lock().unwrap().remove(id);
        Ok(())
    }
}

#[tokio::test]
async fn redis_store_calls_are_counted_and_timed_too() {
    let _serial = SERIAL.lock().await;
    let store = session_tests::redis_store().await;
    let server = serve(store).await;
    let before = Snap::take();
    let mut c = server.client();
    c.get("/").await;
    c.get("/").await;
    c.get("/read").await;
    let after = Snap::take();
    for (op, n) in [("create", 1.0), ("load", 2.0), ("save", 1.0)] {
        assert_eq!(
            before.delta(&after, &format!("{STORE_OPERATIONS}{{op={op}}}")),
            n,
            "{op} calls"
        );
        assert_eq!(
            before.delta(&after, &format!("{STORE_DURATION}{{op={op}}}")),
            n,
            "{op} latency samples"
        );
    }
}
