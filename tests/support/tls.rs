//! TLS for the Redis tests: a private CA, a server certificate for 127.0.0.1, a client
//! certificate, and an unrelated CA, generated with the `openssl` command into a private
//! directory; and `redis-server` processes that speak TLS on a second port.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, Weak};

use crate::redis::{RedisCluster, RedisServer, free_port, shared_in};

const OPENSSL_HINT: &str =
    "openssl is not installed: run `apt-get install -y openssl` (scripts/test does this on Debian)";

/// Certificates in PEM files under a private directory (removed on drop).
#[derive(Debug)]
pub struct Certs {
    dir: PathBuf,
}

impl Certs {
    /// Generates the CA, the server and client certificates, and an unrelated CA.
    pub fn generate() -> Certs {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "session-tests-tls-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let certs = Certs { dir };
        certs.ca("ca");
        certs.ca("other-ca");
        // Client use too: cluster nodes present it to each other on the TLS bus.
        certs.leaf(
            "server",
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth",
        );
        certs.leaf(
            "client",
            "subjectAltName=DNS:session-tests-client\nextendedKeyUsage=clientAuth",
        );
        certs
    }

    /// The path of `name` (`ca.crt`, `server.key`, `client.crt`, `other-ca.crt`, ...).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn ca(&self, name: &str) {
        openssl(
            &self.dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "2",
                "-subj",
                &format!("/CN=session-tests {name}"),
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.crt"),
            ],
        );
    }

    fn leaf(&self, name: &str, extensions: &str) {
        let ext = format!("{name}.ext");
        std::fs::write(self.dir.join(&ext), extensions).unwrap();
        openssl(
            &self.dir,
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-subj",
                &format!("/CN=session-tests {name}"),
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
            ],
        );
        openssl(
            &self.dir,
            &[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                &ext,
                "-out",
                &format!("{name}.crt"),
            ],
        );
    }
}

impl Drop for Certs {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("openssl: {e}: {OPENSSL_HINT}"));
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A `redis-server` answering TLS on `tls_port` (and plain RESP on its `port`, which the
/// tests use only to watch and set up the server).
#[derive(Debug)]
pub struct TlsRedis {
    pub server: RedisServer,
    pub tls_port: u16,
    pub certs: Arc<Certs>,
}

impl TlsRedis {
    /// A server whose TLS port asks for a client certificate when `client_auth`.
    pub fn start(certs: Arc<Certs>, client_auth: bool) -> TlsRedis {
        Self::start_with(certs, client_auth, &[])
    }

    /// Like [`TlsRedis::start`], with extra `redis-server` arguments.
    pub fn start_with(certs: Arc<Certs>, client_auth: bool, extra: &[&str]) -> TlsRedis {
        // The cluster bus of a `tls-cluster` node listens on the TLS port + 10000.
        let tls_port = free_port(true);
        let paths: Vec<String> = ["server.crt", "server.key", "ca.crt"]
            .iter()
            .map(|f| certs.path(f).display().to_string())
            .collect();
        let tls_port_arg = tls_port.to_string();
        let mut args = vec![
            "--save",
            "",
            "--appendonly",
            "no",
            "--tls-port",
            &tls_port_arg,
            "--tls-cert-file",
            &paths[0],
            "--tls-key-file",
            &paths[1],
            "--tls-ca-cert-file",
            &paths[2],
            "--tls-auth-clients",
            if client_auth { "yes" } else { "no" },
        ];
        args.extend_from_slice(extra);
        let server = RedisServer::start_with(&args);
        TlsRedis {
            server,
            tls_port,
            certs,
        }
    }

    /// `rediss://127.0.0.1:<tls_port>/`.
    pub fn url(&self) -> String {
        format!("rediss://127.0.0.1:{}/", self.tls_port)
    }
}

/// One TLS server (no client certificates asked) shared by the tests that only need
/// isolation by key prefix, like [`crate::redis::shared`].
pub fn shared() -> Arc<TlsRedis> {
    static SHARED: Mutex<Weak<TlsRedis>> = Mutex::new(Weak::new());
    shared_in(&SHARED, || {
        TlsRedis::start(Arc::new(Certs::generate()), false)
    })
}

/// A three-primary Redis Cluster whose nodes speak TLS to clients and to each other
/// (`tls-cluster yes`): a TLS client is told the nodes' TLS ports.
#[derive(Debug)]
pub struct TlsRedisCluster {
    pub nodes: Vec<TlsRedis>,
}

impl TlsRedisCluster {
    pub fn start(certs: Arc<Certs>) -> TlsRedisCluster {
        let mut args = RedisCluster::ARGS.to_vec();
        args.extend(["--tls-cluster", "yes"]);
        let nodes: Vec<TlsRedis> = (0..3)
            .map(|_| TlsRedis::start_with(certs.clone(), false, &args))
            .collect();
        // Joined over the plain ports; the cluster bus itself runs on TLS.
        RedisCluster::join(&nodes.iter().map(|n| n.server.port).collect::<Vec<_>>());
        TlsRedisCluster { nodes }
    }

    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(TlsRedis::url).collect()
    }
}
