//! `SessionService`: the request flow, step by step, and nothing else.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use tower_service::Service;
use tracing::Instrument;

use crate::layer::Shared;
use crate::{request_info, respond};

/// The future of [`SessionService`].
pub type ResponseFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

/// Wraps a service so every request carries a [`Session`](session_core::Session);
/// built by [`SessionLayer`](crate::SessionLayer).
#[derive(Clone, Debug)]
pub struct SessionService<S> {
    pub(crate) inner: S,
    pub(crate) shared: Arc<Shared>,
}

impl<S> SessionService<S> {
    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }
    /// Unwraps the service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for SessionService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: From<Bytes> + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        // tower's rule: call the service that was polled ready, leave a clone behind.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let shared = Arc::clone(&self.shared);
        let manager = &shared.manager;
        // Outside the cookie's path the session does not apply (express's prefix test,
        // on the original URL: inside a nested router the path is stripped).
        if !manager
            .config()
            .applies_to_path(request_info::original_path(&req))
        {
            return Box::pin(inner.call(req));
        }
        // Spans and events of the session layer (store calls, lifecycle) nest under this.
        let span = tracing::debug_span!(
            "session.request",
            method = %req.method(),
            path = request_info::original_path(&req),
        );
        // 1-2. Find our cookie and verify it: a bad cookie simply means "no session".
        let info = request_info::info(&req, manager.config());
        let session =
            span.in_scope(|| manager.start_with(request_info::cookie_headers(&req), info));
        // 3. A lazy handle: no store call until the handler uses it.
        req.extensions_mut().insert(session.clone());

        Box::pin(
            async move {
                // 4. The handler.
                let mut res = inner.call(req).await?;
                // 5. Save, touch or destroy, BEFORE the response head is handed back.
                let outcome = match session.finish().await {
                    Ok(outcome) => outcome,
                    Err(err) => {
                        if !shared.failure.keeps_response(&err, res.status()) {
                            // The failure response; the handler's body is dropped.
                            return Ok(shared.failure.respond(&err).map(ResBody::from));
                        }
                        // A load failure the handler chose to ignore, under `Degrade`:
                        // its response, without a cookie (it read the session: Vary).
                        respond::read_only()
                    }
                };
                // 6. Set-Cookie, Cache-Control, Vary.
                respond::apply(&mut res, &outcome, shared.manager.config().header_name());
                Ok(res)
            }
            .instrument(span),
        )
    }
}
