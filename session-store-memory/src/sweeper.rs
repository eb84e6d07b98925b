//! The background sweep: a thread that removes expired sessions every interval and
//! ends when the store is dropped (it holds only a `Weak`, and the store's drop closes
//! the channel it waits on, so it wakes and exits at once).

use std::sync::Weak;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::Duration;

use crate::store::Shared;

/// Owned by the store; dropping it stops the thread.
#[derive(Debug)]
pub(crate) struct Sweeper {
    _stop: Sender<()>,
}

impl Sweeper {
    /// Starts the thread; `None` if the OS refuses a thread (the store then works
    /// without a sweeper, expiring entries on read).
    pub(crate) fn start(shared: Weak<Shared>, every: Duration) -> Option<Self> {
        let (stop, wait) = mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("session-sweeper".into())
            .spawn(move || {
                loop {
                    match wait.recv_timeout(every) {
                        Err(RecvTimeoutError::Timeout) => {}
                        Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
                    }
                    let Some(shared) = shared.upgrade() else {
                        return;
                    };
                    let removed = shared.sweep();
                    if removed > 0 {
                        tracing::debug!(removed, "swept expired sessions");
                    }
                }
            })
            .ok()?;
        Some(Sweeper { _stop: stop })
    }
}
