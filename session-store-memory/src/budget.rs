//! The store's two bounds, counted exactly: sessions held and their encoded bytes.
//! A reservation takes both or neither, so a refused session leaves no trace.

use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Debug)]
pub(crate) struct Budget {
    entries: AtomicUsize,
    bytes: AtomicUsize,
    max_entries: usize,
    max_bytes: usize,
}

impl Budget {
    pub(crate) fn new(max_entries: usize, max_bytes: usize) -> Self {
        Budget {
            entries: AtomicUsize::new(0),
            bytes: AtomicUsize::new(0),
            max_entries,
            max_bytes,
        }
    }

    /// Counts one more entry of `bytes` bytes, unless either bound would be passed.
    pub(crate) fn try_add(&self, bytes: usize) -> bool {
        let before = self.entries.fetch_add(1, Ordering::Relaxed);
        if before >= self.max_entries {
            self.entries.fetch_sub(1, Ordering::Relaxed);
            return false;
        }
        if !self.try_grow(bytes) {
            self.entries.fetch_sub(1, Ordering::Relaxed);
            return false;
        }
        Self::report_entries(before + 1);
        true
    }

    /// Counts `bytes` more for an entry already held, unless the byte bound would be
    /// passed.
    pub(crate) fn try_grow(&self, bytes: usize) -> bool {
        let before = self.bytes.fetch_add(bytes, Ordering::Relaxed);
        if before.saturating_add(bytes) > self.max_bytes {
            self.bytes.fetch_sub(bytes, Ordering::Relaxed);
            return false;
        }
        Self::report_bytes(before + bytes);
        true
    }

    /// Counts `bytes` more, bound or not (for bytes already written).
    pub(crate) fn force_grow(&self, bytes: usize) {
        let before = self.bytes.fetch_add(bytes, Ordering::Relaxed);
        Self::report_bytes(before.saturating_add(bytes));
    }

    /// Counts `bytes` fewer for an entry still held.
    pub(crate) fn shrink(&self, bytes: usize) {
        let before = self.bytes.fetch_sub(bytes, Ordering::Relaxed);
        Self::report_bytes(before.saturating_sub(bytes));
    }

    /// Counts one entry of `bytes` bytes fewer.
    pub(crate) fn remove(&self, bytes: usize) {
        let before = self.entries.fetch_sub(1, Ordering::Relaxed);
        Self::report_entries(before.saturating_sub(1));
        self.shrink(bytes);
    }

    pub(crate) fn entries(&self) -> usize {
        self.entries.load(Ordering::Relaxed)
    }

    pub(crate) fn bytes(&self) -> usize {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Whether an entry of `bytes` bytes could fit in an empty store.
    pub(crate) fn can_ever_hold(&self, bytes: usize) -> bool {
        self.max_entries > 0 && bytes <= self.max_bytes
    }

    fn report_entries(n: usize) {
        metrics::gauge!(MEMORY_STORE_SESSIONS).set(n as f64);
    }

    fn report_bytes(n: usize) {
        metrics::gauge!(MEMORY_STORE_BYTES).set(n as f64);
    }
}

/// Gauge: sessions held by the store.
pub(crate) const MEMORY_STORE_SESSIONS: &str = "session_memory_store_sessions";
/// Gauge: encoded bytes held by the store.
pub(crate) const MEMORY_STORE_BYTES: &str = "session_memory_store_bytes";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_bounds_hold_and_a_refusal_leaves_no_trace() {
        let b = Budget::new(2, 100);
        assert!(b.try_add(60));
        assert!(!b.try_add(41), "bytes");
        assert_eq!((b.entries(), b.bytes()), (1, 60));
        assert!(b.try_add(40));
        assert!(!b.try_add(0), "entries");
        assert_eq!((b.entries(), b.bytes()), (2, 100));
        assert!(!b.try_grow(1));
        b.shrink(10);
        assert!(b.try_grow(10));
        b.remove(60);
        assert_eq!((b.entries(), b.bytes()), (1, 40));
        assert!(b.can_ever_hold(100) && !b.can_ever_hold(101));
    }
}
