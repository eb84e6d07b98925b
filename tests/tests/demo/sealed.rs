//! `SESSION_MODE=h3-sealed`: the demo keeps each session in a sealed `h3` cookie, as h3's
//! `useSession` does, and shares it with a live h3 1.x app holding the same password
//! (tests/node/sealed-app.mjs).

use serde_json::json;
use session_core::sealed::{Iron, Passwords};
use session_tests::Client;
use session_tests::demo::Demo;
use session_tests::node::NodeApp;

const PASSWORD: &str = "the demo sealing password: 32 characters or more";
const OLD: &str = "a retired sealing password (still 32 characters long)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_seals_sessions_into_h3_cookies_an_h3_app_shares() {
    let demo = Demo::start(&[
        ("SESSION_MODE", "h3-sealed"),
        ("SESSION_SECRET", &format!("{PASSWORD},{OLD}")),
    ]);
    assert_eq!(demo.store, "h3 sealed cookies, no store");
    let mut c = Client::new(demo.addr);
    assert_eq!(c.get("/").await.body, r#"{"views":1}"#);
    let seal = c.jar.get("h3").expect("an h3 cookie").clone();
    let iron = Iron::new(Passwords::new([PASSWORD]).unwrap());
    let sealed: serde_json::Value = serde_json::from_str(&iron.unseal(&seal).unwrap()).unwrap();
    assert_eq!(sealed["data"], json!({"views": 1}));
    assert_eq!(c.get("/").await.body, r#"{"views":2}"#);
    assert_eq!(c.post("/login?user=ada").await.body, r#"{"user":"ada"}"#);
    assert_eq!(c.post("/incr").await.body, r#"{"counter":1}"#);
    assert_eq!(c.post("/set?theme=dark").await.status, 200);
    assert_eq!(
        c.get("/session").await.json(),
        json!({"user": "ada", "counter": 1, "theme": "dark"})
    );

    // The h3 app with the same password reads the demo's session and writes to it.
    let h3 = NodeApp::start_sealed("h3", &json!(PASSWORD).to_string(), None);
    c.addr = h3.addr;
    assert_eq!(c.get("/session").await.json()["data"]["user"], "ada");
    c.post("/set?from=h3").await;
    c.addr = demo.addr;
    assert_eq!(c.get("/session").await.json()["from"], "h3");
    // An h3 app still on the retired password: the demo reads its cookies too.
    let old = NodeApp::start_sealed("h3", &json!(OLD).to_string(), None);
    let mut o = Client::new(old.addr);
    o.post("/set?user=grace").await;
    o.addr = demo.addr;
    assert_eq!(o.get("/session").await.json()["user"], "grace");

    assert_eq!(c.post("/logout").await.body, "{}");
    assert!(!c.jar.contains_key("h3"));
    assert_eq!(c.get("/health").await.body, r#"{"ok":true}"#);
}

#[tokio::test]
async fn the_demo_refuses_short_passwords_and_unknown_modes() {
    for env in [
        [
            ("SESSION_MODE", "h3-sealed"),
            ("SESSION_SECRET", "too short"),
        ],
        [("SESSION_MODE", "cookie"), ("SESSION_SECRET", PASSWORD)],
    ] {
        let out = std::process::Command::new(session_tests::demo::binary())
            .envs(env)
            .env("PORT", "0")
            .env_remove("REDIS_URL")
            .env_remove("DATABASE_URL")
            .output()
            .unwrap();
        assert!(!out.status.success(), "{env:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("32 characters") || err.contains("SESSION_MODE"),
            "{err}"
        );
    }
}
