//! Stored bytes → `Record::decode`. Must never panic; a decoded record must encode to
//! bytes that decode to the same record, and its TTLs must be computable.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use session_core::store::Record;

fuzz_target!(|data: &[u8]| {
    if let Ok(record) = Record::decode(data, 1 << 20) {
        let bytes = record.encode();
        assert_eq!(bytes.len(), record.encoded_len());
        let again = Record::decode(&bytes, usize::MAX).expect("our own encoding decodes");
        assert_eq!(again, record);
        let now = time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
        let _ = record.ttl_for_write(now, Duration::from_secs(86_400));
        let _ = record.ttl_for_touch(now, Duration::from_secs(86_400));
        if let Some(mut c) = record.cookie().cloned() {
            c.reset_expiry(now);
        }
    }
});
