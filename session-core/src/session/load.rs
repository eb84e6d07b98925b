//! Step 3, loading: the cookie's record read (corrupt or oversized ones are "no
//! session"), the IP pin checked, the record adopted or a fresh session started.

use std::sync::Arc;

use serde_json::Map;

use time::OffsetDateTime;

use super::Session;
use super::state::{Contents, Phase, State};
use crate::config::MissingCookie;
use crate::error::{Error, StoreOp};
use crate::id::SessionId;
use crate::pinning;
use crate::record::RecordMeta;
use crate::store::{Loaded, StoreError};
use crate::telemetry::{
    InvalidCookie, Lifecycle, invalid_cookie, lifecycle, store_call, stored_cookie_replaced,
};

impl Session {
    /// The id whose record this request may delete: the current one, or the cookie's.
    /// With IP pinning, the cookie's only after its record was read and its pin
    /// matched: a stolen cookie used from elsewhere never ends the owner's session.
    pub(super) async fn deletable_id(&self, st: &State) -> Result<Option<SessionId>, Error> {
        if self.sealed().is_some() {
            return Ok(None); // nothing stored
        }
        if st.phase() == Phase::Ready {
            return Ok(st.stored_id().cloned());
        }
        let Some(inc) = &self.inner.incoming else {
            return Ok(None);
        };
        if !self.inner.shared.config.ip_pinning {
            return Ok(Some(inc.id.clone()));
        }
        self.require_client_address()?;
        Ok(match self.load_record(&inc.id, true).await? {
            Some(loaded) if self.pin_matches(&inc.id, loaded.record.meta()) => Some(inc.id.clone()),
            _ => None,
        })
    }

    /// IP pinning needs the client's address: without one it fails closed.
    pub(super) fn require_client_address(&self) -> Result<(), Error> {
        if self.inner.shared.config.ip_pinning && self.inner.client_ip.is_none() {
            return Err(Error::NoClientAddress);
        }
        Ok(())
    }

    /// Loads the cookie's session, or starts a new one when there is none to load.
    pub(super) async fn load_or_create(&self, st: &mut State) -> Result<(), Error> {
        if let Some(sealed) = self.sealed() {
            return self.load_sealed(st, sealed);
        }
        self.require_client_address()?;
        if let Some(inc) = &self.inner.incoming {
            match self.load_record(&inc.id, true).await? {
                Some(loaded)
                    if loaded
                        .record
                        .is_past_absolute_deadline(OffsetDateTime::now_utc) =>
                {
                    lifecycle(Lifecycle::Expired, Some(&inc.id));
                    self.destroy_stored(&inc.id).await?;
                }
                Some(loaded) if !self.pin_matches(&inc.id, loaded.record.meta()) => {}
                Some(loaded) => {
                    self.adopt(st, inc.id.clone(), loaded);
                    return Ok(());
                }
                None => {}
            }
        }
        self.fresh(st, OffsetDateTime::now_utc())
    }

    /// Reads a record; corrupt or unusable records are "no session" plus a warning.
    /// `from_cookie`: the id came with the request, so "not found" is an invalid cookie.
    pub(super) async fn load_record(
        &self,
        id: &SessionId,
        from_cookie: bool,
    ) -> Result<Option<Loaded>, Error> {
        match store_call(StoreOp::Load, id, self.inner.shared.store.load(id)).await {
            Ok(Some(loaded)) => {
                let limit = self.inner.shared.config.max_record_bytes;
                if loaded.record.cookie().is_none()
                    && self.inner.shared.config.missing_cookie == MissingCookie::Reject
                {
                    invalid_cookie(InvalidCookie::CorruptRecord, Some(id), "no cookie object");
                    return Ok(None);
                }
                // Records carry their size when it is known (decoded from bytes, or
                // measured by this layer before saving); others, e.g. put into a store
                // directly, are measured here without allocating.
                let size = loaded
                    .record
                    .stored_len()
                    .unwrap_or_else(|| loaded.record.encoded_len());
                if size > limit {
                    invalid_cookie(
                        InvalidCookie::CorruptRecord,
                        Some(id),
                        "over the size limit",
                    );
                    return Ok(None);
                }
                Ok(Some(loaded))
            }
            Ok(None) => {
                if from_cookie {
                    invalid_cookie(InvalidCookie::UnknownId, Some(id), "no stored session");
                }
                Ok(None)
            }
            Err(StoreError::Corrupt(e)) => {
                let detail = e.to_string();
                invalid_cookie(InvalidCookie::CorruptRecord, Some(id), &detail);
                Ok(None)
            }
            Err(e) => Err(Error::store(StoreOp::Load)(e)),
        }
    }

    /// IP pinning: whether this request's client may use the loaded session. A record
    /// without a pin (written before pinning was on) is pinned at its next save.
    pub(super) fn pin_matches(&self, id: &SessionId, meta: &RecordMeta) -> bool {
        let config = &self.inner.shared.config;
        if !config.ip_pinning {
            return true;
        }
        let ok = match (&meta.client_pin, self.inner.client_ip) {
            (None, _) => true,
            (Some(pin), Some(ip)) => pinning::matches(&config.secrets, pin, ip),
            (Some(_), None) => false,
        };
        if !ok {
            invalid_cookie(
                InvalidCookie::IpMismatch,
                Some(id),
                "the session belongs to another client address",
            );
        }
        ok
    }

    /// The pin for this request's client, when IP pinning is on.
    pub(super) fn client_pin(&self) -> Option<String> {
        let config = &self.inner.shared.config;
        match (config.ip_pinning, self.inner.client_ip) {
            (true, Some(ip)) => Some(pinning::pin(&config.secrets, ip)),
            _ => None,
        }
    }

    /// Takes a loaded record as the current state.
    pub(super) fn adopt(&self, st: &mut State, id: SessionId, loaded: Loaded) {
        let Loaded {
            record,
            version,
            touched,
        } = loaded;
        let (cookie, data, mut meta) = record.into_parts();
        if meta.client_pin.is_none() {
            meta.client_pin = self.client_pin();
        }
        let cookie = match cookie {
            Some(mut stored) => {
                let replaced = self.inner.shared.config.cookie.conform(&mut stored);
                if !replaced.is_empty() {
                    stored_cookie_replaced(&id, &replaced);
                }
                stored
            }
            None => self
                .inner
                .shared
                .config
                .new_cookie(OffsetDateTime::now_utc(), self.inner.secure_request),
        };
        let existing = self.inner.incoming.as_ref().is_some_and(|i| i.id == id);
        let contents = Contents {
            cookie,
            data,
            meta,
            created_ms: unix_ms(OffsetDateTime::now_utc()),
            sealed_extra: Map::new(),
        };
        let baseline = !self.inner.shared.config.resave;
        st.adopt(id, contents, version, existing, touched, baseline);
    }

    /// Starts a new, unsaved session.
    pub(super) fn fresh(&self, st: &mut State, now: OffsetDateTime) -> Result<(), Error> {
        let (id, contents) = self.new_contents(now)?;
        st.start_fresh(id, contents);
        Ok(())
    }

    /// A new id and what a new session holds.
    pub(super) fn new_contents(&self, now: OffsetDateTime) -> Result<(SessionId, Contents), Error> {
        let config = &self.inner.shared.config;
        let id = config.generate_id()?;
        let mut meta = config.new_meta(now);
        meta.client_pin = self.client_pin();
        let contents = Contents {
            cookie: config.new_cookie(now, self.inner.secure_request),
            data: Arc::new(config.initial_data()),
            meta,
            created_ms: unix_ms(now),
            sealed_extra: Map::new(),
        };
        Ok((id, contents))
    }
}

/// `now` in Unix milliseconds (h3's `Date.now()`).
fn unix_ms(now: OffsetDateTime) -> u64 {
    u64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
}
