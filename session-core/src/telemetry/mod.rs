//! Every `tracing` event and metric the session layer emits, each named once here; the
//! crate documentation ("Observability") lists them for operators.

pub(crate) mod events;
mod store_keys;
pub(crate) mod throttle;

pub(crate) use events::*;

/// Counter: store calls, by `op`.
pub(crate) const STORE_OPERATIONS: &str = "session_store_operations_total";
/// Counter: failed store calls, by `op`.
pub(crate) const STORE_ERRORS: &str = "session_store_errors_total";
/// Histogram: store call latency in seconds, by `op`.
pub(crate) const STORE_DURATION: &str = "session_store_duration_seconds";
/// Counter: cookies that gave no session, by `reason`.
pub(crate) const INVALID_COOKIES: &str = "session_invalid_cookies_total";
/// Counter: lifecycle events, by `event`.
pub(crate) const LIFECYCLE: &str = "session_lifecycle_total";
/// Counter: compare-and-set conflicts met while saving.
pub(crate) const CONFLICTS: &str = "session_conflicts_total";
/// Counter: re-applications of a request's changes after a conflict.
pub(crate) const CONFLICT_RETRIES: &str = "session_conflict_retries_total";
/// Counter: failure responses written by an adapter, by `kind`.
pub(crate) const FAILURES: &str = "session_failures_total";
/// Counter: responses served without the session's store work, by `reason`.
pub(crate) const DEGRADED: &str = "session_degraded_total";
