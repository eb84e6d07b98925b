//! A private Redis Sentinel setup: one primary, one replica, three `redis-sentinel`
//! processes monitoring them as `mymaster` (quorum 2, down after 1 s), all on free
//! loopback ports, each stopped by PID when dropped. A missing `redis-sentinel` fails
//! the test with the command that installs it.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::redis::{RedisServer, command, free_port, wait_ready};

const HINT: &str = "redis-sentinel is not installed: run `apt-get install -y redis-sentinel` (scripts/test does this on Debian)";

/// The service name the sentinels monitor.
pub const SERVICE: &str = "mymaster";

/// One `redis-sentinel` process with its own (rewritable) configuration file.
#[derive(Debug)]
struct SentinelProcess {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Drop for SentinelProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The primary (`nodes[0]` at the start), the replica, and three sentinels.
#[derive(Debug)]
pub struct SentinelSetup {
    pub nodes: Vec<RedisServer>,
    sentinels: Vec<SentinelProcess>,
}

impl SentinelSetup {
    /// Starts everything and waits until every sentinel knows the replica and the two
    /// other sentinels (so a failover can be agreed on).
    pub fn start() -> SentinelSetup {
        let primary = RedisServer::start();
        let replica = RedisServer::start_with(&[
            "--save",
            "",
            "--appendonly",
            "no",
            "--replicaof",
            "127.0.0.1",
            &primary.port.to_string(),
        ]);
        let sentinels = (0..3).map(|_| start_sentinel(primary.port)).collect();
        let setup = SentinelSetup {
            nodes: vec![primary, replica],
            sentinels,
        };
        setup.wait_until(
            Duration::from_secs(30),
            "the sentinels to know each other",
            |s| {
                s.sentinels.iter().all(|p| {
                    command(p.port, &["SENTINEL", "MASTER", SERVICE]).is_ok_and(|r| {
                        r.contains("num-slaves\r\n$1\r\n1\r\n")
                            && r.contains("num-other-sentinels\r\n$1\r\n2\r\n")
                    })
                })
            },
        );
        setup
    }

    /// The sentinels' URLs.
    pub fn urls(&self) -> Vec<String> {
        self.sentinels
            .iter()
            .map(|s| format!("redis://127.0.0.1:{}/", s.port))
            .collect()
    }

    /// The port of the node the first sentinel that answers names as primary.
    pub fn primary_port(&self) -> Option<u16> {
        self.sentinels.iter().find_map(|s| {
            let reply = command(s.port, &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", SERVICE]).ok()?;
            reply.lines().nth(4)?.trim().parse().ok()
        })
    }

    /// The node serving as primary now.
    pub fn primary(&mut self) -> &mut RedisServer {
        let port = self.primary_port().expect("a sentinel names the primary");
        self.nodes
            .iter_mut()
            .find(|n| n.port == port)
            .expect("the primary is one of the nodes")
    }

    /// Asks the first sentinel for a failover now (`SENTINEL FAILOVER`).
    pub fn failover(&self) {
        let reply = command(self.sentinels[0].port, &["SENTINEL", "FAILOVER", SERVICE]).unwrap();
        assert!(reply.starts_with("+OK"), "SENTINEL FAILOVER: {reply}");
    }

    /// Waits until the primary's writes reached its replica (`WAIT 1`).
    pub fn wait_replicated(&mut self) {
        let port = self.primary().port;
        self.wait_until(Duration::from_secs(30), "the replica to catch up", |_| {
            command(port, &["WAIT", "1", "1000"]).is_ok_and(|r| r.starts_with(":1"))
        });
    }

    /// Polls `done` every 100 ms; panics naming `what` after `limit`.
    pub fn wait_until(&self, limit: Duration, what: &str, done: impl Fn(&Self) -> bool) {
        let start = Instant::now();
        while !done(self) {
            assert!(start.elapsed() < limit, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn start_sentinel(primary_port: u16) -> SentinelProcess {
    let port = free_port(false);
    let dir = std::env::temp_dir().join(format!(
        "session-tests-sentinel-{}-{port}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("sentinel.conf");
    std::fs::write(
        &conf,
        format!(
            "port {port}\nbind 127.0.0.1\ndaemonize no\nlogfile \"\"\ndir {dir}\n\
             sentinel monitor {SERVICE} 127.0.0.1 {primary_port} 2\n\
             sentinel down-after-milliseconds {SERVICE} 1000\n\
             sentinel failover-timeout {SERVICE} 3000\n\
             sentinel parallel-syncs {SERVICE} 1\n",
            dir = dir.display()
        ),
    )
    .unwrap();
    let child = Command::new("redis-sentinel")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("redis-sentinel: {e}: {HINT}"));
    let process = SentinelProcess { child, port, dir };
    wait_ready(port, "redis-sentinel");
    process
}
