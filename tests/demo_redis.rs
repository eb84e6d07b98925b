//! The demo binary on the Redis store (`REDIS_URL`): sessions survive a restart of the
//! demo, because they live in Redis. Both processes are stopped by PID.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use session_tests::Client;
use session_tests::redis::RedisServer;

struct Demo(Child, std::net::SocketAddr);

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_demo(redis_url: &str) -> Demo {
    // target/<profile>/deps/<this test> → target/<profile>/examples/demo
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join("demo");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p session-hyper --example demo` (cargo test --workspace builds it)",
        bin.display()
    );
    let mut child = Command::new(bin)
        .env("PORT", "0")
        .env("REDIS_URL", redis_url)
        .env("SESSION_SECRET", "demo redis secret")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("(redis store)"), "{line}");
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    Demo(child, addr)
}

#[tokio::test]
async fn the_demo_keeps_sessions_in_redis_across_restarts() {
    let redis = RedisServer::start();
    let demo = start_demo(&redis.url());
    let mut c = Client::new(demo.1);
    assert_eq!(c.get("/").await.json()["views"], 1);
    assert_eq!(c.post("/login?user=ada").await.json()["user"], "ada");
    drop(demo);

    let demo = start_demo(&redis.url());
    let mut c2 = Client::new(demo.1);
    c2.jar = c.jar.clone();
    assert_eq!(
        c2.get("/session").await.json()["user"],
        "ada",
        "the session outlived the demo process"
    );
    assert!(
        redis.command(&["KEYS", "sess:*"]).contains("sess:"),
        "stored under connect-redis's key"
    );
}
