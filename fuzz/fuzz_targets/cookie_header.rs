//! Cookie headers (any bytes, split into several headers at 0xFF 0x00) → find our
//! cookie → percent-decode → unsign → id check. Must never panic; a found id must be
//! one we could have issued (valid alphabet) and must re-sign to a cookie that is found
//! again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use session_core::wire::find_session_id;
use session_core::wire::encode_uri_component;
use session_core::wire::sign;
use session_core::{Secrets, SessionId};

fuzz_target!(|data: &[u8]| {
    let Ok(secrets) = Secrets::new(["fuzz secret", "old fuzz secret"]) else { return };
    let headers: Vec<&[u8]> = data.split(|&b| b == 0xff).collect();
    if let Ok(found) = find_session_id(headers.iter().copied(), "connect.sid", &secrets) {
        assert!(SessionId::parse(found.id.expose()).is_some());
        let again = format!("connect.sid={}", encode_uri_component(&format!("s:{}", sign(found.id.expose(), b"fuzz secret"))));
        let refound = find_session_id([again.as_bytes()], "connect.sid", &secrets).expect("our own cookie");
        assert_eq!(refound.id, found.id);
        assert!(!refound.resign);
    }
});
