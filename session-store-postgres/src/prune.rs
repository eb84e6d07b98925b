//! Pruning: expired rows deleted in the background, by one instance at a time, in
//! bounded batches.
//!
//! Each run takes a connection out of the pool for itself and asks for a session-level
//! advisory lock (`pg_try_advisory_lock`): an instance that does not get it skips the
//! run, since another one is pruning the same table. The rows go in statements of at
//! most `prune_batch` rows each (`FOR UPDATE SKIP LOCKED`, by the `expire` index), so a
//! large backlog never holds the table or a long transaction. The connection is closed
//! at the end of the run, which also releases the lock if the run was cut short.
//! Waits between runs are drawn between 50 and 150 % of the interval (as
//! connect-pg-simple's), so instances started together drift apart.

use std::sync::Weak;
use std::time::Duration;

use deadpool_postgres::Object;
use time::OffsetDateTime;

use crate::error::PostgresStoreError;
use crate::store::Inner;
use crate::values::unix_seconds;

/// Owned by the store; dropping it stops the task.
#[derive(Debug)]
pub(crate) struct Pruner {
    task: tokio::task::AbortHandle,
}

impl Drop for Pruner {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Pruner {
    /// Starts the task; it holds the store only while a run lasts.
    pub(crate) fn start(store: Weak<Inner>, every: Duration) -> Self {
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(jittered(every)).await;
                let Some(inner) = store.upgrade() else {
                    return;
                };
                match prune(&inner).await {
                    Ok(Some(0)) => {}
                    Ok(Some(deleted)) => tracing::debug!(deleted, "pruned expired sessions"),
                    Ok(None) => tracing::debug!("another instance is pruning the session table"),
                    Err(e) => tracing::warn!(error = %e, "pruning expired sessions failed"),
                }
            }
        });
        Pruner {
            task: task.abort_handle(),
        }
    }
}

/// One run: `Some(rows deleted)`, or `None` when another instance holds the lock.
pub(crate) async fn prune(inner: &Inner) -> Result<Option<u64>, PostgresStoreError> {
    let deadline = inner.settings.query_timeout;
    let pooled = tokio::time::timeout(deadline, inner.pool.get())
        .await
        .map_err(|_| PostgresStoreError::Timeout(deadline))?
        .map_err(|e| PostgresStoreError::from_pool(e, deadline))?;
    // Out of the pool: closed when this run ends, so a lock never stays behind.
    let client = Object::take(pooled);
    let locked: bool = within(
        deadline,
        client.query_one(
            "SELECT pg_try_advisory_lock($1::int8)",
            &[&inner.prune_lock],
        ),
    )
    .await?
    .try_get(0)?;
    if !locked {
        return Ok(None);
    }
    let statement = within(deadline, client.prepare(&inner.sql.prune_batch)).await?;
    let now = unix_seconds(OffsetDateTime::now_utc());
    let batch = i64::from(inner.settings.prune_batch);
    let mut total = 0;
    loop {
        let deleted = within(deadline, client.execute(&statement, &[&now, &batch])).await?;
        total += deleted;
        if deleted < inner.settings.prune_batch.into() {
            break;
        }
    }
    let _ = within(
        deadline,
        client.execute("SELECT pg_advisory_unlock($1::int8)", &[&inner.prune_lock]),
    )
    .await;
    Ok(Some(total))
}

/// `work` under `deadline`.
async fn within<T>(
    deadline: Duration,
    work: impl Future<Output = Result<T, tokio_postgres::Error>>,
) -> Result<T, PostgresStoreError> {
    tokio::time::timeout(deadline, work)
        .await
        .map_err(|_| PostgresStoreError::Timeout(deadline))?
        .map_err(PostgresStoreError::from_driver)
}

/// `every`, scaled by a random factor between 0.5 and 1.5.
fn jittered(every: Duration) -> Duration {
    let unit = getrandom::u64().map_or(0.5, |r| r as f64 / u64::MAX as f64);
    // An interval too long to scale (centuries) is used as it is.
    Duration::try_from_secs_f64(every.as_secs_f64() * (0.5 + unit)).unwrap_or(every)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_between_half_and_one_and_a_half_intervals() {
        let every = Duration::from_secs(900);
        let waits: Vec<Duration> = (0..200).map(|_| jittered(every)).collect();
        assert!(waits.iter().all(|w| *w >= every / 2 && *w <= every * 3 / 2));
        assert!(waits.iter().any(|w| *w != waits[0]), "the waits vary");
    }
}
