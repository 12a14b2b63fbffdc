//! Runs a module of www/ in Node.js (installed by `cargo xtask setup`), for the page's logic
//! that needs no DOM: `checks` is an ES module body with node:assert as `assert` and the
//! module imported under `name`.
#![allow(dead_code)]

use std::process::Command;

/// The text of a file of the repository.
pub fn read(path: &str) -> String {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// What `script` (an ES module) prints; fails with Node's output when it fails.
pub fn output(script: &str) -> String {
    let out = Command::new("node")
        .args(["--input-type=module", "-e", script])
        .output()
        .expect("node (Debian package nodejs; `cargo xtask setup` installs it)");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Imports `www/{module}` as `name` and runs `checks`; fails with Node's output.
pub fn run(module: &str, name: &str, checks: &str) {
    let source = read(&format!("www/{module}"));
    let script = format!(
        "import assert from 'node:assert/strict';\n\
         const {name} = await import('data:text/javascript,' + encodeURIComponent({source:?}));\n\
         {checks}"
    );
    output(&script);
}
