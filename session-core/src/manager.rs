//! `SessionManager`: the configuration and the store, and the start of each request
//! (steps 1 to 3 of the request flow).

use std::sync::Arc;

use crate::config::SessionConfig;
use crate::cookie::read::verify_value;
use crate::cookie::read::{decoded_value, values};
use crate::cookie::{CookieLookup, Rejection, find};
use crate::id::SessionId;
use crate::sealed::SealedConfig;
use crate::session::{RequestInfo, Session, Shared};
use crate::store::SessionStore;
use crate::store::{Loaded, Record, StoreError, Version};
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
                sealed: None,
            }),
        }
    }

    /// A manager for sealed-cookie sessions: each session lives in its cookie, sealed
    /// as `config` says, and no store is used ([`SessionManager::store`] is a store
    /// that refuses every call, for code that asks for one).
    ///
    /// ```
    /// use session_core::adapter::SessionManager;
    /// use session_core::sealed::{Passwords, SealedConfig};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), session_core::Error> {
    /// let config = SealedConfig::h3(Passwords::new(["at least thirty-two characters of secret"])?).build()?;
    /// let manager = SessionManager::sealed(config);
    ///
    /// let session = manager.start(std::iter::empty(), true);
    /// session.insert("user", 42).await?;
    /// let set_cookie = session.finish().await?.set_cookie.expect("a changed session sets its cookie");
    /// assert!(set_cookie.starts_with("h3=Fe26.2**"));
    ///
    /// let cookie = set_cookie.split(';').next().unwrap();
    /// let session = manager.start([cookie.as_bytes()], true);
    /// assert_eq!(session.get::<u32>("user").await?, Some(42));
    /// # Ok(()) }
    /// ```
    pub fn sealed(config: SealedConfig) -> Self {
        SessionManager {
            shared: Arc::new(Shared {
                store: Arc::new(NoStore),
                config: Arc::new(config.session.clone()),
                locks: Arc::default(),
                sealed: Some(Arc::new(config)),
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
        if self.shared.sealed.is_some() {
            return self.start_sealed(cookie_headers, info);
        }
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
        Session::with_locks(
            Arc::clone(&self.shared),
            incoming,
            info,
            answer_header,
            Box::default(),
        )
    }

    /// Sealed-cookie mode: the candidate seals, unsealed on first use: a non-empty
    /// session header first (h3 reads it before the cookie), then the first
    /// [`SEAL_CANDIDATES`] cookies of the name, each reassembled when h3 2.x split it
    /// (`name=__chunked__N` and `name.1` … `name.N`: removing `name` ends it for both
    /// sides). iron-session's split cookies (`name.0` …, with `chunk: true`) are not
    /// read: this layer could not remove them all when the session ends.
    fn start_sealed<'a, I>(&self, cookie_headers: I, info: RequestInfo<'_>) -> Session
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        let name = &self.shared.config.name;
        let headers: Vec<&[u8]> = cookie_headers.into_iter().collect();
        let mut seals = Vec::new();
        let from_header = info.session_header.filter(|v| !v.trim_ascii().is_empty());
        if let Some(header) = from_header {
            seals.push(decoded_value(header));
        }
        let first = |name: &str| values(headers.iter().copied(), name).into_iter().next();
        for value in values(headers.iter().copied(), name)
            .into_iter()
            .filter(|v| !v.is_empty())
            .take(SEAL_CANDIDATES)
        {
            match value.strip_prefix(CHUNKED) {
                Some(count) => {
                    let parts = count
                        .parse::<usize>()
                        .ok()
                        .filter(|n| (1..=MAX_CHUNKS).contains(n));
                    let joined: Option<String> = parts
                        .and_then(|n| (1..=n).map(|i| first(&format!("{name}.{i}"))).collect());
                    seals.extend(joined);
                }
                None => seals.push(value),
            }
        }
        // In this mode `header_client` says the first candidate is the header's.
        Session::with_locks(
            Arc::clone(&self.shared),
            None,
            info,
            from_header.is_some(),
            seals.into_boxed_slice(),
        )
    }
}

/// Cookies of the sealed name tried at most (each may cost a key derivation).
const SEAL_CANDIDATES: usize = 2;
/// h3 2.x's marker of a split cookie.
const CHUNKED: &str = "__chunked__";
/// Parts of a split seal read at most (4 × 4,000 characters is more than any seal
/// this layer unseals: `MAX_SEAL_LEN`).
const MAX_CHUNKS: usize = 4;

/// The store of a sealed-cookie manager: never called by the session layer; any
/// other caller is told there is none.
#[derive(Debug)]
struct NoStore;

#[derive(Debug, thiserror::Error)]
#[error("sealed-cookie sessions have no store")]
struct NoStoreError;

#[async_trait::async_trait]
impl SessionStore for NoStore {
    async fn load(&self, _: &SessionId) -> Result<Option<Loaded>, StoreError> {
        Err(StoreError::backend(NoStoreError))
    }
    async fn create(&self, _: &SessionId, _: &Record) -> Result<Version, StoreError> {
        Err(StoreError::backend(NoStoreError))
    }
    async fn save(
        &self,
        _: &SessionId,
        _: &Record,
        _: Option<&Version>,
    ) -> Result<Option<Version>, StoreError> {
        Err(StoreError::backend(NoStoreError))
    }
    async fn touch(&self, _: &SessionId) -> Result<(), StoreError> {
        Err(StoreError::backend(NoStoreError))
    }
    async fn destroy(&self, _: &SessionId) -> Result<(), StoreError> {
        Err(StoreError::backend(NoStoreError))
    }
}
