//! The events and metric updates of each session step, and the hooks adapters call.

use std::future::Future;
use std::time::Instant;

use tracing::{Instrument, debug, field, warn};

use super::store_keys::StoreKeys;
use super::throttle::LogThrottle;

use super::*;
use crate::error::StoreOp;
use crate::id::SessionId;
use crate::store::StoreError;

/// Why a request's cookie gave no session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) enum InvalidCookie {
    /// The value does not start with `s:`.
    Unsigned,
    /// No secret verifies the signature.
    BadSignature,
    /// The signature verified but the id is unacceptable.
    Malformed,
    /// The store has no session under the id (never created, expired or destroyed).
    UnknownId,
    /// The stored record could not be used (corrupt, no cookie object, too large).
    CorruptRecord,
    /// IP pinning: the session belongs to another client address.
    IpMismatch,
    /// A sealed cookie past its expiration.
    Expired,
}

impl InvalidCookie {
    /// The `reason` label.
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            InvalidCookie::Unsigned => "unsigned",
            InvalidCookie::BadSignature => "bad_signature",
            InvalidCookie::Malformed => "malformed",
            InvalidCookie::UnknownId => "unknown_id",
            InvalidCookie::CorruptRecord => "corrupt_record",
            InvalidCookie::IpMismatch => "ip_mismatch",
            InvalidCookie::Expired => "expired",
        }
    }
}

/// A lifecycle event of one session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lifecycle {
    Created,
    Regenerated,
    Cycled,
    Destroyed,
    Expired,
}

impl Lifecycle {
    const fn as_str(self) -> &'static str {
        match self {
            Lifecycle::Created => "created",
            Lifecycle::Regenerated => "regenerated",
            Lifecycle::Cycled => "cycled",
            Lifecycle::Destroyed => "destroyed",
            Lifecycle::Expired => "expired",
        }
    }
}

/// Records a lifecycle event: a debug event and the [`LIFECYCLE`] counter.
pub(crate) fn lifecycle(event: Lifecycle, id: Option<&SessionId>) {
    match id {
        Some(id) => debug!(event = event.as_str(), session = %id, "session {}", event.as_str()),
        None => debug!(event = event.as_str(), "session {}", event.as_str()),
    }
    metrics::counter!(LIFECYCLE, "event" => event.as_str()).increment(1);
}

/// A stored session's cookie attributes were unsafe to send and were replaced by the
/// configured ones (see `CookieOptions::conform`): the record was not written by this
/// configuration, or was tampered with.
/// Throttled: a store written under another configuration repeats it on every load.
pub(crate) fn stored_cookie_replaced(id: &SessionId, attributes: &[&'static str]) {
    static LOG: LogThrottle = LogThrottle::new();
    if let Some(left_out) = LOG.admit() {
        warn!(
            event = "stored_cookie_replaced",
            session = %id,
            attributes = ?attributes,
            left_out,
            "stored cookie attributes replaced by the configured ones"
        );
    }
}

/// Records a cookie that gave no session (`detail` says more, for the log only).
pub(crate) fn invalid_cookie(reason: InvalidCookie, id: Option<&SessionId>, detail: &str) {
    let r = reason.as_str();
    match (reason, id) {
        (InvalidCookie::CorruptRecord | InvalidCookie::IpMismatch, Some(id)) => {
            warn!(event = "invalid_cookie", reason = r, session = %id, detail, "stored session unusable; starting a new session");
        }
        (_, Some(id)) => {
            debug!(event = "invalid_cookie", reason = r, session = %id, detail, "session cookie gave no session");
        }
        (_, None) => {
            debug!(
                event = "invalid_cookie",
                reason = r,
                detail,
                "session cookie rejected"
            );
        }
    }
    metrics::counter!(INVALID_COOKIES, "reason" => r).increment(1);
}

/// Records a compare-and-set conflict, and whether the changes are re-applied.
pub(crate) fn conflict(id: Option<&SessionId>, attempt: u32, retrying: bool) {
    match id {
        Some(id) => {
            debug!(event = "conflict", session = %id, attempt, retrying, "concurrent update")
        }
        None => debug!(event = "conflict", attempt, retrying, "concurrent update"),
    }
    metrics::counter!(CONFLICTS).increment(1);
    if retrying {
        metrics::counter!(CONFLICT_RETRIES).increment(1);
    }
}

/// Runs one store call inside a `session.store` span, timing it into
/// [`STORE_DURATION`] and counting it (and its failure) by `op`.
pub(crate) async fn store_call<T, F>(op: StoreOp, id: &SessionId, call: F) -> Result<T, StoreError>
where
    F: Future<Output = Result<T, StoreError>>,
{
    let label = op.as_str();
    let span = tracing::debug_span!(
        "session.store",
        op = label,
        session = field::Empty,
        latency_us = field::Empty,
        outcome = field::Empty,
    );
    let traced = !span.is_disabled();
    let started = Instant::now();
    let result = if traced {
        span.record("session", field::display(id));
        call.instrument(span.clone()).await
    } else {
        call.await
    };
    let elapsed = started.elapsed();
    let outcome = match &result {
        Ok(_) => "ok",
        Err(StoreError::NotFound) => "not_found",
        Err(StoreError::Conflict) => "conflict",
        Err(StoreError::IdTaken) => "id_taken",
        Err(StoreError::Corrupt(_)) => "corrupt",
        Err(_) => "error",
    };
    if traced {
        span.record("latency_us", elapsed.as_micros() as u64);
        span.record("outcome", outcome);
    }
    let keys = StoreKeys::of(op);
    keys.operations().increment(1);
    keys.duration().record(elapsed.as_secs_f64());
    if outcome == "error" {
        keys.errors().increment(1);
    }
    result
}

/// Records a failure response written by an adapter (`kind`: `load`, `overloaded`,
/// `persist`, `gone`).
pub fn failure_response(kind: &'static str) {
    metrics::counter!(FAILURES, "kind" => kind).increment(1);
}

/// The end-of-request store work of a session the handler did not change failed (the
/// touch; with rolling, resave or saveUninitialized also a load or a write): the
/// response goes out without `Set-Cookie`, nothing stored is lost. Counted; logged at
/// warn, throttled.
pub(crate) fn touch_failed(error: &dyn std::error::Error) {
    static LOG: LogThrottle = LogThrottle::new();
    metrics::counter!(DEGRADED, "reason" => "touch_failed").increment(1);
    if let Some(left_out) = LOG.admit() {
        warn!(
            event = "touch_failed",
            error = %error,
            cause = %error_chain(error),
            left_out,
            "session store failed to extend a session's expiry; the response is served without Set-Cookie"
        );
    }
}

/// An adapter served the handler's own response after a load failure (its `Degrade`
/// policy), without `Set-Cookie`. Counted; logged at warn, throttled.
pub fn load_failure_degraded(error: &crate::Error) {
    static LOG: LogThrottle = LogThrottle::new();
    metrics::counter!(DEGRADED, "reason" => "load_failed").increment(1);
    if let Some(left_out) = LOG.admit() {
        warn!(
            event = "load_failed_degraded",
            error = %error,
            cause = %error_chain(error),
            left_out,
            "session store failed to load a session; the handler's response is served without the session"
        );
    }
}

/// `": cause: its cause ..."`: an error's source chain, for a log field.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut out = String::new();
    let mut source = error.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_stable() {
        assert_eq!(InvalidCookie::BadSignature.as_str(), "bad_signature");
        assert_eq!(InvalidCookie::CorruptRecord.as_str(), "corrupt_record");
        assert_eq!(Lifecycle::Cycled.as_str(), "cycled");
        assert_eq!(StoreOp::Touch.as_str(), "touch");
    }
}
