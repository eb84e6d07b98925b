//! At most one log line per interval for a condition that repeats on every request
//! (a store outage, a full store): the first occurrence is logged, the rest of the
//! interval is counted, and the next line says how many were left out.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// The interval between two log lines of one [`LogThrottle`].
pub(crate) const LOG_INTERVAL_SECS: u64 = 10;

/// Rate-limits the log lines of one repeated condition (one `static` per call site).
///
/// Counting is never rate-limited: metrics see every occurrence.
#[derive(Debug, Default)]
pub struct LogThrottle {
    /// When the last line was written, in seconds on an offset monotonic clock (see
    /// `admit`); 0: never.
    last: AtomicU64,
    /// Occurrences not logged since that line.
    suppressed: AtomicU64,
}

impl LogThrottle {
    /// A throttle that has logged nothing yet.
    pub const fn new() -> Self {
        LogThrottle {
            last: AtomicU64::new(0),
            suppressed: AtomicU64::new(0),
        }
    }

    /// Whether this occurrence should be logged: `Some(n)` with the number of
    /// occurrences left out since the previous line, or `None` (counted, not logged).
    pub fn admit(&self) -> Option<u64> {
        // A monotonic clock: a wall-clock step backwards cannot silence the log.
        static START: OnceLock<Instant> = OnceLock::new();
        // Offset so that 0 means "never" and any time is an interval past 1.
        let now = START.get_or_init(Instant::now).elapsed().as_secs() + LOG_INTERVAL_SECS + 1;
        let last = self.last.load(Ordering::Relaxed);
        if last != 0 && now < last.saturating_add(LOG_INTERVAL_SECS) {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        // One caller wins the interval; the others count themselves as left out.
        match self
            .last
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
        {
            Ok(_) => Some(self.suppressed.swap(0, Ordering::Relaxed)),
            Err(_) => {
                self.suppressed.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_interval_and_the_next_counts_the_rest() {
        let t = LogThrottle::new();
        assert_eq!(t.admit(), Some(0));
        for _ in 0..5 {
            assert_eq!(t.admit(), None);
        }
        // Pretend the interval has passed.
        t.last.store(1, Ordering::Relaxed);
        assert_eq!(t.admit(), Some(5));
        assert_eq!(t.admit(), None);
    }
}
