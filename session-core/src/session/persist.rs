//! Step 5, writing: create or save through the per-session write queue, with
//! compare-and-set and the re-application of this request's changes on conflict;
//! `Session::update` for atomic read-modify-write.

use serde_json::{Map, Value};
use time::OffsetDateTime;
use tracing::warn;

use super::Session;
use super::changes::Changes;
use super::state::State;
use super::write_slot::WriteSlot;
use crate::config::{Compat, Concurrency};
use crate::error::{Error, StoreOp};
use crate::id::SessionId;
use crate::store::StoreError;
use crate::telemetry::{Lifecycle, conflict, lifecycle, store_call};

/// How many times a conflicting save is re-applied on the latest record.
pub(super) const MAX_SAVE_ATTEMPTS: u32 = 256;
/// How many fresh ids a new session tries when `create` reports a collision.
const MAX_CREATE_ATTEMPTS: u32 = 4;

impl Session {
    /// Writes the current state, as [`Concurrency`] says: with `Merge`, a save that
    /// conflicts is re-applied (this request's changed keys only) on the latest record,
    /// up to [`MAX_SAVE_ATTEMPTS`] times.
    pub(super) async fn persist(&self, st: &mut State) -> Result<(), Error> {
        if let Some(sealed) = self.sealed() {
            // Sealed into the response's cookie at the end of the request, even if
            // unchanged (iron-session's `save()` makes a fresh seal).
            self.sealed_fits(st, st.data(), sealed)?;
            st.mark_reseal();
            return Ok(());
        }
        let conditional = self.inner.shared.config.concurrency == Concurrency::Merge;
        let mut slot = self.write_slot(st).await?;
        // Another request of this process wrote since we loaded: start from that.
        if conditional {
            catch_up(st, slot.as_ref(), State::pending_changes);
        }
        for attempt in 1..=MAX_SAVE_ATTEMPTS {
            match self.write_once(st, conditional).await? {
                Attempt::Written => {
                    publish(st, slot.as_mut());
                    return Ok(());
                }
                Attempt::Conflict => {
                    conflict(st.id(), attempt, attempt < MAX_SAVE_ATTEMPTS);
                    backoff(attempt).await;
                    let pending = st.pending_changes();
                    self.rebase(st, &pending).await?;
                }
            }
        }
        Err(Error::Conflict {
            attempts: MAX_SAVE_ATTEMPTS,
        })
    }

    /// Applies `f` to the latest stored data and saves at once, atomically: if another
    /// request saved in between, `f` runs again on what it saved. For exact counters and
    /// other read-modify-write updates; 20 parallel increments give exactly +20.
    ///
    /// Changes made earlier in this request are saved with it. `f` may run several
    /// times, so it should only compute from its argument.
    ///
    /// ```
    /// # async fn incr(session: &session_core::Session) -> Result<u64, session_core::Error> {
    /// let n = session
    ///     .update(|data| {
    ///         let n = data.get("counter").and_then(|v| v.as_u64()).unwrap_or(0) + 1;
    ///         data.insert("counter".into(), n.into());
    ///         n
    ///     })
    ///     .await?;
    /// # Ok(n) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::ReservedKey`] if `f` sets a reserved key; [`Error::Conflict`] after
    /// 256 conflicting attempts; [`Error::Gone`] if another request
    /// destroyed the session; [`Error::Busy`] if too many requests wait to write it;
    /// [`Error::Store`], [`Error::Destroyed`], [`Error::TooLarge`]. After any error `f`'s
    /// change is undone (changes made earlier in the request stay).
    pub async fn update<F, R>(&self, mut f: F) -> Result<R, Error>
    where
        F: FnMut(&mut Map<String, Value>) -> R,
    {
        let mut st = self.inner.state.lock().await;
        self.writable(&mut st).await?;
        if let Some(sealed) = self.sealed() {
            return self.write_sealed(&mut st, sealed, f);
        }
        let mut slot = self.write_slot(&st).await?;
        let earlier = st.pending_changes();
        catch_up(&mut st, slot.as_ref(), |_| earlier.clone());
        for attempt in 1..=MAX_SAVE_ATTEMPTS {
            let mut work = (**st.data()).clone();
            let out = f(&mut work);
            self.no_reserved_change(st.data(), &work)?;
            let before = st.set_data(work);
            // On any failure `f`'s change is undone: the caller hears of it, and the
            // end of the request does not write it behind the caller's back.
            let written = match self.write_once(&mut st, true).await {
                Ok(written) => written,
                Err(e) => {
                    st.restore_data(before);
                    return Err(e);
                }
            };
            match written {
                Attempt::Written => {
                    publish(&st, slot.as_mut());
                    return Ok(out);
                }
                Attempt::Conflict => {
                    conflict(st.id(), attempt, attempt < MAX_SAVE_ATTEMPTS);
                    backoff(attempt).await;
                    if let Err(e) = self.rebase(&mut st, &earlier).await {
                        st.restore_data(before);
                        return Err(e);
                    }
                }
            }
        }
        Err(Error::Conflict {
            attempts: MAX_SAVE_ATTEMPTS,
        })
    }

    /// One write of the current state: `create` for a new id (another id on a
    /// collision), or `save`, conditional on the loaded version when `conditional`.
    async fn write_once(&self, st: &mut State, conditional: bool) -> Result<Attempt, Error> {
        let config = &self.inner.shared.config;
        st.reset_expiry(OffsetDateTime::now_utc);
        let Some(mut id) = st.id().cloned() else {
            return Err(Error::Destroyed);
        };
        let mut record = st.record();
        if config.compat == Compat::H3Session {
            record = record.without_cookie_key();
        }
        let size = record.encoded_len();
        if size > config.max_record_bytes {
            return Err(Error::TooLarge {
                size,
                limit: config.max_record_bytes,
            });
        }
        record.set_stored_len(size);
        let store = &self.inner.shared.store;
        if !st.is_stored() {
            let mut attempts = 0;
            let result = loop {
                attempts += 1;
                match store_call(StoreOp::Create, &id, store.create(&id, &record)).await {
                    Err(StoreError::IdTaken) if attempts < MAX_CREATE_ATTEMPTS => {
                        warn!("generated session id collided with a stored one; trying another");
                        id = config.generate_id()?;
                    }
                    other => break other,
                }
            };
            drop(record);
            let version = result.map_err(Error::store(StoreOp::Create))?;
            lifecycle(Lifecycle::Created, Some(&id));
            st.mark_created(id, version);
            return Ok(Attempt::Written);
        }
        let expected = if conditional { st.version() } else { None };
        let result = store_call(StoreOp::Save, &id, store.save(&id, &record, expected)).await;
        drop(record);
        match result {
            Ok(version) => {
                st.mark_saved(version);
                Ok(Attempt::Written)
            }
            Err(StoreError::NotFound) => Err(Error::Gone),
            Err(StoreError::Conflict) => Ok(Attempt::Conflict),
            Err(e) => Err(Error::store(StoreOp::Save)(e)),
        }
    }

    /// This request's turn in the write queue of the session's id (none without an
    /// id), or [`Error::Busy`] when the queue is full.
    async fn write_slot(&self, st: &State) -> Result<Option<WriteSlot>, Error> {
        let Some(id) = st.id() else {
            return Ok(None);
        };
        let max = self.inner.shared.config.max_queued_writes;
        Ok(Some(self.inner.shared.locks.acquire(id, max).await?))
    }

    /// Deletes a stored session.
    pub(super) async fn destroy_stored(&self, id: &SessionId) -> Result<(), Error> {
        if self.sealed().is_some() {
            return Ok(()); // nothing stored
        }
        store_call(StoreOp::Destroy, id, self.inner.shared.store.destroy(id))
            .await
            .map_err(Error::store(StoreOp::Destroy))
    }

    /// Whether the store still has `id`.
    pub(super) async fn still_stored(&self, id: &SessionId) -> Result<bool, Error> {
        if self.sealed().is_some() {
            return Ok(true);
        }
        store_call(StoreOp::Load, id, self.inner.shared.store.exists(id))
            .await
            .map_err(Error::store(StoreOp::Load))
    }

    /// After a conflict: the latest stored data, with `changes` applied on top.
    async fn rebase(
        &self,
        st: &mut State,
        changes: &[(String, Option<Value>)],
    ) -> Result<(), Error> {
        let id = st.id().cloned().ok_or(Error::Destroyed)?;
        // Part of a save: a failure here loses the write, it is not a load failure.
        let latest = match self.load_record(&id, false).await {
            Ok(latest) => latest.ok_or(Error::Gone)?,
            Err(Error::Store { source, .. }) => {
                return Err(Error::Store {
                    op: StoreOp::Save,
                    source,
                });
            }
            Err(e) => return Err(e),
        };
        let (_, data, _) = latest.record.into_parts();
        st.catch_up(data, latest.version, changes);
        Ok(())
    }
}

/// When the previous writer of this process saved the stored session since this
/// request loaded it, its data becomes this request's, with `changes` on top
/// (computed only then).
fn catch_up(st: &mut State, slot: Option<&WriteSlot>, changes: impl FnOnce(&State) -> Changes) {
    if !st.is_stored() {
        return;
    }
    if let Some((version, data)) = slot.and_then(|s| s.newer_than(st.version())) {
        let changes = changes(st);
        st.catch_up(data, version, &changes);
    }
}

/// After a write: leaves it for the requests queued behind.
fn publish(st: &State, slot: Option<&mut WriteSlot>) {
    if let Some(slot) = slot {
        slot.publish(st.version(), st.data());
    }
}

/// Spreads out the retries of requests that conflicted with each other: yields to the
/// executor a random number of times, up to twice as many after each conflict (at most
/// 64). Yielding needs no timer, so it works on any runtime.
async fn backoff(attempt: u32) {
    let mut r = [0u8; 1];
    let _ = getrandom::fill(&mut r);
    let ceiling = 1u32 << attempt.min(6);
    for _ in 0..u32::from(r[0]) % ceiling {
        tokio::task::yield_now().await;
    }
}

/// The result of one write attempt.
enum Attempt {
    Written,
    Conflict,
}
