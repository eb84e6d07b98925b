//! The demo binary (session-hyper's `demo` example) as a child process on a free
//! loopback port, stopped by PID when dropped.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// A running demo server.
#[derive(Debug)]
pub struct Demo {
    child: Child,
    /// Where it serves.
    pub addr: SocketAddr,
    /// What it said about its store: `memory store`, `redis store`, ...
    pub store: String,
}

/// The demo binary: `target/<profile>/deps/<this test>` → `target/<profile>/examples/demo`.
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    let bin = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps")
        .join("examples")
        .join("demo");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p session-hyper --example demo` (cargo test --workspace builds it)",
        bin.display()
    );
    bin
}

impl Demo {
    /// Starts the demo with these environment variables (plus `PORT=0`, unless given)
    /// and waits for its "listening on" line.
    #[allow(
        clippy::zombie_processes,
        reason = "the child moves into Demo, whose Drop kills and waits"
    )]
    pub fn start(env: &[(&str, &str)]) -> Demo {
        let mut cmd = Command::new(binary());
        cmd.env("PORT", "0")
            .env_remove("REDIS_URL")
            .env_remove("METRICS_PORT")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start the demo binary");
        let mut out = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut line = String::new();
        loop {
            line.clear();
            let n = out.read_line(&mut line).unwrap_or(0);
            if n == 0 {
                let _ = child.kill();
                let status = child.wait();
                panic!("the demo exited before listening: {status:?}");
            }
            if let Some(rest) = line.trim().strip_prefix("listening on http://") {
                let (addr, store) = rest.split_once(' ').expect("ADDR (store)");
                return Demo {
                    addr: addr.parse().expect("a socket address"),
                    store: store.trim_matches(|c| c == '(' || c == ')').to_owned(),
                    child,
                };
            }
        }
    }

    /// The demo's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The demo's base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
