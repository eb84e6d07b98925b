//! The sliding load: read a session and extend its TTL in one plain command, with Redis
//! doing no work beyond copying the value out, whatever the session's size.
//!
//! `GETEX key EX <guess>` reads the record and sets the TTL the previous record asked
//! for (an application's records nearly all ask for the same). The record's own TTL is
//! then computed here from the whole record ([`Record::ttl_for_touch`]), and only when it
//! differs does a second command (`EXPIRE`) set it. Redis before 6.2 has no `GETEX`: a
//! store that connects eagerly asks the server once; a lazy one switches to `GET` +
//! `EXPIRE` at the first refusal.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use session_core::store::MAX_STORE_TTL;
use session_core::store::{Loaded, Record, StoreError};
use time::OffsetDateTime;

use crate::connection::Connection;
use crate::error::RedisStoreError;

/// The TTL the next `GETEX` sends, and whether the server knows `GETEX`.
#[derive(Debug)]
pub(crate) struct Slide {
    guess_secs: AtomicU64,
    getex: AtomicBool,
}

impl Slide {
    pub(crate) fn new(default_ttl: Duration) -> Self {
        Slide {
            guess_secs: AtomicU64::new(ttl_secs(default_ttl)),
            getex: AtomicBool::new(true),
        }
    }

    /// Asks the server whether it knows `GETEX` (`COMMAND INFO` answers nil for an
    /// unknown command), so that a store that connects eagerly never sends it to a
    /// server before 6.2. A lazy store learns it from the first refusal instead.
    pub(crate) async fn probe(&self, conn: &Connection) -> Result<(), RedisStoreError> {
        let info: Vec<redis::Value> = conn
            .cmd(redis::cmd("COMMAND").arg("INFO").arg("GETEX"))
            .await?;
        let known = info.first().is_some_and(|v| *v != redis::Value::Nil);
        self.getex.store(known, Ordering::Relaxed);
        Ok(())
    }

    /// Whether the server knows Redis 6.2's commands (`GETEX`, `GETDEL`), as far as
    /// this process knows.
    pub(crate) fn modern(&self) -> bool {
        self.getex.load(Ordering::Relaxed)
    }

    /// Takes the TTL `record` asks for as the next guess, unless an absolute deadline
    /// cut it short (that TTL is this session's alone).
    pub(crate) fn learn(&self, record: &Record, now: OffsetDateTime, default_ttl: Duration) {
        if let Some(secs) = usual_ttl(record, now, default_ttl) {
            self.guess_secs.store(secs, Ordering::Relaxed);
        }
    }

    /// Reads `key` and slides its TTL. A correcting `EXPIRE` that fails leaves the
    /// record loaded but not touched, so the end-of-request touch sets the TTL again.
    pub(crate) async fn load(
        &self,
        conn: &Connection,
        key: &str,
        default_ttl: Duration,
        decode: impl Fn(&[u8]) -> Result<Loaded, StoreError>,
    ) -> Result<Option<Loaded>, StoreError> {
        let guess = self.guess_secs.load(Ordering::Relaxed);
        let (reply, slid): (Option<Vec<u8>>, bool) = if self.getex.load(Ordering::Relaxed) {
            let mut cmd = redis::cmd("GETEX");
            cmd.arg(key).arg("EX").arg(guess);
            match conn.cmd(&cmd).await {
                Err(RedisStoreError::Redis(e)) if is_unknown_command(&e) => {
                    tracing::warn!(
                        "this Redis server has no GETEX (before 6.2): loading with GET and EXPIRE"
                    );
                    self.getex.store(false, Ordering::Relaxed);
                    (conn.cmd(redis::cmd("GET").arg(key)).await?, false)
                }
                other => (other?, true),
            }
        } else {
            (conn.cmd(redis::cmd("GET").arg(key)).await?, false)
        };
        let Some(bytes) = reply else {
            return Ok(None);
        };
        let loaded = decode(&bytes)?;
        let now = OffsetDateTime::now_utc();
        let Some(ttl) = loaded.record.ttl_for_touch(now, default_ttl) else {
            let _: i64 = conn.cmd(redis::cmd("DEL").arg(key)).await?;
            return Ok(None);
        };
        let secs = ttl_secs(ttl);
        if slid && secs == guess {
            return Ok(Some(Loaded::touched(loaded.record, loaded.version)));
        }
        self.learn(&loaded.record, now, default_ttl);
        let expire: Result<i64, _> = conn.cmd(redis::cmd("EXPIRE").arg(key).arg(secs)).await;
        Ok(Some(match expire {
            Ok(_) => Loaded::touched(loaded.record, loaded.version),
            Err(e) => {
                tracing::debug!(error = %e, "EXPIRE after a load failed; the end-of-request touch will set the TTL");
                loaded
            }
        }))
    }
}

/// The TTL `record` asks for in seconds, unless its absolute deadline cuts it short.
fn usual_ttl(record: &Record, now: OffsetDateTime, default_ttl: Duration) -> Option<u64> {
    let ttl = record.ttl_for_touch(now, default_ttl)?;
    let by_deadline = record
        .meta()
        .absolute_expiry
        .and_then(|d| Duration::try_from(d - now).ok());
    match by_deadline {
        Some(left) if left <= ttl => None,
        _ => Some(ttl_secs(ttl)),
    }
}

/// Whole seconds, rounded up as connect-redis's `EX`; at least 1, at most
/// [`MAX_STORE_TTL`] (so a hostile `originalMaxAge` or a huge configured default cannot
/// make Redis refuse the command).
pub(crate) fn ttl_secs(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis().div_ceil(1000))
        .unwrap_or(u64::MAX)
        .clamp(1, MAX_STORE_TTL.as_secs())
}

/// Whether Redis refused a command it does not know.
pub(crate) fn is_unknown_command(e: &redis::RedisError) -> bool {
    e.to_string()
        .to_ascii_lowercase()
        .contains("unknown command")
}
