//! Iron seals → unseal → the sealed-cookie session. The first byte picks what the rest
//! is: (0) a seal, unsealed directly; (1) the plaintext of a valid seal (the fuzzer
//! cannot forge an HMAC, so this reaches decryption and the session shapes), read as
//! an h3 and an iron-session cookie; (2) `Cookie` headers for a sealed session
//! manager. Must never panic; a session read must never be an error; what unseals
//! must seal again to the same text.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use session_core::adapter::SessionManager;
use session_core::sealed::{Iron, Passwords, SealedConfig};
use session_core::wire::iron_seal_with;

const PASSWORD: &str = "a fuzzing password of at least thirty-two characters";

struct Fixture {
    passwords: Passwords,
    numbered: Passwords,
    iron: Iron,
    h3: SessionManager,
    iron_session: SessionManager,
    runtime: tokio::runtime::Runtime,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let passwords = Passwords::new([PASSWORD]).unwrap();
        let numbered = Passwords::iron_session([(1, PASSWORD)]).unwrap();
        Fixture {
            iron: Iron::new(passwords.clone()),
            h3: SessionManager::sealed(SealedConfig::h3(passwords.clone()).build().unwrap()),
            iron_session: SessionManager::sealed(
                SealedConfig::iron_session("iron", numbered.clone()).build().unwrap(),
            ),
            passwords,
            numbered,
            runtime: tokio::runtime::Builder::new_current_thread().build().unwrap(),
        }
    })
}

/// A session from these cookie headers must read without an error, and end with a
/// cookie or an "it is too large" answer only.
fn read(f: &Fixture, manager: &SessionManager, headers: &[&[u8]]) {
    f.runtime.block_on(async {
        let session = manager.start(headers.iter().copied(), true);
        let data = session.data().await.expect("a sealed session always reads");
        session.insert("fuzz", data.len()).await.ok();
        match session.finish().await {
            Ok(_) | Err(session_core::Error::TooLarge { .. }) => {}
            Err(e) => panic!("finish: {e}"),
        }
    });
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let f = fixture();
    let text = String::from_utf8_lossy(rest);
    match mode % 3 {
        0 => {
            if let Ok(json) = f.iron.unseal(&text) {
                let again = f.iron.seal(&json).unwrap();
                assert_eq!(f.iron.unseal(&again).unwrap(), json);
            }
        }
        1 => {
            let seal = iron_seal_with(&f.passwords, &text, 1, &[7; 80]).unwrap();
            assert_eq!(f.iron.unseal(&seal).unwrap(), text);
            read(f, &f.h3, &[format!("h3={seal}").as_bytes()]);
            let numbered = iron_seal_with(&f.numbered, &text, 1, &[7; 80]).unwrap();
            read(f, &f.iron_session, &[format!("iron={numbered}~2").as_bytes()]);
        }
        _ => {
            let headers: Vec<&[u8]> = rest.split(|&b| b == 0xff).collect();
            read(f, &f.h3, &headers);
            read(f, &f.iron_session, &headers);
        }
    }
});
