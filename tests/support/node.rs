//! The express-session + connect-redis app (tests/node/app.js) as a child process,
//! stopped by PID when dropped. Its npm packages live in tests/node/node_modules
//! (ignored by git), installed by scripts/test with `npm ci`.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// The Node app's directory.
pub fn node_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("node")
}

/// A running express app.
pub struct NodeApp {
    child: Child,
    pub addr: SocketAddr,
}

/// How to run the Node app.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    pub redis_url: String,
    pub secrets: Vec<String>,
    /// `None` for a browser-session cookie.
    pub max_age_ms: Option<u64>,
    pub rolling: bool,
}

impl NodeApp {
    pub fn start(config: &NodeConfig) -> NodeApp {
        let dir = node_dir();
        assert!(
            dir.join("node_modules").join("express-session").exists(),
            "the Node interop packages are not installed: run `npm ci --prefix {}` (scripts/test does this; needs node and npm: `apt-get install -y nodejs npm`)",
            dir.display()
        );
        let mut child = match Command::new("node")
            .arg(dir.join("app.js"))
            .env("REDIS_URL", &config.redis_url)
            .env(
                "SESSION_SECRETS",
                serde_json::to_string(&config.secrets).unwrap(),
            )
            .env(
                "MAX_AGE_MS",
                config
                    .max_age_ms
                    .map_or("none".to_owned(), |m| m.to_string()),
            )
            .env("ROLLING", if config.rolling { "1" } else { "0" })
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
        {
            Ok(c) => c,
            Err(e) => panic!(
                "could not run `node` ({e}): install Node.js 18+ (`apt-get install -y nodejs npm`)"
            ),
        };
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port: u16 = line
            .trim()
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("the Node app did not start: {line:?}"))
            .parse()
            .unwrap();
        NodeApp {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        }
    }
}

impl NodeApp {
    /// The @scayle/h3-session app (tests/node/h3-app.mjs) on h3 + unstorage's Redis
    /// driver; h3-session signs with the LAST of `secrets`.
    pub fn start_h3(redis_url: &str, secrets: &[&str]) -> NodeApp {
        let dir = node_dir();
        assert!(
            dir.join("node_modules")
                .join("@scayle")
                .join("h3-session")
                .exists(),
            "the Node interop packages are not installed: run `npm ci --prefix {}` (scripts/test does this; needs node and npm: `apt-get install -y nodejs npm`)",
            dir.display()
        );
        let child = match Command::new("node")
            .arg(dir.join("h3-app.mjs"))
            .env("REDIS_URL", redis_url)
            .env("SESSION_SECRETS", serde_json::to_string(secrets).unwrap())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
        {
            Ok(c) => c,
            Err(e) => panic!(
                "could not run `node` ({e}): install Node.js 18+ (`apt-get install -y nodejs npm`)"
            ),
        };
        Self::listening(child)
    }

    fn listening(mut child: Child) -> NodeApp {
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let Some(port) = line
            .trim()
            .strip_prefix("listening ")
            .and_then(|p| p.parse::<u16>().ok())
        else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the Node app did not start: {line:?}");
        };
        NodeApp {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        }
    }
}

impl Drop for NodeApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
