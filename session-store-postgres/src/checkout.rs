//! Running the store's statements: each under the store's deadline, prepared once per
//! connection, on a `Checkout`.
//!
//! `Checkout`: a pooled connection lent to one statement. It goes back to the pool when
//! the statement has finished (successfully or not); if the store call is cut short in
//! the middle of it (its deadline passed and its future was dropped), the connection is
//! taken out of the pool and closed instead, so no later request waits behind an
//! abandoned statement. (The server ends that statement by its `statement_timeout`.)

use std::ops::Deref;

use deadpool_postgres::Object;
use session_core::store::StoreError;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use crate::error::PostgresStoreError;
use crate::store::PostgresStore;

/// A statement parameter.
pub(crate) type Param<'a> = &'a (dyn ToSql + Sync);

impl PostgresStore {
    /// Runs `work` under the store's deadline.
    pub(crate) async fn within<T>(
        &self,
        work: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let deadline = self.inner.settings.query_timeout;
        tokio::time::timeout(deadline, work)
            .await
            .unwrap_or_else(|_| Err(PostgresStoreError::Timeout(deadline).into()))
    }

    /// A pooled connection for one statement.
    async fn checkout(&self) -> Result<Checkout, PostgresStoreError> {
        let deadline = self.inner.settings.query_timeout;
        let client = self.inner.pool.get().await;
        Ok(Checkout::new(
            client.map_err(|e| PostgresStoreError::from_pool(e, deadline))?,
        ))
    }

    /// Runs one of the store's statements (prepared once per connection): its row, if
    /// any.
    pub(crate) async fn query_opt(
        &self,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<Option<Row>, PostgresStoreError> {
        let client = self.checkout().await?;
        let row = async {
            let statement = client.prepare_cached(sql).await?;
            client.query_opt(&statement, params).await
        }
        .await;
        client.finish(row.map_err(PostgresStoreError::from_driver))
    }

    /// Runs one of the store's statements: its rows.
    pub(crate) async fn query(
        &self,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<Vec<Row>, PostgresStoreError> {
        let client = self.checkout().await?;
        let rows = async {
            let statement = client.prepare_cached(sql).await?;
            client.query(&statement, params).await
        }
        .await;
        client.finish(rows.map_err(PostgresStoreError::from_driver))
    }

    /// Runs one of the store's statements: how many rows it changed.
    pub(crate) async fn execute(
        &self,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<u64, PostgresStoreError> {
        let client = self.checkout().await?;
        let changed = async {
            let statement = client.prepare_cached(sql).await?;
            client.execute(&statement, params).await
        }
        .await;
        client.finish(changed.map_err(PostgresStoreError::from_driver))
    }
}

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
