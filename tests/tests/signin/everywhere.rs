//! "Sign out everywhere" and the auth version with sessions in several processes: two
//! demo processes on one Redis or one PostgreSQL, and the demo beside this process's
//! own app on one Redis.

use std::net::SocketAddr;
use std::sync::Arc;

use session_tests::Client;
use session_tests::demo::Demo;
use session_tests::postgres::PgServer;
use session_tests::redis::RedisServer;

use crate::SECRET;
use crate::app::{Accounts, serve};

/// The demo's auth value for every user (examples/demo/page.rs).
const DEMO_AUTH_VALUE: &str = "demo: anyone may sign in by name";

/// The CSRF token in the demo page's forms.
fn token(page: &str) -> String {
    let at = page
        .find(r#"name="_csrf" value=""#)
        .expect("a CSRF field in the page");
    let rest = &page[at + r#"name="_csrf" value=""#.len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

/// Posts one of the demo page's forms, with the page's token.
async fn submit(c: &mut Client, path: &str, fields: &str) -> session_tests::Reply {
    let page = c.get("/app").await.body;
    let body = format!("_csrf={}&{fields}", token(&page));
    let r = c
        .send_body("POST", path, "application/x-www-form-urlencoded", &body)
        .await;
    // Keep the cookies the answer set, as a browser would.
    for sc in r.set_cookies() {
        let (name, value) = sc.split(';').next().unwrap().split_once('=').unwrap();
        c.jar.insert(name.to_owned(), value.to_owned());
    }
    r
}

async fn sign_in(demo: SocketAddr, user: &str) -> Client {
    let mut c = Client::new(demo);
    let r = submit(&mut c, "/app/login", &format!("user={user}")).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = c.get("/app").await.body;
    assert!(
        page.contains(&format!("Welcome, {user}!")),
        "the flash after sign-in: {page}"
    );
    assert!(page.contains(&format!("Signed in as <strong id=\"user-name\">{user}")));
    c
}

async fn two_demos_sign_out_everywhere(env: &[(&str, &str)]) {
    let demos = [Demo::start(env), Demo::start(env)];
    let (a, b) = (demos[0].addr, demos[1].addr);
    let mut here = sign_in(a, "carol").await;
    let mut elsewhere = vec![sign_in(b, "carol").await, sign_in(b, "carol").await];
    let mut bystander = sign_in(a, "dan").await;
    assert!(
        here.get("/app")
            .await
            .body
            .contains(r#"<span id="session-count">3</span>"#)
    );

    // Without the page's token the button does nothing.
    let r = here.post("/app/logout-everywhere").await;
    assert_eq!(r.status, 403, "CSRF: {}", r.body);

    let r = submit(&mut here, "/app/logout-everywhere", "").await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = here.get("/app").await.body;
    assert!(page.contains("Signed out of 2 other session(s)."), "{page}");
    assert!(
        page.contains(r#"<span id="session-count">1</span>"#),
        "{page}"
    );
    for c in &mut elsewhere {
        let page = c.get("/app").await.body;
        assert!(
            page.contains("Not signed in"),
            "a session in the other process survived: {page}"
        );
    }
    assert!(
        bystander.get("/app").await.body.contains("Signed in as"),
        "another user's session stays"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_everywhere_across_two_demo_processes_on_redis() {
    let redis = RedisServer::start();
    let url = redis.url();
    two_demos_sign_out_everywhere(&[("SESSION_SECRET", SECRET), ("REDIS_URL", &url)]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_everywhere_across_two_demo_processes_on_postgres() {
    let pg = PgServer::start();
    let url = pg.url();
    two_demos_sign_out_everywhere(&[("SESSION_SECRET", SECRET), ("DATABASE_URL", &url)]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auth_version_made_in_one_process_is_checked_in_another() {
    let redis = RedisServer::start();
    let url = redis.url();
    let demo = Demo::start(&[("SESSION_SECRET", SECRET), ("REDIS_URL", &url)]);
    let mut browser = sign_in(demo.addr, "dave").await;

    // This process's app on the same Redis, with the same secret.
    let store = session_store_redis::RedisStore::connect(&url)
        .await
        .unwrap();
    let accounts = Accounts::default();
    accounts.set("dave", DEMO_AUTH_VALUE);
    let (app, _server) = serve(Arc::new(store), accounts.clone()).await;
    let cookie = browser.cookie_header();
    let here = Client::new(app);
    let r = here.send_with("GET", "/me", cookie.as_deref()).await;
    assert_eq!(r.body, "dave", "the demo's sign-in, checked here");

    // dave's password changes (as this app sees it): his session ends on its next
    // request, here, and the demo sees it gone.
    accounts.set("dave", "a new password hash");
    let r = here.send_with("GET", "/me", cookie.as_deref()).await;
    assert_eq!(r.status, 401);
    assert!(browser.get("/app").await.body.contains("Not signed in"));
}
