//! The README's axum quick start as a new user runs it: a fresh crate with only the
//! README's `[dependencies]` block (the session crates patched to this checkout, as
//! they would come from crates.io) and its code, built with cargo and asked twice for
//! `/`. The only change to the code is the port (a free one instead of 3000). Built in
//! `target/readme-quickstart` so later runs reuse the dependencies.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use session_tests::Client;
use session_tests::redis::free_port;

/// The fenced blocks of `lang` in the README section that starts with `heading`.
fn blocks(readme: &str, heading: &str, lang: &str) -> Vec<String> {
    let start = readme
        .find(heading)
        .unwrap_or_else(|| panic!("README has no {heading:?} section"));
    let section = &readme[start + heading.len()..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    let mut out = Vec::new();
    let mut rest = section;
    while let Some(open) = rest.find("```") {
        let after = &rest[open + 3..];
        let (info, body) = after.split_once('\n').unwrap();
        let close = body.find("\n```").unwrap();
        if info.trim().split(',').next() == Some(lang) {
            out.push(body[..close + 1].to_owned());
        }
        rest = &body[close + 4..];
    }
    out
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Removes the scratch crate however the test ends.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn the_readme_axum_quick_start_builds_and_answers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let toml = blocks(&readme, "## Quick start: axum", "toml");
    let rust = blocks(&readme, "## Quick start: axum", "rust");
    assert_eq!(
        (toml.len(), rust.len()),
        (1, 1),
        "one dependency block, one program"
    );
    assert!(toml[0].starts_with("[dependencies]"), "{}", toml[0]);

    let scratch =
        Scratch(std::env::temp_dir().join(format!("readme-quickstart-{}", std::process::id())));
    let dir = &scratch.0;
    std::fs::create_dir_all(dir.join("src")).unwrap();
    // The workspace's lock file: the dependency versions every other test uses (cargo
    // drops what the quick start does not need), so no new resolution is needed.
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let path = |c: &str| root.join(c).display().to_string();
    let manifest = format!(
        "[package]\nname = \"readme-quickstart\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n[workspace]\n\n{}\n[patch.crates-io]\nsession-core = {{ path = {:?} }}\nsession-hyper = {{ path = {:?} }}\nsession-store-memory = {{ path = {:?} }}\n",
        toml[0],
        path("session-core"),
        path("session-hyper"),
        path("session-store-memory"),
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    let target = root.join("target/readme-quickstart");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let build = |program: &str| {
        std::fs::write(dir.join("src/main.rs"), program).unwrap();
        let status = Command::new(&cargo)
            .args(["build", "--quiet", "--manifest-path"])
            .arg(dir.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", &target)
            .env_remove("RUSTFLAGS")
            .status()
            .expect("run cargo");
        assert!(status.success(), "the README's quick start does not build");
    };
    // The program as written, then with a free port picked just before it starts
    // (the second build only recompiles main.rs).
    build(&rust[0]);
    let port = free_port(false);
    let program = rust[0].replace("127.0.0.1:3000", &format!("127.0.0.1:{port}"));
    assert_ne!(
        program, rust[0],
        "the quick start listens on 127.0.0.1:3000"
    );
    build(&program);

    let mut server = Running(
        Command::new(target.join("debug/readme-quickstart"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let addr = format!("127.0.0.1:{port}").parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        if let Ok(Some(status)) = server.0.try_wait() {
            panic!("the quick start exited: {status}");
        }
        assert!(Instant::now() < deadline, "the quick start does not listen");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut c = Client::new(addr);
    assert_eq!(c.get("/").await.body, "views: 1");
    let second = c.get("/").await;
    assert_eq!(
        (second.status.as_u16(), second.body.as_str()),
        (200, "views: 2")
    );
}
