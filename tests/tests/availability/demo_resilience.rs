//! The demo's serve loop under abuse, over real TCP against the demo binary: `GET
//! /health` stays out of the session (and the store), running out of file descriptors
//! does not end the process, and a half-sent request head is dropped after
//! `HEADER_READ_TIMEOUT_MS`. Every demo runs on a free loopback port and is stopped by
//! PID on drop.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use session_tests::demo::Demo;
use session_tests::redis::free_port;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A request head without the blank line that ends it: the server waits for the rest.
const PARTIAL_HEAD: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n";

/// Starts the demo with `env` (and a secret, warn-level logs), under `ulimit -n` if given.
fn start(env: &[(&str, &str)], nofile: Option<u32>) -> Demo {
    let mut all = vec![
        ("SESSION_SECRET", "resilience secret"),
        ("RUST_LOG", "warn"),
    ];
    all.extend_from_slice(env);
    Demo::start_limited(&all, nofile)
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One request over a fresh connection (`Connection: close`).
async fn request(addr: &str, method: &str, path: &str, cookie: Option<&str>) -> Reply {
    try_request(addr, method, path, cookie)
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

async fn try_request(
    addr: &str,
    method: &str,
    path: &str,
    cookie: Option<&str>,
) -> std::io::Result<Reply> {
    let mut tcp = TcpStream::connect(addr).await?;
    let cookie = cookie
        .map(|c| format!("Cookie: {c}\r\n"))
        .unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{cookie}Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    tcp.write_all(req.as_bytes()).await?;
    let mut raw = String::new();
    tcp.read_to_string(&mut raw).await?;
    let bad = || std::io::Error::other(format!("not an HTTP response: {raw:?}"));
    let (head, body) = raw.split_once("\r\n\r\n").ok_or_else(bad)?;
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(bad)?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Ok(Reply {
        status,
        headers,
        body: body.to_owned(),
    })
}

fn session_cookie(reply: &Reply) -> Option<String> {
    reply
        .header("set-cookie")
        .map(|c| c.split(';').next().unwrap().to_owned())
}

/// The Prometheus lines that count store calls.
async fn store_counters(metrics_addr: &str) -> Vec<String> {
    let reply = request(metrics_addr, "GET", "/metrics", None).await;
    assert_eq!(reply.status, 200);
    let mut lines: Vec<String> = reply
        .body
        .lines()
        .filter(|l| l.starts_with("session_store_operations_total"))
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

fn assert_health(reply: &Reply) {
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body, r#"{"ok":true}"#);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.header("set-cookie"), None, "/health sets no cookie");
}

#[tokio::test]
async fn health_answers_without_using_the_session() {
    let metrics_port = free_port(false).to_string();
    let demo = start(&[("METRICS_PORT", &metrics_port)], None);
    let a = demo.addr.to_string();
    let a = a.as_str();
    let m = demo.metrics.expect("the demo serves metrics").to_string();

    assert_health(&request(a, "GET", "/health", None).await);

    let first = request(a, "GET", "/", None).await;
    let cookie = session_cookie(&first).expect("GET / issues a cookie");
    let before = store_counters(&m).await;
    assert!(!before.is_empty(), "GET / counted its store calls");

    // Without a cookie, or with one that does not verify: no store call at all.
    let tampered = format!("{cookie}x");
    for c in [Some(tampered.as_str()), None] {
        assert_health(&request(a, "GET", "/health", c).await);
    }
    assert_eq!(store_counters(&m).await, before);

    // With a valid cookie the handler still never uses the session; the layer extends
    // the session's life as express-session does on every request (a touch, which
    // the tests of the failure policy show cannot fail the response).
    assert_health(&request(a, "GET", "/health", Some(&cookie)).await);
    let again = request(a, "GET", "/", Some(&cookie)).await;
    assert_eq!(again.body, r#"{"views":2}"#, "the session is intact");
}

/// Reads until the server closes the connection; returns what it sent.
async fn read_until_closed(tcp: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match tcp.read(&mut buf).await {
            Ok(0) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            // A reset is a close too.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return got,
            Err(e) => panic!("reading: {e}"),
        }
    }
}

#[tokio::test]
async fn running_out_of_file_descriptors_does_not_end_the_demo() {
    const NOFILE: u32 = 256;
    const CONNECTIONS: usize = 300;
    let mut demo = start(&[("HEADER_READ_TIMEOUT_MS", "60000")], Some(NOFILE));
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", demo.pid())).unwrap();
    let open_files = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    assert_eq!(
        open_files.split_whitespace().nth(3),
        Some(NOFILE.to_string().as_str()),
        "the limit applies to the demo: {open_files}"
    );
    let a = demo.addr.to_string();
    assert_eq!(request(&a, "GET", "/", None).await.status, 200);

    // More stalled connections than the demo has descriptors: once its table is full,
    // accept fails (EMFILE) and the rest wait in the listen queue.
    let mut stalled = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        let mut tcp = TcpStream::connect(&a).await.unwrap();
        tcp.write_all(PARTIAL_HEAD).await.unwrap();
        stalled.push(tcp);
    }
    // Wait until the demo logs a failed accept (its `warn!` "accept failed; retrying"),
    // or dies of it, as it used to.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        demo.assert_alive("while its descriptors ran out");
        match demo.lines.recv_timeout(Duration::from_millis(100)) {
            Ok(line) if line.contains("accept failed") => break,
            Ok(_) | Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                demo.assert_alive("(its stdout closed)");
                panic!("the demo closed its stdout");
            }
        }
        assert!(
            Instant::now() < deadline,
            "no failed accept reported with {CONNECTIONS} connections open"
        );
    }
    demo.assert_alive("after a failed accept");

    // Once the clients give up, the descriptors come back and the demo serves again.
    drop(stalled);
    let deadline = Instant::now() + Duration::from_secs(15);
    let reply = loop {
        demo.assert_alive("after the connections closed");
        let attempt =
            tokio::time::timeout(Duration::from_secs(2), try_request(&a, "GET", "/", None)).await;
        match attempt {
            Ok(Ok(reply)) => break reply,
            Ok(Err(e)) if Instant::now() >= deadline => panic!("the demo does not recover: {e}"),
            Err(_) if Instant::now() >= deadline => panic!("the demo does not recover"),
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    };
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, r#"{"views":1}"#);
    demo.assert_alive("at the end");
}

#[tokio::test]
async fn a_half_sent_request_head_is_dropped_after_the_header_read_timeout() {
    let demo = start(&[("HEADER_READ_TIMEOUT_MS", "500")], None);
    let a = demo.addr.to_string();
    let a = a.as_str();

    let mut stalled = TcpStream::connect(a).await.unwrap();
    stalled.write_all(PARTIAL_HEAD).await.unwrap();
    // A generous deadline: it only has to happen, not happen fast.
    let got = tokio::time::timeout(Duration::from_secs(20), read_until_closed(&mut stalled))
        .await
        .expect("the server keeps a half-sent request open");
    let got = String::from_utf8_lossy(&got);
    assert!(
        got.is_empty() || got.starts_with("HTTP/1.1 408"),
        "closed with: {got:?}"
    );

    // A client that sends nothing at all gets the same deadline.
    let mut silent = TcpStream::connect(a).await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(20), read_until_closed(&mut silent))
        .await
        .expect("the server keeps a silent connection open");
    assert!(
        got.is_empty(),
        "closed with: {:?}",
        String::from_utf8_lossy(&got)
    );

    // A request sent in one go is answered.
    let reply = request(a, "GET", "/", None).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, r#"{"views":1}"#);
    assert_health(&request(a, "GET", "/health", None).await);
}
