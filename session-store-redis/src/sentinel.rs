//! `RedisSentinel`: the sentinels, the service, and how to reach the primary they name
//! (following it through failovers is `replaceable.rs`'s job).

use std::fmt;

use redis::sentinel::{SentinelClient, SentinelClientBuilder, SentinelServerType};
use redis::{ConnectionAddr, IntoConnectionInfo, RedisResult};

use crate::tls::RedisTls;

/// Where a Sentinel-managed primary is found: the sentinels' URLs (`redis://host:26379`,
/// with the sentinels' own password if they have one, `rediss://` for TLS) and the
/// service name they monitor (`sentinel monitor <name> ...`). The store writes to the
/// primary the sentinels name and follows it through failovers.
///
/// # Examples
///
/// ```no_run
/// use session_store_redis::{RedisSentinel, RedisStore};
///
/// # async fn run() -> Result<(), session_store_redis::RedisStoreError> {
/// let sentinel = RedisSentinel::new(
///     "mymaster",
///     ["redis://10.0.0.1:26379", "redis://10.0.0.2:26379", "redis://10.0.0.3:26379"],
/// )
/// .primary_password("s3cret");
/// let store = RedisStore::builder().connect_sentinel(sentinel).await?;
/// # let _ = store; Ok(()) }
/// ```
#[derive(Clone)]
#[must_use]
pub struct RedisSentinel {
    service: String,
    sentinels: Vec<String>,
    username: Option<String>,
    password: Option<String>,
    db: i64,
    tls: bool,
}

impl fmt::Debug for RedisSentinel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisSentinel")
            .field("service", &self.service)
            .field("sentinels", &self.sentinels.len())
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("db", &self.db)
            .field("tls", &self.tls)
            .finish()
    }
}

impl RedisSentinel {
    /// The service `service` as the sentinels at `sentinels` know it.
    pub fn new<I, S>(service: impl Into<String>, sentinels: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        RedisSentinel {
            service: service.into(),
            sentinels: sentinels.into_iter().map(Into::into).collect(),
            username: None,
            password: None,
            db: 0,
            tls: false,
        }
    }

    /// The ACL user for the primary (not for the sentinels: that goes in their URLs).
    pub fn primary_username(mut self, username: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self
    }

    /// The password for the primary (`requirepass`, or the ACL user's).
    pub fn primary_password(mut self, password: impl Into<String>) -> Self {
        self.password = Some(password.into());
        self
    }

    /// The database number on the primary (default 0).
    pub fn primary_db(mut self, db: i64) -> Self {
        self.db = db;
        self
    }

    /// Speaks TLS to the primary, with the builder's [`RedisTls`](crate::RedisTls)
    /// certificates if any.
    pub fn primary_tls(mut self, tls: bool) -> Self {
        self.tls = tls;
        self
    }

    /// The `redis` crate's sentinel client.
    pub(crate) fn client(&self, tls: Option<&RedisTls>) -> RedisResult<SentinelClient> {
        let mut addrs: Vec<ConnectionAddr> = Vec::with_capacity(self.sentinels.len());
        let mut auth = None;
        for url in &self.sentinels {
            let info = url.as_str().into_connection_info()?;
            let settings = info.redis_settings();
            if let Some(password) = settings.password() {
                auth = Some((settings.username().map(str::to_owned), password.to_owned()));
            }
            addrs.push(info.addr().clone());
        }
        let mut b = SentinelClientBuilder::new(addrs, &self.service, SentinelServerType::Master)?
            .set_client_to_redis_db(self.db);
        if let Some((username, password)) = auth {
            if let Some(username) = username {
                b = b.set_client_to_sentinel_username(username);
            }
            b = b.set_client_to_sentinel_password(password);
        }
        if let Some(username) = &self.username {
            b = b.set_client_to_redis_username(username);
        }
        if let Some(password) = &self.password {
            b = b.set_client_to_redis_password(password);
        }
        if self.tls {
            b = b.set_client_to_redis_tls_mode(redis::TlsMode::Secure);
        }
        #[cfg(feature = "tls")]
        if let Some(certs) = tls.map(RedisTls::certificates) {
            if self.tls {
                b = b.set_client_to_redis_certificates(certs.clone());
            }
            if self.sentinels.iter().any(|u| u.starts_with("rediss://")) {
                b = b.set_client_to_sentinel_certificates(certs.clone());
            }
        }
        #[cfg(not(feature = "tls"))]
        let _ = tls;
        b.build()
    }
}
