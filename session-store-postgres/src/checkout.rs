//! `Checkout`: a pooled connection lent to one statement. It goes back to the pool when
//! the statement has finished (successfully or not); if the store call is cut short in
//! the middle of it (its deadline passed and its future was dropped), the connection is
//! taken out of the pool and closed instead, so no later request waits behind an
//! abandoned statement. (The server ends that statement by its `statement_timeout`.)

use std::ops::Deref;

use deadpool_postgres::Object;

/// A connection lent to one statement.
pub(crate) struct Checkout(Option<Object>);

impl Checkout {
    pub(crate) fn new(client: Object) -> Self {
        Checkout(Some(client))
    }

    /// The statement is over: the connection goes back to the pool, `result` goes on.
    pub(crate) fn finish<T>(mut self, result: T) -> T {
        drop(self.0.take());
        result
    }
}

impl Deref for Checkout {
    type Target = Object;

    fn deref(&self) -> &Object {
        match &self.0 {
            Some(client) => client,
            // `None` only once `finish` consumed the checkout, or inside `drop`.
            None => unreachable!("a finished checkout is never used"),
        }
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        if let Some(client) = self.0.take() {
            // Not finished: out of the pool, and closed as it drops here.
            drop(Object::take(client));
        }
    }
}
