//! The failure policy: which response a session failure becomes, whether a load failure
//! the handler chose to ignore may keep the handler's response ([`FailurePolicy`]), and
//! the user hook that can replace the response. Never a panic; the error is logged
//! without ids or secrets.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::{Response, StatusCode};
use session_core::adapter::LogThrottle;
use session_core::{Error, StoreOp};

/// What kind of failure ended the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureKind {
    /// The store failed while loading: default answer 503 with `Retry-After`.
    Load,
    /// The store is full, or too many requests wait to write this session: default
    /// answer 503 with `Retry-After`. Nothing was written.
    Overloaded,
    /// Saving or destroying failed, or the session was too large: default 500. (A
    /// failed touch is not a failure: the response goes out without `Set-Cookie`.)
    Persist,
    /// Another request destroyed or replaced the session meanwhile: default 409.
    Gone,
}

/// A session failure, handed to the hook of [`SessionLayer::on_failure`](crate::SessionLayer::on_failure).
#[derive(Debug)]
pub struct Failure<'a> {
    /// The kind.
    pub kind: FailureKind,
    /// The error, with its source chain.
    pub error: &'a Error,
}

impl FailureKind {
    /// The `kind` label of the `session_failures_total` metric.
    pub const fn as_str(self) -> &'static str {
        match self {
            FailureKind::Load => "load",
            FailureKind::Overloaded => "overloaded",
            FailureKind::Persist => "persist",
            FailureKind::Gone => "gone",
        }
    }
}

/// What happens to the handler's response when loading the session failed
/// (set with [`SessionLayer::failure_policy`](crate::SessionLayer::failure_policy)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailurePolicy {
    /// The response is replaced by the failure response (503 with `Retry-After`,
    /// or the [`on_failure`](crate::SessionLayer::on_failure) hook's): a handler that
    /// ignored the error cannot serve a page that silently lacks the user's session.
    #[default]
    Fail,
    /// The handler's own response is served, without `Set-Cookie`, when it is not a
    /// server error (status below 500): a handler that reads the session optionally
    /// (`session.get(..).await.ok().flatten()`) serves its guest page during a store
    /// outage. A 5xx from the handler is still replaced by the failure response.
    /// Counted in `session_degraded_total{reason="load_failed"}`.
    Degrade,
}

pub(crate) type Hook = Arc<dyn Fn(&Failure<'_>) -> Response<Bytes> + Send + Sync>;

#[derive(Clone, Default)]
pub(crate) struct FailureHandling {
    pub(crate) hook: Option<Hook>,
    pub(crate) mode: FailurePolicy,
}

impl fmt::Debug for FailureHandling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FailureHandling")
            .field("hook", &self.hook.as_ref().map(|_| "custom"))
            .field("mode", &self.mode)
            .finish()
    }
}

impl FailureHandling {
    /// Whether the handler's response (with status `status`) is served despite
    /// `error`, as [`FailurePolicy::Degrade`] says. Counts and logs it when so.
    pub(crate) fn keeps_response(&self, error: &Error, status: http::StatusCode) -> bool {
        let keep = self.mode == FailurePolicy::Degrade
            && kind_of(error) == FailureKind::Load
            && !status.is_server_error();
        if keep {
            session_core::adapter::load_failure_degraded(error);
        }
        keep
    }

    /// Logs the error and builds the response that replaces the handler's.
    pub(crate) fn respond(&self, error: &Error) -> Response<Bytes> {
        let kind = kind_of(error);
        log(kind, error);
        session_core::adapter::failure_response(kind.as_str());
        match &self.hook {
            Some(hook) => hook(&Failure { kind, error }),
            None => default_response(kind),
        }
    }
}

fn kind_of(error: &Error) -> FailureKind {
    match error {
        e if e.is_overloaded() => FailureKind::Overloaded,
        Error::Store {
            op: StoreOp::Load, ..
        } => FailureKind::Load,
        Error::Gone => FailureKind::Gone,
        _ => FailureKind::Persist,
    }
}

fn log(kind: FailureKind, error: &Error) {
    let chain = session_core::adapter::error_chain(error);
    match kind {
        FailureKind::Gone => {
            tracing::info!(error = %error, "session was destroyed by a concurrent request")
        }
        // Capacity passes with the load; one line per interval, not one per request.
        FailureKind::Overloaded => {
            static LOG: LogThrottle = LogThrottle::new();
            if let Some(left_out) = LOG.admit() {
                tracing::warn!(error = %error, left_out, "session capacity reached; answering 503");
            }
        }
        // A deployment error repeated on every request: one line per interval.
        _ if matches!(error, Error::NoClientAddress) => {
            static LOG: LogThrottle = LogThrottle::new();
            if let Some(left_out) = LOG.admit() {
                tracing::error!(
                    error = %error,
                    left_out,
                    "ip_pinning(true) needs the client address: insert session_hyper::ClientAddr (or use axum's ConnectInfo)"
                );
            }
        }
        _ => tracing::error!(error = %error, cause = %chain, ?kind, "session store failure"),
    }
}

fn default_response(kind: FailureKind) -> Response<Bytes> {
    let (status, body) = match kind {
        FailureKind::Load => (
            StatusCode::SERVICE_UNAVAILABLE,
            "session store unavailable\n",
        ),
        FailureKind::Overloaded => (
            StatusCode::SERVICE_UNAVAILABLE,
            "session capacity reached, please retry\n",
        ),
        FailureKind::Persist => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "session could not be saved\n",
        ),
        FailureKind::Gone => (StatusCode::CONFLICT, "session ended by another request\n"),
    };
    crate::respond::plain_text(status, body)
}
