//! Session REST endpoints, as nuxt-session offers them: `GET` (the data), `POST`
//! (replace the data), `PATCH` (merge into the data), `DELETE` (destroy) on one path,
//! `/api/session` by default. Off unless this layer is installed, and only the methods
//! on its allow-list are routed; any other request goes to the inner service untouched.
//!
//! **These endpoints let clients write session data.** Never keep anything in a session
//! that a client may not set itself (roles, user ids, prices) when `POST` or `PATCH` is
//! allowed; the default allows only `GET`. Keys starting with `__` are server-only:
//! readable through `GET`, never written, replaced or removed by `POST` and `PATCH`
//! (400). The session's reserved keys (`cookie` and the names express-session uses
//! itself) are refused everywhere (400). A write that would make the session larger
//! than its limit is refused with 413 and changes nothing.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Limited};
use serde_json::{Map, Value, json};
use session_core::{Error, Session};
use tower_layer::Layer;
use tower_service::Service;

/// Default request body limit for `POST` and `PATCH`.
pub const DEFAULT_BODY_LIMIT: usize = 16 * 1024;

/// Keys with this prefix are written only by the server, never through the endpoints.
const SERVER_ONLY_PREFIX: &str = "__";

/// Mounts the session endpoints; place it INSIDE [`SessionLayer`](crate::SessionLayer)
/// (the session must already be in the request).
///
/// ```
/// use http::Method;
/// use session_hyper::SessionApiLayer;
///
/// // GET and PATCH on /api/session, bodies up to 4 KiB.
/// let api = SessionApiLayer::new()
///     .methods([Method::GET, Method::PATCH])
///     .body_limit(4 * 1024);
/// assert_eq!(api.base_path(), "/api/session");
/// ```
#[derive(Clone, Debug)]
pub struct SessionApiLayer {
    config: Arc<ApiConfig>,
}

#[derive(Debug)]
struct ApiConfig {
    base_path: String,
    methods: Vec<Method>,
    body_limit: usize,
}

impl Default for SessionApiLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl SessionApiLayer {
    /// `/api/session`, `GET` only, bodies up to [`DEFAULT_BODY_LIMIT`].
    pub fn new() -> Self {
        SessionApiLayer {
            config: Arc::new(ApiConfig {
                base_path: "/api/session".to_owned(),
                methods: vec![Method::GET],
                body_limit: DEFAULT_BODY_LIMIT,
            }),
        }
    }

    /// The path the endpoints answer on (exactly; no sub-paths).
    #[must_use]
    pub fn with_base_path(self, path: impl Into<String>) -> Self {
        self.map(|c| c.base_path = path.into())
    }

    /// The allowed methods, among `GET`, `POST`, `PATCH` and `DELETE` (others are
    /// ignored). A method not listed is not routed at all.
    #[must_use]
    pub fn methods(self, methods: impl IntoIterator<Item = Method>) -> Self {
        let allowed = [Method::GET, Method::POST, Method::PATCH, Method::DELETE];
        let list: Vec<Method> = methods
            .into_iter()
            .filter(|m| allowed.contains(m))
            .collect();
        self.map(|c| c.methods = list)
    }

    /// The largest request body accepted (413 above it).
    #[must_use]
    pub fn body_limit(self, bytes: usize) -> Self {
        self.map(|c| c.body_limit = bytes)
    }

    /// The path the endpoints answer on.
    pub fn base_path(&self) -> &str {
        &self.config.base_path
    }

    fn map(self, f: impl FnOnce(&mut ApiConfig)) -> Self {
        let mut config = ApiConfig {
            base_path: self.config.base_path.clone(),
            methods: self.config.methods.clone(),
            body_limit: self.config.body_limit,
        };
        f(&mut config);
        SessionApiLayer {
            config: Arc::new(config),
        }
    }
}

impl<S> Layer<S> for SessionApiLayer {
    type Service = SessionApi<S>;
    fn layer(&self, inner: S) -> SessionApi<S> {
        SessionApi {
            inner,
            config: Arc::clone(&self.config),
        }
    }
}

/// The service of [`SessionApiLayer`].
#[derive(Clone, Debug)]
pub struct SessionApi<S> {
    inner: S,
    config: Arc<ApiConfig>,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for SessionApi<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Body + Send + 'static,
    ReqBody::Data: Send,
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
        let routed =
            req.uri().path() == self.config.base_path && self.config.methods.contains(req.method());
        let session = req.extensions().get::<Session>().cloned();
        let (true, Some(session)) = (routed, session) else {
            let clone = self.inner.clone();
            let mut inner = std::mem::replace(&mut self.inner, clone);
            return Box::pin(inner.call(req));
        };
        let limit = self.config.body_limit;
        Box::pin(async move { Ok(handle(session, req, limit).await.map(ResBody::from)) })
    }
}

async fn handle<B>(session: Session, req: Request<B>, limit: usize) -> Response<Bytes>
where
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let method = req.method().clone();
    let result = match method {
        Method::GET => session.data().await,
        Method::DELETE => {
            return match session.destroy().await {
                Ok(()) => reply(StatusCode::NO_CONTENT, None),
                Err(e) => error_reply(&e),
            };
        }
        _ => {
            let body = match read_object(req, limit).await {
                Ok(body) => body,
                Err(res) => return res,
            };
            if let Some(key) = body.keys().find(|k| k.starts_with(SERVER_ONLY_PREFIX)) {
                return problem(
                    StatusCode::BAD_REQUEST,
                    &format!(
                        "session key {key:?} is reserved for the server (keys starting with \"{SERVER_ONLY_PREFIX}\")"
                    ),
                );
            }
            let replace = method == Method::POST;
            // Saved now, so a refusal (too large, reserved key) is this answer's and
            // leaves the session as it was.
            let written = session
                .update(|data| {
                    if replace {
                        data.retain(|k, _| k.starts_with(SERVER_ONLY_PREFIX));
                    }
                    data.extend(body.clone());
                })
                .await;
            match written {
                Ok(()) => session.data().await,
                Err(e) => Err(e),
            }
        }
    };
    match result {
        Ok(data) => reply(StatusCode::OK, Some(Value::Object(data))),
        Err(e) => error_reply(&e),
    }
}

/// The request body as a JSON object, or the 4xx that says why not.
async fn read_object<B>(
    req: Request<B>,
    limit: usize,
) -> Result<Map<String, Value>, Response<Bytes>>
where
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if !crate::request_info::has_media_type(req.headers(), "application/json") {
        return Err(problem(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the body must be application/json",
        ));
    }
    let bytes = match Limited::new(req.into_body(), limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return Err(problem(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("the body is larger than {limit} bytes"),
            ));
        }
        Err(_) => {
            return Err(problem(
                StatusCode::BAD_REQUEST,
                "the body could not be read",
            ));
        }
    };
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(problem(
            StatusCode::BAD_REQUEST,
            "the body must be a JSON object",
        )),
        Err(e) => Err(problem(
            StatusCode::BAD_REQUEST,
            &format!("invalid JSON: {e}"),
        )),
    }
}

fn error_reply(e: &Error) -> Response<Bytes> {
    let status = match e {
        Error::ReservedKey { .. } | Error::NotAnObject | Error::Value { .. } => {
            StatusCode::BAD_REQUEST
        }
        Error::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        Error::Destroyed | Error::Gone => StatusCode::CONFLICT,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    };
    problem(status, &e.to_string())
}

fn problem(status: StatusCode, message: &str) -> Response<Bytes> {
    reply(status, Some(json!({ "error": message })))
}

fn reply(status: StatusCode, body: Option<Value>) -> Response<Bytes> {
    let mut res = Response::new(body.map(|b| Bytes::from(b.to_string())).unwrap_or_default());
    *res.status_mut() = status;
    if res.body().is_empty() {
        return res;
    }
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}
