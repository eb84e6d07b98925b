//! The store metrics' keys, one set per [`StoreOp`], made and hashed at compile time.
//! The `metrics` macros would build each key, allocate its label and hash it on every
//! store call, whether or not a recorder is installed.

use metrics::{Counter, Histogram, Key, Label, Level, Metadata};

use super::{STORE_DURATION, STORE_ERRORS, STORE_OPERATIONS};
use crate::error::StoreOp;

/// What the macros said where these metrics were recorded before: that module, at `INFO`.
const TARGET: &str = "session_core::telemetry::events";
static METADATA: Metadata<'static> = Metadata::new(TARGET, Level::INFO, Some(TARGET));

/// The three store metrics of one `op`.
pub(super) struct StoreKeys {
    operations: Key,
    duration: Key,
    errors: Key,
}

macro_rules! keys_for {
    ($op:literal) => {{
        const LABELS: &[Label] = &[Label::from_static_parts("op", $op)];
        StoreKeys {
            operations: Key::from_static_parts(STORE_OPERATIONS, LABELS),
            duration: Key::from_static_parts(STORE_DURATION, LABELS),
            errors: Key::from_static_parts(STORE_ERRORS, LABELS),
        }
    }};
}

static LOAD: StoreKeys = keys_for!("load");
static CREATE: StoreKeys = keys_for!("create");
static SAVE: StoreKeys = keys_for!("save");
static TOUCH: StoreKeys = keys_for!("touch");
static DESTROY: StoreKeys = keys_for!("destroy");
static ADMIN: StoreKeys = keys_for!("admin");

impl StoreKeys {
    /// The keys labelled `op`.
    pub(super) fn of(op: StoreOp) -> &'static StoreKeys {
        match op {
            StoreOp::Load => &LOAD,
            StoreOp::Create => &CREATE,
            StoreOp::Save => &SAVE,
            StoreOp::Touch => &TOUCH,
            StoreOp::Destroy => &DESTROY,
            StoreOp::Admin => &ADMIN,
        }
    }

    /// `session_store_operations_total{op}`.
    pub(super) fn operations(&self) -> Counter {
        metrics::with_recorder(|r| r.register_counter(&self.operations, &METADATA))
    }

    /// `session_store_duration_seconds{op}`.
    pub(super) fn duration(&self) -> Histogram {
        metrics::with_recorder(|r| r.register_histogram(&self.duration, &METADATA))
    }

    /// `session_store_errors_total{op}`.
    pub(super) fn errors(&self) -> Counter {
        metrics::with_recorder(|r| r.register_counter(&self.errors, &METADATA))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_op_has_its_own_label() {
        for op in [
            StoreOp::Load,
            StoreOp::Create,
            StoreOp::Save,
            StoreOp::Touch,
            StoreOp::Destroy,
            StoreOp::Admin,
        ] {
            let keys = StoreKeys::of(op);
            for (key, name) in [
                (&keys.operations, STORE_OPERATIONS),
                (&keys.duration, STORE_DURATION),
                (&keys.errors, STORE_ERRORS),
            ] {
                assert_eq!(key.name(), name);
                let labels: Vec<_> = key.labels().map(|l| (l.key(), l.value())).collect();
                assert_eq!(labels, [("op", op.as_str())]);
            }
        }
    }
}
