//! `cargo xtask setup`: installs what the build, the tests and the benchmarks need and is
//! missing, and skips what is present, so it is cheap to run before every command.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::workspace::{is_root, on_path, output, run, Workspace};

/// wasm-pack version installed on a machine without one (the one the build was verified with).
const WASM_PACK_VERSION: &str = "0.15.1";

/// A system program that some part of netreach needs, and the Debian package that provides it.
struct SystemTool {
    program: &'static str,
    package: &'static str,
    needed_for: &'static str,
}

const SYSTEM_TOOLS: &[SystemTool] = &[
    SystemTool {
        program: "chromium",
        package: "chromium",
        needed_for: "browser tests, lab",
    },
    SystemTool {
        program: "chromedriver",
        package: "chromium-driver",
        needed_for: "browser tests, lab",
    },
    SystemTool {
        program: "node",
        package: "nodejs",
        needed_for: "package build (terser), start check",
    },
    SystemTool {
        program: "npm",
        package: "npm",
        needed_for: "package build (installs terser)",
    },
    SystemTool {
        program: "gzip",
        package: "gzip",
        needed_for: "size budget",
    },
    SystemTool {
        program: "wrk",
        package: "wrk",
        needed_for: "ingest benchmark",
    },
    SystemTool {
        program: "nginx",
        package: "nginx-light",
        needed_for: "ingest benchmark baseline",
    },
    SystemTool {
        program: "ip",
        package: "iproute2",
        needed_for: "lab namespaces",
    },
    SystemTool {
        program: "tc",
        package: "iproute2",
        needed_for: "lab throttling",
    },
    SystemTool {
        program: "iptables",
        package: "iptables",
        needed_for: "lab censors (drop, reset, loss)",
    },
    SystemTool {
        program: "postgres",
        package: "postgresql",
        needed_for: "collector tests on PostgreSQL",
    },
    SystemTool {
        program: "initdb",
        package: "postgresql",
        needed_for: "collector tests on PostgreSQL",
    },
];

/// Installs whatever is missing.
///
/// # Errors
/// An install step fails.
pub fn setup(workspace: &Workspace) -> Result<(), String> {
    println!("== setup: checking tools (installs only what is missing)");
    wasm_target()?;
    rust_src()?;
    wasm_bindgen_cli(workspace)?;
    wasm_pack()?;
    system_tools()?;
    js_tools(workspace)?;
    println!("== setup: done");
    Ok(())
}

fn wasm_target() -> Result<(), String> {
    const TARGET: &str = "wasm32-unknown-unknown";
    let libdir =
        output(Command::new("rustc").args(["--print", "target-libdir", "--target", TARGET]));
    let installed = libdir.is_some_and(|dir| {
        fs::read_dir(dir.trim()).is_ok_and(|mut entries| entries.next().is_some())
    });
    if installed {
        println!("skip: Rust target {TARGET} is installed");
        return Ok(());
    }
    println!("install: Rust target {TARGET}");
    run(Command::new("rustup").args(["target", "add", TARGET]))
}

/// The standard library's sources: the package build rebuilds core and alloc from them
/// (wasm-pack.toml, `immediate-abort`).
fn rust_src() -> Result<(), String> {
    let sysroot = output(Command::new("rustc").args(["--print", "sysroot"]));
    let installed = sysroot.is_some_and(|root| {
        Path::new(root.trim())
            .join("lib/rustlib/src/rust/library/core/Cargo.toml")
            .is_file()
    });
    if installed {
        println!("skip: Rust component rust-src is installed");
        return Ok(());
    }
    println!("install: Rust component rust-src");
    run(Command::new("rustup").args(["component", "add", "rust-src"]))
}

/// terser in xtask/js, at the version its package.json pins (package-lock.json pins the rest).
fn js_tools(workspace: &Workspace) -> Result<(), String> {
    let dir = workspace.path("xtask/js");
    let manifest = fs::read_to_string(dir.join("package.json"))
        .map_err(|error| format!("cannot read xtask/js/package.json: {error}"))?;
    let pinned = manifest
        .split_once("\"terser\": \"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(version, _)| version)
        .ok_or("xtask/js/package.json pins no terser version")?;
    let installed = fs::read_to_string(dir.join("node_modules/terser/package.json"))
        .is_ok_and(|text| text.contains(&format!("\"version\": \"{pinned}\"")));
    if installed {
        println!("skip: terser {pinned} is installed in xtask/js");
        return Ok(());
    }
    println!("install: terser {pinned} in xtask/js (npm ci)");
    run(Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir))
}

/// The wasm-bindgen version in Cargo.lock: the CLI must match the library exactly.
///
/// # Errors
/// Cargo.lock is unreadable or has no wasm-bindgen package.
pub fn locked_wasm_bindgen_version(workspace: &Workspace) -> Result<String, String> {
    let path = workspace.path("Cargo.lock");
    let lock = fs::read_to_string(&path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    locked_version(&lock, "wasm-bindgen")
        .ok_or_else(|| format!("{} has no wasm-bindgen package", path.display()))
}

fn locked_version(lock: &str, package: &str) -> Option<String> {
    let name_line = format!("name = \"{package}\"");
    let mut lines = lock.lines().map(str::trim);
    while let Some(line) = lines.next() {
        if line == name_line {
            let version = lines
                .next()?
                .strip_prefix("version = \"")?
                .strip_suffix('"')?;
            return Some(version.to_string());
        }
    }
    None
}

fn wasm_bindgen_cli(workspace: &Workspace) -> Result<(), String> {
    let version = locked_wasm_bindgen_version(workspace)?;
    let installed = output(Command::new("wasm-bindgen").arg("--version"));
    let runner = on_path("wasm-bindgen-test-runner");
    if runner && installed.as_deref().map(str::trim) == Some(&format!("wasm-bindgen {version}")) {
        println!("skip: wasm-bindgen-cli {version} is installed (matches Cargo.lock)");
        return Ok(());
    }
    match installed {
        Some(other) => println!(
            "install: wasm-bindgen-cli {version} (Cargo.lock) replacing `{}` (takes a few minutes)",
            other.trim()
        ),
        None => println!("install: wasm-bindgen-cli {version} (Cargo.lock; takes a few minutes)"),
    }
    cargo_install("wasm-bindgen-cli", &version)
}

fn wasm_pack() -> Result<(), String> {
    if let Some(version) = output(Command::new("wasm-pack").arg("--version")) {
        println!("skip: {} is installed", version.trim());
        return Ok(());
    }
    println!("install: wasm-pack {WASM_PACK_VERSION} (takes a few minutes)");
    cargo_install("wasm-pack", WASM_PACK_VERSION)
}

/// `cargo install --locked` first (the versions its authors tested); without `--locked` when a
/// locked dependency is not available from the registry this machine reaches.
fn cargo_install(krate: &str, version: &str) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let locked =
        run(Command::new(&cargo).args(["install", krate, "--version", version, "--locked"]));
    match locked {
        Ok(()) => Ok(()),
        Err(error) => {
            println!("note: {error}; retrying without --locked (newest compatible dependencies)");
            run(Command::new(&cargo).args(["install", krate, "--version", version]))
        }
    }
}

fn system_tools() -> Result<(), String> {
    let mut packages: Vec<&str> = Vec::new();
    for tool in SYSTEM_TOOLS {
        if system_program(tool.program) {
            println!(
                "skip: {} is installed, for {}",
                tool.program, tool.needed_for
            );
        } else {
            println!(
                "install: {} from Debian package {}, for {}",
                tool.program, tool.package, tool.needed_for
            );
            if !packages.contains(&tool.package) {
                packages.push(tool.package);
            }
        }
    }
    if packages.is_empty() {
        return Ok(());
    }
    let sudo = !is_root();
    let apt = |args: &[&str]| {
        let mut command = if sudo {
            let mut command = Command::new("sudo");
            command.args(["--preserve-env=DEBIAN_FRONTEND", "apt-get"]);
            command
        } else {
            Command::new("apt-get")
        };
        command.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        command
    };
    run(&mut apt(&["update", "-q"]))?;
    let mut install = vec!["install", "-y", "-q"];
    install.extend(&packages);
    run(&mut apt(&install))
}

/// Whether a system program is installed: on PATH, in the sbin directories (missing from some
/// users' PATH), or, for PostgreSQL's server programs, in Debian's versioned directory.
pub fn system_program(program: &str) -> bool {
    on_path(program)
        || ["/usr/sbin", "/sbin", "/usr/local/sbin"]
            .iter()
            .any(|dir| Path::new(dir).join(program).is_file())
        || postgres_bin_dir().is_some_and(|dir| dir.join(program).is_file())
}

/// Debian's PostgreSQL server binaries, newest version first: /usr/lib/postgresql/<N>/bin.
pub fn postgres_bin_dir() -> Option<std::path::PathBuf> {
    let mut versions: Vec<(u32, std::path::PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, bin)| bin.join("postgres").is_file())
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wasm_bindgen_version_comes_from_the_lock_file() {
        let lock = "[[package]]\nname = \"wasm-bindgen-futures\"\nversion = \"0.4.80\"\n\n\
                    [[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.130\"\n";
        assert_eq!(
            locked_version(lock, "wasm-bindgen").as_deref(),
            Some("0.2.130")
        );
        assert_eq!(locked_version(lock, "js-sys"), None);
    }

    #[test]
    fn the_committed_lock_file_pins_wasm_bindgen_like_cargo_toml() {
        let workspace = Workspace::locate();
        let locked = locked_wasm_bindgen_version(&workspace).unwrap();
        let manifest = fs::read_to_string(workspace.path("Cargo.toml")).unwrap();
        let pinned = [
            format!("wasm-bindgen = \"={locked}\""),
            format!("wasm-bindgen = {{ version = \"={locked}\""),
        ];
        assert!(
            pinned.iter().any(|pin| manifest.contains(pin.as_str())),
            "Cargo.toml must pin wasm-bindgen to ={locked}, the version in Cargo.lock"
        );
    }
}
