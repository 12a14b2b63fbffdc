//! Shared by the native tests of the pages' scripts: a module of `www/` run in Node.js
//! (installed by `cargo xtask setup`), for the parts that need no browser.
#![allow(dead_code)]

use std::process::Command;

/// A file of the repository, by its path from the root.
pub fn read(path: &str) -> String {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// Runs `checks` (an ES module body, with node:assert as `assert`) after importing the module
/// at `path` as `name`; fails with Node's output when an assertion does.
pub fn check_module(path: &str, name: &str, checks: &str) {
    let module = read(path);
    let script = format!(
        "import assert from 'node:assert/strict';\n\
         const {name} = await import('data:text/javascript,' + encodeURIComponent({module:?}));\n\
         {checks}"
    );
    let out = Command::new("node")
        .args(["--input-type=module", "-e", &script])
        .output()
        .expect("node (Debian package nodejs; `cargo xtask setup` installs it)");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
