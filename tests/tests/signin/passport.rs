//! Live interop with express + passport 0.7 + connect-flash on connect-redis
//! (tests/node/passport-app.js): the same sign-ins and flash messages on both sides of
//! one Redis, both ways.

use std::sync::Arc;

use serde_json::json;
use session_core::store::SessionStore;
use session_store_redis::RedisStore;
use session_tests::Client;
use session_tests::node::NodeApp;
use session_tests::redis::RedisServer;

use crate::SECRET;
use crate::app::{Accounts, serve};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passport_and_connect_flash_share_sign_ins_and_messages_with_rust() {
    let redis = RedisServer::start();
    let node = NodeApp::start_passport(&redis.url(), SECRET);
    let store = RedisStore::connect(&redis.url()).await.unwrap();
    let accounts = Accounts::default();
    accounts.set("ann", "hash-a");
    accounts.set("bob", "hash-b");
    let (rust, _server) = serve(Arc::new(store.clone()), accounts).await;

    // Signed in by passport, recognised by Rust (and given an auth version), and
    // still by passport after Rust wrote the session back.
    let mut express = Client::new(node.addr);
    assert_eq!(express.post("/login?user=ann").await.json()["user"], "ann");
    let mut same = express.clone();
    same.addr = rust;
    assert_eq!(
        same.get("/me").await.body,
        "ann",
        "passport's sign-in, seen by Rust"
    );
    assert_eq!(
        store.sessions_of("ann").await.unwrap().len(),
        1,
        "indexed once Rust used it"
    );
    same.post("/cart?item=book").await;
    express.jar = same.jar.clone();
    assert_eq!(
        express.get("/me").await.json()["user"],
        "ann",
        "passport reads it back"
    );

    // Signed in by Rust, recognised by passport.
    let mut rust_first = Client::new(rust);
    rust_first.post("/login?user=bob").await;
    let mut on_express = rust_first.clone();
    on_express.addr = node.addr;
    assert_eq!(on_express.get("/me").await.json()["user"], "bob");

    // Flash messages set on one side are shown once on the other.
    on_express
        .post("/flash?type=info&text=from%20express")
        .await;
    rust_first.jar = on_express.jar.clone();
    assert_eq!(
        rust_first.get("/flashes").await.json(),
        json!([{ "level": "info", "text": "from express" }])
    );
    assert_eq!(rust_first.get("/flashes").await.json(), json!([]));
    rust_first.post("/flash?level=error&text=from%20rust").await;
    on_express.jar = rust_first.jar.clone();
    assert_eq!(
        on_express.get("/flashes").await.json(),
        json!({ "error": ["from rust"] })
    );
    rust_first.jar = on_express.jar.clone();
    assert_eq!(
        rust_first.get("/flashes").await.json(),
        json!([]),
        "shown once"
    );

    // passport's logout signs the user out for Rust too.
    on_express.post("/logout").await;
    rust_first.jar = on_express.jar.clone();
    assert_eq!(rust_first.get("/me").await.status, 401);
}
