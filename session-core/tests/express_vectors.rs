//! Data-driven known-answer tests: the spec's vectors, kept in one data file that the
//! Node interop check reads too (tests/data/express-vectors.json).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use session_core::Secrets;
use session_core::wire::encode_uri_component;
use session_core::wire::find_session_id;
use session_core::wire::{sign, unsign};

fn vectors() -> Value {
    serde_json::from_str(include_str!("data/express-vectors.json")).unwrap()
}

fn secret_of(v: &Value) -> Vec<u8> {
    match (v.get("secret"), v.get("secret_hex")) {
        (Some(s), _) => s.as_str().unwrap().as_bytes().to_vec(),
        (None, Some(h)) => {
            let h = h.as_str().unwrap();
            (0..h.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
                .collect()
        }
        _ => panic!("vector without a secret: {v}"),
    }
}

#[test]
fn sign_vectors() {
    for v in vectors()["sign"].as_array().unwrap() {
        let secret = secret_of(v);
        let value = v["value"].as_str().unwrap();
        let signed = v["signed"].as_str().unwrap();
        assert_eq!(sign(value, &secret), signed, "{}", v["name"]);
        let secrets = Secrets::new([&secret]).unwrap();
        assert_eq!(
            unsign(signed, &secrets).map(|u| u.value),
            Some(value),
            "{}",
            v["name"]
        );
    }
}

#[test]
fn cookie_vectors_both_ways() {
    for v in vectors()["cookie"].as_array().unwrap() {
        let secret = secret_of(v);
        let id = v["id"].as_str().unwrap();
        let wire = v["cookie_value"].as_str().unwrap();
        assert_eq!(
            encode_uri_component(&format!("s:{}", sign(id, &secret))),
            wire,
            "{}",
            v["name"]
        );
        let header = format!("connect.sid={wire}");
        let secrets = Secrets::new([&secret]).unwrap();
        let found = find_session_id([header.as_bytes()], "connect.sid", &secrets).unwrap();
        assert_eq!(found.id.expose(), id, "{}", v["name"]);
    }
}

#[test]
fn reject_vectors() {
    let r = &vectors()["reject"];
    let secrets = Secrets::new([secret_of(r)]).unwrap();
    assert!(unsign(r["valid"].as_str().unwrap(), &secrets).is_some());
    for input in r["inputs"].as_array().unwrap() {
        let input = input.as_str().unwrap();
        assert!(unsign(input, &secrets).is_none(), "{input}");
    }
}
