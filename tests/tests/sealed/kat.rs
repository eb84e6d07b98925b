//! Known answers: seals made by the real iron-webcrypto 1.x and 2.x, iron-session and
//! h3 2.x (tests/data/iron-fixtures.json, made by tests/node/make-iron-fixtures.mjs).

use serde_json::Value;
use session_core::sealed::{Iron, Passwords, UnsealError};
use session_core::wire::iron_seal_with;

fn fixtures() -> Value {
    serde_json::from_str(include_str!("../../data/iron-fixtures.json")).unwrap()
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn passwords_of(v: &Value) -> Passwords {
    match v {
        Value::String(s) => Passwords::new([s]).unwrap(),
        Value::Object(map) => {
            Passwords::with_ids(map.iter().map(|(id, s)| (id.as_str(), s.as_str().unwrap())))
                .unwrap()
        }
        other => panic!("passwords: {other}"),
    }
}

/// With the same salts and IV, a seal is byte for byte iron-webcrypto's, and unseals.
#[test]
fn seals_match_iron_webcrypto_byte_for_byte() {
    let fixtures = fixtures();
    let vectors = fixtures["deterministic"].as_array().unwrap();
    assert!(vectors.len() >= 10);
    for v in vectors {
        let secret = v["password"].as_str().unwrap();
        let passwords = match v["password_id"].as_str().unwrap() {
            "" => Passwords::new([secret]).unwrap(),
            id => Passwords::with_ids([(id, secret)]).unwrap(),
        };
        let mut random = [0u8; 80];
        random[..32].copy_from_slice(&hex(v["encryption_salt"].as_str().unwrap()));
        random[32..64].copy_from_slice(&hex(v["hmac_salt"].as_str().unwrap()));
        random[64..].copy_from_slice(&hex(v["iv_hex"].as_str().unwrap()));
        let json = v["json"].as_str().unwrap();
        let iterations = v["iterations"].as_u64().unwrap() as u32;
        let ours = iron_seal_with(&passwords, json, iterations, &random).unwrap();
        assert_eq!(ours, v["seal"].as_str().unwrap(), "{}", v["library"]);
        let iron = Iron::new(passwords).iterations(iterations);
        assert_eq!(iron.unseal(&ours).unwrap(), json);
    }
}

/// Seals made normally by each library (random salts, TTLs, password ids and maps,
/// iron-session's `sealData`, h3 2.x's `sealSession`) unseal to their JSON; expired
/// ones are refused as expired.
#[test]
fn seals_of_every_library_unseal_and_expired_ones_are_refused() {
    let fixtures = fixtures();
    let seals = fixtures["seals"].as_array().unwrap();
    let mut expired = 0;
    for s in seals {
        let iron = Iron::new(passwords_of(&s["passwords"]))
            .iterations(s["iterations"].as_u64().unwrap() as u32);
        // iron-session's `~2` marker is outside the seal.
        let seal = s["seal"].as_str().unwrap().split('~').next().unwrap();
        let what = s["library"].as_str().unwrap();
        match s["expect"].as_str().unwrap() {
            "ok" => assert_eq!(
                iron.unseal(seal).as_deref(),
                Ok(s["json"].as_str().unwrap()),
                "{what}"
            ),
            _ => {
                expired += 1;
                assert_eq!(iron.unseal(seal), Err(UnsealError::Expired), "{what}");
            }
        }
    }
    assert!(expired >= 2 && seals.len() >= 10);
}

/// Every way of breaking a real seal is refused with a reason, never a panic.
#[test]
fn broken_seals_are_refused() {
    let fixtures = fixtures();
    let v = &fixtures["deterministic"][0];
    let seal = v["seal"].as_str().unwrap();
    let iron = Iron::new(Passwords::new([v["password"].as_str().unwrap()]).unwrap());
    assert!(iron.unseal(seal).is_ok());
    let parts: Vec<&str> = seal.split('*').collect();
    let with = |i: usize, new: &str| {
        let mut p = parts.clone();
        p[i] = new;
        p.join("*")
    };
    let flipped = |s: &str| {
        let mut b = s.as_bytes().to_vec();
        b[3] = if b[3] == b'A' { b'B' } else { b'A' };
        String::from_utf8(b).unwrap()
    };
    let cases = [
        (String::new(), UnsealError::Malformed),
        ("Fe26.2".to_owned(), UnsealError::Malformed),
        (format!("{seal}*"), UnsealError::Malformed),
        (with(0, "Fe26.1"), UnsealError::Malformed),
        (with(5, "12x"), UnsealError::Malformed),
        (with(5, "1000"), UnsealError::Expired),
        (with(2, &flipped(parts[2])), UnsealError::BadMac),
        (with(3, &flipped(parts[3])), UnsealError::BadMac),
        (with(4, &flipped(parts[4])), UnsealError::BadMac),
        (with(6, &flipped(parts[6])), UnsealError::BadMac),
        (with(7, &flipped(parts[7])), UnsealError::BadMac),
        (with(7, "not base64!"), UnsealError::BadMac),
        (with(1, "nope"), UnsealError::BadMac),
        ("x".repeat(20_000), UnsealError::Malformed),
    ];
    for (bad, want) in cases {
        assert_eq!(iron.unseal(&bad), Err(want), "{bad:.80}");
    }
    // A seal naming a password id that only an id-keyed list lacks.
    let ids = Iron::new(Passwords::with_ids([("7", v["password"].as_str().unwrap())]).unwrap());
    assert_eq!(ids.unseal(&with(1, "8")), Err(UnsealError::UnknownPassword));
    // Another password: the integrity check fails.
    let other = Iron::new(Passwords::new([crate::P1]).unwrap());
    assert_eq!(other.unseal(seal), Err(UnsealError::BadMac));
}

/// Rotation: a seal is made with the first password, and read by a list holding the
/// one that made it, wherever it is in the list.
#[test]
fn the_first_password_seals_and_every_one_unseals() {
    let old = Iron::new(crate::passwords(&[crate::P1]));
    let both = Iron::new(crate::passwords(&[crate::P2, crate::P1]));
    let new_only = Iron::new(crate::passwords(&[crate::P2]));
    let by_old = old.seal("{}").unwrap();
    assert_eq!(both.unseal(&by_old).as_deref(), Ok("{}"));
    let by_both = both.seal("{}").unwrap();
    assert_eq!(new_only.unseal(&by_both).as_deref(), Ok("{}"));
    assert_eq!(old.unseal(&by_both), Err(UnsealError::BadMac));
    // With ids (iron-session's map), the seal names its password.
    let map = Iron::new(Passwords::iron_session([(1, crate::P1), (2, crate::P2)]).unwrap());
    let sealed = map.seal("{}").unwrap();
    assert!(sealed.starts_with("Fe26.2*2*"), "{sealed}");
    let only_1 = Iron::new(Passwords::iron_session([(1, crate::P1)]).unwrap());
    assert_eq!(only_1.unseal(&sealed), Err(UnsealError::UnknownPassword));
}
