//! `PostgresStoreError`: what went wrong, told apart (cannot connect, credentials, TLS,
//! deadline, a missing or different table, configuration, a failed statement), and its
//! conversion into the store contract's `StoreError` (the source is kept). No message
//! carries the connection URL, so no password reaches a log.

use std::path::PathBuf;
use std::time::Duration;

use session_core::store::{RecordError, StoreError};

/// What went wrong talking to PostgreSQL.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PostgresStoreError {
    /// The database could not be reached: nothing listens, the connection was reset or
    /// closed, the host name does not resolve, or the TLS handshake failed.
    #[error("could not connect to PostgreSQL")]
    Connect(#[source] tokio_postgres::Error),
    /// The server refused the credentials, or the database or role does not exist.
    #[error("PostgreSQL refused the login ({code})")]
    Auth {
        /// The SQLSTATE code (for example `28P01`, invalid password).
        code: String,
        /// The driver's error.
        #[source]
        source: tokio_postgres::Error,
    },
    /// The server did not answer within the deadline (waiting for a pooled connection
    /// included).
    #[error("PostgreSQL did not answer within {0:?}")]
    Timeout(Duration),
    /// The session table does not exist (and `create_table_if_missing` is off).
    #[error(
        "the session table {table} does not exist (create it with connect-pg-simple's table.sql, or turn on create_table_if_missing)"
    )]
    MissingTable {
        /// The table, as written in SQL.
        table: String,
    },
    /// The table exists but is not connect-pg-simple's shape.
    #[error("the session table {table} does not have connect-pg-simple's shape: {reason}")]
    WrongSchema {
        /// The table, as written in SQL.
        table: String,
        /// What differs.
        reason: String,
    },
    /// The configuration cannot work: an invalid URL, TLS asked for without the `tls`
    /// feature, certificates that do not parse.
    #[error("invalid PostgreSQL configuration: {0}")]
    Config(String),
    /// The URL could not be parsed.
    #[error("invalid PostgreSQL URL")]
    Url(#[source] tokio_postgres::Error),
    /// A certificate or key file could not be read.
    #[error("could not read {}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The connection pool could not hand out a connection for another reason (closed,
    /// or built without a runtime).
    #[error("the PostgreSQL connection pool failed")]
    Pool(#[source] deadpool_postgres::PoolError),
    /// A statement failed (statement timeout, lock timeout, read-only replica, ...).
    #[error("PostgreSQL statement failed ({})", code(.0))]
    Query(#[source] tokio_postgres::Error),
    /// A record to save cannot be stored (larger than the store's limit:
    /// [`RecordError::TooLarge`]); nothing was written.
    #[error("the session record cannot be stored")]
    Record(#[from] RecordError),
}

/// Whether the driver failed on the socket (refused, reset, TLS).
fn is_io(e: &tokio_postgres::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.is::<std::io::Error>() {
            return true;
        }
        source = s.source();
    }
    false
}

/// The SQLSTATE of a server error, or "no SQLSTATE" for a client-side one.
fn code(e: &tokio_postgres::Error) -> &str {
    e.code().map_or("no SQLSTATE", |c| c.code())
}

impl PostgresStoreError {
    /// An error from a statement: a closed connection is a connection failure, a
    /// refused login is `Auth`, the rest is `Query`.
    pub(crate) fn from_driver(e: tokio_postgres::Error) -> Self {
        match e.code().map(|c| c.code()) {
            Some(code @ ("28P01" | "28000" | "3D000")) => PostgresStoreError::Auth {
                code: code.to_owned(),
                source: e,
            },
            // Class 08 (connection exception), the server shutting down or starting up.
            Some(code) if code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03") => {
                PostgresStoreError::Connect(e)
            }
            _ if e.is_closed() || is_io(&e) => PostgresStoreError::Connect(e),
            _ => PostgresStoreError::Query(e),
        }
    }

    /// An error from the pool.
    pub(crate) fn from_pool(e: deadpool_postgres::PoolError, deadline: Duration) -> Self {
        use deadpool_postgres::PoolError;
        match e {
            PoolError::Backend(e) => Self::from_driver(e),
            PoolError::Timeout(_) => PostgresStoreError::Timeout(deadline),
            other => PostgresStoreError::Pool(other),
        }
    }
}

impl From<tokio_postgres::Error> for PostgresStoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        Self::from_driver(e)
    }
}

impl From<PostgresStoreError> for StoreError {
    fn from(e: PostgresStoreError) -> Self {
        StoreError::backend(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_table_and_the_fix() {
        let e = PostgresStoreError::MissingTable {
            table: "\"session\"".into(),
        };
        let text = e.to_string();
        assert!(text.contains("\"session\"") && text.contains("create_table_if_missing"));
    }

    #[test]
    fn a_store_error_keeps_the_cause() {
        let e: StoreError = PostgresStoreError::Timeout(Duration::from_millis(5)).into();
        let source = std::error::Error::source(&e).map(ToString::to_string);
        assert_eq!(
            source.as_deref(),
            Some("PostgreSQL did not answer within 5ms")
        );
    }
}
