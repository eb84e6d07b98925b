//! The demo binary (session-hyper's `demo` example, what the README's first command
//! runs) as a child process on a free loopback port, stopped by PID when dropped. The
//! one way the suites start it.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

/// A running demo server.
#[derive(Debug)]
pub struct Demo {
    child: Child,
    /// Where it serves.
    pub addr: SocketAddr,
    /// What it said about its store: `memory store`, `redis store`, ...
    pub store: String,
    /// Where it serves metrics, with `METRICS_PORT`.
    pub metrics: Option<SocketAddr>,
    /// Its stdout lines after "listening on", read by a thread (so the pipe never
    /// fills up and blocks the demo's logging).
    pub lines: mpsc::Receiver<String>,
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
    /// Starts the demo with these environment variables on top of a clean one
    /// (`PORT=0`, `HOST=127.0.0.1`, no secret, no Redis, no metrics, default timeouts)
    /// and waits for its "listening on" line.
    pub fn start(env: &[(&str, &str)]) -> Demo {
        Self::start_limited(env, None)
    }

    /// As [`Demo::start`], under `ulimit -n nofile` when given.
    #[allow(
        clippy::zombie_processes,
        reason = "the child moves into Demo, whose Drop kills and waits"
    )]
    pub fn start_limited(env: &[(&str, &str)], nofile: Option<u32>) -> Demo {
        let mut cmd = match nofile {
            // The shell lowers its limit, then becomes the demo (same pid, inherited).
            Some(n) => {
                let mut sh = Command::new("sh");
                sh.arg("-c")
                    .arg(format!("ulimit -n {n} && exec \"$0\""))
                    .arg(binary());
                sh
            }
            None => Command::new(binary()),
        };
        cmd.env("PORT", "0")
            .env("HOST", "127.0.0.1")
            .env_remove("SESSION_SECRET")
            .env_remove("REDIS_URL")
            .env_remove("REDIS_CA_FILE")
            .env_remove("DATABASE_URL")
            .env_remove("SESSION_MODE")
            .env_remove("METRICS_PORT")
            .env_remove("LOG_FORMAT")
            .env_remove("HEADER_READ_TIMEOUT_MS")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().expect("start the demo binary");
        let mut out = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut metrics = None;
        let mut line = String::new();
        let (addr, store) = loop {
            line.clear();
            if out.read_line(&mut line).unwrap_or(0) == 0 {
                let _ = child.kill();
                let status = child.wait();
                panic!("the demo exited before listening: {status:?}");
            }
            let line = line.trim();
            if let Some(rest) = line.strip_prefix("metrics on http://") {
                metrics = rest.trim_end_matches("/metrics").parse().ok();
            } else if let Some(rest) = line.strip_prefix("listening on http://") {
                let (addr, store) = rest.split_once(' ').expect("ADDR (store)");
                let store = store.trim_matches(|c| c == '(' || c == ')').to_owned();
                break (addr.parse().expect("a socket address"), store);
            }
        };
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in out.lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Demo {
            child,
            addr,
            store,
            metrics,
            lines,
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

    /// Panics if the demo process has exited.
    pub fn assert_alive(&mut self, context: &str) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("the demo exited ({status}) {context}");
        }
        assert!(
            std::path::Path::new(&format!("/proc/{}", self.pid())).exists(),
            "the demo's pid is gone {context}"
        );
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
