//! The sealed-cookie mode behind the `Session` handle, through a real server: the
//! handler's API is the store mode's, the data lives in the cookie, no store is called.

use std::time::Duration;

use session_core::sealed::{Iron, Passwords, SealedConfig};
use session_core::wire::iron_seal_at;
use session_hyper::SessionLayer;
use session_tests::telemetry::{install_recorder, metrics};
use session_tests::{Client, TestServer};

use crate::{P1, P2, passwords};

async fn server(config: SealedConfig) -> TestServer {
    TestServer::start(SessionLayer::sealed(config)).await
}

fn h3(list: &[&str]) -> SealedConfig {
    SealedConfig::h3(passwords(list)).build().unwrap()
}

/// The cookie of a reply's `Set-Cookie` named `name`, with its attributes.
fn set_cookie(reply: &session_tests::Reply, name: &str) -> String {
    reply
        .set_cookie(name)
        .unwrap_or_else(|| panic!("no {name} cookie in {:?}", reply.set_cookies()))
}

fn unseal_h3(list: &[&str], cookie: &str) -> serde_json::Value {
    let value = cookie.split(';').next().unwrap().split_once('=').unwrap().1;
    serde_json::from_str(&Iron::new(passwords(list)).unseal(value).unwrap()).unwrap()
}

#[tokio::test]
async fn the_handler_api_works_on_a_sealed_cookie_without_a_store() {
    install_recorder();
    let before = store_calls();
    let invalid_before = counter("session_invalid_cookies_total");
    let server = server(h3(&[P1])).await;
    let mut c = server.client();
    // A request that never uses its session gets no cookie.
    let r = c.get("/none").await;
    assert!(r.set_cookies().is_empty(), "{:?}", r.set_cookies());
    // A new session gets its cookie when a handler uses it (h3's `useSession`), so
    // its id holds from one request to the next.
    let r = c.get("/id").await;
    let first_id = r.json()["id"].clone();
    assert_eq!(
        unseal_h3(&[P1], &set_cookie(&r, "h3"))["data"],
        serde_json::json!({})
    );
    assert_eq!(c.get("/id").await.json()["id"], first_id);
    // A write seals the session into the `h3` cookie, h3's default attributes.
    let r = c.get("/").await;
    let cookie = set_cookie(&r, "h3");
    assert!(cookie.starts_with("h3=Fe26.2**"), "{cookie}");
    let mut attrs: Vec<&str> = cookie.split("; ").skip(1).collect();
    attrs.sort_unstable();
    assert_eq!(attrs, ["HttpOnly", "Path=/", "Secure"], "{cookie}");
    let sealed = unseal_h3(&[P1], &cookie);
    assert_eq!(sealed["data"], serde_json::json!({"views": 1}));
    let id = sealed["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "a UUID as h3 gives: {id}");
    assert_eq!(id, first_id.as_str().unwrap());
    assert!(sealed["createdAt"].as_u64().unwrap() > 1_700_000_000_000);
    // Read back; a read-only request sets no cookie.
    assert_eq!(c.get("/").await.json()["views"], 2);
    let r = c.get("/read").await;
    assert_eq!(r.json()["views"], 2);
    assert!(r.set_cookies().is_empty());
    assert_eq!(c.get("/id").await.json()["id"], id.as_str());
    // update, save, cycle, regenerate, destroy: all without a store.
    assert_eq!(c.post("/incr").await.json()["counter"], 1);
    assert_eq!(c.post("/save?k=v").await.status, 200);
    assert_eq!(c.post("/cycle").await.status, 200);
    let cycled = c.get("/id").await.json()["id"].as_str().unwrap().to_owned();
    assert_ne!(cycled, id);
    assert_eq!(
        c.get("/read").await.json()["k"],
        "v",
        "cycle keeps the data"
    );
    c.post("/login?user=ada").await;
    let data = c.get("/read").await.json();
    assert_eq!(
        data,
        serde_json::json!({"user": "ada"}),
        "regenerate drops the data"
    );
    let r = c.post("/logout").await;
    assert!(
        set_cookie(&r, "h3").contains("Expires=Thu, 01 Jan 1970"),
        "{r:?}"
    );
    assert!(c.jar.is_empty());
    // The recorder sees this server's metrics (a forged cookie counts), and no store
    // call among them.
    c.send_with("GET", "/read", Some("h3=Fe26.2**x")).await;
    assert!(counter("session_invalid_cookies_total") > invalid_before);
    assert_eq!(
        store_calls(),
        before,
        "a sealed session never calls a store"
    );
}

fn store_calls() -> f64 {
    counter("session_store_operations_total")
}

/// The sum of a counter over its labels.
fn counter(name: &str) -> f64 {
    metrics()
        .iter()
        .filter(|(k, _)| k.starts_with(name))
        .map(|(_, v)| v)
        .sum()
}

/// A session that would not fit in the browser's 4,096 bytes is an error the handler
/// sees, the change is undone, and the cookie already sent keeps working.
#[tokio::test]
async fn a_session_too_large_for_a_cookie_is_the_handlers_error() {
    let server = server(h3(&[P1])).await;
    let mut c = server.client();
    c.post("/set?a=1").await;
    let r = c.post(&format!("/set?big={}", "x".repeat(3000))).await;
    assert_eq!(r.status, 418, "the test app's error answer: {}", r.body);
    assert!(r.body.contains("exceeds the limit of 4096"), "{}", r.body);
    assert!(r.set_cookies().is_empty());
    assert_eq!(c.get("/read").await.json(), serde_json::json!({"a": "1"}));
}

/// The size is computed exactly before sealing, for every layout: the largest value
/// that is accepted makes a cookie within one AES block of the limit (name, `=` and
/// value for h3; the whole `Set-Cookie` line for iron-session, which checks it so),
/// with and without an expiration, a password id and iron-session's `~2`.
#[tokio::test]
async fn the_cookie_size_limit_is_reached_exactly() {
    let iron = |ttl: u64| {
        SealedConfig::iron_session("iron-cookie", Passwords::iron_session([(12, P1)]).unwrap())
            .max_age(Duration::from_secs(ttl))
            .build()
            .unwrap()
    };
    let cases = [
        ("h3", h3(&[P1]), false),
        (
            "h3 with maxAge",
            SealedConfig::h3(passwords(&[P1]))
                .max_age(Duration::from_secs(86_400))
                .name("a-longer-cookie-name")
                .build()
                .unwrap(),
            false,
        ),
        ("iron-session", iron(1_209_600), true),
        ("iron-session without ttl", iron(0), true),
    ];
    for (what, config, whole_line) in cases {
        let server = server(config).await;
        let mut c = server.client();
        c.post("/set?a=1").await;
        let cookie = c.cookie_header();
        let put = |n: usize| {
            let c = &c;
            let cookie = cookie.clone();
            async move {
                c.send_with(
                    "POST",
                    &format!("/put?big={}", "y".repeat(n)),
                    cookie.as_deref(),
                )
                .await
            }
        };
        // The largest accepted size, by bisection.
        let (mut ok, mut too_big) = (100, 4096);
        assert_eq!(put(ok).await.status, 200, "{what}");
        assert_ne!(put(too_big).await.status, 200, "{what}");
        while too_big - ok > 1 {
            let mid = (ok + too_big) / 2;
            if put(mid).await.status == 200 {
                ok = mid;
            } else {
                too_big = mid;
            }
        }
        let r = put(ok).await;
        let line = r.set_cookies().into_iter().next().unwrap();
        let size = if whole_line {
            line.len()
        } else {
            line.split(';').next().unwrap().len()
        };
        // One more byte crosses into the next AES block (16 bytes: 22 base64 characters).
        assert!(
            size <= 4096 && size > 4096 - 22,
            "{what}: {size} ({line:.120})"
        );
        let r = put(ok + 16).await;
        assert_eq!(r.status, 418, "{what}");
        assert!(
            r.body.contains("exceeds the limit of 4096"),
            "{what}: {}",
            r.body
        );
    }
}

/// Bad seals of every kind are "no session", never an error page; so is a seal past
/// h3's `maxAge` (from `createdAt`) or its own TTL.
#[tokio::test]
async fn bad_expired_and_foreign_seals_are_a_new_session() {
    let max_age = Duration::from_secs(3600);
    let config = SealedConfig::h3(passwords(&[P1]))
        .max_age(max_age)
        .build()
        .unwrap();
    let server = server(config).await;
    let c = server.client();
    let now = session_now_ms();
    let sealed = |created: u64, ttl: Option<Duration>, at: u64| {
        let json = format!(
            r#"{{"id":"1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed","createdAt":{created},"data":{{"user":"ada"}}}}"#
        );
        iron_seal_at(&passwords(&[P1]), &json, 1, ttl, at).unwrap()
    };
    let good = sealed(now, Some(max_age), now);
    let r = c
        .send_with("GET", "/read", Some(&format!("h3={good}")))
        .await;
    assert_eq!(r.json()["user"], "ada");
    let two_hours = 2 * 3600 * 1000;
    let bad = [
        // Created two hours ago: past maxAge though the seal itself is fresh.
        sealed(now - two_hours, None, now),
        // The seal's own TTL ran out an hour ago.
        sealed(now, Some(max_age), now - two_hours),
        // Another password.
        iron_seal_at(
            &passwords(&[P2]),
            r#"{"id":"x","createdAt":1,"data":{}}"#,
            1,
            None,
            now,
        )
        .unwrap(),
        good.replacen("Fe26.2*", "Fe26.2*x", 1),
        good[..good.len() - 2].to_owned(),
        "Fe26.2********".to_owned(),
        "%E0%A4%A".to_owned(),
        "\"Fe26.2\"".to_owned(),
        "x".repeat(5000),
    ];
    for value in bad {
        let r = c
            .send_with("GET", "/read", Some(&format!("h3={value}")))
            .await;
        assert_eq!(r.status, 200, "{value:.60}");
        assert_eq!(r.json(), serde_json::json!({}), "{value:.60}");
    }
    // A good seal after bad ones of the same name is found.
    let r = c
        .send_with("GET", "/read", Some(&format!("h3=junk; h3={good}")))
        .await;
    assert_eq!(r.json()["user"], "ada");
}

fn session_now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// h3 reads the seal from `x-h3-session` before the cookie, and answers with a cookie.
#[tokio::test]
async fn the_session_header_carries_a_seal() {
    let server = server(h3(&[P1])).await;
    let mut c = server.client();
    let cookie = set_cookie(&c.post("/set?from=cookie").await, "h3");
    let seal = cookie
        .split(';')
        .next()
        .unwrap()
        .strip_prefix("h3=")
        .unwrap()
        .to_owned();
    let mut header_client = Client::new(server.addr);
    header_client.extra.push(("x-h3-session".into(), seal));
    let r = header_client.get("/read").await;
    assert_eq!(r.json()["from"], "cookie");
    let r = header_client
        .send_with("GET", "/read", Some("h3=garbage"))
        .await;
    assert_eq!(
        r.json()["from"],
        "cookie",
        "the header wins over the cookie"
    );
}

/// Rotation: the new password first seals, the old one still reads; a server with
/// only the new password reads what the rotated one wrote.
#[tokio::test]
async fn passwords_rotate() {
    let old = server(h3(&[P1])).await;
    let rotated = server(h3(&[P2, P1])).await;
    let new_only = server(h3(&[P2])).await;
    let mut c = old.client();
    c.post("/set?user=ada").await;
    // Without the old password: a new session (whose cookie this client ignores).
    let r = new_only
        .client()
        .send_with("GET", "/read", c.cookie_header().as_deref())
        .await;
    assert_eq!(r.json(), serde_json::json!({}));
    c.addr = rotated.addr;
    assert_eq!(c.get("/read").await.json()["user"], "ada");
    let r = c.post("/set?n=1").await;
    let cookie = set_cookie(&r, "h3");
    assert_eq!(unseal_h3(&[P2], &cookie)["data"]["user"], "ada");
    c.addr = new_only.addr;
    assert_eq!(c.get("/read").await.json()["n"], "1");
}

/// iron-session's shape: the data object itself, `~2`, `Max-Age` one minute under the
/// TTL, `SameSite=Lax`; and h3 2.x's: 8,192 iterations, h3 1.x seals read and
/// sealed again the 2.x way.
#[tokio::test]
async fn iron_session_and_h3_v2_shapes() {
    let config = SealedConfig::iron_session("iron", Passwords::iron_session([(1, P1)]).unwrap())
        .build()
        .unwrap();
    let iron_server = server(config).await;
    let mut c = iron_server.client();
    let cookie = set_cookie(&c.post("/set?user=ada").await, "iron");
    assert!(
        cookie.starts_with("iron=Fe26.2*1*") && cookie.contains("~2;"),
        "{cookie}"
    );
    assert!(
        cookie.contains("Max-Age=1209540") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let value = cookie
        .split(';')
        .next()
        .unwrap()
        .strip_prefix("iron=")
        .unwrap();
    let iron = Iron::new(passwords(&[P1]));
    assert_eq!(
        iron.unseal(value.strip_suffix("~2").unwrap()).unwrap(),
        r#"{"user":"ada"}"#
    );
    assert_eq!(c.get("/read").await.json()["user"], "ada");
    assert!(
        SealedConfig::iron_session("iron", passwords(&[P1]))
            .build()
            .is_err(),
        "iron-session needs numbered passwords"
    );

    let v1 = server(h3(&[P1])).await;
    let v2 = server(SealedConfig::h3_v2(passwords(&[P1])).build().unwrap()).await;
    let mut c = v1.client();
    c.post("/set?user=ada").await;
    let v1_seal = c.jar["h3"].clone();
    c.addr = v2.addr;
    let r = c.get("/read").await;
    assert_eq!(r.json()["user"], "ada");
    let cookie = set_cookie(&r, "h3");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    let value = cookie
        .split(';')
        .next()
        .unwrap()
        .strip_prefix("h3=")
        .unwrap();
    assert!(
        Iron::new(passwords(&[P1])).unseal(value).is_err(),
        "resealed at 8,192 iterations"
    );
    // An h3 1.x seal in the header is read, not sealed again (as h3 2.x does).
    let mut header_client = Client::new(v2.addr);
    header_client
        .extra
        .push(("x-h3-session".into(), v1_seal.clone()));
    let r = header_client.get("/read").await;
    assert_eq!(r.json()["user"], "ada");
    assert!(r.set_cookies().is_empty(), "{:?}", r.set_cookies());
    let strong = Iron::new(passwords(&[P1])).iterations(8192);
    assert!(strong.unseal(value).unwrap().contains("ada"));
    assert!(c.get("/read").await.set_cookies().is_empty(), "only once");
}

/// The cookie's lifetime and attributes, as each app sends them: h3's `Expires` is
/// `createdAt + maxAge`; iron-session's `Max-Age` is the TTL less a minute (the TTL
/// itself up to a minute, 2^31-1 without TTL, whose seal then has no expiration);
/// `cookie()` changes the app's defaults instead of replacing them.
#[tokio::test]
async fn lifetimes_and_attributes_follow_each_app() {
    let config = SealedConfig::h3(passwords(&[P1]))
        .max_age(Duration::from_secs(3600))
        .build()
        .unwrap();
    let s = server(config).await;
    let mut c = s.client();
    let cookie = set_cookie(&c.post("/set?a=1").await, "h3");
    let created = unseal_h3(&[P1], &cookie)["createdAt"].as_u64().unwrap();
    let expires = cookie
        .split("; ")
        .find_map(|a| a.strip_prefix("Expires="))
        .unwrap();
    let expected = time::OffsetDateTime::from_unix_timestamp((created / 1000 + 3600) as i64)
        .unwrap()
        .format(&time::format_description::well_known::Rfc2822)
        .unwrap();
    // RFC 2822 prints "+0000" where cookies print "GMT": compare the date and time.
    assert_eq!(&expires[..25], &expected[..25], "{cookie} vs {expected}");
    // A later write keeps the creation time, so the same Expires.
    let again = set_cookie(&c.post("/set?b=2").await, "h3");
    assert!(again.contains(&format!("Expires={expires}")), "{again}");

    for (ttl, max_age, expiration) in [
        (0, "Max-Age=2147483647", false),
        (30, "Max-Age=30", true),
        (3600, "Max-Age=3540", true),
    ] {
        let config =
            SealedConfig::iron_session("iron", Passwords::iron_session([(1, P1)]).unwrap())
                .max_age(Duration::from_secs(ttl))
                .build()
                .unwrap();
        let s = server(config).await;
        let mut c = s.client();
        let cookie = set_cookie(&c.post("/set?a=1").await, "iron");
        assert!(cookie.contains(max_age), "ttl {ttl}: {cookie}");
        let seal = cookie.split(';').next().unwrap();
        assert_eq!(
            !seal.split('*').nth(5).unwrap().is_empty(),
            expiration,
            "ttl {ttl}: {seal}"
        );
        assert_eq!(
            c.get("/id").await.json()["id"],
            serde_json::Value::Null,
            "iron-session has no id"
        );
    }

    let config = SealedConfig::h3_v2(passwords(&[P1]))
        .cookie(|c| c.domain = Some("example.com".into()))
        .build()
        .unwrap();
    let s = server(config).await;
    let cookie = set_cookie(&s.client().post("/set?a=1").await, "h3");
    for attr in [
        "Domain=example.com",
        "Secure",
        "SameSite=Lax",
        "HttpOnly",
        "Path=/",
    ] {
        assert!(cookie.split("; ").any(|a| a == attr), "{attr} in {cookie}");
    }
    assert!(
        SealedConfig::h3(passwords(&[P1]))
            .cookie(|c| c.max_age = Some(Duration::from_secs(1)))
            .build()
            .is_err(),
        "the lifetime is max_age"
    );
}

/// Fields h3 keeps beside the data (h3 2.x's `lastSeenAt`) are written back as read;
/// a header that does not unseal leaves the cookie to be read.
#[tokio::test]
async fn what_the_seal_carries_besides_the_data_survives_a_write() {
    let s = server(h3(&[P1])).await;
    let now = session_now_ms();
    let json = format!(
        r#"{{"id":"1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed","createdAt":{now},"data":{{"a":1}},"lastSeenAt":{now}}}"#
    );
    let seal = iron_seal_at(&passwords(&[P1]), &json, 1, None, now).unwrap();
    let mut c = s.client();
    c.jar.insert("h3".into(), seal);
    let cookie = set_cookie(&c.post("/set?b=2").await, "h3");
    let sealed = unseal_h3(&[P1], &cookie);
    assert_eq!(sealed["lastSeenAt"], now);
    assert_eq!(sealed["data"], serde_json::json!({"a": 1, "b": "2"}));

    c.extra
        .push(("x-h3-session".into(), "Fe26.2**forged".into()));
    assert_eq!(c.get("/read").await.json()["b"], "2");
}

/// `save()` and `touch()` seal an unchanged session again (iron-session slides its
/// TTL so); a session only read does not.
#[tokio::test]
async fn save_and_touch_seal_again() {
    use session_core::adapter::SessionManager;
    let m = SessionManager::sealed(h3(&[P1]));
    let s = m.start(std::iter::empty(), true);
    s.insert("a", 1).await.unwrap();
    let cookie = s.finish().await.unwrap().set_cookie.unwrap();
    let pair = cookie.split(';').next().unwrap().to_owned();
    let read = m.start([pair.as_bytes()], true);
    assert_eq!(read.get::<u32>("a").await.unwrap(), Some(1));
    assert_eq!(read.finish().await.unwrap().set_cookie, None);
    let saved = m.start([pair.as_bytes()], true);
    saved.save().await.unwrap();
    let fresh = saved.finish().await.unwrap().set_cookie.unwrap();
    assert_ne!(fresh.split(';').next().unwrap(), pair, "a new seal");
    let touched = m.start([pair.as_bytes()], true);
    touched.touch().await.unwrap();
    assert!(touched.finish().await.unwrap().set_cookie.is_some());
    let sealed = m.start([pair.as_bytes()], true);
    assert!(
        sealed.set_max_age(None).await.is_err(),
        "the lifetime is the configuration's"
    );
}
