//! The store conformance suite: one set of cases every [`SessionStore`] runs against
//! itself. **Not API-stable; for store authors' tests.**
//!
//! Two entry points share one list of cases:
//!
//! - [`store_conformance_tests!`](crate::store_conformance_tests) expands to one
//!   `#[tokio::test]` per case inside `mod conformance`, so a failure names its case
//!   (`conformance::update_after_destroy_is_not_found`) and one case can be run alone;
//! - [`run_all`] runs every case in sequence, printing each name first, for stores that
//!   need custom setup.
//!
//! The factory must return a store isolated from every other store it returned (for
//! a shared server, a fresh key prefix per call): cases run in parallel and some of them
//! `clear` their store. Every case runs under a watchdog ([`CASE_TIMEOUT`]) so a
//! deadlock fails with the case's name instead of hanging. Optional operations
//! (`all`, `len`, `clear`) must either work or answer exactly
//! [`StoreError::Unsupported`](crate::store::StoreError::Unsupported); nothing is skipped.
//!
//! ```text
//! // tests/conformance.rs of a store crate, with session-core's "conformance" feature
//! // enabled in [dev-dependencies] and tokio (macros, rt-multi-thread) available:
//! session_core::store_conformance_tests!(my_store::MyStore::connect("redis://127.0.0.1/"));
//! ```
//! The argument is an expression evaluated afresh by each case and awaited if it is a
//! future: `async { MyStore::default() }` or a call to an `async fn`.

// The suite is test code: a failed expectation panics with the case name, by design.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod cases;
pub mod concurrent;
pub mod users;

use std::future::Future;
use std::time::Duration;

use crate::store::SessionStore;

/// How long one case may run before it counts as a deadlock.
pub const CASE_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs one case under the watchdog; panics with the case name on a timeout.
pub async fn run_case<F: Future<Output = ()>>(name: &str, case: F) {
    if tokio::time::timeout(CASE_TIMEOUT, case).await.is_err() {
        panic!("conformance case {name} did not finish within {CASE_TIMEOUT:?} (deadlock?)");
    }
}

/// Runs every case in sequence, each on a fresh store from `factory`.
pub async fn run_all<F, Fut, S>(mut factory: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = S>,
    S: SessionStore,
{
    macro_rules! run {
        ($($case:ident),* $(,)?) => {$(
            println!("conformance case {}", stringify!($case));
            let store = factory().await;
            run_case(stringify!($case), $crate::conformance::__case_fn!($case)(&store)).await;
        )*};
    }
    crate::__conformance_cases!(run);
}

/// The list of cases, in one place for both entry points.
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases {
    ($m:ident $(; $($prefix:tt)*)?) => {
        $m! {$($($prefix)*;)?
            missing_id_loads_none,
            create_then_load_round_trips_express_shape,
            create_on_taken_id_conflicts,
            save_replaces_an_existing_session,
            update_after_destroy_is_not_found,
            destroy_of_unknown_id_is_ok,
            stale_version_update_conflicts,
            touch_extends_without_rewriting_data,
            touch_of_unknown_id_is_not_found,
            expired_record_is_not_returned,
            save_with_past_expiry_deletes,
            all_len_clear_or_unsupported,
            unusual_but_valid_ids,
            many_tasks_one_id_no_deadlock,
            many_tasks_many_ids_no_deadlock,
            sessions_of_lists_a_users_live_sessions_or_unsupported,
        }
    };
}

/// Maps a case name to its function (cases live in two modules).
#[doc(hidden)]
#[macro_export]
macro_rules! __case_fn {
    (many_tasks_one_id_no_deadlock) => {
        $crate::conformance::concurrent::many_tasks_one_id_no_deadlock
    };
    (many_tasks_many_ids_no_deadlock) => {
        $crate::conformance::concurrent::many_tasks_many_ids_no_deadlock
    };
    (sessions_of_lists_a_users_live_sessions_or_unsupported) => {
        $crate::conformance::users::sessions_of_lists_a_users_live_sessions_or_unsupported
    };
    ($case:ident) => {
        $crate::conformance::cases::$case
    };
}
#[doc(hidden)]
pub use crate::__case_fn;

/// Expands to one `#[tokio::test]` per conformance case, in a `mod conformance`.
///
/// The argument is evaluated afresh for each case (inside that module, which imports
/// `super::*`) and `.await`ed, so pass a future: an `async fn` call or an `async` block.
#[cfg_attr(docsrs, doc(cfg(feature = "conformance")))]
#[macro_export]
macro_rules! store_conformance_tests {
    ($factory:expr) => {
        mod conformance {
            #[allow(unused_imports)]
            use super::*;
            use $crate::__conformance_test_fns;
            $crate::__conformance_cases!(__conformance_test_fns; $factory);
        }
    };
}

/// One `#[tokio::test]` per case name.
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_test_fns {
    ($f:expr; $($case:ident),* $(,)?) => {$(
        #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $case() {
            let store = $f.await;
            $crate::conformance::run_case(stringify!($case), $crate::__case_fn!($case)(&store)).await;
        }
    )*};
}
