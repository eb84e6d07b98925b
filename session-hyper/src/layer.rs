//! `SessionLayer`: the shared configuration, store and failure policy; wraps services.

use std::sync::Arc;

use bytes::Bytes;
use http::Response;
use session_core::SessionConfig;
use session_core::adapter::SessionManager;
use session_core::sealed::SealedConfig;
use session_core::store::SessionStore;
use tower_layer::Layer;

use crate::failure::{Failure, FailureHandling, FailurePolicy};
use crate::service::SessionService;

/// A tower [`Layer`] that gives every request a session.
///
/// # Examples
///
/// ```
/// use session_core::{Secrets, SessionConfig};
/// use session_hyper::SessionLayer;
/// use session_store_memory::MemoryStore;
///
/// let config = SessionConfig::builder(Secrets::new(["a long random secret"])?).build()?;
/// let layer = SessionLayer::new(config, MemoryStore::new())
///     .on_failure(|failure| {
///         let mut res = http::Response::new(bytes::Bytes::from("please retry"));
///         *res.status_mut() = http::StatusCode::SERVICE_UNAVAILABLE;
///         res
///     });
/// # let _ = layer;
/// # Ok::<(), session_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct SessionLayer {
    pub(crate) shared: Arc<Shared>,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) manager: SessionManager,
    pub(crate) failure: FailureHandling,
}

impl SessionLayer {
    /// A layer for this configuration and store.
    pub fn new(config: SessionConfig, store: impl SessionStore) -> Self {
        Self::from_arc(config, Arc::new(store))
    }

    /// A layer for a store already shared elsewhere (e.g. for admin handlers).
    pub fn from_arc(config: SessionConfig, store: Arc<dyn SessionStore>) -> Self {
        SessionLayer {
            shared: Arc::new(Shared {
                manager: SessionManager::new(config, store),
                failure: FailureHandling::default(),
            }),
        }
    }

    /// A layer for sealed-cookie sessions: each session lives in its cookie, sealed as
    /// h3's `useSession` or iron-session seal theirs; no store is used.
    ///
    /// ```
    /// use std::time::Duration;
    /// use session_core::sealed::{Passwords, SealedConfig};
    /// use session_hyper::SessionLayer;
    ///
    /// let passwords = Passwords::new(["the same password as the Nuxt app's, 32+ chars"])?;
    /// let config = SealedConfig::h3(passwords).max_age(Duration::from_secs(86_400)).build()?;
    /// let layer = SessionLayer::sealed(config);
    /// # let _ = layer;
    /// # Ok::<(), session_core::Error>(())
    /// ```
    pub fn sealed(config: SealedConfig) -> Self {
        SessionLayer {
            shared: Arc::new(Shared {
                manager: SessionManager::sealed(config),
                failure: FailureHandling::default(),
            }),
        }
    }

    /// Replaces the default failure responses (503 on load, 500 on save, 409 when a
    /// concurrent request ended the session) with the hook's.
    pub fn on_failure(
        self,
        hook: impl Fn(&Failure<'_>) -> Response<Bytes> + Send + Sync + 'static,
    ) -> Self {
        let failure = FailureHandling {
            hook: Some(Arc::new(hook)),
            mode: self.shared.failure.mode,
        };
        self.with_failure(failure)
    }

    /// What a load failure that the handler chose not to propagate does to its
    /// response (default [`FailurePolicy::Fail`]: replaced by the failure response).
    /// A failed end-of-request touch never replaces the response, whatever the policy:
    /// it is served without `Set-Cookie` (nothing stored is lost).
    ///
    /// ```
    /// # use session_core::{Secrets, SessionConfig};
    /// # use session_store_memory::MemoryStore;
    /// use session_hyper::{FailurePolicy, SessionLayer};
    /// # let config = SessionConfig::builder(Secrets::new(["a long random secret"])?).build()?;
    /// let layer = SessionLayer::new(config, MemoryStore::new()).failure_policy(FailurePolicy::Degrade);
    /// # let _ = layer;
    /// # Ok::<(), session_core::Error>(())
    /// ```
    pub fn failure_policy(self, mode: FailurePolicy) -> Self {
        let failure = FailureHandling {
            hook: self.shared.failure.hook.clone(),
            mode,
        };
        self.with_failure(failure)
    }

    fn with_failure(self, failure: FailureHandling) -> Self {
        SessionLayer {
            shared: Arc::new(Shared {
                manager: self.shared.manager.clone(),
                failure,
            }),
        }
    }

    /// The session manager (configuration and store).
    pub fn manager(&self) -> &SessionManager {
        &self.shared.manager
    }
}

impl<S> Layer<S> for SessionLayer {
    type Service = SessionService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionService {
            inner,
            shared: Arc::clone(&self.shared),
        }
    }
}
