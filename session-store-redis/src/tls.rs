//! `RedisTls`: the certificates for `rediss://` beyond the system's roots: a private CA
//! and a client certificate (mTLS). Handshakes run on rustls with the ring provider.

use std::fmt;
use std::path::Path;

use redis::{ClientTlsConfig, TlsCertificates};

use crate::error::RedisStoreError;

/// Certificates for TLS to Redis (`rediss://` URLs): a private CA to trust instead of
/// the system's roots, and a client certificate for servers that ask for one
/// (`tls-auth-clients yes`). Without it, `rediss://` trusts the system's roots.
///
/// # Examples
///
/// ```no_run
/// use session_store_redis::{RedisStore, RedisTls};
///
/// # async fn run() -> Result<(), session_store_redis::RedisStoreError> {
/// let tls = RedisTls::new()
///     .ca_file("/etc/redis/ca.crt")?
///     .client_cert_files("/etc/redis/client.crt", "/etc/redis/client.key")?;
/// let store = RedisStore::builder()
///     .tls(tls)
///     .connect("rediss://redis.internal:6380/")
///     .await?;
/// # let _ = store; Ok(()) }
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct RedisTls {
    ca_pem: Option<Vec<u8>>,
    client: Option<(Vec<u8>, Vec<u8>)>,
}

impl fmt::Debug for RedisTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisTls")
            .field("private_ca", &self.ca_pem.is_some())
            .field("client_cert", &self.client.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl RedisTls {
    /// The system's roots, no client certificate.
    pub fn new() -> Self {
        RedisTls::default()
    }

    /// Trusts the CA certificates in `pem` (PEM) instead of the system's roots.
    pub fn ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca_pem = Some(pem.into());
        self
    }

    /// Trusts the CA certificates in the PEM file at `path`.
    ///
    /// # Errors
    ///
    /// [`RedisStoreError::File`] if the file cannot be read.
    pub fn ca_file(self, path: impl AsRef<Path>) -> Result<Self, RedisStoreError> {
        Ok(self.ca_pem(read(path.as_ref())?))
    }

    /// Presents the client certificate chain `cert` with its private key `key` (both
    /// PEM).
    pub fn client_cert_pem(mut self, cert: impl Into<Vec<u8>>, key: impl Into<Vec<u8>>) -> Self {
        self.client = Some((cert.into(), key.into()));
        self
    }

    /// Presents the client certificate chain and key in the PEM files at `cert` and
    /// `key`.
    ///
    /// # Errors
    ///
    /// [`RedisStoreError::File`] if a file cannot be read.
    pub fn client_cert_files(
        self,
        cert: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<Self, RedisStoreError> {
        let cert = read(cert.as_ref())?;
        Ok(self.client_cert_pem(cert, read(key.as_ref())?))
    }

    /// The `redis` crate's form.
    pub(crate) fn certificates(&self) -> TlsCertificates {
        TlsCertificates {
            client_tls: self.client.as_ref().map(|(cert, key)| ClientTlsConfig {
                client_cert: cert.clone(),
                client_key: key.clone(),
            }),
            root_cert: self.ca_pem.clone(),
        }
    }
}

fn read(path: &Path) -> Result<Vec<u8>, RedisStoreError> {
    std::fs::read(path).map_err(|source| RedisStoreError::File {
        path: path.to_owned(),
        source,
    })
}

/// Makes ring the process's rustls provider unless one is installed already: rustls
/// cannot pick one by itself when several are compiled in.
pub(crate) fn install_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race to another installer is fine: a provider is installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}
