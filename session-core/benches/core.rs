//! Micro-benchmarks of the per-request work in session-core (criterion):
//! `cargo bench -p session-core --bench core`. Figures: docs/benchmarks.md.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use session_core::store::{Record, RecordMeta};
use session_core::wire::encode_uri_component;
use session_core::wire::find_session_id;
use session_core::wire::{sign, unsign};
use session_core::{CookieRecord, Secrets, SessionId};

const NEW: &str = "the current secret, long and random";
const OLD: &str = "the previous secret, still accepted";

fn cookie_value(id: &str, secret: &str) -> String {
    encode_uri_component(&format!("s:{}", sign(id, secret.as_bytes())))
}

/// A `Cookie` header of at most `size` bytes: other cookies first, ours last.
fn header(size: usize, ours: &str) -> String {
    let mut h = String::new();
    let mut n = 0;
    loop {
        let entry = format!("pref_{n}=value{n}-{}; ", "x".repeat(24));
        if h.len() + entry.len() + "connect.sid=".len() + ours.len() > size {
            break;
        }
        h.push_str(&entry);
        n += 1;
    }
    h.push_str("connect.sid=");
    h.push_str(ours);
    h
}

fn signing(c: &mut Criterion) {
    let id = SessionId::generate().unwrap();
    let secrets = Secrets::new([NEW, OLD]).unwrap();
    let by_new = sign(id.expose(), NEW.as_bytes());
    let by_old = sign(id.expose(), OLD.as_bytes());
    c.bench_function("sign", |b| {
        b.iter(|| sign(black_box(id.expose()), black_box(NEW.as_bytes())))
    });
    c.bench_function("unsign/first secret", |b| {
        b.iter(|| unsign(black_box(&by_new), black_box(&secrets)))
    });
    c.bench_function("unsign/second secret", |b| {
        b.iter(|| unsign(black_box(&by_old), black_box(&secrets)))
    });
}

fn parsing(c: &mut Criterion) {
    let id = SessionId::generate().unwrap();
    let secrets = Secrets::new([NEW]).unwrap();
    let ours = cookie_value(id.expose(), NEW);
    let typical = format!(
        "_ga=GA1.1.123456789.1700000000; theme=dark; connect.sid={ours}; csrftoken=abcdefghijklmnopqrstuvwxyz012345"
    );
    for (name, h) in [
        ("typical", typical),
        ("8 KiB", header(8 * 1024, &ours)),
        ("64 KiB", header(64 * 1024, &ours)),
    ] {
        c.bench_function(&format!("parse cookie header/{name}"), |b| {
            b.iter(|| {
                let found = find_session_id([black_box(h.as_bytes())], "connect.sid", &secrets);
                assert!(found.is_ok());
                found
            })
        });
    }
}

fn records(c: &mut Criterion) {
    let mut cookie = CookieRecord::default();
    cookie.set_max_age(
        Some(std::time::Duration::from_secs(86_400)),
        time::OffsetDateTime::now_utc(),
    );
    let data = json!({
        "user": {"id": 48213, "name": "Ada Lovelace", "roles": ["admin", "editor"]},
        "cart": [{"sku": "A-1", "qty": 2}, {"sku": "B-7", "qty": 1}],
        "csrf": "x7gL1d9Qp0zR3mN8",
        "views": 42,
        "lastSeen": "2026-11-23T10:00:00.000Z"
    });
    let serde_json::Value::Object(data) = data else {
        unreachable!()
    };
    let record = Record::new(cookie, data, RecordMeta::default());
    let bytes = record.encode();
    c.bench_function("record/encode", |b| b.iter(|| black_box(&record).encode()));
    c.bench_function("record/decode", |b| {
        b.iter(|| Record::decode(black_box(&bytes), 1 << 20).unwrap())
    });
}

criterion_group!(benches, signing, parsing, records);
criterion_main!(benches);
