//! Each way of failing to reach Redis is its own `RedisStoreError` variant, and its
//! message names the cause without the password: refused credentials, none given, a
//! server that accepts and never answers (TLS failures are in `tls.rs`).

use std::time::Duration;

use session_store_redis::{RedisStore, RedisStoreError};
use session_tests::redis::RedisServer;

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
