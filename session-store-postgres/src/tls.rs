//! `PostgresTls`: TLS to the database through rustls (ring): which roots to trust (a
//! private CA, or Mozilla's), and a client certificate for servers that ask for one.
//! The server's certificate and name are always verified: there is no "encrypt but
//! trust anything" mode.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};

use crate::error::PostgresStoreError;

/// TLS settings for the connection to PostgreSQL.
///
/// Set with [`PostgresStoreBuilder::tls`](crate::PostgresStoreBuilder::tls) (or by
/// `sslmode=require` in the URL, which trusts Mozilla's roots). Without a private CA,
/// Mozilla's root certificates (the `webpki-roots` crate) are trusted.
///
/// # Examples
///
/// ```no_run
/// use session_store_postgres::{PostgresStore, PostgresTls};
///
/// # async fn run() -> Result<(), session_store_postgres::PostgresStoreError> {
/// let tls = PostgresTls::new().ca_file("/etc/postgresql/root.crt")?;
/// let store = PostgresStore::builder()
///     .tls(tls)
///     .connect("postgres://app@db.internal/app")
///     .await?;
/// # let _ = store; Ok(()) }
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct PostgresTls {
    ca_pem: Option<Vec<u8>>,
    client: Option<(Vec<u8>, Vec<u8>)>,
}

impl fmt::Debug for PostgresTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresTls")
            .field("private_ca", &self.ca_pem.is_some())
            .field("client_cert", &self.client.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl PostgresTls {
    /// Mozilla's roots, no client certificate.
    pub fn new() -> Self {
        PostgresTls::default()
    }

    /// Trusts the CA certificates in `pem` (PEM) instead of Mozilla's roots.
    pub fn ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca_pem = Some(pem.into());
        self
    }

    /// Trusts the CA certificates in the PEM file at `path`.
    ///
    /// # Errors
    ///
    /// [`PostgresStoreError::File`] if the file cannot be read.
    pub fn ca_file(self, path: impl AsRef<Path>) -> Result<Self, PostgresStoreError> {
        Ok(self.ca_pem(read(path.as_ref())?))
    }

    /// Presents the client certificate chain `cert` with its private key `key` (both
    /// PEM).
    pub fn client_cert_pem(mut self, cert: impl Into<Vec<u8>>, key: impl Into<Vec<u8>>) -> Self {
        self.client = Some((cert.into(), key.into()));
        self
    }

    /// The rustls connector for tokio-postgres.
    pub(crate) fn connector(
        &self,
    ) -> Result<tokio_postgres_rustls::MakeRustlsConnect, PostgresStoreError> {
        let mut roots = RootCertStore::empty();
        match &self.ca_pem {
            Some(pem) => {
                for cert in CertificateDer::pem_slice_iter(pem) {
                    let cert = cert.map_err(|e| config(format!("the CA certificate: {e}")))?;
                    roots
                        .add(cert)
                        .map_err(|e| config(format!("the CA certificate: {e}")))?;
                }
                if roots.is_empty() {
                    return Err(config("the CA file holds no certificate".into()));
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| config(e.to_string()))?
            .with_root_certificates(roots);
        let tls = match &self.client {
            None => builder.with_no_client_auth(),
            Some((cert, key)) => {
                let chain = CertificateDer::pem_slice_iter(cert)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| config(format!("the client certificate: {e}")))?;
                let key = PrivateKeyDer::from_pem_slice(key)
                    .map_err(|e| config(format!("the client key: {e}")))?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| config(format!("the client certificate: {e}")))?
            }
        };
        Ok(tokio_postgres_rustls::MakeRustlsConnect::new(tls))
    }
}

fn config(reason: String) -> PostgresStoreError {
    PostgresStoreError::Config(reason)
}

fn read(path: &Path) -> Result<Vec<u8>, PostgresStoreError> {
    std::fs::read(path).map_err(|source| PostgresStoreError::File {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_and_bad_pem_is_an_error() {
        let tls = PostgresTls::new().client_cert_pem("cert", "very secret key");
        assert!(!format!("{tls:?}").contains("very secret"));
        let Err(err) = PostgresTls::new().ca_pem("not a certificate").connector() else {
            panic!("a CA file without a certificate is refused");
        };
        assert!(matches!(err, PostgresStoreError::Config(_)), "{err:?}");
        assert!(PostgresTls::new().connector().is_ok(), "Mozilla's roots");
    }
}
