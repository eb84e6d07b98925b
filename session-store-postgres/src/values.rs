//! The values the statements take: times in Unix seconds (for `to_timestamp`, as
//! connect-pg-simple computes them), a row's version, advisory lock keys.

use std::time::Duration;

use session_core::store::Version;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// The version of a stored text: its SHA-256, as the server computes it in a
/// conditional save.
pub(crate) fn digest(text: &[u8]) -> Version {
    Version::from_bytes(Sha256::digest(text))
}

/// An advisory lock key for one purpose on one table.
pub(crate) fn lock_key(purpose: &str, table: &str) -> i64 {
    let hash = Sha256::digest(format!("session-store-postgres {purpose} {table}"));
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash[..8]);
    i64::from_be_bytes(first)
}

/// Unix time in seconds, to the millisecond, for `to_timestamp`.
pub(crate) fn unix_seconds(at: OffsetDateTime) -> f64 {
    (at.unix_timestamp_nanos() / 1_000_000) as f64 / 1_000.0
}

/// The `expire` of a write: `now + ttl` in Unix seconds, rounded up to a whole second
/// as connect-pg-simple's `Math.ceil(expires / 1000)`.
pub(crate) fn expire_at(now: OffsetDateTime, ttl: Duration) -> f64 {
    let ms = now.unix_timestamp_nanos() / 1_000_000 + i128::try_from(ttl.as_millis()).unwrap_or(0);
    (ms + 999).div_euclid(1000) as f64
}

/// A duration in whole seconds, rounded up.
pub(crate) fn whole_seconds(d: Duration) -> i64 {
    i64::try_from(d.as_millis().div_ceil(1000)).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expire_is_rounded_up_to_whole_seconds_like_connect_pg_simple() {
        let now = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_250_000_000).unwrap();
        assert_eq!(
            expire_at(now, Duration::from_millis(1_000)),
            1_700_000_002.0
        );
        assert_eq!(expire_at(now, Duration::from_millis(750)), 1_700_000_001.0);
        assert_eq!(unix_seconds(now), 1_700_000_000.25);
    }

    #[test]
    fn versions_and_lock_keys() {
        assert_eq!(digest(b"{}").as_bytes().len(), 32);
        assert_ne!(digest(b"{}"), digest(b"{ }"));
        assert_ne!(lock_key("prune", "\"a\""), lock_key("prune", "\"b\""));
        assert_ne!(lock_key("prune", "\"a\""), lock_key("create", "\"a\""));
        assert_eq!(whole_seconds(Duration::from_millis(1_001)), 2);
    }
}
