//! Runs the demo example binary (what the README's first command starts) on a free
//! port and drives every route over real TCP. The process is stopped by PID on drop.

// Test code: clippy.toml allows unwrap in tests, but not in tests/ files (rust-clippy#16122).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Demo {
    child: Child,
    addr: String,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(secret: Option<&str>) -> Demo {
    let mut cmd = Command::new(common::demo_binary());
    cmd.env("PORT", "0")
        .env("HOST", "127.0.0.1")
        .env_remove("REDIS_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    match secret {
        Some(s) => cmd.env("SESSION_SECRET", s),
        None => cmd.env_remove("SESSION_SECRET"),
    };
    let mut child = cmd.spawn().expect("start the demo");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected: {line}"));
    let addr = addr.split(' ').next().unwrap().to_owned();
    Demo { child, addr }
}

/// One request over a fresh connection; returns (status line, headers, body).
async fn request(
    addr: &str,
    method: &str,
    path: &str,
    cookie: Option<&str>,
) -> (String, Vec<String>, String) {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let cookie = cookie
        .map(|c| format!("Cookie: {c}\r\n"))
        .unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{cookie}Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut raw = String::new();
    tcp.read_to_string(&mut raw).await.unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines.next().unwrap().to_owned();
    (status, lines.map(str::to_owned).collect(), body.to_owned())
}

fn session_cookie(headers: &[String]) -> Option<String> {
    headers
        .iter()
        .find_map(|h| h.strip_prefix("set-cookie: "))
        .map(|c| c.split(';').next().unwrap().to_owned())
}

#[tokio::test]
async fn the_demo_serves_every_route() {
    let demo = start(Some("new secret,old secret"));
    let a = demo.addr.as_str();
    let (status, headers, body) = request(a, "GET", "/", None).await;
    assert!(status.contains("200"), "{status}");
    assert_eq!(body, r#"{"views":1}"#);
    let cookie = session_cookie(&headers).expect("a cookie");
    assert!(cookie.starts_with("connect.sid=s%3A"));
    let (_, _, body) = request(a, "GET", "/", Some(&cookie)).await;
    assert_eq!(body, r#"{"views":2}"#);
    let (_, headers, _) = request(a, "GET", "/session", Some(&cookie)).await;
    assert!(
        session_cookie(&headers).is_none(),
        "GET /session is read-only"
    );

    let (_, headers, body) = request(a, "POST", "/login?user=ada", Some(&cookie)).await;
    assert_eq!(body, r#"{"user":"ada"}"#);
    let login = session_cookie(&headers).expect("login re-issues the cookie");
    assert_ne!(login, cookie);
    let (_, _, body) = request(a, "GET", "/session", Some(&cookie)).await;
    assert_eq!(body, "{}", "the pre-login cookie no longer works");

    let (_, _, body) = request(a, "POST", "/set?theme=dark&lang=fr%20CA", Some(&login)).await;
    assert_eq!(body, r#"{"user":"ada","theme":"dark","lang":"fr CA"}"#);
    let (_, _, body) = request(a, "GET", "/session", Some(&login)).await;
    assert_eq!(body, r#"{"user":"ada","theme":"dark","lang":"fr CA"}"#);

    for n in 1..=3 {
        let (_, _, body) = request(a, "POST", "/incr", Some(&login)).await;
        assert_eq!(body, format!("{{\"counter\":{n}}}"));
    }

    let (_, headers, body) = request(a, "POST", "/logout", Some(&login)).await;
    assert_eq!(body, "{}");
    assert_eq!(session_cookie(&headers).as_deref(), Some("connect.sid="));
    let (_, _, body) = request(a, "GET", "/session", Some(&login)).await;
    assert_eq!(body, "{}");
    let (status, _, _) = request(a, "GET", "/nope", None).await;
    assert!(status.contains("404"));
}

#[tokio::test]
async fn the_demo_runs_without_a_secret_and_secrets_rotate() {
    let dev = start(None);
    let (_, headers, _) = request(&dev.addr, "GET", "/", None).await;
    assert!(session_cookie(&headers).is_some());

    // A cookie from a server whose only secret was "old secret" still works on a demo
    // configured with "new secret,old secret" (no store sharing: only the signature is
    // checked, so the session is new but the cookie is accepted and re-signed).
    let old = start(Some("old secret"));
    let (_, headers, _) = request(&old.addr, "GET", "/", None).await;
    let old_cookie = session_cookie(&headers).unwrap();
    let new = start(Some("new secret,old secret"));
    let (status, _, body) = request(&new.addr, "GET", "/session", Some(&old_cookie)).await;
    assert!(status.contains("200"));
    assert_eq!(body, "{}");
}
