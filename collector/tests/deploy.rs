//! The deployment files in `deploy/` (DEPLOY.md) against the code they start: every collector
//! flag they pass exists, the trusted proxy is the proxy's fixed address, and the image is
//! built with the toolchain and tools the repository pins. (No container engine runs here, so
//! the image itself is not built.)

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn help() -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_netreach-collector"))
        .arg("--help")
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

/// Every `--flag` in `text` (YAML list items, JSON arrays).
fn flags(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == '"' || c == ',' || c == '[')
        .filter(|w| w.starts_with("--") && w.len() > 2 && w.as_bytes()[2].is_ascii_lowercase())
        .map(str::to_owned)
        .collect()
}

/// The value of `key: value` on the first line that has it.
fn yaml_value<'a>(text: &'a str, key: &str) -> &'a str {
    text.lines()
        .find_map(|line| line.trim().strip_prefix(key))
        .unwrap_or_else(|| panic!("no {key} in compose.yaml"))
        .trim()
}

#[test]
fn every_flag_the_deployment_passes_exists() {
    let help = help();
    let compose = read("deploy/compose.yaml");
    let containerfile = read("deploy/Containerfile");
    let entrypoint = containerfile
        .lines()
        .filter(|l| l.starts_with("ENTRYPOINT") || l.starts_with("CMD"))
        .collect::<Vec<_>>()
        .join("\n");
    // The collectors' `command` items (comments may show other programs' flags).
    let command: String = compose
        .lines()
        .filter(|l| l.trim().starts_with("- --"))
        .collect::<Vec<_>>()
        .join("\n");
    let used: Vec<String> = flags(&command)
        .into_iter()
        .chain(flags(&entrypoint))
        .collect();
    assert!(used.len() >= 10, "flags found: {used:?}");
    for flag in &used {
        assert!(
            help.contains(&format!("{flag} ")),
            "{flag} is passed by deploy/ but `netreach-collector --help` has no such flag"
        );
    }
    for needed in ["--public-origin", "--trusted-proxy", "--database"] {
        assert!(
            used.iter().any(|f| f == needed),
            "compose.yaml lacks {needed}"
        );
    }
}

#[test]
fn the_collectors_trust_exactly_the_proxys_address() {
    let compose = read("deploy/compose.yaml");
    let proxy = yaml_value(&compose, "ipv4_address:");
    let lines: Vec<&str> = compose.lines().map(str::trim).collect();
    let at = lines
        .iter()
        .position(|l| *l == "- --trusted-proxy")
        .expect("--trusted-proxy in the collectors' command");
    assert_eq!(lines[at + 1], format!("- {proxy}/32"));
    let subnet = yaml_value(&compose, "- subnet:");
    assert!(
        proxy.starts_with(subnet.trim_end_matches("0/24")),
        "{proxy} outside {subnet}"
    );
}

#[test]
fn the_image_is_built_with_what_the_repository_pins() {
    let containerfile = read("deploy/Containerfile");
    let toolchain = read("rust-toolchain.toml");
    let channel = yaml_value(&toolchain, "channel =").trim_matches('"');
    assert!(
        containerfile.contains(&format!("rust:{channel}-bookworm")),
        "the build stage's Rust is not rust-toolchain.toml's {channel}"
    );
    let setup = read("xtask/src/setup.rs");
    let wasm_pack = setup
        .split("const WASM_PACK_VERSION: &str = \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap();
    assert!(
        containerfile.contains(&format!("wasm-pack --version {wasm_pack}")),
        "the image's wasm-pack is not setup's {wasm_pack}"
    );
    for path in ["Cargo.lock", "xtask/js/package-lock.json", "www/campaigns"] {
        assert!(
            repo().join(path).exists(),
            "{path}, used by the image build"
        );
    }
}
