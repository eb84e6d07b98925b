//! The Node apps (tests/node: app.js, express-session on connect-redis or
//! connect-pg-simple, and h3-app.mjs) as child processes, stopped by PID when dropped.
//! Their npm packages live in tests/node/node_modules (ignored by git), installed by
//! scripts/test with `npm ci`.

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
        let max_age = config
            .max_age_ms
            .map_or("none".to_owned(), |m| m.to_string());
        Self::spawn(
            "app.js",
            "express-session",
            &[
                ("REDIS_URL", config.redis_url.as_str()),
                (
                    "SESSION_SECRETS",
                    &serde_json::to_string(&config.secrets).unwrap(),
                ),
                ("MAX_AGE_MS", &max_age),
                ("ROLLING", if config.rolling { "1" } else { "0" }),
            ],
        )
    }

    /// The express app on connect-pg-simple (`DATABASE_URL`), table `table`, created by
    /// connect-pg-simple when `create_table`; an hour's cookie, express's secret.
    pub fn start_pg(database_url: &str, table: &str, create_table: bool) -> NodeApp {
        Self::spawn(
            "app.js",
            "connect-pg-simple",
            &[
                ("DATABASE_URL", database_url),
                ("PG_TABLE", table),
                ("PG_CREATE_TABLE", if create_table { "1" } else { "0" }),
                ("SESSION_SECRETS", r#"["keyboard cat"]"#),
                ("MAX_AGE_MS", "3600000"),
            ],
        )
    }

    /// tests/node/passport-app.js: passport 0.7 sign-ins and connect-flash messages on
    /// express-session + connect-redis, signing with `secret`.
    pub fn start_passport(redis_url: &str, secret: &str) -> NodeApp {
        Self::spawn(
            "passport-app.js",
            "passport",
            &[
                ("REDIS_URL", redis_url),
                (
                    "SESSION_SECRETS",
                    &serde_json::to_string(&[secret]).unwrap(),
                ),
            ],
        )
    }

    /// The @scayle/h3-session app (tests/node/h3-app.mjs) on h3 + unstorage's Redis
    /// driver; h3-session signs with the LAST of `secrets`.
    pub fn start_h3(redis_url: &str, secrets: &[&str]) -> NodeApp {
        Self::spawn(
            "h3-app.mjs",
            "@scayle/h3-session",
            &[
                ("REDIS_URL", redis_url),
                ("SESSION_SECRETS", &serde_json::to_string(secrets).unwrap()),
            ],
        )
    }

    /// tests/node/sealed-app.mjs: `kind` is `h3` (h3 1.x `useSession`), `h3v2` (h3
    /// 2.x) or `iron-session`; `password` is its password as JSON (a string, or an
    /// iron-session map); `max_age` its `maxAge`/`ttl` in seconds.
    pub fn start_sealed(kind: &str, password: &str, max_age: Option<u64>) -> NodeApp {
        let package = match kind {
            "h3v2" => "h3-v2",
            "iron-session" => "iron-session",
            _ => "h3",
        };
        let max_age = max_age.map(|s| s.to_string()).unwrap_or_default();
        let mut env = vec![("SEALED_KIND", kind), ("PASSWORD", password)];
        if !max_age.is_empty() {
            env.push(("MAX_AGE", &max_age));
        }
        Self::spawn("sealed-app.mjs", package, &env)
    }

    /// Runs `script` with `env`, after checking that `package` is installed, and waits
    /// for its "listening <port>" line.
    fn spawn(script: &str, package: &str, env: &[(&str, &str)]) -> NodeApp {
        let dir = node_dir();
        assert!(
            dir.join("node_modules").join(package).exists(),
            "the Node interop packages are not installed: run `npm ci --prefix {}` (scripts/test does this; needs node and npm: `apt-get install -y nodejs npm`)",
            dir.display()
        );
        let child = match Command::new("node")
            .arg(dir.join(script))
            .envs(env.iter().copied())
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
