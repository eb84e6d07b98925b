//! `CsrfLayer`: every request that may change something (any method but `GET`, `HEAD`,
//! `OPTIONS` and `TRACE`) must carry the session's CSRF token, or is answered `403`
//! without reaching the handler. The token and its check are session-core's
//! ([`Session::csrf_token`], [`Session::verify_csrf`]); this layer finds the token in
//! the request.
//!
//! Where the token is looked for, in order:
//! 1. the [`CSRF_HEADER`] header (`x-csrf-token`), for scripts;
//! 2. the [`CSRF_FIELD`] field (`_csrf`) of an `application/x-www-form-urlencoded`
//!    body, for HTML forms. The body is read (up to [`DEFAULT_FORM_LIMIT`]) and handed
//!    on to the handler unchanged.
//!
//! A multipart form is not read: send the header, or exempt the route and check the
//! field in the handler ([`Session::require_csrf`]). Exempt what cannot carry a token
//! and is authenticated otherwise, such as a webhook signed by its sender, with
//! [`CsrfLayer::exempt`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::request::Parts;
use http::{Method, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Either, Full, Limited};
use session_core::Session;
use session_core::csrf::{CSRF_FIELD, CSRF_HEADER};
use tower_layer::Layer;
use tower_service::Service;

/// The largest urlencoded form body the layer reads to find the token (64 KiB).
pub const DEFAULT_FORM_LIMIT: usize = 64 * 1024;

/// The body the wrapped service receives: the request's own, or the form the layer
/// read, as it was.
pub type CsrfBody<B> = Either<B, Full<Bytes>>;

type Exempt = dyn Fn(&Parts) -> bool + Send + Sync;

/// Checks the CSRF token of every unsafe request; place it INSIDE
/// [`SessionLayer`](crate::SessionLayer).
///
/// ```
/// use session_hyper::CsrfLayer;
///
/// // Stripe signs its webhooks: no token there.
/// let csrf = CsrfLayer::new().exempt(|req| req.uri.path().starts_with("/webhooks/"));
/// # let _ = csrf;
/// ```
#[derive(Clone)]
pub struct CsrfLayer {
    config: Arc<Config>,
}

#[derive(Clone)]
struct Config {
    exempt: Option<Arc<Exempt>>,
    form_limit: usize,
}

impl Default for CsrfLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for CsrfLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsrfLayer")
            .field("exempt", &self.config.exempt.is_some())
            .field("form_limit", &self.config.form_limit)
            .finish()
    }
}

impl CsrfLayer {
    /// Checks every unsafe request, forms up to [`DEFAULT_FORM_LIMIT`].
    pub fn new() -> Self {
        CsrfLayer {
            config: Arc::new(Config {
                exempt: None,
                form_limit: DEFAULT_FORM_LIMIT,
            }),
        }
    }

    /// Requests for which `exempt` answers `true` are not checked.
    pub fn exempt(self, exempt: impl Fn(&Parts) -> bool + Send + Sync + 'static) -> Self {
        self.with(|c| c.exempt = Some(Arc::new(exempt)))
    }

    /// The largest urlencoded form read for its token; a larger one is answered `413`.
    pub fn form_limit(self, limit: usize) -> Self {
        self.with(|c| c.form_limit = limit)
    }

    fn with(self, edit: impl FnOnce(&mut Config)) -> Self {
        let mut config = Arc::unwrap_or_clone(self.config);
        edit(&mut config);
        CsrfLayer {
            config: Arc::new(config),
        }
    }
}

impl<S> Layer<S> for CsrfLayer {
    type Service = CsrfService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CsrfService {
            inner,
            config: self.config.clone(),
        }
    }
}

/// The service of [`CsrfLayer`].
#[derive(Clone)]
pub struct CsrfService<S> {
    inner: S,
    config: Arc<Config>,
}

impl<S> std::fmt::Debug for CsrfService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsrfService").finish_non_exhaustive()
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for CsrfService<S>
where
    S: Service<Request<CsrfBody<ReqBody>>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Body<Data = Bytes> + Send + 'static,
    ReqBody::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    ResBody: From<Bytes> + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let config = self.config.clone();
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let safe = matches!(
                parts.method,
                Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
            );
            if safe || config.exempt.as_ref().is_some_and(|exempt| exempt(&parts)) {
                return inner
                    .call(Request::from_parts(parts, Either::Left(body)))
                    .await;
            }
            match check(&parts, body, config.form_limit).await {
                Ok(body) => inner.call(Request::from_parts(parts, body)).await,
                Err(refused) => Ok(refused.response()),
            }
        })
    }
}

/// Why a request was refused.
enum Refused {
    Token,
    NoSession,
    Store,
    TooLarge,
    Unreadable,
}

impl Refused {
    fn response<B: From<Bytes>>(self) -> Response<B> {
        let (status, text) = match self {
            Refused::Token => (
                StatusCode::FORBIDDEN,
                "403 Forbidden: this request needs the page's CSRF token (missing or invalid); reload the page and try again",
            ),
            Refused::NoSession => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "CsrfLayer must be inside SessionLayer",
            ),
            Refused::Store => (
                StatusCode::SERVICE_UNAVAILABLE,
                "the session store is unavailable",
            ),
            Refused::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "the form is too large"),
            Refused::Unreadable => (StatusCode::BAD_REQUEST, "the form could not be read"),
        };
        match self {
            Refused::Token => {
                session_core::adapter::failure_response("csrf");
                tracing::debug!("request refused: missing or invalid CSRF token");
            }
            Refused::NoSession => tracing::error!("CsrfLayer is installed outside SessionLayer"),
            _ => {}
        }
        crate::respond::plain_text(status, text)
    }
}

/// The request's body to hand on if its token is the session's.
async fn check<B>(parts: &Parts, body: B, limit: usize) -> Result<CsrfBody<B>, Refused>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let session = parts
        .extensions
        .get::<Session>()
        .cloned()
        .ok_or(Refused::NoSession)?;
    if let Some(token) = parts.headers.get(CSRF_HEADER) {
        let token = token.to_str().map_err(|_| Refused::Token)?;
        return verified(&session, token).await.map(|()| Either::Left(body));
    }
    if !crate::request_info::has_media_type(&parts.headers, "application/x-www-form-urlencoded") {
        return Err(Refused::Token);
    }
    let bytes = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => return Err(Refused::TooLarge),
        Err(_) => return Err(Refused::Unreadable),
    };
    let token = form_urlencoded::parse(&bytes)
        .find(|(name, _)| name == CSRF_FIELD)
        .map(|(_, value)| value.into_owned())
        .ok_or(Refused::Token)?;
    verified(&session, &token).await?;
    Ok(Either::Right(Full::new(bytes)))
}

async fn verified(session: &Session, token: &str) -> Result<(), Refused> {
    match session.verify_csrf(token).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(Refused::Token),
        Err(_) => Err(Refused::Store),
    }
}
