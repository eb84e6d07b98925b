//! The session cookie on the wire.
//!
//! The value is `encodeURIComponent("s:" + id + "." + signature)`, e.g.
//! `connect.sid=s%3Aabc.BpxCrWRpvZMh%2Fwk%2Fdjl34N%2Bm%2BVQEU7K%2F5WenLwJCgFU`.
//! [`read`](mod@read) finds and verifies it among the request's `Cookie` headers;
//! [`write`](mod@write) builds the `Set-Cookie` value and the removal cookie.

pub(crate) mod read;
pub(crate) mod write;

pub(crate) use read::{CookieLookup, Found, IncomingId, Rejection, Signature, find};
