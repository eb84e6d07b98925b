//! The session flow in a real browser: Debian's Chromium, headless, driven through
//! chromedriver by a Rust WebDriver client (fantoccini), against the demo's `/app` page
//! on the Redis store: sign-in with its flash, CSRF-refused cross-site form, a second
//! browser signed out by "sign out everywhere else", sign-out. A screenshot of each step goes into `target/browser-e2e/`.
//!
//! Needs `chromium` and `chromedriver` (Debian packages `chromium` and
//! `chromium-driver`; `scripts/test` installs them). Without them the test fails and
//! says so; it never skips.
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use session_tests::demo::Demo;
use session_tests::redis::{RedisServer, free_port};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const SECRET: (&str, &str) = ("SESSION_SECRET", "browser test secret");

/// chromedriver on a free loopback port, stopped by PID (it stops its Chromium).
struct Chromedriver {
    child: Child,
    port: u16,
}

impl Chromedriver {
    fn start() -> Chromedriver {
        for (path, package) in [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")] {
            assert!(
                Path::new(path).exists(),
                "{path} is missing: install it with `apt-get install -y {package}` (scripts/test does this)"
            );
        }
        let port = free_port(false);
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "chromedriver did not listen within 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Chromedriver { child, port }
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Headless Chromium with a fresh profile and no background traffic.
async fn browser(driver: &Chromedriver, profile: &Path) -> Client {
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--window-size=900,700",
                format!("--user-data-dir={}", profile.display()),
            ],
        },
    });
    let Value::Object(caps) = caps else {
        unreachable!()
    };
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a WebDriver session with headless Chromium")
}

/// Screenshots, numbered in the order taken.
struct Shots {
    dir: PathBuf,
    n: usize,
}

impl Shots {
    fn new() -> Shots {
        let exe = std::env::current_exe().unwrap();
        // target/<profile>/deps/<test> → target/browser-e2e
        let dir = exe.ancestors().nth(3).unwrap().join("browser-e2e");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        println!("screenshots: {}", dir.display());
        Shots { dir, n: 0 }
    }
    async fn take(&mut self, browser: &Client, name: &str) {
        self.n += 1;
        let png = browser.screenshot().await.unwrap();
        let path = self.dir.join(format!("{:02}-{name}.png", self.n));
        std::fs::write(&path, png).unwrap();
        println!("  {}", path.display());
    }
}

async fn text(browser: &Client, css: &str) -> String {
    browser
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} on the page: {e}"))
        .text()
        .await
        .unwrap()
}

async fn visits(browser: &Client) -> u64 {
    text(browser, "#visits").await.parse().unwrap()
}

/// The value of the session cookie as the browser stores it, if any.
async fn session_cookie(browser: &Client) -> Option<fantoccini::cookies::Cookie<'static>> {
    browser
        .get_all_cookies()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.name() == "connect.sid")
}

/// A page on another site (`localhost`, where the demo is `127.0.0.1`) with a form
/// that posts to the demo's sign-out route, as a cross-site attacker's page would.
async fn cross_site_page(target: String) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut tcp, _)) = listener.accept().await else {
                return;
            };
            let target = target.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = tcp.read(&mut buf).await;
                let body = format!(
                    r#"<!doctype html><html><body><h1>Another site</h1>
<form id="evil" method="post" action="{target}/app/logout">
<button id="go" type="submit">Win a prize</button></form></body></html>"#
                );
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = tcp.write_all(head.as_bytes()).await;
                let _ = tcp.write_all(body.as_bytes()).await;
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_flow_in_headless_chromium() {
    let redis = RedisServer::start();
    let redis_url = redis.url();
    let mut demo = Demo::start(&[SECRET, ("REDIS_URL", &redis_url)]);
    let driver = Chromedriver::start();
    let profile = std::env::temp_dir().join(format!("session-e2e-profile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&profile);
    let b = browser(&driver, &profile).await;
    let mut shots = Shots::new();
    let result = async {
        // The counter increases across reloads.
        b.goto(&format!("{}/app", demo.url())).await.unwrap();
        assert_eq!(visits(&b).await, 1);
        assert_eq!(text(&b, "#user").await, "Not signed in");
        shots.take(&b, "first-visit").await;
        b.refresh().await.unwrap();
        b.refresh().await.unwrap();
        assert_eq!(visits(&b).await, 3, "the session counts reloads");
        shots.take(&b, "after-two-reloads").await;

        // The cookie is HttpOnly and SameSite=Lax: page scripts cannot see it.
        let cookie = session_cookie(&b).await.expect("the session cookie");
        assert_eq!(cookie.http_only(), Some(true));
        assert_eq!(format!("{:?}", cookie.same_site()), "Some(Lax)");
        let seen_by_js = b.execute("return document.cookie", vec![]).await.unwrap();
        assert!(
            !seen_by_js.as_str().unwrap_or("").contains("connect.sid"),
            "document.cookie must not show the HttpOnly cookie: {seen_by_js}"
        );
        assert_eq!(text(&b, "#js-cookies").await, "(nothing)");

        // Sign in: a new session id, and the page shows the user.
        b.find(Locator::Css("#name"))
            .await
            .unwrap()
            .send_keys("alice")
            .await
            .unwrap();
        b.find(Locator::Css("#login"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for_text(&b, "#user", "Signed in as alice").await;
        assert_eq!(
            text(&b, "#flash").await,
            "Welcome, alice!",
            "a flash after sign-in"
        );
        let after_login = session_cookie(&b)
            .await
            .expect("a session cookie after login");
        assert_ne!(
            after_login.value(),
            cookie.value(),
            "signing in changes the session id (no fixation)"
        );
        shots.take(&b, "signed-in").await;

        // Restart the demo: the session lives in Redis, so it is still there.
        let before_restart = visits(&b).await;
        drop(demo);
        demo = Demo::start(&[SECRET, ("REDIS_URL", &redis_url)]);
        b.goto(&format!("{}/app", demo.url())).await.unwrap();
        assert_eq!(text(&b, "#user").await, "Signed in as alice");
        assert_eq!(visits(&b).await, before_restart + 1);
        shots.take(&b, "after-demo-restart").await;

        assert!(
            b.find(Locator::Css("#flash")).await.is_err(),
            "a flash is shown once"
        );

        // A form on another site posting to the demo carries neither the Lax cookie
        // nor the page's CSRF token: refused, and the user stays signed in.
        let evil = cross_site_page(demo.url()).await;
        b.goto(&format!("http://localhost:{}/", evil.port()))
            .await
            .unwrap();
        shots.take(&b, "cross-site-page").await;
        b.find(Locator::Css("#go"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for_text(&b, "body", "403 Forbidden").await;
        shots.take(&b, "cross-site-post-refused").await;
        b.goto(&format!("{}/app", demo.url())).await.unwrap();
        assert_eq!(
            text(&b, "#user").await,
            "Signed in as alice",
            "the cross-site POST came without the session cookie"
        );
        assert_eq!(
            session_cookie(&b).await.map(|c| c.value().to_owned()),
            Some(after_login.value().to_owned())
        );

        // A second browser (its own cookie jar) signs in as alice too; "sign out
        // everywhere else" in the first ends the second's session.
        let profile2 = profile.with_extension("second");
        let _ = std::fs::remove_dir_all(&profile2);
        let b2 = browser(&driver, &profile2).await;
        async {
            b2.goto(&format!("{}/app", demo.url())).await.unwrap();
            b2.find(Locator::Css("#name"))
                .await
                .unwrap()
                .send_keys("alice")
                .await
                .unwrap();
            b2.find(Locator::Css("#login"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            wait_for_text(&b2, "#user", "Signed in as alice").await;
            shots.take(&b2, "second-browser-signed-in").await;
            b.refresh().await.unwrap();
            assert_eq!(
                text(&b, "#session-count").await,
                "2",
                "alice has two sessions"
            );
            b.find(Locator::Css("#logout-everywhere"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            wait_for_text(&b, "#flash", "Signed out of 1 other session(s).").await;
            assert_eq!(text(&b, "#user").await, "Signed in as alice");
            assert_eq!(text(&b, "#session-count").await, "1");
            shots.take(&b, "signed-out-everywhere-else").await;
            b2.refresh().await.unwrap();
            assert_eq!(
                text(&b2, "#user").await,
                "Not signed in",
                "the second browser's session ended"
            );
            shots.take(&b2, "second-browser-signed-out").await;
        }
        .await;
        let _ = b2.close().await;
        let _ = std::fs::remove_dir_all(&profile2);

        // Sign out: the cookie is gone.
        b.find(Locator::Css("#logout"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for_text(&b, "#signed-out", "Signed out.").await;
        assert!(
            session_cookie(&b).await.is_none(),
            "signing out clears the cookie"
        );
        shots.take(&b, "signed-out").await;
        b.goto(&format!("{}/app", demo.url())).await.unwrap();
        assert_eq!(text(&b, "#user").await, "Not signed in");
        assert_eq!(visits(&b).await, 1, "a new session after signing out");
        shots.take(&b, "new-session-after-sign-out").await;
    }
    .await;
    let _ = b.close().await;
    drop(driver);
    let _ = std::fs::remove_dir_all(&profile);
    result
}

/// Waits (at most 10 s) until the element's text starts with `expected`.
async fn wait_for_text(b: &Client, css: &str, expected: &str) {
    let started = Instant::now();
    loop {
        if let Ok(el) = b.find(Locator::Css(css)).await
            && let Ok(t) = el.text().await
            && t.starts_with(expected)
        {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{css} never showed {expected:?}; page: {}",
            b.source().await.unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
