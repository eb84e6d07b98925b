//! `SessionManager`: the configuration and the store, and the start of each request
//! (steps 1 to 3 of the request flow).

use std::sync::Arc;

use crate::config::SessionConfig;
use crate::cookie::read::verify_value;
use crate::cookie::{CookieLookup, Rejection, find};
use crate::session::{RequestInfo, Session, Shared};
use crate::store::SessionStore;
use crate::telemetry::{InvalidCookie, invalid_cookie};

/// What every request shares: the validated configuration and the store.
///
/// Adapters build one and call [`SessionManager::start`] per request, then
/// [`Session::finish`] before the response head goes out.
///
/// # Examples
///
/// ```
/// # use std::sync::Arc;
/// # use session_core::*;
/// # use session_core::adapter::SessionManager;
/// # use session_core::store::*;
/// # #[derive(Debug, Default)]
/// # struct Store(std::sync::Mutex<std::collections::HashMap<SessionId, Record>>);
/// # #[async_trait::async_trait]
/// # impl SessionStore for Store {
/// #     async fn load(&self, id: &SessionId) -> Result<Option<Loaded>, StoreError> {
/// #         Ok(self.0.lock().unwrap().get(id).map(|r| Loaded::new(r.clone(), Version::from_u64(0))))
/// #     }
/// #     async fn create(&self, id: &SessionId, r: &Record) -> Result<Version, StoreError> {
/// #         self.0.lock().unwrap().insert(id.clone(), r.clone()); Ok(Version::from_u64(0))
/// #     }
/// #     async fn save(&self, id: &SessionId, r: &Record, _: Option<&Version>) -> Result<Option<Version>, StoreError> {
/// #         self.0.lock().unwrap().insert(id.clone(), r.clone()); Ok(Some(Version::from_u64(0)))
/// #     }
/// #     async fn touch(&self, _: &SessionId) -> Result<(), StoreError> { Ok(()) }
/// #     async fn destroy(&self, id: &SessionId) -> Result<(), StoreError> {
/// #         self.0.lock().unwrap().remove(id); Ok(())
/// #     }
/// # }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Error> {
/// let config = SessionConfig::builder(Secrets::new(["a long random secret"])?).build()?;
/// let manager = SessionManager::new(config, Arc::new(Store::default()));
///
/// // First request: no cookie. The handler stores something.
/// let session = manager.start(std::iter::empty(), false);
/// session.insert("views", 1).await?;
/// let set_cookie = session.finish().await?.set_cookie.expect("a new session sets a cookie");
///
/// // Second request: the browser sends the cookie back.
/// let cookie = set_cookie.split(';').next().unwrap();
/// let session = manager.start([cookie.as_bytes()], false);
/// assert_eq!(session.get::<u32>("views").await?, Some(1));
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct SessionManager {
    shared: Arc<Shared>,
}

impl SessionManager {
    /// A manager for this configuration and store.
    pub fn new(config: SessionConfig, store: Arc<dyn SessionStore>) -> Self {
        SessionManager {
            shared: Arc::new(Shared {
                store,
                config: Arc::new(config),
                locks: Arc::default(),
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Arc<SessionConfig> {
        &self.shared.config
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn SessionStore> {
        &self.shared.store
    }

    /// Starts a request's session from the values of its `Cookie` headers (raw bytes;
    /// any content is fine). A missing, unsigned, tampered or malformed cookie gives a
    /// new session, with no store call. `secure_request` tells whether the request came
    /// over HTTPS (see [`TrustProxy::is_secure`](crate::TrustProxy::is_secure)).
    pub fn start<'a, I>(&self, cookie_headers: I, secure_request: bool) -> Session
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        self.start_with(cookie_headers, RequestInfo::new(secure_request))
    }

    /// As [`SessionManager::start`], with what else the adapter knows of the request:
    /// the session header's value (header transport) and the client address (IP
    /// pinning). A valid header wins over the cookie.
    pub fn start_with<'a, I>(&self, cookie_headers: I, info: RequestInfo<'_>) -> Session
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        let secrets = &self.shared.config.secrets;
        let from_header: CookieLookup = match (info.session_header, &self.shared.config.header) {
            // An empty header: a header client without a session yet.
            (Some(value), Some(_)) if !value.trim_ascii().is_empty() => {
                verify_value(value, secrets)
            }
            _ => Err(Rejection::Absent),
        };
        let header_sent = info.session_header.is_some() && self.shared.config.header.is_some();
        // The token is answered in the header only to a header client: the session came
        // from the header, or the request presented no cookie of ours. Never the id of a
        // cookie session: a page script adding the header must not read it.
        let (lookup, answer_header) = match from_header {
            Ok(found) => (Ok(found), true),
            Err(header_reason) => match find(cookie_headers, &self.shared.config.name, secrets) {
                Err(Rejection::Absent) => (Err(header_reason), header_sent),
                other => (other, false),
            },
        };
        let incoming = match lookup {
            Ok(found) => Some(found),
            Err(Rejection::Absent) => None,
            Err(reason) => {
                let reason = match reason {
                    Rejection::Unsigned => InvalidCookie::Unsigned,
                    Rejection::BadSignature => InvalidCookie::BadSignature,
                    Rejection::Absent | Rejection::Malformed => InvalidCookie::Malformed,
                };
                invalid_cookie(reason, None, "");
                None
            }
        };
        Session::with_locks(Arc::clone(&self.shared), incoming, info, answer_header)
    }
}
