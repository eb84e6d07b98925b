//! The real Node side: express-session + connect-redis and @scayle/h3-session sharing
//! sessions with the Rust layer, a captured express fixture, and headless Chromium.

mod browser;
mod express;
mod express_fixture;
mod h3;
