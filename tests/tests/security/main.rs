//! Hostile input through the real adapter: malformed and forged cookies over raw TCP,
//! log hygiene, and IP pinning against real peers and forged `X-Forwarded-For`.

mod bad_input;
mod pinning;
