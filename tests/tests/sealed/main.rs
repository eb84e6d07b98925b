//! Sealed-cookie sessions: iron known-answer vectors from the real iron-webcrypto,
//! the mode behind the `Session` handle, and live interop with h3 1.x, h3 2.x and
//! iron-session (tests/node/sealed-app.mjs).

mod interop;
mod kat;
mod session;

use session_core::sealed::Passwords;

/// The password both sides use unless a test rotates.
pub const P1: &str = "the first password, thirty-two characters or more";
/// The password a rotation moves to.
pub const P2: &str = "the second password, also thirty-two characters or more";

pub fn passwords(list: &[&str]) -> Passwords {
    Passwords::new(list).unwrap()
}
