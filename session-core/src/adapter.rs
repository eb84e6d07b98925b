//! For adapters: what connects an HTTP framework to sessions.
//!
//! An adapter builds one [`SessionManager`] per configuration and, per request:
//! describes the request ([`RequestInfo`]) and starts its session
//! ([`SessionManager::start_with`]), hands the [`Session`](crate::Session) to the
//! handler, calls [`Session::finish`](crate::Session::finish) before the response head
//! and applies the [`Outcome`] (`Set-Cookie`, `Cache-Control`, `Vary`). Failures are
//! answered by the adapter; [`failure_response`] and [`load_failure_degraded`] count
//! them, [`LogThrottle`] keeps a repeated failure to one log line per interval, and
//! [`error_chain`] renders an error's causes for a log field. `session-hyper` is the
//! reference adapter.

pub use crate::manager::SessionManager;
pub use crate::session::{Outcome, RequestInfo};
pub use crate::telemetry::events::{error_chain, failure_response, load_failure_degraded};
pub use crate::telemetry::throttle::LogThrottle;
