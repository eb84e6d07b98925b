//! A private PostgreSQL server for the tests: `initdb` into a temporary folder, `postgres`
//! on a free loopback port, stopped by PID (a fast shutdown) when dropped. The server
//! refuses to run as root, so as root (CI) both run as `nobody` through `setpriv`. A
//! missing PostgreSQL fails the test with the command that installs it.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::redis::free_port;

const INSTALL_HINT: &str = "PostgreSQL is not installed: run `apt-get install -y postgresql` (scripts/test does this on Debian)";

/// The unprivileged account the server runs as when the tests run as root.
const UNPRIVILEGED: (&str, u32, u32) = ("nobody", 65_534, 65_534);

/// A `postgres` child process with its own data directory.
#[derive(Debug)]
pub struct PgServer {
    child: Option<Child>,
    pub port: u16,
    dir: PathBuf,
    settings: Vec<String>,
}

impl PgServer {
    /// Initializes a cluster (user `postgres`, trust authentication on loopback only)
    /// and starts it on a free port.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// As [`PgServer::start`], with server settings (`"timezone=Pacific/Auckland"`,
    /// `"log_statement=all"`); the server's log goes to [`PgServer::log`].
    pub fn start_with(settings: &[&str]) -> Self {
        let mut server = Self::init(settings);
        server.spawn();
        server
    }

    /// As [`PgServer::start`], speaking TLS (and plain) with the certificate `certs`'s
    /// CA signed for 127.0.0.1.
    pub fn start_tls(certs: &crate::tls::Certs) -> Self {
        let mut server = Self::init(&["ssl=on"]);
        for (from, to) in [("server.crt", "tls.crt"), ("server.key", "tls.key")] {
            let path = server.dir.join(to);
            std::fs::copy(certs.path(from), &path).unwrap();
            // The server refuses a key others can read, and must own it.
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
            if running_as_root() {
                let (_, uid, gid) = UNPRIVILEGED;
                std::os::unix::fs::chown(&path, Some(uid), Some(gid)).unwrap();
            }
            let setting = if to == "tls.crt" {
                "ssl_cert_file"
            } else {
                "ssl_key_file"
            };
            server
                .settings
                .push(format!("{setting}={}", path.display()));
        }
        server.spawn();
        server
    }

    /// A cluster in its own folder, not yet running.
    fn init(settings: &[&str]) -> Self {
        let port = free_port(false);
        let dir =
            std::env::temp_dir().join(format!("session-tests-pg-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        if running_as_root() {
            let (_, uid, gid) = UNPRIVILEGED;
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).unwrap();
        }
        let data = dir.join("data");
        let out = checked(
            unprivileged(&bin("initdb"))
                .arg("-D")
                .arg(&data)
                .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"])
                .stdout(Stdio::null()),
            "initdb",
        );
        assert!(out.status.success(), "initdb failed: {}", text(&out.stderr));
        PgServer {
            child: None,
            port,
            dir,
            settings: settings.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("server.log"))
            .unwrap();
        let mut settings = vec!["max_connections=400".to_owned()];
        settings.extend(self.settings.iter().cloned());
        let child = unprivileged(&bin("postgres"))
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-p", &self.port.to_string(), "-h", "127.0.0.1", "-k"])
            .arg(&self.dir)
            // A test server: nothing needs to survive a crash of the machine.
            .args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
            .args(["-c", "full_page_writes=off"])
            .args(settings.iter().flat_map(|s| ["-c", s.as_str()]))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("could not start postgres: {e}"));
        self.child = Some(child);
        self.wait_ready();
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = Command::new(bin("pg_isready"))
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-q"])
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "postgres on port {} did not become ready in 30 s",
                self.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `postgres://postgres@127.0.0.1:<port>/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// The server's log so far (statements too, with `log_statement=all`).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    /// How many statements mentioning `needle` the server has executed so far (needs
    /// `log_statement=all`; a prepared statement counts once per execution).
    pub fn executed(&self, needle: &str) -> usize {
        self.log()
            .lines()
            .filter(|l| l.contains("LOG:  execute") || l.contains("LOG:  statement:"))
            .filter(|l| l.contains(needle))
            .count()
    }

    /// A connection of the test's own (as another application would hold one), its
    /// driver spawned on the current runtime.
    pub async fn connect(&self) -> tokio_postgres::Client {
        let (client, connection) = tokio_postgres::connect(&self.url(), tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client
    }

    /// A connection inside a transaction holding an exclusive lock on `table` (every
    /// statement on it waits) until it runs `ROLLBACK` or drops.
    pub async fn lock_table(&self, table: &str) -> tokio_postgres::Client {
        let client = self.connect().await;
        client
            .batch_execute(&format!(
                "BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"
            ))
            .await
            .unwrap();
        client
    }

    /// Runs SQL with `psql` and returns its unaligned, tuples-only output.
    pub fn psql(&self, sql: &str) -> String {
        let out = checked(
            Command::new(bin("psql"))
                .args(["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1"])
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
                .args(["-U", "postgres", "-d", "postgres", "-c", sql]),
            "psql",
        );
        assert!(out.status.success(), "psql {sql:?}: {}", text(&out.stderr));
        text(&out.stdout).trim_end().to_owned()
    }

    /// A fast shutdown (SIGINT to the postmaster, by PID), then SIGKILL if it lingers.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Starts again on the same port and data (after [`PgServer::stop`]).
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// `program`, run as the unprivileged account when the tests run as root. `setpriv`
/// replaces itself with the program, so the child's PID is the server's.
fn unprivileged(program: &Path) -> Command {
    if !running_as_root() {
        return Command::new(program);
    }
    let (_, uid, gid) = UNPRIVILEGED;
    let mut cmd = Command::new("setpriv");
    cmd.arg(format!("--reuid={uid}"))
        .arg(format!("--regid={gid}"))
        .arg("--clear-groups")
        .arg(program);
    cmd
}

/// A PostgreSQL program: on `PATH`, or in Debian's `/usr/lib/postgresql/<version>/bin`
/// (the newest version there).
fn bin(name: &str) -> PathBuf {
    if let Some(found) = std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
    {
        return found;
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let path = e.path().join("bin").join(name);
            path.is_file().then_some((version, path))
        })
        .collect();
    versions.sort();
    match versions.pop() {
        Some((_, path)) => path,
        None => panic!("{INSTALL_HINT} ({name} not found)"),
    }
}

fn checked(cmd: &mut Command, what: &str) -> Output {
    match cmd.output() {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!("{INSTALL_HINT} ({what})"),
        Err(e) => panic!("could not run {what}: {e}"),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A shared server for tests that only need isolation by table: started on first use,
/// stopped when the last test holding it ends.
pub fn shared() -> std::sync::Arc<PgServer> {
    static SHARED: std::sync::Mutex<std::sync::Weak<PgServer>> =
        std::sync::Mutex::new(std::sync::Weak::new());
    crate::redis::shared_in(&SHARED, PgServer::start)
}

/// A table name no other store in this test run uses.
pub fn unique_table() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "session_t{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}
