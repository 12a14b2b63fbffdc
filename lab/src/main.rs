//! netreach-lab: the real page, in headless Chromium and Firefox ESR, against simulated
//! censors.
//!
//! Each scenario runs once per browser, each time in its own network namespace with HTTPS
//! servers under the real platform host names, a DNS server that the namespace's
//! `/etc/resolv.conf` names, the collector, the WebDriver server and the browser; the censor
//! (iptables, tc, the DNS server's answers, an intercepting server) acts inside it. The page
//! is driven through WebDriver like a visitor would, and the verdicts it shows and the report
//! the collector stored are checked against what the scenario expects. Needs root, iproute2,
//! iptables; chromium and chromium-driver for Chromium; firefox-esr, libnss3-tools (certutil)
//! and geckodriver for Firefox.
//!
//! # A tour, in the order a scenario runs
//!
//! - `scenarios`: every scenario, its censor and the verdicts it expects.
//! - `topology`: the lab's hosts (platforms, controls, collector, resolver) and its campaign;
//!   `certs`: a lab CA and certificates for the real host names; `content`: what the servers
//!   answer.
//! - `namespace`: the network namespace, its `resolv.conf` and the veth pair; this file runs
//!   from the host side, `in_namespace` inside it (servers, censor, browser, observation).
//! - `censor`: what each censor does (iptables drop and reset, the DNS zone with NXDOMAIN and
//!   the interceptor's address, tc throttling, loss, an intercepting TLS server); `servers`:
//!   the HTTPS servers of the real host names; `dns`: the DNS server (UDP and TCP, with the
//!   servers' latency); `delay`: a real round trip, every packet of the lab's servers held in
//!   a netfilter queue.
//! - `browser`: Chromium (chromedriver) or Firefox ESR (geckodriver, `browser/firefox`) driven
//!   like a visitor (load, wait, Start, Submit).
//! - `collector_inspector`: starts the real collector and reads what it stored and publishes.

mod browser;
mod censor;
mod certs;
mod collector_inspector;
mod content;
mod delay;
mod dns;
mod error;
mod in_namespace;
mod namespace;
mod scenarios;
mod servers;
mod topology;

use browser::BrowserKind;
use clap::{Parser, Subcommand, ValueEnum};
use error::{bail, Context, Result};
use namespace::Namespace;
use scenarios::{Observation, Scenario};
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

/// Longest a scenario may take, start to cleanup, before it counts as failed.
const SCENARIO_LIMIT: Duration = Duration::from_secs(240);

#[derive(Parser)]
#[command(name = "netreach-lab", version, about)]
struct Cli {
    /// The collector binary to run in the lab; by default the lab builds it
    /// (`cargo build --release -p netreach-collector`) and uses target/release's.
    #[arg(long, global = true, value_name = "PATH")]
    collector: Option<PathBuf>,
    /// The folder the collector serves (the page and `pkg/` with the engine).
    #[arg(long, global = true, value_name = "DIR")]
    www: Option<PathBuf>,
    /// The browser the page runs in: `run` and `all` run every scenario in both by default,
    /// `show` in Chromium.
    #[arg(long, global = true, value_enum)]
    browser: Option<BrowserChoice>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum BrowserChoice {
    Chromium,
    Firefox,
    Both,
}

impl BrowserChoice {
    fn browsers(self) -> Vec<BrowserKind> {
        match self {
            BrowserChoice::Chromium => vec![BrowserKind::Chromium],
            BrowserChoice::Firefox => vec![BrowserKind::Firefox],
            BrowserChoice::Both => BrowserKind::ALL.to_vec(),
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Lists the scenarios with what each censor does and the verdicts expected.
    List,
    /// Runs the whole matrix: one line per scenario and browser, then `N passed, M failed`.
    All,
    /// Runs one scenario, or without a name the whole matrix (like `all`).
    Run { scenario: Option<String> },
    /// Runs a scenario and leaves it up, printing the page's URL (reachable from this host),
    /// or writes a screenshot of the results and stops.
    Show {
        scenario: String,
        #[arg(long, value_name = "FILE.png")]
        screenshot: Option<PathBuf>,
    },
    /// Only the lab's HTTPS servers, in the current namespace, until Ctrl-C (for checking the
    /// censors by hand with curl).
    #[command(hide = true)]
    Serve {
        #[arg(long, default_value_t = 0)]
        latency_ms: u64,
    },
    /// The half of a scenario that runs in its network namespace, where the visitor is
    /// (started by the host side of the lab itself).
    #[command(hide = true)]
    InNamespace {
        scenario: String,
        #[arg(long, value_enum)]
        in_browser: BrowserKind,
        #[arg(long)]
        workdir: PathBuf,
        #[arg(long)]
        www: PathBuf,
        #[arg(long)]
        collector_binary: PathBuf,
        #[arg(long)]
        hold: bool,
        #[arg(long)]
        screenshot: Option<PathBuf>,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::List => {
            for s in scenarios::all() {
                println!(
                    "{:<22} {}\n{:<22} expected: {}",
                    s.name,
                    s.about,
                    "",
                    s.expected_summary()
                );
                if !s.latency.is_zero() {
                    println!("{:<22} server latency: {} ms", "", s.latency.as_millis());
                }
                if !s.round_trip.is_zero() {
                    println!("{:<22} round trip: {} ms", "", s.round_trip.as_millis());
                }
                for c in &s.censors {
                    println!("{:<22} censor: {c}", "");
                }
            }
            ExitCode::SUCCESS
        }
        Command::InNamespace {
            scenario,
            in_browser,
            workdir,
            www,
            collector_binary,
            hold,
            screenshot,
        } => {
            let Some(s) = scenarios::find(&scenario) else {
                eprintln!("unknown scenario {scenario}");
                return ExitCode::FAILURE;
            };
            let afterwards = match (hold, screenshot) {
                (_, Some(path)) => in_namespace::Afterwards::Screenshot(path),
                (true, None) => in_namespace::Afterwards::Hold,
                (false, None) => in_namespace::Afterwards::Finish,
            };
            let setup = in_namespace::Setup {
                browser: in_browser,
                workdir: &workdir,
                www: &www,
                collector: &collector_binary,
                afterwards,
            };
            let seen = in_namespace::run(&s, &setup).await;
            match in_namespace::write_observation(&workdir, &seen) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("{e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Serve { latency_ms } => {
            match in_namespace::serve(Duration::from_millis(latency_ms)).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("netreach-lab serve: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        command => match run_from_host(command, cli.browser, cli.collector, cli.www).await {
            Ok(code) => code,
            Err(e) => {
                eprintln!("netreach-lab: {e}");
                ExitCode::FAILURE
            }
        },
    }
}

/// Everything that runs on the host side of the namespaces: checks, the collector build, one
/// namespace per scenario, the verdict lines.
async fn run_from_host(
    command: Command,
    browser: Option<BrowserChoice>,
    collector: Option<PathBuf>,
    www: Option<PathBuf>,
) -> Result<ExitCode> {
    let browsers = match (&command, browser) {
        (Command::Show { .. }, Some(BrowserChoice::Both)) => {
            bail!("`show` runs one browser: give --browser chromium or --browser firefox")
        }
        (Command::Show { .. }, None) => vec![BrowserKind::Chromium],
        (_, choice) => choice.unwrap_or(BrowserChoice::Both).browsers(),
    };
    // A typo in a scenario's name is reported before anything is built or started.
    let named = match &command {
        Command::Run {
            scenario: Some(name),
        }
        | Command::Show { scenario: name, .. } => Some(find(name)?),
        _ => None,
    };
    let lab = Lab::prepare(&browsers, collector, www)?;
    match (command, named) {
        (Command::All | Command::Run { scenario: None }, _) => lab.run_matrix(&browsers).await,
        (Command::Run { .. }, Some(s)) => lab.run_one(&s, &browsers).await,
        (Command::Show { screenshot, .. }, Some(s)) => lab.show(&s, browsers[0], screenshot).await,
        (Command::Run { .. } | Command::Show { .. }, None) => unreachable!("found above"),
        (Command::List | Command::InNamespace { .. } | Command::Serve { .. }, _) => {
            unreachable!("handled in main")
        }
    }
}

fn exit_code(passed: bool) -> ExitCode {
    if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn find(name: &str) -> Result<Scenario> {
    match scenarios::find(name) {
        Some(s) => Ok(s),
        None => {
            let names: Vec<&str> = scenarios::all().iter().map(|s| s.name).collect();
            bail!(
                "unknown scenario {name}; the scenarios are: {}",
                names.join(", ")
            )
        }
    }
}

/// The lab needs root and these programs; say which Debian package brings a missing one.
fn preflight(browsers: &[BrowserKind]) -> Result<()> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        bail!("the lab needs root (network namespaces, iptables, tc)");
    }
    let mut tools = vec![
        ("ip", "iproute2"),
        ("tc", "iproute2"),
        ("iptables", "iptables"),
    ];
    for browser in browsers {
        match browser {
            BrowserKind::Chromium => tools.extend([
                ("chromium", "chromium"),
                ("chromedriver", "chromium-driver"),
            ]),
            BrowserKind::Firefox => {
                tools.extend([
                    ("firefox-esr", "firefox-esr"),
                    ("certutil", "libnss3-tools"),
                ]);
                browser::firefox::geckodriver()?;
            }
        }
    }
    for (tool, package) in tools {
        let found = std::env::var_os("PATH")
            .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).exists()))
            || Path::new("/usr/sbin").join(tool).exists();
        if !found {
            bail!("`{tool}` not found: install the Debian package {package}");
        }
    }
    Ok(())
}

/// The folder the collector serves, made absolute, once it holds the built page and engine.
fn built_page(www: PathBuf) -> Result<PathBuf> {
    let www = std::path::absolute(www).context("www path")?;
    for needed in [
        "index.html",
        "app.js",
        "pkg/netreach.js",
        "pkg/netreach_bg.wasm",
    ] {
        if !www.join(needed).exists() {
            bail!(
                "{} is missing: build the page and engine first (`cargo xtask build`)",
                www.join(needed).display()
            );
        }
    }
    Ok(www)
}

/// Removes the namespaces and processes of a run that was killed (kill -9, power loss), and
/// makes a panic of this run remove its own.
fn remove_namespaces_left_behind() {
    namespace::remove_stale();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        namespace::remove_own();
        previous(info);
    }));
}

/// Becomes `true` on Ctrl-C or SIGTERM. Listening from the start: a Ctrl-C between two
/// scenarios must stop the matrix too.
fn watch_interruptions() -> tokio::sync::watch::Receiver<bool> {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        interrupted().await;
        let _ = stop.send(true);
    });
    stopped
}

/// Builds the collector in release (a no-op when it is up to date) and returns its path.
fn build_collector(repo: &Path) -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("building the collector: cargo build --release -p netreach-collector");
    let status = std::process::Command::new(cargo)
        .args(["build", "--release", "--quiet", "-p", "netreach-collector"])
        .current_dir(repo)
        .status()
        .context("running cargo")?;
    if !status.success() {
        bail!("building netreach-collector failed");
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join("target"));
    Ok(target.join("release/netreach-collector"))
}

struct Lab {
    workroot: PathBuf,
    www: PathBuf,
    collector: PathBuf,
    /// Becomes `true` on Ctrl-C or SIGTERM.
    stopped: tokio::sync::watch::Receiver<bool>,
}

impl Lab {
    /// Checks that the lab can run here, builds what it needs and arms the cleanup of its
    /// namespaces (after a crash, a panic or Ctrl-C).
    ///
    /// # Errors
    /// Not root, a missing program, the page or engine not built, the collector build failed.
    fn prepare(
        browsers: &[BrowserKind],
        collector: Option<PathBuf>,
        www: Option<PathBuf>,
    ) -> Result<Lab> {
        preflight(browsers)?;
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .map(Path::to_path_buf)
            .ok_or_else(|| error::Error::new("locating the repository"))?;
        let www = built_page(www.unwrap_or_else(|| repo.join("www")))?;
        let collector = match collector {
            Some(path) => std::path::absolute(path).context("collector path")?,
            None => build_collector(&repo)?,
        };
        remove_namespaces_left_behind();
        Ok(Lab {
            // Per run, like the namespaces: two lab runs at once (a CI run beside a person's
            // `show`) must not delete each other's collector database.
            workroot: repo
                .join("target/netreach-lab")
                .join(std::process::id().to_string()),
            www,
            collector,
            stopped: watch_interruptions(),
        })
    }

    /// `all`: every scenario in every browser, one line each, then `N passed, M failed`.
    async fn run_matrix(&self, browsers: &[BrowserKind]) -> Result<ExitCode> {
        let matrix = scenarios::all();
        let names: Vec<&str> = browsers.iter().map(|b| b.name()).collect();
        println!(
            "netreach lab: {} scenarios in {}, each run in its own network namespace",
            matrix.len(),
            names.join(" and ")
        );
        let started = Instant::now();
        let mut spent = vec![Duration::ZERO; browsers.len()];
        let (mut passed, mut failed) = (0, 0);
        for (i, s) in matrix.iter().enumerate() {
            for (b, &browser) in browsers.iter().enumerate() {
                if !s.runs_in(browser) {
                    continue;
                }
                let run = Instant::now();
                if self
                    .verdict_line(s, browser, i * browsers.len() + b)
                    .await?
                {
                    passed += 1;
                } else {
                    failed += 1;
                }
                spent[b] += run.elapsed();
            }
        }
        let per_browser: Vec<String> = browsers
            .iter()
            .zip(&spent)
            .map(|(b, t)| format!("{b} {:.0} s", t.as_secs_f64()))
            .collect();
        println!(
            "matrix took {:.0} s ({})",
            started.elapsed().as_secs_f64(),
            per_browser.join(", ")
        );
        println!("{passed} passed, {failed} failed");
        Ok(exit_code(failed == 0))
    }

    /// `run NAME`: one scenario in each browser, its lines, then `N passed, M failed`.
    async fn run_one(&self, s: &Scenario, browsers: &[BrowserKind]) -> Result<ExitCode> {
        let (mut passed, mut failed) = (0, 0);
        for (i, &browser) in browsers.iter().enumerate() {
            if !s.runs_in(browser) {
                println!("{browser} does not apply: {} is Firefox only", s.name);
                continue;
            }
            if self.verdict_line(s, browser, i).await? {
                passed += 1;
            } else {
                failed += 1;
            }
        }
        println!("{passed} passed, {failed} failed");
        Ok(exit_code(failed == 0))
    }

    /// `show`: the scenario left up for a person to look at, or a screenshot of its results.
    async fn show(
        &self,
        s: &Scenario,
        browser: BrowserKind,
        screenshot: Option<PathBuf>,
    ) -> Result<ExitCode> {
        let screenshot = match screenshot {
            Some(path) => Some(std::path::absolute(&path).context("screenshot path")?),
            None => None,
        };
        let hold = screenshot.is_none();
        let seen = self.scenario(s, browser, 0, hold, screenshot).await?;
        print_line(s, browser, &seen, Duration::ZERO);
        Ok(exit_code(seen.error.is_none()))
    }

    /// Runs a scenario in a browser and prints its line; `true` if it passed.
    async fn verdict_line(&self, s: &Scenario, browser: BrowserKind, index: usize) -> Result<bool> {
        let started = Instant::now();
        let seen = self.scenario(s, browser, index, false, None).await?;
        print_line(s, browser, &seen, started.elapsed());
        Ok(seen.error.is_none() && s.problems(&seen).is_empty())
    }

    /// One scenario in a fresh namespace, torn down whatever happens.
    ///
    /// # Errors
    /// Only if the lab itself cannot work (namespace, rules) or is interrupted; a scenario
    /// that goes wrong comes back as an [`Observation`] with its error.
    async fn scenario(
        &self,
        s: &Scenario,
        browser: BrowserKind,
        index: usize,
        hold: bool,
        screenshot: Option<PathBuf>,
    ) -> Result<Observation> {
        if *self.stopped.borrow() {
            bail!("interrupted");
        }
        let workdir = self.workroot.join(browser.name()).join(s.name);
        let _ = std::fs::remove_dir_all(&workdir);
        std::fs::create_dir_all(&workdir)
            .context(format_args!("creating {}", workdir.display()))?;
        let mut ns = Namespace::create(index)?;
        if hold {
            ns.connect_host()?;
        }
        censor::apply(&ns, &s.censors)?;

        let exe = std::env::current_exe().context("locating netreach-lab")?;
        let mut command = tokio::process::Command::new("ip");
        command
            .args(["netns", "exec", ns.name()])
            .arg(exe)
            .args([
                "in-namespace",
                s.name,
                "--in-browser",
                browser.name(),
                "--workdir",
            ])
            .arg(&workdir)
            .arg("--www")
            .arg(&self.www)
            .arg("--collector-binary")
            .arg(&self.collector)
            .stdin(Stdio::null())
            .kill_on_drop(true);
        if hold {
            command.arg("--hold");
        }
        if let Some(path) = &screenshot {
            command.arg("--screenshot").arg(path);
        }
        if !hold && screenshot.is_none() {
            let log = std::fs::File::create(workdir.join("lab.log")).context("creating lab.log")?;
            command
                .stdout(log.try_clone().context("lab.log")?)
                .stderr(log);
        }
        let mut child = command
            .spawn()
            .context("starting the lab's half in the namespace")?;
        let limit = if hold { Duration::MAX } else { SCENARIO_LIMIT };
        let mut stopped = self.stopped.clone();
        let finished = tokio::select! {
            status = child.wait() => Some(status.context("waiting for the lab")?),
            _ = tokio::time::sleep(limit) => None,
            _ = stopped.wait_for(|stopped| *stopped) => {
                drop(child);
                drop(ns);
                if hold {
                    return Ok(read_observation(&workdir));
                }
                bail!("interrupted during {}; its namespace was removed", s.name);
            }
        };
        drop(child);
        drop(ns);
        let mut seen = read_observation(&workdir);
        match finished {
            None => {
                seen.error = Some(format!(
                    "no result within {} s (logs in {})",
                    SCENARIO_LIMIT.as_secs(),
                    workdir.display()
                ))
            }
            Some(status) if !status.success() && seen.error.is_none() => {
                seen.error = Some(format!(
                    "the in-namespace lab exited with {status}; see {}",
                    workdir.join("lab.log").display()
                ));
            }
            Some(_) => {}
        }
        Ok(seen)
    }
}

fn read_observation(workdir: &Path) -> Observation {
    let path = workdir.join("observation.json");
    std::fs::read_to_string(&path)
        .ok()
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_else(|| Observation {
            error: Some(format!(
                "no observation written (logs in {})",
                workdir.display()
            )),
            ..Observation::default()
        })
}

/// Ctrl-C or SIGTERM.
async fn interrupted() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

/// `PASS browser name  expected …  got …  verdicts in … s`, and on failure what went wrong with the
/// attempts behind it.
fn print_line(s: &Scenario, browser: BrowserKind, seen: &Observation, wall: Duration) {
    let problems = match &seen.error {
        Some(e) => vec![e.clone()],
        None => s.problems(seen),
    };
    let got = if seen.page.is_empty() {
        "nothing".to_string()
    } else {
        seen.page
            .iter()
            .map(|j| format!("{}={}/{}", j.platform, j.verdict, j.reason))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mark = if problems.is_empty() { "PASS" } else { "FAIL" };
    let wall = if wall.is_zero() {
        String::new()
    } else {
        format!(" (scenario {:.0} s)", wall.as_secs_f64())
    };
    println!(
        "{mark} {:<8} {:<21} expected: {} | got: {got} | verdicts in {:.1} s{wall}",
        browser.name(),
        s.name,
        s.expected_summary(),
        seen.verdicts_ms as f64 / 1000.0,
    );
    if problems.is_empty() {
        return;
    }
    for p in &problems {
        println!("     - {p}");
    }
    if let Some(report) = &seen.report {
        println!("     attempts (outcome ms/duration ms):");
        let line = |e: &netreach::EndpointResult| {
            let attempts: Vec<String> = e
                .attempts
                .iter()
                .map(|a| {
                    let outcome = a.outcome.as_str();
                    match a.duration_ms {
                        Some(d) => format!("{outcome} {}/{d}", a.ms),
                        None => format!("{outcome} {}", a.ms),
                    }
                })
                .collect();
            println!("       {:<62} {}", e.url, attempts.join(", "));
        };
        println!("       controls:");
        report.controls.iter().for_each(line);
        for p in &report.platforms {
            println!(
                "       {} ({}/{}):",
                p.id,
                p.verdict.as_str(),
                p.reason.as_str()
            );
            p.endpoints.iter().for_each(line);
        }
    }
}
