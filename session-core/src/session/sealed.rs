//! Sealed-cookie sessions behind the `Session` handle: loading is unsealing the
//! request's cookie, writing is sealing into the response's; the store is never called.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::Session;
use super::finish::Outcome;
use super::state::{Contents, Phase, State};
use crate::config::Unset;
use crate::cookie::write::{removal_cookie, session_cookie, session_cookie_with_max_age};
use crate::error::Error;
use crate::id::SessionId;
use crate::record::{CookieRecord, RecordMeta, add_ms};
use crate::sealed::{self, Payload, SealFormat, SealedConfig, UnsealError, millis};
use crate::store::Version;
use crate::telemetry::{InvalidCookie, Lifecycle, invalid_cookie, lifecycle, touch_failed};

/// The longest cookie browsers keep: name, `=` and value (for iron-session, which
/// checks it so, the whole `Set-Cookie` line).
pub(crate) const MAX_COOKIE_BYTES: usize = 4096;
/// iron-session's `Max-Age` for a seal without TTL (2^31 - 1 seconds).
const FOREVER: Duration = Duration::from_secs(2_147_483_647);
/// iron-session's cookie outlives its seal by less: `Max-Age` is the TTL minus this.
const IRON_SESSION_SKEW: Duration = Duration::from_secs(60);

impl Session {
    /// The sealed-cookie configuration, when this session lives in its cookie.
    pub(super) fn sealed(&self) -> Option<&SealedConfig> {
        self.inner.shared.sealed.as_deref()
    }

    /// Step 3 for a sealed session: the first of the request's seals that unseals,
    /// is the app's shape and has not outlived `max_age` becomes the session;
    /// otherwise a new one starts.
    pub(super) fn load_sealed(&self, st: &mut State, config: &SealedConfig) -> Result<(), Error> {
        let now = sealed::now_ms();
        for (i, raw) in self.inner.seals.iter().enumerate() {
            let seal = config.format.seal_of(raw);
            let unsealed = match sealed::unseal(&config.passwords, &config.iron, seal, now) {
                Ok(u) => u,
                Err(e) => {
                    invalid_cookie(reason(e), None, &e.to_string());
                    continue;
                }
            };
            let Some(payload) = config.format.decode(&unsealed.plaintext) else {
                invalid_cookie(InvalidCookie::Malformed, None, "not a session");
                continue;
            };
            if outlived(config, &payload, now) {
                lifecycle(Lifecycle::Expired, payload.id.as_ref());
                continue;
            }
            self.adopt_sealed(st, config, payload, now)?;
            // h3 2.x seals again the legacy seals of its cookie, not of its header.
            let from_header = i == 0 && self.inner.header_client;
            if unsealed.legacy && !from_header {
                st.mark_reseal();
            }
            return Ok(());
        }
        self.fresh(st, OffsetDateTime::now_utc())
    }

    fn adopt_sealed(
        &self,
        st: &mut State,
        config: &SealedConfig,
        payload: Payload,
        now: u64,
    ) -> Result<(), Error> {
        let shared = &self.inner.shared.config;
        // h3: a seal without an id is a new session keeping the sealed data.
        let (id, created_ms) = match payload.id {
            Some(id) if config.format.has_id() => (id, payload.created_ms.unwrap_or(0)),
            _ => (shared.generate_id()?, now),
        };
        let contents = Contents {
            cookie: shared.new_cookie(OffsetDateTime::now_utc(), self.inner.secure_request),
            data: Arc::new(payload.data),
            meta: RecordMeta::default(),
            created_ms,
            sealed_extra: payload.extra,
        };
        st.adopt(id, contents, Version::from_u64(0), true, true, true);
        Ok(())
    }

    /// Whether the session holding `data` would still fit its cookie; a write that
    /// does not is refused with [`Error::TooLarge`] and undone by the caller.
    pub(super) fn sealed_fits(
        &self,
        st: &State,
        data: &Map<String, Value>,
        config: &SealedConfig,
    ) -> Result<(), Error> {
        match st.id() {
            Some(id) => {
                let text = plaintext(config, id, st, data)?;
                self.fits(st, config, &text)
            }
            None => Ok(()),
        }
    }

    /// Refuses a session whose cookie would pass the browsers' limit; the length
    /// follows from the plaintext's, so nothing is sealed to know it.
    fn fits(&self, st: &State, config: &SealedConfig, text: &[u8]) -> Result<(), Error> {
        let password_id = config.passwords.current().id().map_or(0, str::len);
        let expiration = config.iron.ttl.map_or(0, |t| {
            sealed::now_ms().saturating_add(millis(t)).to_string().len()
        });
        let value = sealed::sealed_len(password_id, text.len(), expiration)
            + config.format.value_overhead();
        let size = match config.format {
            // iron-session refuses to save a `Set-Cookie` line over the limit.
            SealFormat::IronSession => self.sealed_cookie(st, config, String::new()).len() + value,
            SealFormat::H3 | SealFormat::H3V2 => config.session.name().len() + 1 + value,
        };
        if size > MAX_COOKIE_BYTES {
            return Err(Error::TooLarge {
                size,
                limit: MAX_COOKIE_BYTES,
            });
        }
        Ok(())
    }

    /// Step 5 for a sealed session: a changed (or, as configured, new) session is
    /// sealed into the response's cookie; an ended one gets a removal cookie; nothing
    /// else sets a cookie.
    pub(super) fn finish_sealed(
        &self,
        st: &mut State,
        config: &SealedConfig,
    ) -> Result<Outcome, Error> {
        let accessed = Outcome {
            accessed: true,
            ..Outcome::default()
        };
        let changed = st.modified() || (config.save_uninitialized && !st.is_existing());
        match st.phase() {
            Phase::Unloaded => Ok(Outcome::default()),
            Phase::Destroyed => Ok(self.sealed_removal()),
            Phase::Unset if config.session.unset == Unset::Destroy => Ok(self.sealed_removal()),
            Phase::Unset => Ok(accessed),
            Phase::Ready if !changed && !st.needs_reseal() => Ok(accessed),
            Phase::Ready => {
                let Some(id) = st.id() else {
                    return Ok(accessed);
                };
                let text = plaintext(config, id, st, st.data())?;
                if let Err(e) = self.fits(st, config, &text) {
                    if changed {
                        return Err(e);
                    }
                    // Only sealing again the way the app does now (a legacy seal, or
                    // `save`/`touch` of an unchanged session): the cookie it came with
                    // still works.
                    touch_failed(&e);
                    return Ok(accessed);
                }
                let seal = sealed::seal(&config.passwords, &config.iron, &text, sealed::now_ms())?;
                let value = config.format.cookie_value(seal);
                Ok(Outcome {
                    set_cookie: Some(self.sealed_cookie(st, config, value)),
                    ..accessed
                })
            }
        }
    }

    /// The `Set-Cookie` of a sealed session: its attributes (the configuration's, or
    /// what the handler set for this session), the lifetime from the configuration.
    fn sealed_cookie(&self, st: &State, config: &SealedConfig, value: String) -> String {
        let name = config.session.name();
        let mut cookie = self.attributes(st);
        match config.format {
            SealFormat::IronSession => {
                let max_age = config.max_age.map_or(FOREVER, |t| {
                    if t > IRON_SESSION_SKEW {
                        t - IRON_SESSION_SKEW
                    } else {
                        t
                    }
                });
                session_cookie_with_max_age(name, value, &cookie, max_age)
            }
            SealFormat::H3 | SealFormat::H3V2 => {
                // h3: the cookie expires `maxAge` after the session was created.
                cookie.expires = config.max_age.map(|m| {
                    let created = i64::try_from(st.created_ms()).unwrap_or(i64::MAX);
                    let ms = i64::try_from(millis(m)).unwrap_or(i64::MAX);
                    add_ms(add_ms(OffsetDateTime::UNIX_EPOCH, created), ms)
                });
                session_cookie(name, value, &cookie)
            }
        }
    }

    /// The session's cookie attributes, without a lifetime.
    fn attributes(&self, st: &State) -> CookieRecord {
        let mut cookie = match st.phase() {
            Phase::Ready => st.cookie().clone(),
            _ => self
                .inner
                .shared
                .config
                .new_cookie(OffsetDateTime::now_utc(), self.inner.secure_request),
        };
        cookie.expires = None;
        cookie.original_max_age = None;
        cookie
    }

    /// Ends the session in the browser, when the request carried one.
    fn sealed_removal(&self) -> Outcome {
        let name = self.inner.shared.config.name();
        let cookie = self
            .inner
            .shared
            .config
            .new_cookie(OffsetDateTime::now_utc(), self.inner.secure_request);
        Outcome {
            set_cookie: (!self.inner.seals.is_empty()).then(|| removal_cookie(name, &cookie)),
            accessed: true,
            session_header: None,
        }
    }
}

impl Session {
    /// Every write of a sealed session (`insert`, `remove`, `merge`, `replace`,
    /// `update`): `f` changes a copy of the data, which replaces it only if it changes
    /// no reserved key and still fits the cookie; otherwise nothing changes.
    pub(super) fn write_sealed<R>(
        &self,
        st: &mut State,
        config: &SealedConfig,
        f: impl FnOnce(&mut Map<String, Value>) -> R,
    ) -> Result<R, Error> {
        let mut work = (**st.data()).clone();
        let out = f(&mut work);
        self.no_reserved_change(st.data(), &work)?;
        self.sealed_fits(st, &work, config)?;
        st.set_data(work);
        Ok(out)
    }
}

/// What is sealed for this session.
fn plaintext(
    config: &SealedConfig,
    id: &SessionId,
    st: &State,
    data: &Map<String, Value>,
) -> Result<Vec<u8>, Error> {
    config
        .format
        .encode(id, st.created_ms(), data, st.sealed_extra())
        .map_err(|source| Error::Value {
            key: String::new(),
            source,
        })
}

/// h3's `maxAge` check on the session's `createdAt` (besides the seal's own TTL).
fn outlived(config: &SealedConfig, payload: &Payload, now: u64) -> bool {
    match (config.format, config.max_age) {
        (SealFormat::H3 | SealFormat::H3V2, Some(max)) => match payload.created_ms {
            Some(created) => now.saturating_sub(created) > millis(max),
            None => true,
        },
        _ => false,
    }
}

fn reason(e: UnsealError) -> InvalidCookie {
    match e {
        UnsealError::Expired => InvalidCookie::Expired,
        UnsealError::BadMac | UnsealError::UnknownPassword => InvalidCookie::BadSignature,
        _ => InvalidCookie::Malformed,
    }
}
