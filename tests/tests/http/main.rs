//! The session layer through a real hyper server and real clients: express-session's
//! lifecycle on both stores, the session rules through `SessionManager`, axum's
//! extractor, and the h3/Nuxt features (header transport, REST endpoints, IP pinning
//! basics, helpers).

mod axum_extractor;
mod h3_features;
mod lifecycle;
mod session_rules;
