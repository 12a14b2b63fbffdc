//! `cargo xtask test`: every check in one command, stage after stage. A failed stage does not
//! stop the run, so one run shows every result; the summary ends with `N passed, M failed`.
//! A stage that did not run (SKIPPED) fails the run too, unless `--allow-skip` was given:
//! green means every chosen stage ran and passed.

use std::env;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::workspace::{check, describe, is_root, program_and_args, run_with_limit, Workspace};
use crate::{package, setup};

/// How a stage ended.
enum Outcome {
    Passed,
    Failed(String),
    /// Did not run, and says why; never counted as passed.
    Skipped(String),
}

impl From<Result<(), String>> for Outcome {
    fn from(result: Result<(), String>) -> Outcome {
        match result {
            Ok(()) => Outcome::Passed,
            Err(error) => Outcome::Failed(error),
        }
    }
}

struct Stage {
    name: &'static str,
    about: &'static str,
    run: fn(&Workspace) -> Outcome,
}

const STAGES: &[Stage] = &[
    Stage {
        name: "setup",
        about: "install what is missing",
        run: |w| setup::setup(w).into(),
    },
    Stage {
        name: "fmt",
        about: "cargo fmt --all -- --check",
        run: fmt,
    },
    Stage {
        name: "clippy",
        about: "clippy, native, all targets, -D warnings",
        run: clippy_native,
    },
    Stage {
        name: "clippy-wasm",
        about: "clippy on the engine for wasm32, -D warnings",
        run: |workspace| clippy_wasm(workspace).into(),
    },
    Stage {
        name: "native",
        about: "cargo test --workspace (engine core, collector, lab, xtask)",
        run: native_tests,
    },
    Stage {
        name: "package",
        about: "Wasm package build and size budget",
        run: wasm_package,
    },
    Stage {
        name: "browser",
        about: "engine tests and the catalog check in headless Chromium against the fixture server",
        run: |workspace| browser_tests_in(workspace, Browser::Chromium),
    },
    Stage {
        name: "browser-firefox",
        about: "the same engine tests and catalog check in headless Firefox ESR",
        run: |workspace| browser_tests_in(workspace, Browser::Firefox),
    },
    Stage {
        name: "lab",
        about:
            "censorship lab: the real page in Chromium and Firefox ESR against simulated censors",
        run: lab,
    },
];

/// Runs the stages (all, or those named in `args`) and prints the summary.
///
/// # Errors
/// A stage failed, a stage was skipped without `--allow-skip`, or an unknown stage was named.
pub fn test(workspace: &Workspace, args: &[String]) -> Result<(), String> {
    let mut chosen: Vec<&Stage> = Vec::new();
    let mut with_setup = true;
    let mut allow_skip = false;
    for arg in args {
        if arg == "--no-setup" {
            with_setup = false;
        } else if arg == "--allow-skip" {
            allow_skip = true;
        } else {
            let stage = crate::find_by_name(STAGES, arg, |stage| stage.name).map_err(|names| {
                format!("test: unknown stage {arg} (stages: {names}; options: --no-setup, --allow-skip)")
            })?;
            chosen.push(stage);
        }
    }
    if chosen.is_empty() {
        chosen = STAGES.iter().collect();
    }
    if !with_setup {
        chosen.retain(|stage| stage.name != "setup");
    } else if !chosen.iter().any(|stage| stage.name == "setup") {
        chosen.insert(0, &STAGES[0]);
    }

    let mut results = Vec::new();
    for (index, stage) in chosen.iter().enumerate() {
        println!();
        println!(
            "==> [{}/{}] {}: {}",
            index + 1,
            chosen.len(),
            stage.name,
            stage.about
        );
        let started = Instant::now();
        let outcome = (stage.run)(workspace);
        let took = started.elapsed();
        match &outcome {
            Outcome::Passed => println!("<== {}: passed ({})", stage.name, seconds(took)),
            Outcome::Failed(why) => {
                println!("<== {}: FAILED ({}): {why}", stage.name, seconds(took))
            }
            Outcome::Skipped(why) => println!("<== {}: SKIPPED: {why}", stage.name),
        }
        results.push((stage.name, outcome, took));
    }

    let count = |wanted: fn(&Outcome) -> bool| results.iter().filter(|(_, o, _)| wanted(o)).count();
    let passed = count(|o| matches!(o, Outcome::Passed));
    let failed = count(|o| matches!(o, Outcome::Failed(_)));
    let skipped = count(|o| matches!(o, Outcome::Skipped(_)));
    println!();
    println!("== summary of cargo xtask test");
    for (name, outcome, took) in &results {
        let (word, why) = match outcome {
            Outcome::Passed => ("passed", String::new()),
            Outcome::Failed(why) => ("FAILED", format!("  {why}")),
            Outcome::Skipped(why) => ("SKIPPED", format!("  {why}")),
        };
        println!("{word:<8} {name:<15} {:>8}{why}", seconds(*took));
    }
    match (skipped, allow_skip) {
        (0, _) => println!("stages: {passed} passed, {failed} failed"),
        (_, true) => {
            println!("stages: {passed} passed, {failed} failed, {skipped} skipped (allowed)")
        }
        (_, false) => println!(
            "stages: {passed} passed, {failed} failed, {skipped} skipped (a skip fails the run; \
             --allow-skip accepts it)"
        ),
    }
    let outcomes: Vec<&Outcome> = results.iter().map(|(_, outcome, _)| outcome).collect();
    if exit_code(&outcomes, allow_skip) == 0 {
        Ok(())
    } else {
        // The summary above says it all; keep it the last thing printed.
        Err(String::new())
    }
}

/// The run's exit status: 0 when every stage passed, or was skipped and skips were asked for
/// (`--allow-skip`); 1 otherwise. A skipped stage is something not checked, so by default it
/// fails the run as a failed stage does: CI on a machine that cannot run a stage is not green.
fn exit_code(outcomes: &[&Outcome], allow_skip: bool) -> u8 {
    let acceptable = |outcome: &&Outcome| match outcome {
        Outcome::Passed => true,
        Outcome::Skipped(_) => allow_skip,
        Outcome::Failed(_) => false,
    };
    if outcomes.iter().all(acceptable) {
        0
    } else {
        1
    }
}

fn seconds(duration: Duration) -> String {
    format!("{:.1}s", duration.as_secs_f64())
}

/// Time limits per stage: generous for a fresh 2-core machine, short enough that a hung stage
/// leaves time for the others within CI's 90 minutes.
const BUILD_LIMIT: Duration = Duration::from_secs(30 * 60);
const BROWSER_LIMIT: Duration = Duration::from_secs(20 * 60);
const LAB_LIMIT: Duration = Duration::from_secs(20 * 60);

fn fmt(workspace: &Workspace) -> Outcome {
    run_with_limit(
        &mut workspace.cargo(&["fmt", "--all", "--", "--check"]),
        Duration::from_secs(300),
    )
    .into()
}

fn clippy_native(workspace: &Workspace) -> Outcome {
    let args = [
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ];
    run_with_limit(&mut workspace.cargo(&args), BUILD_LIMIT).into()
}

fn clippy_wasm(workspace: &Workspace) -> Result<(), String> {
    let args = [
        "clippy",
        "-p",
        "netreach",
        "--target",
        "wasm32-unknown-unknown",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ];
    run_with_limit(&mut workspace.cargo(&args), BUILD_LIMIT)?;
    // The package's own configuration: no std (wasm-pack.toml, default-features = false).
    let package = [
        "clippy",
        "-p",
        "netreach",
        "--target",
        "wasm32-unknown-unknown",
        "--lib",
        "--no-default-features",
        "--",
        "-D",
        "warnings",
    ];
    run_with_limit(&mut workspace.cargo(&package), BUILD_LIMIT)
}

fn native_tests(workspace: &Workspace) -> Outcome {
    let mut command = workspace.cargo(&["test", "--workspace", "--no-fail-fast"]);
    // The collector's tests start their own PostgreSQL; Debian keeps its server programs off PATH.
    if let Some(bin) = setup::postgres_bin_dir() {
        let path = env::var_os("PATH").unwrap_or_default();
        let mut paths: Vec<_> = env::split_paths(&path).collect();
        paths.push(bin);
        if let Ok(joined) = env::join_paths(paths) {
            command.env("PATH", joined);
        }
    }
    run_with_limit(&mut command, BUILD_LIMIT).into()
}

fn wasm_package(workspace: &Workspace) -> Outcome {
    package::build(workspace).map(|_| ()).into()
}

/// Fixed so that `NETREACH_FIXTURES`, compiled into the tests with `option_env!`, does not
/// change between runs and force a rebuild; another free port is used if it is taken.
const FIXTURES_ADDRESS: &str = "127.0.0.1:8718";

/// Debian's chromedriver (package `chromium-driver`).
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A browser the engine's tests run in, driven by wasm-bindgen-test-runner through its
/// WebDriver server.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Browser {
    Chromium,
    Firefox,
}

impl Browser {
    /// The runner's variable that names the driver, and the driver's path.
    fn driver(self) -> Result<(&'static str, PathBuf), String> {
        match self {
            Browser::Chromium => Ok(("CHROMEDRIVER", PathBuf::from(CHROMEDRIVER))),
            Browser::Firefox => setup::geckodriver_path()
                .map(|path| ("GECKODRIVER", path))
                .ok_or_else(|| "geckodriver is not installed (cargo xtask setup)".into()),
        }
    }
}

fn browser_tests_in(workspace: &Workspace, browser: Browser) -> Outcome {
    let all = in_browser(workspace, browser, &["--no-fail-fast"], false);
    // The one test that needs the page cross-origin isolated (the runner's default).
    let isolated = in_browser(
        workspace,
        browser,
        &["--test", "isolated", "--", "--include-ignored"],
        true,
    );
    let catalog = catalog_check_in(workspace, browser);
    all.and(isolated).and(catalog).into()
}

/// The catalog check's test (`xtask/catalog/tests/check.rs`) in `browser`: the fixture
/// server's deliberately bad endpoints, each with its status and reason.
fn catalog_check_in(workspace: &Workspace, browser: Browser) -> Result<(), String> {
    let (driver_variable, driver) = browser.driver()?;
    // The check runs the built package; the `package` stage builds it before this one.
    if !workspace.path("www/pkg/netreach.js").is_file() {
        package::build(workspace)?;
    }
    let (fixtures, address) = start_fixtures(workspace)?;
    let name = if browser == Browser::Chromium {
        "chromium"
    } else {
        "firefox"
    };
    let mut tests = workspace.cargo(&[
        "test",
        "-p",
        "netreach-catalog",
        "--test",
        "check",
        "--",
        "--ignored",
        name,
    ]);
    tests
        .env("NETREACH_FIXTURES", format!("http://{address}"))
        .env(driver_variable, driver);
    let result = run_with_limit(&mut tests, BROWSER_LIMIT);
    drop(fixtures);
    result
}

/// Starts the fixture server (built first) on [`FIXTURES_ADDRESS`] or another free port;
/// it stops when the returned handle is dropped.
///
/// # Errors
/// It does not build, start, or accept connections.
fn start_fixtures(workspace: &Workspace) -> Result<(Background, SocketAddr), String> {
    let binary = build_binary(workspace, "netreach-fixtures", false)
        .map_err(|why| format!("fixture server: {why}"))?;
    let address = free_address(FIXTURES_ADDRESS);
    let mut command = Command::new(&binary);
    command
        .args(["--listen", &address.to_string()])
        .current_dir(&workspace.root);
    println!("$ {} &", describe(&command));
    let mut fixtures = match command.spawn() {
        Ok(child) => Background(child),
        Err(error) => return Err(format!("cannot start the fixture server: {error}")),
    };
    if let Err(why) = wait_for_port(address, Duration::from_secs(30), &mut fixtures) {
        return Err(format!("fixture server: {why}"));
    }
    Ok((fixtures, address))
}

/// `cargo test -p netreach --target wasm32-unknown-unknown ARGS` in headless `browser`, with
/// the fixture server started first and stopped after (the browser tests and benchmarks).
/// Both browsers run the same test build (the environment that is compiled in is the same).
///
/// # Errors
/// The browser's driver is missing, the fixture server does not start, or the tests fail.
pub fn in_browser(
    workspace: &Workspace,
    browser: Browser,
    args: &[&str],
    isolated: bool,
) -> Result<(), String> {
    let (driver_variable, driver) = browser.driver()?;
    let (fixtures, address) = start_fixtures(workspace)?;
    let mut tests = workspace.cargo(&[
        "test",
        "-p",
        "netreach",
        "--target",
        "wasm32-unknown-unknown",
    ]);
    tests
        .args(args)
        .env("NETREACH_FIXTURES", format!("http://{address}"))
        .env(driver_variable, driver)
        .env("WASM_BINDGEN_TEST_TIMEOUT", "180")
        // The runner gives a driver 5 s to listen by default: a chromedriver started right
        // after the native stage once took longer (CI failed: "driver failed to bind port
        // during startup"). It retries a stuck driver every 10 s within this budget.
        .env("WASM_BINDGEN_TEST_DRIVER_TIMEOUT", "60");
    if !isolated {
        // The runner serves its page cross-origin isolated unless told not to; the engine is
        // tested as ordinary pages run it.
        tests.env("WASM_BINDGEN_TEST_NO_ORIGIN_ISOLATION", "1");
    }
    let result = run_with_limit(&mut tests, BROWSER_LIMIT);
    drop(fixtures);
    result
}

/// The lab: FAILED when it does not build or start (whoever runs it), SKIPPED only without
/// root, which its network namespaces need.
fn lab(workspace: &Workspace) -> Outcome {
    let started = build_binary(workspace, "netreach-lab", true)
        .and_then(|binary| succeeds(Command::new(&binary).arg("--help")).map(|()| binary));
    let binary = match started {
        Ok(binary) => binary,
        Err(why) => return Outcome::Failed(format!("lab: {why}")),
    };
    if !is_root() {
        return Outcome::Skipped("lab: needs root (network namespaces, iptables, tc)".into());
    }
    let mut command = Command::new(binary);
    // Every scenario in both browsers; the lab finds geckodriver where setup put it.
    command
        .args(["--browser", "both", "all"])
        .current_dir(&workspace.root);
    run_with_limit(&mut command, LAB_LIMIT).into()
}

/// Builds a workspace binary and returns its path.
///
/// # Errors
/// The build fails.
pub fn build_binary(
    workspace: &Workspace,
    package: &str,
    release: bool,
) -> Result<PathBuf, String> {
    let mut args = vec!["build", "-p", package];
    if release {
        args.insert(1, "--release");
    }
    run_with_limit(&mut workspace.cargo(&args), BUILD_LIMIT)?;
    Ok(workspace.binary(package, release))
}

/// Runs a command quietly, for a check such as `BINARY --help`: a binary that crashes or
/// cannot start fails there, before a stage depends on it.
///
/// # Errors
/// It cannot be started or does not exit with status 0; the error holds its stderr.
fn succeeds(command: &mut Command) -> Result<(), String> {
    let line = program_and_args(command);
    let output = command
        .output()
        .map_err(|error| format!("cannot start `{line}`: {error}"))?;
    check(output.status, &line).map_err(|error| {
        let stderr = String::from_utf8_lossy(&output.stderr);
        format!("{error}: {}", stderr.trim())
    })
}

/// `preferred` if nothing listens there, else a port the system picks.
fn free_address(preferred: &str) -> SocketAddr {
    let preferred: SocketAddr = preferred.parse().expect("FIXTURES_ADDRESS is an address");
    if let Ok(listener) = TcpListener::bind(preferred) {
        drop(listener);
        return preferred;
    }
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .unwrap_or(preferred)
}

fn wait_for_port(
    address: SocketAddr,
    limit: Duration,
    server: &mut Background,
) -> Result<(), String> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        if server.exited() {
            return Err("exited before it accepted connections".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!(
        "nothing listens on {address} after {}",
        seconds(limit)
    ))
}

/// A helper process that is stopped when the stage ends, whichever way it ends.
struct Background(Child);

impl Background {
    fn exited(&mut self) -> bool {
        !matches!(self.0.try_wait(), Ok(None))
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(outcomes: &[Outcome], allow_skip: bool) -> u8 {
        exit_code(&outcomes.iter().collect::<Vec<_>>(), allow_skip)
    }

    #[test]
    fn every_stage_passed_is_green() {
        assert_eq!(code(&[Outcome::Passed, Outcome::Passed], false), 0);
    }

    #[test]
    fn a_failed_stage_fails_the_run_even_when_skips_are_allowed() {
        let outcomes = [Outcome::Passed, Outcome::Failed("clippy".into())];
        assert_eq!(code(&outcomes, false), 1);
        assert_eq!(code(&outcomes, true), 1);
    }

    #[test]
    fn a_skipped_stage_fails_the_run_unless_skips_are_allowed() {
        let outcomes = [Outcome::Passed, Outcome::Skipped("lab: needs root".into())];
        assert_eq!(code(&outcomes, false), 1);
        assert_eq!(code(&outcomes, true), 0);
    }

    #[test]
    fn firefox_runs_the_browser_tests_right_after_chromium() {
        let names: Vec<&str> = STAGES.iter().map(|stage| stage.name).collect();
        let chromium = names.iter().position(|name| *name == "browser").unwrap();
        assert_eq!(
            names.get(chromium + 1),
            Some(&"browser-firefox"),
            "{names:?}"
        );
    }

    #[test]
    fn a_binary_that_cannot_start_is_an_error_with_its_stderr() {
        let crash = succeeds(Command::new("sh").args(["-c", "echo 'boom: no lab' >&2; exit 101"]));
        let error = crash.unwrap_err();
        assert!(
            error.contains("boom: no lab") && error.contains("101"),
            "{error}"
        );
        let missing = succeeds(&mut Command::new("/nonexistent/netreach-lab")).unwrap_err();
        assert!(missing.contains("cannot start"), "{missing}");
    }
}
