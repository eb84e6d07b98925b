//! Step 4, the handler's commands: save, reload, destroy, regenerate, cycle_id,
//! touch, unset. Loading is in `load.rs`, writing in `persist.rs`, the end of the
//! request in `finish/`.

use time::OffsetDateTime;

use super::Session;
use crate::error::Error;
use crate::telemetry::{Lifecycle, lifecycle};

impl Session {
    /// Writes the session to the store now (express `req.session.save()`), refreshing
    /// the cookie expiry first so the stored TTL is right. An unchanged session is not
    /// written again at the end of the request.
    ///
    /// # Errors
    ///
    /// [`Error::Store`], [`Error::TooLarge`], [`Error::Gone`] (another request destroyed
    /// it), [`Error::Conflict`], [`Error::Destroyed`], [`Error::Busy`] (too many requests
    /// wait to write this session).
    pub async fn save(&self) -> Result<(), Error> {
        let mut st = self.inner.state.lock().await;
        self.writable(&mut st).await?;
        self.persist(&mut st).await
    }

    /// Replaces the data with what the store holds now (express `reload`).
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] if the store no longer has the session; [`Error::Store`].
    pub async fn reload(&self) -> Result<(), Error> {
        let mut st = self.inner.state.lock().await;
        self.writable(&mut st).await?;
        if let Some(sealed) = self.sealed() {
            // What the request's cookie holds.
            return self.load_sealed(&mut st, sealed);
        }
        if !st.is_stored() {
            return Err(Error::NotFound);
        }
        let id = st.id().cloned().ok_or(Error::NotFound)?;
        let loaded = self.load_record(&id, false).await?.ok_or(Error::NotFound)?;
        self.adopt(&mut st, id, loaded);
        Ok(())
    }

    /// Deletes the session from the store now (express `destroy`). The response gets a
    /// removal cookie if the request carried one; later writes fail with
    /// [`Error::Destroyed`] until [`Session::regenerate`].
    ///
    /// # Errors
    ///
    /// [`Error::Store`].
    pub async fn destroy(&self) -> Result<(), Error> {
        let mut st = self.inner.state.lock().await;
        st.mark_accessed();
        if let Some(id) = self.deletable_id(&st).await? {
            self.destroy_stored(&id).await?;
            lifecycle(Lifecycle::Destroyed, Some(&id));
        }
        st.mark_destroyed();
        Ok(())
    }

    /// A new id and empty data; the old record is deleted (express `regenerate`). Call
    /// it at login to prevent session fixation.
    ///
    /// # Errors
    ///
    /// [`Error::Store`], [`Error::InvalidGeneratedId`].
    pub async fn regenerate(&self) -> Result<(), Error> {
        let mut st = self.inner.state.lock().await;
        st.mark_accessed();
        if let Some(id) = self.deletable_id(&st).await? {
            self.destroy_stored(&id).await?;
        }
        let (id, contents) = self.new_contents(OffsetDateTime::now_utc())?;
        st.start_over(id, contents);
        lifecycle(Lifecycle::Regenerated, st.id());
        Ok(())
    }

    /// A new id, the data kept; the record moves to the new id now and the old one is
    /// deleted. Use it when privileges change but the data should stay.
    ///
    /// Once the new id is written, the old one must still exist: if another request
    /// destroyed it meanwhile (a sign-out, "sign out everywhere"), the new one is
    /// deleted too and the session ends here with [`Error::Gone`], so no session
    /// escapes a sign-out by moving.
    ///
    /// # Errors
    ///
    /// [`Error::Store`], [`Error::TooLarge`], [`Error::Destroyed`], [`Error::Gone`].
    pub async fn cycle_id(&self) -> Result<(), Error> {
        let mut st = self.inner.state.lock().await;
        self.writable(&mut st).await?;
        let old = st.stored_id().cloned();
        st.move_to_new_id(self.inner.shared.config.generate_id()?);
        self.persist(&mut st).await?;
        if let Some(old) = old {
            if !self.still_stored(&old).await? {
                if let Some(new) = st.stored_id().cloned() {
                    self.destroy_stored(&new).await?;
                }
                st.mark_destroyed();
                return Err(Error::Gone);
            }
            self.destroy_stored(&old).await?;
        }
        lifecycle(Lifecycle::Cycled, st.id());
        Ok(())
    }

    /// Resets the cookie's expiry to now + its lifetime (express `touch`). The store's
    /// expiry is extended at the end of the request in any case.
    ///
    /// # Errors
    ///
    /// [`Error::Store`] if loading failed.
    pub async fn touch(&self) -> Result<(), Error> {
        let mut st = self.inner.state.lock().await;
        if self.ready(&mut st).await? {
            st.reset_expiry(OffsetDateTime::now_utc);
            if self.sealed().is_some() {
                st.mark_reseal(); // a fresh seal, with a fresh TTL
            }
        }
        Ok(())
    }

    /// express `req.session = null`: with [`Unset::Keep`](crate::Unset::Keep) nothing is saved and the store
    /// is left alone; with [`Unset::Destroy`](crate::Unset::Destroy) the stored session is deleted at the end
    /// of the request.
    pub async fn unset(&self) {
        let mut st = self.inner.state.lock().await;
        st.mark_accessed();
        st.mark_unset();
    }
}
