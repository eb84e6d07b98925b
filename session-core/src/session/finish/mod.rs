//! Step 5, the end of the request: `Session::finish` applies express-session's rules
//! (`rules.rs`, pure) to the session's state, saves, touches or destroys, and tells
//! the adapter which cookie to set.

mod rules;

use time::OffsetDateTime;

use super::Session;
use super::state::{Phase, State};
use crate::config::Unset;
use crate::cookie::write::{
    removal_cookie, session_cookie, session_cookie_with_max_age, signed_value,
};
use crate::error::{Error, StoreOp};
use crate::store::StoreError;
use crate::telemetry::{Lifecycle, lifecycle, store_call, touch_failed};
use rules::{Facts, Persist, SaveOptions, Untouched, decide, decide_untouched};

/// What the adapter must do to the response at the end of a request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Outcome {
    /// A `Set-Cookie` value to add: the session cookie or a removal cookie.
    pub set_cookie: Option<String>,
    /// The handler read the session, so the response depends on the `Cookie` header
    /// (`Vary: Cookie`).
    pub accessed: bool,
    /// With the header transport: the header to send, `(name, signed value)`, when the
    /// session cookie is set and the request carried the header (a cookie-only client
    /// never gets the token where page scripts could read it). The adapter marks such
    /// a response `Cache-Control: no-store`.
    pub session_header: Option<(String, String)>,
}

impl Session {
    /// The end of the request: saves, touches or destroys as express-session's rules
    /// decide (express-session's rules, docs/wire-format.md) and returns the cookie to set. Call it once,
    /// before the response head is sent.
    ///
    /// A store failure that can lose nothing is not an error: the end-of-request touch,
    /// or the load and write that `rolling`, `resave` or `saveUninitialized` ask for when
    /// the handler did not use the session. It is logged (throttled) and counted in
    /// `session_degraded_total`, and the outcome sets no cookie.
    ///
    /// # Errors
    ///
    /// [`Error::Store`] with [`StoreOp::Load`] if loading failed during the request
    /// (the response should be a 503); another [`Error::Store`] if persisting failed (a
    /// 500 without Set-Cookie), unless [`Error::is_overloaded`] (a full store: 503 with
    /// `Retry-After`); [`Error::Busy`] (503 with `Retry-After`); [`Error::TooLarge`];
    /// [`Error::Gone`] if another request destroyed the session meanwhile.
    pub async fn finish(&self) -> Result<Outcome, Error> {
        let mut st = self.inner.state.lock().await;
        if let Some(e) = st.take_load_error() {
            return Err(e);
        }
        if let Some(sealed) = self.sealed() {
            return self.finish_sealed(&mut st, sealed);
        }
        let config = &self.inner.shared.config;
        let policy = SaveOptions {
            save_uninitialized: config.save_uninitialized,
            rolling: config.rolling,
            resave: config.resave,
        };
        let incoming = self.inner.incoming.as_ref();
        // The handler did not use the session: whatever store work the rules still ask
        // for (a touch; with rolling, resave or saveUninitialized a load and a write)
        // can lose nothing, so its failure never replaces the handler's response.
        let untouched = st.phase() == Phase::Unloaded;
        match st.phase() {
            Phase::Unloaded => match decide_untouched(
                incoming.is_some(),
                incoming.is_some_and(|i| i.resign),
                policy,
            ) {
                Untouched::Nothing => return Ok(Outcome::default()),
                Untouched::Touch => {
                    if let Some(inc) = incoming {
                        // A failed touch loses nothing (the data is stored): the
                        // response goes out as the handler wrote it.
                        match store_call(
                            StoreOp::Touch,
                            &inc.id,
                            self.inner.shared.store.touch(&inc.id),
                        )
                        .await
                        {
                            Ok(()) | Err(StoreError::NotFound) => {}
                            Err(e) => touch_failed(&e),
                        }
                    }
                    return Ok(Outcome::default());
                }
                Untouched::Materialize => {
                    if let Err(e) = self.load_or_create(&mut st).await {
                        return untouched_failure(e);
                    }
                }
            },
            Phase::Destroyed => return Ok(self.removal(&st)),
            Phase::Unset => {
                if config.unset == Unset::Destroy {
                    if let Some(id) = self.deletable_id(&st).await? {
                        self.destroy_stored(&id).await?;
                        lifecycle(Lifecycle::Destroyed, Some(&id));
                    }
                    return Ok(self.removal(&st));
                }
                return Ok(Outcome {
                    accessed: true,
                    ..Outcome::default()
                });
            }
            Phase::Ready => {}
        }

        st.reset_expiry(OffsetDateTime::now_utc);
        let facts = Facts {
            is_new: !st.is_existing(),
            modified: st.modified(),
            has_saved_baseline: st.has_saved_baseline(),
            saved: st.is_saved(),
            expires_set: st.cookie().expires.is_some(),
            resign: st.is_existing() && incoming.is_some_and(|i| i.resign),
        };
        let decision = decide(facts, policy);
        let mut touched = true;
        match decision.persist {
            Persist::Save => {
                if let Err(e) = self.persist(&mut st).await {
                    return if untouched {
                        untouched_failure(e)
                    } else {
                        Err(e)
                    };
                }
            }
            Persist::Touch if !st.expiry_fresh() => {
                if let Some(id) = st.id().cloned() {
                    let touch = self.inner.shared.store.touch(&id);
                    match store_call(StoreOp::Touch, &id, touch).await {
                        Ok(()) => {}
                        Err(StoreError::NotFound) => return Err(Error::Gone),
                        // Nothing is lost: served as written, without a cookie whose
                        // expiry the store did not follow.
                        Err(e) => {
                            touch_failed(&e);
                            touched = false;
                        }
                    }
                }
            }
            Persist::Touch | Persist::Nothing => {}
        }
        let insecure = st.cookie().secure == Some(true) && !self.inner.secure_request;
        let (set_cookie, session_header) = match (
            st.id(),
            decision.set_cookie && touched && !insecure && st.is_stored(),
        ) {
            (Some(id), true) => {
                // One signature for the cookie and, for a header client, the header.
                let value = signed_value(id, &config.secrets, self.known_signature(id));
                let header = config
                    .header_name()
                    .filter(|_| self.inner.header_client)
                    .map(|h| (h.to_owned(), value.clone()));
                let cookie = match config.max_age_attribute() {
                    Some(age) => session_cookie_with_max_age(&config.name, value, st.cookie(), age),
                    None => session_cookie(&config.name, value, st.cookie()),
                };
                (Some(cookie), header)
            }
            _ => (None, None),
        };
        Ok(Outcome {
            set_cookie,
            accessed: st.accessed(),
            session_header,
        })
    }

    fn removal(&self, st: &State) -> Outcome {
        let cookie = if st.id().is_some() {
            st.cookie().clone()
        } else {
            self.inner
                .shared
                .config
                .new_cookie(OffsetDateTime::now_utc(), self.inner.secure_request)
        };
        let set_cookie = self
            .inner
            .incoming
            .is_some()
            .then(|| removal_cookie(&self.inner.shared.config.name, &cookie));
        Outcome {
            set_cookie,
            accessed: true,
            session_header: None,
        }
    }
}

/// The end-of-request store work of a session the handler did not use failed: nothing
/// is lost, so the response goes out as written (without `Set-Cookie`); logged and
/// counted. Other errors (not the store's) are still errors.
fn untouched_failure(e: Error) -> Result<Outcome, Error> {
    if e.is_store() || e.is_overloaded() {
        touch_failed(&e);
        Ok(Outcome::default())
    } else {
        Err(e)
    }
}
