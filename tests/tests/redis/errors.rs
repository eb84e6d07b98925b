//! Each way of failing to reach Redis is its own `RedisStoreError` variant, and its
//! message names the cause without the password: refused credentials, none given, a
//! server that accepts and never answers (TLS failures are in `tls.rs`); and a store
//! refused its password recovers once the server takes it.

use std::time::Duration;

use session_core::conformance::cases::new_id;
use session_core::store::SessionStore;
use session_store_redis::{RedisStore, RedisStoreError};
use session_tests::redis::{RedisServer, commands, unique_prefix};

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
    // password must not leave the store refused after the server is fixed, nor make
    // every request open a connection meanwhile.
    let server = RedisServer::start_with(&["--save", "", "--requirepass", "the-old-one"]);
    let store = RedisStore::builder()
        .prefix(unique_prefix())
        .lazy(&format!("redis://:{PASSWORD}@127.0.0.1:{}/", server.port))
        .unwrap();
    let id = new_id();
    let before = connections_received(&server);
    for _ in 0..50 {
        let err = store.load(&id).await.unwrap_err();
        let auth = std::error::Error::source(&err)
            .and_then(|s| s.downcast_ref::<RedisStoreError>())
            .is_some_and(|e| matches!(e, RedisStoreError::Auth { .. }));
        assert!(auth, "{err:?}");
    }
    let attempts = connections_received(&server) - before - 1; // minus the INFO's own
    assert!(
        attempts <= 10,
        "50 refused loads opened {attempts} connections"
    );
    set_password(server.port, "the-old-one", PASSWORD);
    let start = std::time::Instant::now();
    loop {
        match store.load(&id).await {
            Ok(loaded) => break assert!(loaded.is_none()),
            Err(e) => assert!(
                start.elapsed() < Duration::from_secs(10),
                "the store did not recover: {e:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `total_connections_received` (`INFO stats`), asked over an authenticated connection.
fn connections_received(server: &RedisServer) -> u64 {
    let reply = commands(server.port, &[&["AUTH", "the-old-one"], &["INFO", "stats"]]).unwrap();
    reply
        .lines()
        .find_map(|l| l.strip_prefix("total_connections_received:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no connection count in {reply}"))
}

/// `CONFIG SET requirepass` over one authenticated connection.
fn set_password(port: u16, old: &str, new: &str) {
    let reply = commands(
        port,
        &[&["AUTH", old], &["CONFIG", "SET", "requirepass", new]],
    )
    .unwrap();
    assert_eq!(reply.matches("+OK").count(), 2, "{reply}");
}
