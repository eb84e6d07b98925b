//! The session lifecycle through the real adapter: a real hyper server on 127.0.0.1:0,
//! a real HTTP client, a real store. The suite is a macro so that every store runs the
//! same cases (`lifecycle_tests!(name, factory)`); the memory store and
//! the Redis store (plain and over TLS) and the Postgres store run it here.

use session_store_memory::MemoryStore;

#[macro_export]
macro_rules! lifecycle_tests {
    ($name:ident, $factory:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            use std::time::Duration;

            use session_core::{CookieOptions, Secrets, Secure, SessionConfig, SessionConfigBuilder, Unset};
            use session_hyper::SessionLayer;
            use session_tests::{TestStore, Op, TestServer};

            fn config() -> SessionConfigBuilder {
                SessionConfig::builder(Secrets::new(["keyboard cat"]).unwrap()).cookie(CookieOptions {
                    max_age: Some(Duration::from_secs(60)),
                    ..CookieOptions::default()
                })
            }

            async fn serve(config: SessionConfigBuilder) -> (TestServer, TestStore<impl session_core::store::SessionStore + Clone>) {
                let store = TestStore::new($factory.await);
                let server = TestServer::start(SessionLayer::new(config.build().unwrap(), store.clone())).await;
                (server, store)
            }

            fn sid(set_cookie: &str) -> String {
                let value = set_cookie.split(';').next().unwrap().split_once('=').unwrap().1;
                value.trim_start_matches("s%3A").split('.').next().unwrap().to_owned()
            }

            fn attrs(set_cookie: &str) -> Vec<String> {
                let mut v: Vec<String> = set_cookie
                    .split("; ")
                    .skip(1)
                    .map(|a| a.split('=').next().unwrap().to_owned())
                    .collect();
                v.sort();
                v
            }

            #[tokio::test]
            async fn counter_over_many_requests_keeps_one_session() {
                let (server, _) = serve(config()).await;
                let mut c = server.client();
                let first = c.get("/").await;
                assert_eq!(first.json()["views"], 1);
                let id = sid(&first.set_cookie("connect.sid").expect("a new session sets a cookie"));
                for n in 2..=30 {
                    let r = c.get("/").await;
                    assert_eq!(r.status, 200);
                    assert_eq!(r.json()["views"], n);
                    // maxAge cookie + modified data: re-sent each time, same id.
                    assert_eq!(sid(&r.set_cookie("connect.sid").unwrap()), id);
                }
            }

            #[tokio::test]
            async fn login_regenerates_the_id_and_the_old_cookie_stops_working() {
                let (server, _) = serve(config()).await;
                let mut c = server.client();
                c.get("/").await;
                let old = c.cookie_header().unwrap();
                let login = c.post("/login?user=ada").await;
                let new_cookie = login.set_cookie("connect.sid").expect("login sets a cookie");
                assert_ne!(sid(&new_cookie), sid(&old.replace("connect.sid=", "connect.sid=x; ")));
                assert_eq!(c.get("/read").await.json()["user"], "ada");
                // The pre-login cookie names a destroyed session: a fresh one, no user, 200.
                let stale = c.send_with("GET", "/read", Some(&old)).await;
                assert_eq!(stale.status, 200);
                assert_eq!(stale.json(), serde_json::json!({}));
            }

            #[tokio::test]
            async fn logout_sends_a_removal_cookie_with_the_same_attributes() {
                let cfg = config().cookie(CookieOptions {
                    max_age: Some(Duration::from_secs(60)),
                    path: "/".into(),
                    domain: Some("example.test".into()),
                    same_site: Some(session_core::SameSiteOption::Lax),
                    ..CookieOptions::default()
                });
                let (server, store) = serve(cfg).await;
                let mut c = server.client();
                let set = c.get("/").await.set_cookie("connect.sid").unwrap();
                let old = c.cookie_header().unwrap();
                let out = c.post("/logout").await;
                let removal = out.set_cookie("connect.sid").expect("logout sends a removal cookie");
                assert!(removal.starts_with("connect.sid=;"), "{removal}");
                assert!(removal.contains("Expires=Thu, 01 Jan 1970 00:00:00 GMT"), "{removal}");
                assert_eq!(attrs(&removal), attrs(&set), "same attributes: {removal} vs {set}");
                assert!(removal.contains("Domain=example.test") && removal.contains("Path=/"));
                assert!(c.jar.is_empty());
                assert_eq!(store.count(Op::Destroy), 1);
                let again = c.send_with("GET", "/", Some(&old)).await;
                assert_eq!(again.json()["views"], 1, "the destroyed session must not come back");
            }

            #[tokio::test]
            async fn bad_cookies_give_a_fresh_session_and_never_reach_the_store() {
                let (server, store) = serve(config()).await;
                let mut c = server.client();
                c.get("/").await;
                let good = c.jar["connect.sid"].clone();
                store.reset();
                let tampered = good.replacen("s%3A", "s%3AX", 1);
                let cases = [
                    format!("connect.sid={tampered}"),
                    "connect.sid=unsigned-value".to_owned(),
                    "connect.sid=s%3Aabc.BpxCrWRpvZMh%2Fwk%2Fdjl34N%2Bm%2BVQEU7K%2F5WenLwJCgFV".to_owned(),
                    format!("connect.sid={good}garbage"),
                    "connect.sid=%zz%; other=1".to_owned(),
                    "connect.sid".to_owned(),
                ];
                for cookie in &cases {
                    let r = c.send_with("GET", "/", Some(cookie)).await;
                    assert_eq!(r.status, 200, "{cookie}");
                    assert_eq!(r.json()["views"], 1, "{cookie}");
                }
                assert_eq!(store.count(Op::Load), 0, "a bad signature must never reach the store");
            }

            #[tokio::test]
            async fn unknown_id_gives_a_fresh_session_with_a_new_id() {
                let (server, store) = serve(config()).await;
                let c = server.client();
                // Validly signed by our secret, but never stored.
                let cookie = "connect.sid=s%3Aabc.BpxCrWRpvZMh%2Fwk%2Fdjl34N%2Bm%2BVQEU7K%2F5WenLwJCgFU";
                let r = c.send_with("GET", "/", Some(cookie)).await;
                assert_eq!(r.status, 200);
                assert_eq!(r.json()["views"], 1);
                assert_ne!(sid(&r.set_cookie("connect.sid").unwrap()), "abc");
                assert_eq!(store.count(Op::Load), 1);
            }

            #[tokio::test]
            async fn a_visitor_who_stores_nothing_gets_no_cookie_and_no_record() {
                let (server, store) = serve(config()).await;
                let mut c = server.client();
                for path in ["/none", "/read", "/id"] {
                    let r = c.get(path).await;
                    assert_eq!(r.status, 200);
                    assert!(r.set_cookies().is_empty(), "{path}: {:?}", r.set_cookies());
                }
                assert_eq!(store.total(), 0, "no store call for an uninitialized visitor");
            }

            #[tokio::test]
            async fn save_uninitialized_true_saves_and_cookies_an_empty_session() {
                let (server, store) = serve(config().save_uninitialized(true)).await;
                let mut c = server.client();
                let r = c.get("/none").await;
                assert!(r.set_cookie("connect.sid").is_some());
                assert_eq!(store.count(Op::Create), 1);
                assert_eq!(c.get("/read").await.json(), serde_json::json!({}));
            }

            #[tokio::test]
            async fn without_rolling_an_unmodified_session_gets_no_cookie() {
                let (server, _) = serve(config()).await;
                let mut c = server.client();
                c.get("/").await;
                assert!(c.get("/read").await.set_cookies().is_empty());
            }

            #[tokio::test]
            async fn rolling_resends_the_cookie_on_every_response() {
                let (server, _) = serve(config().rolling(true)).await;
                let mut c = server.client();
                c.get("/").await;
                for path in ["/read", "/none"] {
                    let r = c.get(path).await;
                    assert!(r.set_cookie("connect.sid").is_some(), "{path}");
                }
            }

            #[tokio::test]
            async fn an_untouched_request_with_a_cookie_costs_one_touch_and_no_load() {
                let (server, store) = serve(config()).await;
                let mut c = server.client();
                c.get("/").await;
                store.reset();
                let r = c.get("/none").await;
                assert!(r.set_cookies().is_empty());
                assert_eq!((store.count(Op::Load), store.count(Op::Touch), store.total()), (0, 1, 1));
            }

            #[tokio::test]
            async fn a_read_only_request_loads_once_and_writes_nothing() {
                let (server, store) = serve(config()).await;
                let mut c = server.client();
                c.get("/").await;
                store.reset();
                c.get("/read").await;
                assert_eq!(store.count(Op::Load), 1);
                assert_eq!(store.count(Op::Save) + store.count(Op::Create), 0);
            }

            #[tokio::test]
            async fn resave_writes_an_unmodified_session() {
                let (server, store) = serve(config().resave(true)).await;
                let mut c = server.client();
                c.get("/").await;
                store.reset();
                c.get("/read").await;
                assert_eq!(store.count(Op::Save), 1);
                assert_eq!(store.count(Op::Touch), 0);
            }

            #[tokio::test]
            async fn explicit_save_prevents_the_end_of_request_save() {
                let (server, store) = serve(config()).await;
                let mut c = server.client();
                c.get("/").await;
                store.reset();
                let r = c.post("/save?k=v").await;
                assert_eq!(r.json()["saved"], true);
                assert_eq!(store.count(Op::Save), 1, "exactly one write per request");
                assert_eq!(c.get("/read").await.json()["k"], "v");
            }

            #[tokio::test]
            async fn headers_tell_caches_about_the_cookie() {
                let (server, _) = serve(config()).await;
                let mut c = server.client();
                let r = c.get("/").await;
                assert_eq!(r.header("cache-control").as_deref(), Some("no-cache=\"Set-Cookie\""));
                assert_eq!(r.header("vary").as_deref(), Some("Cookie"));
                let r = c.get("/none").await;
                assert!(r.header("cache-control").is_none() && r.header("vary").is_none());
                let r = c.get("/read").await;
                assert_eq!(r.header("vary").as_deref(), Some("Cookie"));
                assert!(r.header("cache-control").is_none());
            }

            #[tokio::test]
            async fn set_cookie_carries_expires_like_express_and_never_max_age() {
                let (server, _) = serve(config()).await;
                let mut c = server.client();
                let sc = c.get("/").await.set_cookie("connect.sid").unwrap();
                assert!(sc.starts_with("connect.sid=s%3A"), "{sc}");
                assert_eq!(attrs(&sc), ["Expires", "HttpOnly", "Path"]);
            }

            #[tokio::test]
            async fn a_cookie_signed_by_a_retired_secret_works_and_is_reissued() {
                let store = $factory.await;
                let old = TestServer::start(SessionLayer::new(
                    SessionConfig::builder(Secrets::new(["old secret"]).unwrap()).build().unwrap(),
                    store.clone(),
                ))
                .await;
                let mut c = old.client();
                c.get("/").await;
                let old_cookie = c.jar["connect.sid"].clone();
                let rotated = TestServer::start(SessionLayer::new(
                    SessionConfig::builder(Secrets::new(["new secret", "old secret"]).unwrap()).build().unwrap(),
                    store.clone(),
                ))
                .await;
                let mut c2 = rotated.client();
                c2.jar = c.jar.clone();
                let r = c2.get("/read").await;
                assert_eq!(r.json()["views"], 1, "the old cookie still works");
                let reissued = r.set_cookie("connect.sid").expect("re-issued under the new secret");
                assert_ne!(c2.jar["connect.sid"], old_cookie);
                assert_eq!(sid(&reissued), sid(&format!("connect.sid={old_cookie}")), "same session id");
                // Only the new secret verifies the re-issued cookie.
                let new_only = TestServer::start(SessionLayer::new(
                    SessionConfig::builder(Secrets::new(["new secret"]).unwrap()).build().unwrap(),
                    store,
                ))
                .await;
                let mut c3 = new_only.client();
                c3.jar = c2.jar.clone();
                assert_eq!(c3.get("/read").await.json()["views"], 1);
            }

            #[tokio::test]
            async fn secure_cookies_are_not_set_over_plain_http_but_the_session_is_saved() {
                let cfg = config().cookie(CookieOptions { secure: Secure::Always, ..CookieOptions::default() });
                let (server, store) = serve(cfg).await;
                let mut c = server.client();
                let r = c.get("/").await;
                assert!(r.set_cookies().is_empty());
                assert_eq!(store.count(Op::Create), 1);
            }

            #[tokio::test]
            async fn secure_auto_trusts_x_forwarded_proto_only_with_trust_proxy() {
                let auto = || config().cookie(CookieOptions { secure: Secure::Auto, ..CookieOptions::default() });
                let (trusting, _) = serve(auto().trust_proxy(true)).await;
                let mut c = trusting.client();
                // The proxy appends its own entry: the client's "https" does not count.
                c.extra.push(("x-forwarded-proto".into(), "https, http".into()));
                let sc = c.get("/").await.set_cookie("connect.sid").unwrap();
                assert!(!sc.contains("Secure"), "{sc}");
                let mut c = trusting.client();
                c.extra.push(("x-forwarded-proto".into(), "http, https".into()));
                assert!(c.get("/").await.set_cookie("connect.sid").unwrap().contains("Secure"));
                let (untrusting, _) = serve(auto()).await;
                let mut c = untrusting.client();
                c.extra.push(("x-forwarded-proto".into(), "https".into()));
                let sc = c.get("/").await.set_cookie("connect.sid").unwrap();
                assert!(!sc.contains("Secure"), "{sc}");
            }

            #[tokio::test]
            async fn requests_outside_the_cookie_path_have_no_session() {
                let cfg = config().cookie(CookieOptions { path: "/app".into(), ..CookieOptions::default() });
                let (server, store) = serve(cfg).await;
                let mut c = server.client();
                assert_eq!(c.get("/").await.json(), serde_json::json!({"session": null}));
                assert_eq!(store.total(), 0);
            }

            #[tokio::test]
            async fn cycle_id_keeps_the_data_under_a_new_id() {
                let (server, _) = serve(config()).await;
                let mut c = server.client();
                c.post("/set?user=ada").await;
                let before = c.cookie_header().unwrap();
                let r = c.post("/cycle").await;
                let after = r.set_cookie("connect.sid").expect("a new cookie");
                assert_ne!(sid(&after), sid(&before));
                assert_eq!(c.get("/read").await.json()["user"], "ada");
                assert_eq!(c.send_with("GET", "/read", Some(&before)).await.json(), serde_json::json!({}));
            }

            #[tokio::test]
            async fn a_per_session_max_age_reaches_the_cookie() {
                let (server, _) = serve(config()).await;
                let mut c = server.client();
                // The configured maxAge is 60 s; this session asks for 10 days.
                let r = c.post("/max-age?ms=864000000").await;
                let sc = r.set_cookie("connect.sid").unwrap();
                let expires = sc.split("Expires=").nth(1).unwrap().split(';').next().unwrap();
                let day_of_month = |s: &str| s.split(' ').nth(1).unwrap().parse::<u32>().unwrap();
                let date = r.header("date").unwrap();
                assert_ne!(day_of_month(expires), day_of_month(&date), "expires {expires}, date {date}");
                assert_eq!(c.get("/read").await.json()["remember"], true);
            }

            #[tokio::test]
            async fn unset_keep_leaves_the_store_and_destroy_deletes() {
                let (server, store) = serve(config()).await;
                let mut c = server.client();
                c.get("/").await;
                let r = c.post("/unset").await;
                assert!(r.set_cookies().is_empty());
                assert_eq!(store.count(Op::Destroy), 0);
                assert_eq!(c.get("/read").await.json()["views"], 1);

                let (server, store) = serve(config().unset(Unset::Destroy)).await;
                let mut c = server.client();
                c.get("/").await;
                let old = c.cookie_header().unwrap();
                c.post("/unset").await;
                assert_eq!(store.count(Op::Destroy), 1);
                assert_eq!(c.send_with("GET", "/read", Some(&old)).await.json(), serde_json::json!({}));
            }

            #[tokio::test]
            async fn parallel_first_requests_get_independent_sessions() {
                let (server, _) = serve(config()).await;
                let mut tasks = Vec::new();
                for _ in 0..50 {
                    let mut c = server.client();
                    tasks.push(tokio::spawn(async move {
                        let r = c.get("/").await;
                        (r.status, sid(&r.set_cookie("connect.sid").unwrap()))
                    }));
                }
                let mut ids = std::collections::HashSet::new();
                for t in tasks {
                    let (status, id) = t.await.unwrap();
                    assert_eq!(status, 200);
                    ids.insert(id);
                }
                assert_eq!(ids.len(), 50);
            }
        }
    };
}

lifecycle_tests!(memory, async { MemoryStore::new() });
lifecycle_tests!(redis, session_tests::redis_store());
lifecycle_tests!(redis_tls, session_tests::redis_tls_store());
lifecycle_tests!(postgres, session_tests::postgres_store());
