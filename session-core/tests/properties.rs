//! Property tests: signing round-trips for any id and secret, any single-byte change to a
//! signed value fails, and cookie parsing and record decoding are total over arbitrary
//! bytes (an answer, never a panic).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use session_core::store::Record;
use session_core::wire::encode_uri_component;
use session_core::wire::find_session_id;
use session_core::wire::{sign, unsign};
use session_core::{Secrets, SessionId};

fn id_strategy() -> impl Strategy<Value = String> {
    "[A-Za-z0-9._~+/=:-]{1,64}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn sign_then_unsign_round_trips(value in ".{0,80}", secret in proptest::collection::vec(any::<u8>(), 1..64)) {
        let secrets = Secrets::new([&secret]).unwrap();
        let signed = sign(&value, &secret);
        let got = unsign(&signed, &secrets).expect("own signature verifies");
        prop_assert_eq!(got.value, value.as_str());
        prop_assert_eq!(got.secret_index, 0);
    }

    #[test]
    fn any_single_byte_change_fails(id in id_strategy(), secret in "[ -~]{1,32}", pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let secrets = Secrets::new([&secret]).unwrap();
        let signed = sign(&id, secret.as_bytes());
        let mut bytes = signed.clone().into_bytes();
        let i = pos.index(bytes.len());
        prop_assume!(bytes[i] != byte);
        bytes[i] = byte;
        if let Ok(changed) = String::from_utf8(bytes) {
            prop_assert!(unsign(&changed, &secrets).is_none(), "{} verified", changed);
        }
    }

    #[test]
    fn a_cookie_we_issue_is_found_again(id in id_strategy(), secret in "[ -~]{1,32}") {
        let secrets = Secrets::new([&secret]).unwrap();
        let header = format!("a=b; connect.sid={}; c=d", encode_uri_component(&format!("s:{}", sign(&id, secret.as_bytes()))));
        let found = find_session_id([header.as_bytes()], "connect.sid", &secrets).unwrap();
        prop_assert_eq!(found.id.expose(), id.as_str());
    }

    #[test]
    fn cookie_parsing_is_total(headers in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..512), 0..4)) {
        let secrets = Secrets::new(["keyboard cat"]).unwrap();
        let _ = find_session_id(headers.iter().map(Vec::as_slice), "connect.sid", &secrets);
    }

    #[test]
    fn cookie_parsing_is_total_on_cookie_like_input(s in "([a-z.]{0,12}=?(s%3A|s:)?[A-Za-z0-9%+/=.\"]{0,80};? ?){0,12}") {
        let secrets = Secrets::new(["keyboard cat"]).unwrap();
        let _ = find_session_id([s.as_bytes()], "connect.sid", &secrets);
    }

    #[test]
    fn record_decoding_is_total_and_stable(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(r) = Record::decode(&bytes, 1 << 20) {
            let again = Record::decode(&r.encode(), 1 << 20).unwrap();
            prop_assert_eq!(r, again);
        }
    }

    #[test]
    fn id_parsing_is_total(s in ".{0,300}") {
        if let Some(id) = SessionId::parse(&s) {
            prop_assert_eq!(id.expose(), s.as_str());
        }
    }
}
