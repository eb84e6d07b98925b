//! Shared by the demo tests: where the demo binary is.

use std::path::PathBuf;

/// `target/<profile>/deps/<test>-<hash>` → `target/<profile>/examples/demo`.
pub(crate) fn demo_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join("demo");
    assert!(
        path.exists(),
        "{} is missing: `cargo test` builds examples; run `cargo build -p session-hyper --example demo`",
        path.display()
    );
    path
}
