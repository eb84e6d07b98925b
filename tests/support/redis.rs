//! Private `redis-server` processes for the tests: a free loopback port, a private
//! directory, no persistence unless asked, stopped by PID when dropped. A missing
//! `redis-server` fails the test with the command that installs it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

const INSTALL_HINT: &str = "redis-server is not installed: run `apt-get install -y redis-server redis-tools` (scripts/test does this on Debian)";

/// A `redis-server` child process.
#[derive(Debug)]
pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
    dir: PathBuf,
    args: Vec<String>,
}

/// A free loopback port (and, with `bus`, its cluster-bus port + 10000 free too), never
/// one this process handed out before: the kernel may offer a port again as soon as the
/// probe closes, before the server meant for it has bound it (two servers of parallel
/// tests then shared a port and a data folder).
pub fn free_port(bus: bool) -> u16 {
    static GIVEN: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    loop {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        if bus && (port >= 55_535 || TcpListener::bind(("127.0.0.1", port + 10_000)).is_err()) {
            continue;
        }
        let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
        let taken = |p: u16| given.contains(&p);
        if taken(port) || (bus && (taken(port + 10_000) || port >= 10_000 && taken(port - 10_000)))
        {
            continue;
        }
        given.push(port);
        if bus {
            given.push(port + 10_000);
        }
        return port;
    }
}

impl RedisServer {
    /// A server with no persistence.
    pub fn start() -> Self {
        Self::start_with(&["--save", "", "--appendonly", "no"])
    }

    /// A server with extra arguments (e.g. `--appendonly yes`).
    pub fn start_with(extra: &[&str]) -> Self {
        Self::start_on(free_port(extra.contains(&"--cluster-enabled")), extra)
    }

    /// A server on a given port (e.g. one a lazy store was pointed at earlier).
    pub fn start_on(port: u16, extra: &[&str]) -> Self {
        let dir =
            std::env::temp_dir().join(format!("session-tests-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut server = RedisServer {
            child: None,
            port,
            dir,
            args: extra.iter().map(|s| s.to_string()).collect(),
        };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let mut cmd = Command::new("redis-server");
        cmd.arg("--port")
            .arg(self.port.to_string())
            .arg("--bind")
            .arg("127.0.0.1")
            .arg("--dir")
            .arg(&self.dir)
            .arg("--daemonize")
            .arg("no")
            .arg("--logfile")
            .arg("")
            .args(&self.args)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!("{INSTALL_HINT}"),
            Err(e) => panic!("could not start redis-server: {e}"),
        };
        self.child = Some(child);
        self.wait_ready();
    }

    fn wait_ready(&self) {
        wait_ready(self.port, "redis-server");
    }

    /// `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// SIGKILL, by PID.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts again on the same port and directory (after [`RedisServer::kill`]).
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// Sends one command over a fresh connection and returns the raw reply.
    pub fn command(&self, args: &[&str]) -> String {
        command(self.port, args).unwrap()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Waits until `what` on `port` answers `PING` (or `NOAUTH`: up, with a password).
pub fn wait_ready(port: u16, what: &str) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if command(port, &["PING"])
            .is_ok_and(|r| r.starts_with("+PONG") || r.starts_with("-NOAUTH"))
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{what} on port {port} did not answer PING within 10 s");
}

/// One RESP command over a fresh connection; the raw reply.
pub fn command(port: u16, args: &[&str]) -> std::io::Result<String> {
    commands(port, &[args])
}

/// Commands sent in order over one fresh connection (an `AUTH` first, say); the raw
/// replies, read until each is complete.
pub fn commands(port: u16, commands: &[&[&str]]) -> std::io::Result<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut req = String::new();
    for args in commands {
        req.push_str(&format!("*{}\r\n", args.len()));
        for a in *args {
            req.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
    }
    s.write_all(req.as_bytes())?;
    let mut got = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let mut rest = &got[..];
        if (0..commands.len()).all(|_| skip_reply(&mut rest)) {
            return Ok(String::from_utf8_lossy(&got).into_owned());
        }
        let n = s.read(&mut buf)?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                String::from_utf8_lossy(&got).into_owned(),
            ));
        }
        got.extend_from_slice(&buf[..n]);
    }
}

/// Moves `rest` past one complete RESP reply; false if it is not all there yet.
fn skip_reply(rest: &mut &[u8]) -> bool {
    let Some(end) = rest.windows(2).position(|w| w == b"\r\n") else {
        return false;
    };
    if end == 0 {
        *rest = &rest[2..]; // not RESP: an empty line
        return true;
    }
    let (kind, len) = (rest[0], std::str::from_utf8(&rest[1..end]).unwrap_or(""));
    *rest = &rest[end + 2..];
    match (kind, len.parse::<i64>()) {
        (b'$', Ok(n)) if n >= 0 => {
            let n = n as usize + 2;
            rest.len() >= n && {
                *rest = &rest[n..];
                true
            }
        }
        (b'*', Ok(n)) if n > 0 => (0..n).all(|_| skip_reply(rest)),
        _ => true,
    }
}

/// A shared server for tests that only need isolation by key prefix: started on first
/// use, stopped when the last test holding it ends.
pub fn shared() -> Arc<RedisServer> {
    static SHARED: Mutex<Weak<RedisServer>> = Mutex::new(Weak::new());
    shared_in(&SHARED, RedisServer::start)
}

/// The server `slot` holds while some test holds it, or a new one from `start`.
pub fn shared_in<T>(slot: &Mutex<Weak<T>>, start: impl FnOnce() -> T) -> Arc<T> {
    let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(s) = slot.upgrade() {
        return s;
    }
    let s = Arc::new(start());
    *slot = Arc::downgrade(&s);
    s
}

/// A unique key prefix, so stores sharing a server never see each other's sessions.
pub fn unique_prefix() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "sess:t{}-{}:",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Watches the commands clients send (`MONITOR`), skipping those run inside scripts.
pub struct Monitor {
    reader: BufReader<TcpStream>,
    port: u16,
}

impl Monitor {
    pub fn start(port: u16) -> Monitor {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(b"MONITOR\r\n").unwrap();
        let mut reader = BufReader::new(s);
        let mut ok = String::new();
        reader.read_line(&mut ok).unwrap();
        assert!(ok.starts_with("+OK"), "MONITOR refused: {ok}");
        Monitor { reader, port }
    }

    /// The commands clients sent since the last call (script-internal ones excluded),
    /// e.g. `"EVALSHA" "..."`; reads up to a marker it sends itself.
    pub fn take(&mut self) -> Vec<String> {
        let marker = format!("monitor-marker-{}", Instant::now().elapsed().as_nanos());
        command(self.port, &["ECHO", &marker]).unwrap();
        let mut out = Vec::new();
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).unwrap();
            if line.contains(&marker) {
                return out;
            }
            // "+1700000000.123456 [0 127.0.0.1:5000] "GET" "key"" or "[0 lua] ..."
            if line.contains(" lua] ") {
                continue;
            }
            if let Some((_, cmd)) = line.trim_end().split_once("] ") {
                out.push(cmd.to_owned());
            }
        }
    }
}

/// A local Redis Cluster of three primaries on free loopback ports, built with
/// `redis-cli --cluster create`; stopped (each node by PID) when dropped.
pub struct RedisCluster {
    pub nodes: Vec<RedisServer>,
}

impl RedisCluster {
    /// The cluster's `redis-server` arguments.
    pub const ARGS: [&str; 8] = [
        "--cluster-enabled",
        "yes",
        "--cluster-node-timeout",
        "2000",
        "--save",
        "",
        "--appendonly",
        "no",
    ];

    pub fn start() -> RedisCluster {
        let nodes: Vec<RedisServer> = (0..3)
            .map(|_| RedisServer::start_with(&Self::ARGS))
            .collect();
        Self::join(&nodes.iter().map(|n| n.port).collect::<Vec<_>>());
        RedisCluster { nodes }
    }

    /// Joins started nodes (by their plain ports) into a cluster and waits until it is
    /// ready.
    pub fn join(ports: &[u16]) {
        let addrs: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
        let mut create = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addrs)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("redis-cli: {e}: {INSTALL_HINT}"));
        let start = Instant::now();
        // redis-cli waits for the nodes to meet with no time limit of its own.
        let status = loop {
            if let Some(status) = create.try_wait().unwrap() {
                break status;
            }
            if start.elapsed() > Duration::from_secs(30) {
                let _ = create.kill();
                let _ = create.wait();
                panic!("redis-cli --cluster create did not finish within 30 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(
            status.success(),
            "redis-cli --cluster create failed: {status}"
        );
        loop {
            let ok = ports.iter().all(|&p| {
                command(p, &["CLUSTER", "INFO"]).is_ok_and(|r| r.contains("cluster_state:ok"))
            });
            if ok {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the cluster did not become ready"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }
}
