//! Each way of failing to reach Redis is its own `RedisStoreError` variant, and its
//! message names the cause without the password: refused credentials, none given, a
//! server that accepts and never answers (TLS failures are in `tls.rs`); and a store
//! refused its password recovers once the server takes it.

use std::time::Duration;

use session_core::conformance::cases::new_id;
use session_core::store::SessionStore;
use session_store_redis::{RedisStore, RedisStoreError};
use session_tests::redis::{RedisServer, unique_prefix};

const PASSWORD: &str = "hunter2-never-logged";

fn no_password(err: &RedisStoreError) {
    let mut text = format!("{err} {err:?}");
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        text.push_str(&format!(" {s} {s:?}"));
        source = s.source();
    }
    assert!(!text.contains(PASSWORD), "the password leaked: {text}");
}

#[tokio::test]
async fn refused_or_missing_credentials_are_auth_errors() {
    let server = RedisServer::start_with(&["--save", "", "--requirepass", "the-right-one"]);
    let wrong = format!("redis://:{PASSWORD}@127.0.0.1:{}/", server.port);
    let err = RedisStore::connect(&wrong).await.unwrap_err();
    assert!(matches!(err, RedisStoreError::Auth { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "Redis refused the credentials (authentication failed)"
    );
    no_password(&err);

    let err = RedisStore::connect(&format!("redis://127.0.0.1:{}/", server.port))
        .await
        .unwrap_err();
    assert!(matches!(err, RedisStoreError::Auth { .. }), "{err:?}");
    assert!(err.to_string().contains("NOAUTH"), "{err}");

    let right = format!("redis://:the-right-one@127.0.0.1:{}/", server.port);
    RedisStore::connect(&right)
        .await
        .expect("the right password");
}

#[tokio::test]
async fn a_server_that_never_answers_is_a_timeout() {
    // Accepts connections (the kernel's backlog) and never reads or writes.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("redis://127.0.0.1:{}/", silent.local_addr().unwrap().port());
    let deadline = Duration::from_millis(200);
    let err = RedisStore::builder()
        .command_timeout(deadline)
        .connect(&url)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RedisStoreError::Timeout(d) if d == deadline),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "Redis did not answer within 200ms");
}

#[tokio::test]
async fn a_store_recovers_once_the_server_takes_its_password() {
    // The redis crate's connection manager reconnects only after I/O errors: a refused
    // password must not leave the store refused after the server is fixed.
    let server = RedisServer::start_with(&["--save", "", "--requirepass", "the-old-one"]);
    let store = RedisStore::builder()
        .prefix(unique_prefix())
        .lazy(&format!("redis://:{PASSWORD}@127.0.0.1:{}/", server.port))
        .unwrap();
    let id = new_id();
    for _ in 0..3 {
        let err = store.load(&id).await.unwrap_err();
        let auth = std::error::Error::source(&err)
            .and_then(|s| s.downcast_ref::<RedisStoreError>())
            .is_some_and(|e| matches!(e, RedisStoreError::Auth { .. }));
        assert!(auth, "{err:?}");
    }
    set_password(server.port, "the-old-one", PASSWORD);
    assert!(
        store.load(&id).await.unwrap().is_none(),
        "the store recovered"
    );
}

/// `CONFIG SET requirepass` over one authenticated connection.
fn set_password(port: u16, old: &str, new: &str) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let cmd = |args: &[&str]| {
        let mut req = format!("*{}\r\n", args.len());
        for a in args {
            req.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
        req
    };
    s.write_all(cmd(&["AUTH", old]).as_bytes()).unwrap();
    s.write_all(cmd(&["CONFIG", "SET", "requirepass", new]).as_bytes())
        .unwrap();
    let mut buf = [0u8; 64];
    let mut got = String::new();
    while got.matches("+OK").count() < 2 {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "closed: {got}");
        got.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
}
