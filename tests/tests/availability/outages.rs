//! Availability (issue #16) through real servers and a real Redis: a store outage under
//! load takes down only the pages that need the store, and only while it lasts; a huge
//! session costs Redis no more per request than a small one and starves nobody; a
//! thousand concurrent requests on one huge session stay within a stated memory bound.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::{Duration, Instant};

use session_core::{CookieOptions, Secrets, SessionConfig};
use session_hyper::SessionLayer;
use session_store_redis::RedisStore;
use session_tests::demo::Demo;
use session_tests::redis::RedisServer;
use session_tests::{Client, TestServer};

/// Peak resident memory growth allowed for 1,000 concurrent requests on one 1 MiB
/// session (docs/benchmarks.md has the measured figures; before issue #16 it was
/// about 1.1 GB).
const RSS_BOUND_MIB: u64 = 256;

// ---------------------------------------------------------------------------------
// A Redis outage under load

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_redis_outage_under_load_spares_health_and_recovers() {
    let mut redis = RedisServer::start();
    let demo = Demo::start(&[("REDIS_URL", &redis.url())]);
    let mut c = Client::new(demo.addr);
    assert_eq!(c.get("/").await.json()["views"], 1);
    let cookie = c.cookie_header().unwrap();

    // Load: 8 users of the same session loop over /health and / until told to stop;
    // every status is recorded with the phase it was seen in.
    let phase = Arc::new(AtomicU8::new(0)); // 0 before, 1 outage, 2 after the restart
    let stop = Arc::new(AtomicBool::new(false));
    let mut load = Vec::new();
    for _ in 0..8 {
        let (phase, stop, cookie) = (phase.clone(), stop.clone(), cookie.clone());
        let c = Client::new(demo.addr);
        load.push(tokio::spawn(async move {
            let mut seen: Vec<((u8, u8), &'static str, u16)> = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                for path in ["/health", "/"] {
                    let started = phase.load(Ordering::SeqCst);
                    let r = c.send_with("GET", path, Some(&cookie)).await;
                    let ended = phase.load(Ordering::SeqCst);
                    seen.push(((started, ended), path, r.status.as_u16()));
                }
            }
            seen
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    phase.store(1, Ordering::SeqCst);
    redis.kill(); // SIGKILL
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // During the outage: the health check answers, the counter cannot.
    let h = c.send_with("GET", "/health", Some(&cookie)).await;
    assert_eq!(
        (h.status.as_u16(), h.body.as_str()),
        (200, r#"{"ok":true}"#)
    );
    let r = c.send_with("GET", "/", Some(&cookie)).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.header("retry-after").as_deref(), Some("1"));

    redis.restart();
    let restarted = Instant::now();
    phase.store(2, Ordering::SeqCst);
    loop {
        let r = c.send_with("GET", "/", Some(&cookie)).await;
        if r.status == 200 {
            break;
        }
        assert!(
            restarted.elapsed() < Duration::from_secs(5),
            "GET / still {} 5 s after Redis came back",
            r.status
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);

    let mut by: BTreeMap<((u8, u8), &str, u16), usize> = BTreeMap::new();
    for task in load {
        for s in task.await.unwrap() {
            *by.entry(s).or_default() += 1;
        }
    }
    // Phases (at the request's start, at its end): 0 before the kill, 1 during the
    // outage, 2 after the restart.
    for (&(p, path, status), n) in &by {
        match (path, p) {
            ("/health", _) => assert_eq!(status, 200, "{n} × /health answered {status}: {by:?}"),
            // Done before Redis went away: all served.
            (_, (0, 0)) => assert_eq!(status, 200, "{n} × / answered {status}: {by:?}"),
            // Started before the kill, met it: its save may have failed (500: nothing
            // lost silently), or its load (503), or it finished first.
            (_, (0, _)) => assert!(
                [200, 500, 503].contains(&status),
                "{n} × / answered {status} in phases {p:?}: {by:?}"
            ),
            // Started during the outage or after: a load failure, or served.
            _ => assert!(
                [200, 503].contains(&status),
                "{n} × / answered {status} in phases {p:?}: {by:?}"
            ),
        }
    }
    let outage_health = by.get(&((1, 1), "/health", 200)).copied().unwrap_or(0);
    let outage_503 = by.get(&((1, 1), "/", 503)).copied().unwrap_or(0);
    assert!(outage_health > 0 && outage_503 > 0, "{by:?}");
}

// ---------------------------------------------------------------------------------
// A huge session on Redis

/// Sum of `usec` over `INFO commandstats`, leaving out the measuring commands.
fn redis_usec(redis: &RedisServer) -> u64 {
    let info = redis.command(&["INFO", "commandstats"]);
    info.lines()
        .filter(|l| l.starts_with("cmdstat_"))
        .filter(|l| !l.starts_with("cmdstat_info:") && !l.starts_with("cmdstat_config"))
        .filter_map(|l| {
            l.split("usec=")
                .nth(1)?
                .split(',')
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum()
}

fn strlen(redis: &RedisServer, key: &str) -> u64 {
    let r = redis.command(&["STRLEN", key]);
    r.trim().trim_start_matches(':').parse().unwrap()
}

/// Redis CPU (µs) per request of `path` by `c`, over `n` requests.
async fn redis_cpu_per_request(redis: &RedisServer, c: &Client, path: &str, n: u64) -> f64 {
    redis.command(&["CONFIG", "RESETSTAT"]);
    let cookie = c.cookie_header();
    for _ in 0..n {
        assert_eq!(
            c.send_with("GET", path, cookie.as_deref()).await.status,
            200
        );
    }
    redis_usec(redis) as f64 / n as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_session_costs_redis_no_more_than_a_small_one_and_starves_nobody() {
    let redis = RedisServer::start();
    let store = RedisStore::builder().connect(&redis.url()).await.unwrap();
    // An idle timeout puts `__sessionMeta` in every record: before issue #16 that made
    // Redis decode the whole record on every request.
    let config = SessionConfig::builder(Secrets::new(["keyboard cat"]).unwrap())
        .cookie(CookieOptions {
            max_age: Some(Duration::from_secs(3600)),
            ..CookieOptions::default()
        })
        .idle_timeout(Duration::from_secs(1800))
        .build()
        .unwrap();
    let server = TestServer::start(SessionLayer::new(config, store)).await;
    let mut big = server.client();
    for i in 0..16 {
        let r = big.post(&format!("/put?b{i}={}", "x".repeat(64_000))).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let mut small = server.client();
    assert_eq!(
        small
            .post(&format!("/put?s={}", "y".repeat(900)))
            .await
            .status,
        200
    );
    let keys = redis.command(&["KEYS", "sess:*"]);
    let sizes: Vec<u64> = keys
        .lines()
        .filter(|l| l.starts_with("sess:"))
        .map(|k| strlen(&redis, k))
        .collect();
    assert_eq!(sizes.len(), 2, "{keys}");
    assert!(sizes.iter().any(|&s| s > 1_000_000) && sizes.iter().any(|&s| s < 2_000));

    // What copying a 1 MiB value out costs Redis here: plain GETs of the big record, by
    // redis-cli and over a multiplexed connection of the redis crate like the store's
    // (the same command costs Redis several times more on the latter; the larger is the
    // floor).
    let big_key = keys
        .lines()
        .find(|k| k.starts_with("sess:") && strlen(&redis, k) > 1_000_000)
        .unwrap()
        .to_owned();
    redis.command(&["CONFIG", "RESETSTAT"]);
    for _ in 0..20 {
        let out = std::process::Command::new("redis-cli")
            .args(["-p", &redis.port.to_string(), "GET", &big_key])
            .output()
            .expect("redis-cli (apt-get install -y redis-tools)");
        assert!(out.status.success() && out.stdout.len() > 1_000_000);
    }
    let by_cli = redis_usec(&redis) as f64 / 20.0;
    let client = ::redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    redis.command(&["CONFIG", "RESETSTAT"]);
    for _ in 0..20 {
        let v: Vec<u8> = ::redis::cmd("GET")
            .arg(&big_key)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(v.len() > 1_000_000);
    }
    let by_crate = redis_usec(&redis) as f64 / 20.0;
    let plain_get = by_cli.max(by_crate);

    let n = 40;
    let small_load = redis_cpu_per_request(&redis, &small, "/optional", n).await;
    let big_load = redis_cpu_per_request(&redis, &big, "/optional", n).await;
    let small_touch = redis_cpu_per_request(&redis, &small, "/none", n).await;
    let big_touch = redis_cpu_per_request(&redis, &big, "/none", n).await;
    let figures = format!(
        "Redis µs per request: load {small_load:.1} (1 KiB) vs {big_load:.1} (1 MiB), \
         touch {small_touch:.1} vs {big_touch:.1}; plain GET of 1 MiB {by_cli:.1} (redis-cli), \
         {by_crate:.1} (redis crate)"
    );
    println!("{figures}");
    // A load costs about what copying the value out costs (measured between 1× and 4×
    // a plain GET, which itself varies 75-375 µs here; before issue #16: 3.5-7 ms).
    assert!(
        big_load <= small_load + 5.0 * plain_get + 200.0,
        "{figures}"
    );
    // A touch reads a bounded prefix: the size does not show. Decoding the whole 1 MiB
    // record costs Redis milliseconds (a load before issue #16: 3.5-7 ms); the margin
    // is for the noise of a busy machine (CI once measured 51 µs between the two).
    assert!(big_touch <= small_touch + 1000.0, "{figures}");

    // 80 requests at once on the huge session, while another user carries on.
    let mut hammer = Vec::new();
    for _ in 0..80 {
        let c = big.clone();
        hammer.push(tokio::spawn(async move {
            let cookie = c.cookie_header();
            c.send_with("GET", "/optional", cookie.as_deref())
                .await
                .status
        }));
    }
    let other = tokio::spawn(async move {
        let mut statuses = Vec::new();
        for i in 0..40 {
            let r = small.post(&format!("/put?n={i}")).await;
            statuses.push(r.status.as_u16());
        }
        statuses
    });
    let others = other.await.unwrap();
    assert!(
        others.iter().all(|&s| s == 200),
        "the other user got {others:?}"
    );
    for h in hammer {
        assert_eq!(h.await.unwrap(), 200);
    }
}

// ---------------------------------------------------------------------------------
// Memory: one huge session, a thousand requests

fn proc_status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/{pid}/status"))
}

/// Fires 1,000 concurrent `method path` with `cookie` at the demo; returns the status
/// counts and the growth of its peak resident memory in MiB.
async fn burst(
    demo: &Demo,
    cookie: &str,
    method: &'static str,
    path: &'static str,
) -> (BTreeMap<u16, usize>, u64) {
    let pid = demo.pid();
    // Reset the peak (VmHWM) to the current size, so the peak read below is the burst's.
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").unwrap();
    let before = proc_status_kib(pid, "VmRSS:");
    let mut requests = Vec::new();
    for _ in 0..1000 {
        let (c, cookie) = (Client::new(demo.addr), cookie.to_owned());
        requests.push(tokio::spawn(async move {
            c.send_with(method, path, Some(&cookie)).await
        }));
    }
    let mut by_status: BTreeMap<u16, usize> = BTreeMap::new();
    for r in requests {
        let r = r.await.unwrap();
        if r.status == 503 {
            assert_eq!(r.header("retry-after").as_deref(), Some("1"), "{}", r.body);
        }
        *by_status.entry(r.status.as_u16()).or_default() += 1;
    }
    let peak = proc_status_kib(pid, "VmHWM:");
    let grew_mib = peak.saturating_sub(before) / 1024;
    println!(
        "1,000 × {method} {path} on a 1 MiB session: {by_status:?}; RSS {before} kB before, peak {peak} kB (+{grew_mib} MiB)"
    );
    assert!(
        by_status.keys().all(|s| *s == 200 || *s == 503),
        "{by_status:?}"
    );
    assert!(by_status.get(&200).is_some_and(|n| *n > 0), "{by_status:?}");
    assert!(
        grew_mib < RSS_BOUND_MIB,
        "{method} {path}: peak RSS grew by {grew_mib} MiB (bound {RSS_BOUND_MIB} MiB)"
    );
    (by_status, grew_mib)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_requests_on_a_huge_session_stay_within_the_memory_bound() {
    let demo = Demo::start(&[]);
    let mut c = Client::new(demo.addr);
    for i in 0..16 {
        let r = c.post(&format!("/set?b{i}={}", "x".repeat(64_000))).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    assert_eq!(c.get("/").await.status, 200);
    let cookie = c.cookie_header().unwrap();
    // An exact counter (the copy is made under the session's write lock)...
    let (incr, _) = burst(&demo, &cookie, "POST", "/incr").await;
    let counter = c.post("/incr").await.json()["counter"].as_u64().unwrap();
    assert_eq!(
        counter as usize,
        1 + incr.get(&200).copied().unwrap_or(0),
        "every success counted once"
    );
    // ...and a plain insert (each request copies the data before it queues).
    burst(&demo, &cookie, "GET", "/").await;
    // The session is intact.
    assert_eq!(
        c.get("/session").await.json()["b15"].as_str().map(str::len),
        Some(64_000)
    );
}
