//! The races the building blocks must win: a flash read racing writes, and "sign out
//! everywhere" racing the other sessions' requests (writes, id rotations).

use std::collections::BTreeSet;

use serde_json::Value;
use session_tests::Client;

use crate::app::{Accounts, serve};
use crate::{id_of, stores};

const WRITERS: usize = 24;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flash_read_racing_writes_loses_and_repeats_nothing() {
    for (name, store) in stores().await {
        let (addr, _server) = serve(store.clone(), Accounts::default()).await;
        let mut c = Client::new(addr);
        c.post("/flash?text=first").await;
        let mut tasks = Vec::new();
        for i in 0..WRITERS {
            let (writer, reader) = (c.clone(), c.clone());
            tasks.push(tokio::spawn(async move {
                let r = writer
                    .send_with(
                        "POST",
                        &format!("/flash?text=m{i}"),
                        writer.cookie_header().as_deref(),
                    )
                    .await;
                assert_eq!(r.status, 200, "{}", r.body);
                Vec::new()
            }));
            tasks.push(tokio::spawn(async move {
                let r = reader
                    .send_with("GET", "/flashes", reader.cookie_header().as_deref())
                    .await;
                assert_eq!(r.status, 200, "{}", r.body);
                texts(&r.json())
            }));
        }
        let mut seen = Vec::new();
        for t in tasks {
            seen.extend(t.await.unwrap());
        }
        seen.extend(texts(&c.get("/flashes").await.json()));
        let unique: BTreeSet<_> = seen.iter().cloned().collect();
        assert_eq!(
            unique.len(),
            seen.len(),
            "{name}: a message shown twice: {seen:?}"
        );
        let mut want: BTreeSet<String> = (0..WRITERS).map(|i| format!("m{i}")).collect();
        want.insert("first".to_owned());
        assert_eq!(unique, want, "{name}: every message shown exactly once");
    }
}

fn texts(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect()
}

const OTHERS: usize = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_everywhere_racing_the_other_sessions_leaves_none() {
    for (name, store) in stores().await {
        let accounts = Accounts::default();
        accounts.set("eve", "hash");
        let (addr, _server) = serve(store.clone(), accounts).await;
        let mut me = Client::new(addr);
        me.post("/login?user=eve").await;
        let mut others = Vec::new();
        for _ in 0..OTHERS {
            let mut c = Client::new(addr);
            c.post("/login?user=eve").await;
            others.push(c);
        }
        // Each other session keeps writing and moving to new ids while this one
        // signs out everywhere.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut busy = Vec::new();
        for (n, mut c) in others.into_iter().enumerate() {
            let stop = stop.clone();
            busy.push(tokio::spawn(async move {
                let mut round = 0;
                while !stop.load(std::sync::atomic::Ordering::SeqCst) || round < 3 {
                    let path = if (round + n) % 3 == 0 {
                        "/rotate"
                    } else {
                        "/cart?item=x"
                    };
                    let _ = c.post(path).await;
                    round += 1;
                }
                c
            }));
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let ended: usize = me.post("/logout-others").await.body.parse().unwrap();
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        assert!(ended >= OTHERS, "{name}: ended {ended}");
        for task in busy {
            let mut c = task.await.unwrap();
            // Whatever cookie the racing requests left it with, it signs nobody in.
            let r = c.get("/me").await;
            assert_eq!(
                r.status, 401,
                "{name}: a session survived sign-out-everywhere"
            );
        }
        assert_eq!(me.get("/me").await.body, "eve", "{name}: this one stays");
        assert_eq!(
            store.sessions_of("eve").await.unwrap(),
            vec![id_of(&me)],
            "{name}: only this session is left"
        );
    }
}

/// The ordering that let a session escape before `cycle_id` checked its old id: a
/// request loads a signed-in session, "sign out everywhere" runs to the end, then the
/// request moves the session to a new id. The move must fail, leaving nothing.
#[tokio::test]
async fn a_session_moving_to_a_new_id_after_sign_out_everywhere_does_not_escape() {
    let mut all = stores().await;
    // A store whose touch answers without looking (touch disabled) must not blind the
    // check.
    let server = session_tests::redis::shared();
    let no_touch = session_store_redis::RedisStore::builder()
        .prefix(session_tests::redis::unique_prefix())
        .disable_touch(true)
        .connect(&server.url())
        .await
        .unwrap();
    all.push(("redis, touch disabled", std::sync::Arc::new(no_touch)));
    let pg = session_tests::postgres::shared();
    let no_touch = session_store_postgres::PostgresStore::builder()
        .table(session_tests::postgres::unique_table())
        .create_table_if_missing(true)
        .disable_touch(true)
        .pool_size(2)
        .connect(&pg.url())
        .await
        .unwrap();
    all.push(("postgres, touch disabled", std::sync::Arc::new(no_touch)));
    for (name, store) in all {
        let config = session_tests::config_with(crate::SECRET, std::time::Duration::from_secs(600))
            .build()
            .unwrap();
        let manager = session_core::adapter::SessionManager::new(config, store.clone());
        let first = manager.start([], false);
        first
            .log_in("frank", b"hash", session_core::auth::Carry::DropData)
            .await
            .unwrap();
        first.finish().await.unwrap();
        let id = first.id().await.unwrap().unwrap();

        let cookie = crate::cookie_for(&id);
        let racing = manager.start([cookie.as_bytes()], false);
        assert_eq!(
            racing.user().await.unwrap().as_deref(),
            Some("frank"),
            "{name}"
        );
        let ended = session_core::auth::destroy_all(&*store, "frank", None)
            .await
            .unwrap();
        assert_eq!(ended, 1, "{name}");
        let moved = racing.cycle_id().await;
        assert!(
            matches!(moved, Err(session_core::Error::Gone)),
            "{name}: {moved:?}"
        );
        assert!(
            store.sessions_of("frank").await.unwrap().is_empty(),
            "{name}: the session escaped sign-out-everywhere under a new id"
        );
        let finished = racing.finish().await.unwrap();
        assert!(
            finished.set_cookie.is_none_or(|c| c.contains("1970")),
            "{name}: no live cookie for the ended session"
        );
    }
}
