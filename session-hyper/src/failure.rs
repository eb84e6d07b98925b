//! The failure policy: which response a session failure becomes, and the user hook that
//! can replace it. Never a panic; the error is logged without ids or secrets.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use http::{Response, StatusCode};
use session_core::{Error, StoreOp};

/// What kind of failure ended the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureKind {
    /// The store failed while loading: default answer 503 with `Retry-After`.
    Load,
    /// Saving, touching or destroying failed, or the session was too large: default 500.
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
            FailureKind::Persist => "persist",
            FailureKind::Gone => "gone",
        }
    }
}

pub(crate) type Hook = Arc<dyn Fn(&Failure<'_>) -> Response<Bytes> + Send + Sync>;

#[derive(Clone, Default)]
pub(crate) struct Policy {
    pub(crate) hook: Option<Hook>,
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Policy")
            .field("hook", &self.hook.as_ref().map(|_| "custom"))
            .finish()
    }
}

impl Policy {
    /// Logs the error and builds the response that replaces the handler's.
    pub(crate) fn respond(&self, error: &Error) -> Response<Bytes> {
        let kind = match error {
            Error::Store {
                op: StoreOp::Load, ..
            } => FailureKind::Load,
            Error::Gone => FailureKind::Gone,
            _ => FailureKind::Persist,
        };
        log(kind, error);
        session_core::telemetry::failure_response(kind.as_str());
        match &self.hook {
            Some(hook) => hook(&Failure { kind, error }),
            None => default_response(kind),
        }
    }
}

fn log(kind: FailureKind, error: &Error) {
    let mut chain = String::new();
    let mut source = std::error::Error::source(error);
    while let Some(s) = source {
        chain.push_str(": ");
        chain.push_str(&s.to_string());
        source = s.source();
    }
    match kind {
        FailureKind::Gone => {
            tracing::info!(error = %error, "session was destroyed by a concurrent request")
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
        FailureKind::Persist => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "session could not be saved\n",
        ),
        FailureKind::Gone => (StatusCode::CONFLICT, "session ended by another request\n"),
    };
    let mut res = Response::new(Bytes::from_static(body.as_bytes()));
    *res.status_mut() = status;
    res.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if kind == FailureKind::Load {
        res.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static("1"));
    }
    res
}
