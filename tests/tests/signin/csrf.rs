//! `CsrfLayer` through a real server: safe methods pass, unsafe ones need the
//! session's token in the header or the urlencoded form, exemptions, a clear 403.

use session_core::csrf::CSRF_HEADER;
use session_tests::{Client, Reply};

use crate::app::{Accounts, serve};
use crate::stores;

#[tokio::test]
async fn unsafe_requests_need_the_sessions_token() {
    for (name, store) in stores().await {
        let (addr, _server) = serve(store.clone(), Accounts::default()).await;
        let mut c = Client::new(addr);

        // Safe methods are not checked; every other method is.
        assert_eq!(c.get("/guarded").await.status, 200, "{name}");
        assert_eq!(c.send("HEAD", "/guarded").await.status, 200, "{name}");
        assert_eq!(c.send("PATCH", "/guarded").await.status, 403, "{name}");
        // No token, no session: refused, and nothing is stored for this visitor.
        let before = store.len().await.unwrap();
        let r = c.post("/guarded").await;
        assert_eq!(store.len().await.unwrap(), before, "{name}: nothing stored");
        assert_eq!(r.status, 403, "{name}");
        assert!(r.body.contains("CSRF token"), "a clear message: {}", r.body);
        assert!(
            r.set_cookie("connect.sid").is_none(),
            "{name}: no session for a refusal"
        );

        let token = c.get("/token").await.body;
        assert_eq!(token.len(), 43, "{name}: 32 random bytes, base64url");
        assert_eq!(
            c.get("/token").await.body,
            token,
            "{name}: stable for the session"
        );

        // The header, for scripts.
        let mut with_header = c.clone();
        with_header
            .extra
            .push((CSRF_HEADER.to_owned(), token.clone()));
        for method in ["POST", "PUT", "DELETE"] {
            let r = with_header.send(method, "/guarded").await;
            assert_eq!(r.status, 200, "{name} {method}: {}", r.body);
        }
        let mut wrong = c.clone();
        wrong
            .extra
            .push((CSRF_HEADER.to_owned(), format!("{}x", &token[1..])));
        assert_eq!(
            wrong.post("/guarded").await.status,
            403,
            "{name}: a wrong token"
        );

        // The form field, for HTML forms; the handler gets the body as sent.
        let form = format!("_csrf={token}&note=caf%C3%A9");
        let r = post_form(&c, &form).await;
        assert_eq!(r.status, 200, "{name}: {}", r.body);
        assert_eq!(
            r.body,
            format!("ok {form}"),
            "{name}: the body is handed on unchanged"
        );
        let r = post_form(&c, "_csrf=nope").await;
        assert_eq!(r.status, 403, "{name}");
        // A header, when present, is the token checked: a wrong one is not rescued by
        // a right form field.
        let r = post_form(&wrong, &form).await;
        assert_eq!(r.status, 403, "{name}: the header decides");
        // A multipart form is not read: its field does not count.
        let multipart = format!(
            "--b\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{token}\r\n--b--\r\n"
        );
        let r = c
            .send_body(
                "POST",
                "/guarded",
                "multipart/form-data; boundary=b",
                &multipart,
            )
            .await;
        assert_eq!(r.status, 403, "{name}: multipart needs the header");
        // Only a urlencoded form is read; a JSON body needs the header.
        let r = c
            .send_body(
                "POST",
                "/guarded",
                "application/json",
                &format!(r#"{{"_csrf":"{token}"}}"#),
            )
            .await;
        assert_eq!(r.status, 403, "{name}");

        // Another session's token is worthless here.
        let mut other = Client::new(addr);
        let others = other.get("/token").await.body;
        let mut mixed = c.clone();
        mixed.extra.push((CSRF_HEADER.to_owned(), others));
        assert_eq!(mixed.post("/guarded").await.status, 403, "{name}");

        // Exempt routes are not checked.
        assert_eq!(
            Client::new(addr).post("/webhooks/in").await.status,
            200,
            "{name}"
        );

        // Signing in replaces the token: one seen before is refused after.
        c.post("/login?user=ann").await;
        let mut stale = c.clone();
        stale.extra.push((CSRF_HEADER.to_owned(), token.clone()));
        assert_eq!(
            stale.post("/guarded").await.status,
            403,
            "{name}: token rotated"
        );
        let fresh = c.get("/token").await.body;
        assert_ne!(fresh, token);
        c.extra.push((CSRF_HEADER.to_owned(), fresh));
        assert_eq!(c.post("/guarded").await.status, 200, "{name}");
    }
}

#[tokio::test]
async fn a_form_larger_than_the_limit_is_413_not_read_whole() {
    let (addr, _server) = serve(
        std::sync::Arc::new(session_store_memory::MemoryStore::new()),
        Accounts::default(),
    )
    .await;
    let mut c = Client::new(addr);
    let token = c.get("/token").await.body;
    let big = format!("_csrf={token}&pad={}", "a".repeat(70 * 1024));
    let r = post_form(&c, &big).await;
    assert_eq!(r.status, 413);
}

/// A urlencoded form posted to the guarded route.
async fn post_form(c: &Client, form: &str) -> Reply {
    c.send_body(
        "POST",
        "/guarded",
        "application/x-www-form-urlencoded",
        form,
    )
    .await
}
