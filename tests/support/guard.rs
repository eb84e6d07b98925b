//! Test-wide checks: a panic hook that counts panics anywhere in the process
//! (connection tasks included), and a capture of every `tracing` event, so suites can
//! assert that nothing panicked and that logs never carry a session id or a secret.

use std::collections::HashSet;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once};

static PANICS: AtomicUsize = AtomicUsize::new(0);
static LOGS: Mutex<Vec<u8>> = Mutex::new(Vec::new());
static IDS: Mutex<Option<HashSet<String>>> = Mutex::new(None);
static INSTALL: Once = Once::new();

/// Installs the panic counter and the log capture (once per test binary).
pub fn install() {
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            previous(info);
        }));
        use tracing_subscriber::layer::SubscriberExt;
        let subscriber = tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .with_writer(|| LogWriter),
            )
            .with(crate::telemetry::Capture);
        let _ = tracing::subscriber::set_global_default(subscriber);
    });
}

/// Panics seen so far in this process.
pub fn panics() -> usize {
    PANICS.load(Ordering::SeqCst)
}

/// Everything logged so far in this process.
pub fn logs() -> String {
    String::from_utf8_lossy(&LOGS.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
}

/// Remembers a session id a client was issued, for [`leaked_ids`].
pub fn note_id(id: &str) {
    IDS.lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_or_insert_with(HashSet::new)
        .insert(id.to_owned());
}

/// Session ids issued to test clients that appear in the captured logs (must be none).
pub fn leaked_ids() -> Vec<String> {
    let ids = IDS.lock().unwrap_or_else(|e| e.into_inner());
    let Some(ids) = ids.as_ref() else {
        return Vec::new();
    };
    let logs = logs();
    logs.split(|c: char| !(c.is_ascii_alphanumeric() || "-_.~+/=:".contains(c)))
        .filter(|token| ids.contains(*token))
        .map(str::to_owned)
        .collect()
}

struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGS.lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
