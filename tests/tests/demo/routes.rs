//! The demo on the memory store (what the README's first command starts): every route
//! over real HTTP, and secret rotation. The process is stopped by PID on drop.

use session_tests::Client;
use session_tests::demo::Demo;

/// The `name=value` part of the session cookie a reply sets.
fn session_cookie(reply: &session_tests::Reply) -> Option<String> {
    reply
        .set_cookie("connect.sid")
        .map(|c| c.split(';').next().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn the_demo_serves_every_route() {
    let demo = Demo::start(&[("SESSION_SECRET", "new secret,old secret")]);
    assert_eq!(demo.store, "memory store");
    let c = Client::new(demo.addr);
    let first = c.send_with("GET", "/", None).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.body, r#"{"views":1}"#);
    let cookie = session_cookie(&first).expect("a cookie");
    assert!(cookie.starts_with("connect.sid=s%3A"));
    let again = c.send_with("GET", "/", Some(&cookie)).await;
    assert_eq!(again.body, r#"{"views":2}"#);
    let read = c.send_with("GET", "/session", Some(&cookie)).await;
    assert!(session_cookie(&read).is_none(), "GET /session is read-only");

    let login = c.send_with("POST", "/login?user=ada", Some(&cookie)).await;
    assert_eq!(login.body, r#"{"user":"ada"}"#);
    let login = session_cookie(&login).expect("login re-issues the cookie");
    assert_ne!(login, cookie);
    let old = c.send_with("GET", "/session", Some(&cookie)).await;
    assert_eq!(old.body, "{}", "the pre-login cookie no longer works");

    let set = c
        .send_with("POST", "/set?theme=dark&lang=fr%20CA", Some(&login))
        .await;
    assert_eq!(set.body, r#"{"user":"ada","theme":"dark","lang":"fr CA"}"#);
    let read = c.send_with("GET", "/session", Some(&login)).await;
    assert_eq!(read.body, r#"{"user":"ada","theme":"dark","lang":"fr CA"}"#);

    for n in 1..=3 {
        let r = c.send_with("POST", "/incr", Some(&login)).await;
        assert_eq!(r.body, format!("{{\"counter\":{n}}}"));
    }

    let logout = c.send_with("POST", "/logout", Some(&login)).await;
    assert_eq!(logout.body, "{}");
    assert_eq!(session_cookie(&logout).as_deref(), Some("connect.sid="));
    let gone = c.send_with("GET", "/session", Some(&login)).await;
    assert_eq!(gone.body, "{}");
    assert_eq!(c.send_with("GET", "/nope", None).await.status, 404);
}

#[tokio::test]
async fn the_demo_runs_without_a_secret_and_secrets_rotate() {
    let dev = Demo::start(&[]);
    let first = Client::new(dev.addr).send_with("GET", "/", None).await;
    assert!(session_cookie(&first).is_some());

    // A cookie from a server whose only secret was "old secret" still works on a demo
    // configured with "new secret,old secret" (no store sharing: only the signature is
    // checked, so the session is new but the cookie is accepted and re-signed).
    let old = Demo::start(&[("SESSION_SECRET", "old secret")]);
    let old_cookie =
        session_cookie(&Client::new(old.addr).send_with("GET", "/", None).await).expect("a cookie");
    let new = Demo::start(&[("SESSION_SECRET", "new secret,old secret")]);
    let r = Client::new(new.addr)
        .send_with("GET", "/session", Some(&old_cookie))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, "{}");
}
