//! `cargo xtask setup`: installs what the build, the tests and the benchmarks need and is
//! missing, and skips what is present, so it is cheap to run before every command.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::settings::Toolchain;
use crate::workspace::{is_root, on_path, output, run, Workspace};

/// wasm-pack version installed on a machine without one (the one the build was verified with).
const WASM_PACK_VERSION: &str = "0.15.1";

/// geckodriver version installed for the Firefox browser tests (verified with Firefox ESR 153).
const GECKODRIVER_VERSION: &str = "0.37.1";

/// A system program that some part of netreach needs (or, by absolute path, a file such as a
/// font), and the Debian package that provides it.
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
        program: "firefox-esr",
        package: "firefox-esr",
        needed_for: "browser tests in Firefox",
    },
    SystemTool {
        program: "certutil",
        package: "libnss3-tools",
        needed_for: "lab in Firefox (trusting the lab CA)",
    },
    SystemTool {
        program: "node",
        package: "nodejs",
        needed_for: "package build (terser), start check",
    },
    SystemTool {
        program: "npm",
        package: "npm",
        needed_for: "package build and tests (installs terser, typescript)",
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
        program: "pngquant",
        package: "pngquant",
        needed_for: "the README's dashboard screenshot (its command)",
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
        program: "/usr/share/fonts/truetype/noto/NotoNastaliqUrdu-Regular.ttf",
        package: "fonts-noto-core",
        needed_for: "the page in Urdu, Persian and Arabic in the browsers (lab, screenshots)",
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
    rust_toolchain(workspace)?;
    wasm_bindgen_cli(workspace)?;
    wasm_pack()?;
    geckodriver()?;
    system_tools()?;
    js_tools(workspace)?;
    println!("== setup: done");
    Ok(())
}

/// The components and targets rust-toolchain.toml lists, added to the release it pins (the one
/// rustup runs in this checkout, so nothing is installed twice): the package build rebuilds core
/// and alloc from rust-src for wasm32 (wasm-pack.toml, `immediate-abort`).
fn rust_toolchain(workspace: &Workspace) -> Result<(), String> {
    let pin = Toolchain::load(&workspace.path("rust-toolchain.toml"))?;
    let channel = pin.channel.as_str();
    let active = output(&mut workspace.command("rustc", &["--version"])).unwrap_or_default();
    // A release pin (not `nightly-DATE`) is what `rustc --version` prints.
    let is_release = channel.starts_with(|c: char| c.is_ascii_digit());
    if is_release && !active.starts_with(&format!("rustc {channel} ")) {
        println!(
            "warning: rust-toolchain.toml pins Rust {channel}, but `rustc --version` here says \
             `{}` (RUSTUP_TOOLCHAIN, a `+toolchain` or Rust without rustup?)",
            active.trim()
        );
    }
    add_missing(workspace, channel, "component", &pin.components)?;
    add_missing(workspace, channel, "target", &pin.targets)
}

/// `rustup KIND add --toolchain CHANNEL` for those of `wanted` that rustup does not list as
/// installed for that release.
fn add_missing(
    workspace: &Workspace,
    channel: &str,
    kind: &str,
    wanted: &[String],
) -> Result<(), String> {
    let rustup =
        |action: &str| workspace.command("rustup", &[kind, action, "--toolchain", channel]);
    let installed = output(rustup("list").arg("--installed"))
        .ok_or_else(|| format!("`rustup {kind} list` failed: is Rust installed with rustup?"))?;
    // Components built for a host carry its triple (`clippy-x86_64-unknown-linux-gnu`).
    let is_installed = |name: &str| {
        installed.lines().any(|line| {
            line == name || (kind == "component" && line.starts_with(&format!("{name}-")))
        })
    };
    let missing: Vec<&str> = wanted
        .iter()
        .map(String::as_str)
        .filter(|name| !is_installed(name))
        .collect();
    if missing.is_empty() {
        println!(
            "skip: Rust {channel} has its {kind}s: {}",
            wanted.join(", ")
        );
        return Ok(());
    }
    println!("install: Rust {channel} {kind}s: {}", missing.join(", "));
    run(rustup("add").args(&missing))
}

/// The JS tools in xtask/js: terser (the build minifies the glue with it) and typescript (the
/// tests type-check the package's declarations with its tsc).
const JS_TOOLS: [&str; 2] = ["terser", "typescript"];

/// The JS tools in xtask/js, at the versions its package.json pins (package-lock.json pins the
/// rest).
fn js_tools(workspace: &Workspace) -> Result<(), String> {
    let dir = workspace.path("xtask/js");
    let manifest = fs::read_to_string(dir.join("package.json"))
        .map_err(|error| format!("cannot read xtask/js/package.json: {error}"))?;
    let mut missing = Vec::new();
    for tool in JS_TOOLS {
        let pinned = manifest
            .split_once(&format!("\"{tool}\": \""))
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(version, _)| version)
            .ok_or_else(|| format!("xtask/js/package.json pins no {tool} version"))?;
        let installed = fs::read_to_string(dir.join(format!("node_modules/{tool}/package.json")))
            .is_ok_and(|text| text.contains(&format!("\"version\": \"{pinned}\"")));
        if !installed {
            missing.push(format!("{tool} {pinned}"));
        }
    }
    if missing.is_empty() {
        println!("skip: {} are installed in xtask/js", JS_TOOLS.join(" and "));
        return Ok(());
    }
    println!("install: {} in xtask/js (npm ci)", missing.join(", "));
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

/// geckodriver at the pinned version: the WebDriver server through which
/// wasm-bindgen-test-runner drives Firefox (`GECKODRIVER`, see stages.rs).
fn geckodriver() -> Result<(), String> {
    let wanted = format!("geckodriver {GECKODRIVER_VERSION}");
    let installed = geckodriver_path()
        .and_then(|path| output(Command::new(path).arg("--version")))
        .and_then(|text| text.lines().next().map(str::to_owned));
    match installed {
        Some(first_line)
            if first_line.starts_with(&format!("{wanted} ")) || first_line == wanted =>
        {
            println!("skip: {wanted} is installed, for browser tests in Firefox");
            return Ok(());
        }
        Some(other) => println!("install: {wanted} replacing `{other}` (takes about 2 minutes)"),
        None => println!("install: {wanted}, for browser tests in Firefox (takes about 2 minutes)"),
    }
    cargo_install("geckodriver", GECKODRIVER_VERSION)
}

/// geckodriver, on PATH or where `cargo install` puts it (`$CARGO_HOME/bin`, by default
/// `~/.cargo/bin`, which a non-login shell may not have on PATH).
pub fn geckodriver_path() -> Option<PathBuf> {
    if let Some(paths) = env::var_os("PATH") {
        if let Some(found) = env::split_paths(&paths)
            .map(|dir| dir.join("geckodriver"))
            .find(|path| path.is_file())
        {
            return Some(found);
        }
    }
    let cargo_home = env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))?;
    Some(cargo_home.join("bin/geckodriver")).filter(|path| path.is_file())
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
    if program.starts_with('/') {
        return Path::new(program).is_file();
    }
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
