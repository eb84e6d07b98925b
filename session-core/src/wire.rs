//! The wire-level pieces, for tests, fuzzing, benchmarks and tools that read or write
//! express-session's formats directly: cookie signing, finding our cookie in `Cookie`
//! headers, percent-encoding as `encodeURIComponent`, and the record's reserved keys.
//! (The record codec is [`Record::encode`](crate::store::Record::encode) and
//! [`Record::decode`](crate::store::Record::decode).) Applications do not need these.

pub use crate::cookie::read::{IncomingId, Rejection, find_session_id};
pub use crate::cookie::write::encode_uri_component;
pub use crate::record::RESERVED_KEYS;
pub use crate::signing::{Verified, sign, unsign};
