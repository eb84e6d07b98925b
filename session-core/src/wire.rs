//! The wire-level pieces, for tests, fuzzing, benchmarks and tools that read or write
//! express-session's formats directly: cookie signing, finding our cookie in `Cookie`
//! headers, percent-encoding as `encodeURIComponent`, the record's reserved keys, and
//! iron seals made from given random bytes.
//! (The record codec is [`Record::encode`](crate::store::Record::encode) and
//! [`Record::decode`](crate::store::Record::decode).) Applications do not need these.

pub use crate::cookie::read::{IncomingId, Rejection, find_session_id};
pub use crate::cookie::write::encode_uri_component;
pub use crate::record::RESERVED_KEYS;
pub use crate::signing::{Verified, sign, unsign};

/// An iron seal (no TTL) made with the given salts and IV instead of random ones, so
/// its output can be compared with another implementation's: `random` is the
/// encryption salt (32 bytes), the HMAC salt (32 bytes) and the IV (16 bytes), as
/// iron-webcrypto takes them (salts as lowercase hex text).
///
/// # Errors
///
/// Never in practice (the HMAC accepts any key).
pub fn iron_seal_with(
    passwords: &crate::sealed::Passwords,
    json: &str,
    iterations: u32,
    random: &[u8; crate::sealed::RANDOM_BYTES],
) -> Result<String, crate::Error> {
    let options = crate::sealed::IronOptions {
        iterations,
        ..Default::default()
    };
    crate::sealed::seal_with(passwords, &options, json.as_bytes(), 0, random)
}

/// An iron seal made as of `now_ms` (Unix milliseconds) with a `ttl`, so that tests
/// can make one that has already expired.
///
/// # Errors
///
/// [`Error::RandomSource`](crate::Error::RandomSource) if the OS random source fails.
pub fn iron_seal_at(
    passwords: &crate::sealed::Passwords,
    json: &str,
    iterations: u32,
    ttl: Option<std::time::Duration>,
    now_ms: u64,
) -> Result<String, crate::Error> {
    let options = crate::sealed::IronOptions {
        iterations,
        ttl,
        ..Default::default()
    };
    crate::sealed::seal(passwords, &options, json.as_bytes(), now_ms)
}
