//! `netreach-catalog check`, run as `cargo xtask catalog check [CAMPAIGN...]`: every control
//! and endpoint of each campaign loaded by the engine itself in headless Chromium and Firefox
//! ESR, from a page on a loopback origin, and judged by the rules of www/campaigns/README.md.
//!
//! A tour, in the order data flows: `main` reads the campaigns (bad input: exit 2); `origin`
//! serves the page and the built package; `browser` runs the engine's `run` in each browser;
//! `http` asks each endpoint's host directly, to explain what a browser hides; `verdict`
//! turns both into `ok`, `unusable` or `unreachable` with a reason.

mod browser;
mod http;
mod origin;
mod verdict;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use netreach::{Campaign, Endpoint};
use serde_json::Value;

use browser::{Browser, PageRun, Session};
use verdict::{judge, Load, Status, Verdict};

const USAGE: &str = "\
usage: netreach-catalog check [--browser chromium|firefox] [--www DIR] [CAMPAIGN...]

Loads every control and endpoint of each CAMPAIGN (an id in DIR/campaigns, or a path to a
campaign file; default: every campaign in DIR/campaigns) with the engine in headless Chromium
and Firefox ESR (or only the --browser named), from a page on http://127.0.0.1, and prints per
endpoint and browser: ok, unusable (with the reason) or unreachable. DIR is the page's folder
(default: this checkout's www/), whose pkg/ holds the built package.

exit status: 0 every endpoint ok; 1 a problem found; 2 bad input (unknown campaign,
unreadable or invalid file); 3 the check could not run (no browser, no package)
";

/// Exit statuses.
const PROBLEMS: u8 = 1;
const BAD_INPUT: u8 = 2;
const CANNOT_RUN: u8 = 3;

/// A campaign to check: where it came from, the model, and the JSON as written (the page gets
/// exactly what the file says).
struct Checked {
    source: PathBuf,
    campaign: Campaign,
    json: Value,
}

/// One endpoint of a campaign, in the engine's order: the controls, then each platform's.
struct Target<'a> {
    /// `control` or the platform's id.
    label: &'a str,
    endpoint: &'a Endpoint,
}

fn targets(campaign: &Campaign) -> Vec<Target<'_>> {
    let controls = campaign.controls.iter().map(|endpoint| Target {
        label: "control",
        endpoint,
    });
    let platforms = campaign.platforms.iter().flat_map(|platform| {
        platform.endpoints.iter().map(|endpoint| Target {
            label: &platform.id,
            endpoint,
        })
    });
    controls.chain(platforms).collect()
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match check(&args).await {
        Ok(code) => ExitCode::from(code),
        Err((code, message)) => {
            eprintln!("catalog check: {message}");
            ExitCode::from(code)
        }
    }
}

/// Runs the check; the exit status, or one with its message.
async fn check(args: &[String]) -> Result<u8, (u8, String)> {
    let bad = |message: String| (BAD_INPUT, format!("{message}\n\n{USAGE}"));
    let mut args = args.iter();
    match args.next().map(String::as_str) {
        Some("check") => {}
        Some("-h" | "--help") => {
            print!("{USAGE}");
            return Ok(0);
        }
        _ => return Err(bad("the command is `check`".into())),
    }
    let mut browsers = Vec::new();
    // xtask/catalog sits two levels under the checkout.
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2);
    let mut www = checkout.unwrap_or(Path::new(".")).join("www");
    let mut names = Vec::new();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--browser" => {
                let name = args.next().map_or("", String::as_str);
                let browser = Browser::from_name(name)
                    .ok_or_else(|| bad(format!("--browser chromium or firefox, not `{name}`")))?;
                browsers.push(browser);
            }
            "--www" => match args.next() {
                Some(dir) => www = PathBuf::from(dir),
                None => return Err(bad("--www needs a folder".into())),
            },
            option if option.starts_with("--") => {
                return Err(bad(format!("unknown option {option}")))
            }
            name => names.push(name.to_owned()),
        }
    }
    if browsers.is_empty() {
        browsers = Browser::ALL.to_vec();
    }
    let campaigns =
        load_campaigns(&www.join("campaigns"), &names).map_err(|message| (BAD_INPUT, message))?;

    let origin = origin::serve(&www.join("pkg"))
        .await
        .map_err(|message| (CANNOT_RUN, message))?;
    let mut statuses = Vec::new();
    for checked in &campaigns {
        let targets = targets(&checked.campaign);
        let answers = explain_all(&targets).await;
        println!();
        println!(
            "campaign {} ({}): {} endpoints",
            checked.campaign.id,
            checked.source.display(),
            targets.len()
        );
        let mut rows = Vec::new();
        for &browser in &browsers {
            let run = run_in(browser, &origin.url, checked, &targets)
                .await
                .map_err(|message| (CANNOT_RUN, format!("{}: {message}", browser.name())))?;
            for (index, target) in targets.iter().enumerate() {
                let verdict = judge(target.endpoint, &load(&run, index), &answers[index]);
                rows.push((index, browser, verdict));
            }
        }
        rows.sort_by_key(|(index, _, _)| *index);
        print_table(&targets, &rows);
        statuses.extend(rows.iter().map(|(_, _, verdict)| verdict.status));
    }
    let count = |wanted: Status| statuses.iter().filter(|s| **s == wanted).count();
    println!();
    println!(
        "catalog check: {} loads ({} campaign{}, {}): {} ok, {} unusable, {} unreachable",
        statuses.len(),
        campaigns.len(),
        if campaigns.len() == 1 { "" } else { "s" },
        browsers
            .iter()
            .map(|b| b.name())
            .collect::<Vec<_>>()
            .join(" and "),
        count(Status::Ok),
        count(Status::Unusable),
        count(Status::Unreachable),
    );
    Ok(if count(Status::Ok) == statuses.len() {
        0
    } else {
        PROBLEMS
    })
}

/// The campaigns named (ids in `dir`, or paths), or every campaign in `dir`, each parsed and
/// validated as the engine and the collector do (`Campaign::validate`).
///
/// # Errors
/// An unknown id, an unreadable file, a file that is not a valid campaign.
fn load_campaigns(dir: &Path, names: &[String]) -> Result<Vec<Checked>, String> {
    let mut files = Vec::new();
    if names.is_empty() {
        let entries =
            std::fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
        files = entries
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(format!("no campaign (*.json) in {}", dir.display()));
        }
    }
    for name in names {
        let path = Path::new(name);
        if path.exists() || name.contains('/') || name.ends_with(".json") {
            files.push(path.to_path_buf());
        } else {
            let file = dir.join(format!("{name}.json"));
            if !file.is_file() {
                return Err(format!(
                    "unknown campaign `{name}`: no {} (give an id in that folder or a file's path)",
                    file.display()
                ));
            }
            files.push(file);
        }
    }
    files
        .into_iter()
        .map(|source| {
            let text = std::fs::read_to_string(&source)
                .map_err(|e| format!("cannot read {}: {e}", source.display()))?;
            let invalid = |why: String| format!("invalid campaign {}: {why}", source.display());
            let json: Value = serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
            let campaign: Campaign =
                serde_json::from_value(json.clone()).map_err(|e| invalid(e.to_string()))?;
            campaign
                .validate()
                .map_err(|e| invalid(format!("{}: {}", e.field, e.problem)))?;
            Ok(Checked {
                source,
                campaign,
                json,
            })
        })
        .collect()
}

/// One plain request per endpoint, all at once (the body counted where `bytes` is declared).
async fn explain_all(targets: &[Target<'_>]) -> Vec<Result<http::Answer, String>> {
    let requests: Vec<_> = targets
        .iter()
        .map(|t| {
            let url = t.endpoint.url.clone();
            let (kind, count_body) = (t.endpoint.kind, t.endpoint.bytes.is_some());
            tokio::spawn(async move { http::request(&url, kind, count_body).await })
        })
        .collect();
    let mut answers = Vec::with_capacity(requests.len());
    for request in requests {
        answers.push(request.await.unwrap_or_else(|e| Err(e.to_string())));
    }
    answers
}

/// The campaign's run in a fresh session of `browser`.
async fn run_in(
    browser: Browser,
    origin: &str,
    checked: &Checked,
    targets: &[Target<'_>],
) -> Result<PageRun, String> {
    let session = Session::start(browser).await?;
    let urls: Vec<&str> = targets.iter().map(|t| t.endpoint.url.as_str()).collect();
    let run = session.run(origin, &checked.json, &urls).await;
    session.close().await;
    run
}

/// The attempt on endpoint `index` of the run (the report keeps the campaign's order).
fn load(run: &PageRun, index: usize) -> Load {
    let report = &run.report;
    let endpoint = report
        .controls
        .iter()
        .chain(report.platforms.iter().flat_map(|p| p.endpoints.iter()))
        .nth(index);
    let attempt = endpoint.and_then(|e| e.attempts.first());
    Load {
        outcome: attempt.map(|a| a.outcome),
        timed: attempt.is_some_and(|a| a.duration_ms.is_some()),
        page_size: run.sizes.get(index).copied().unwrap_or(0),
    }
}

fn print_table(targets: &[Target<'_>], rows: &[(usize, Browser, Verdict)]) {
    let width = |text: &str| text.chars().count();
    let endpoint =
        |index: usize| format!("{} {}", targets[index].label, targets[index].endpoint.url);
    let column = rows
        .iter()
        .map(|(index, _, _)| width(&endpoint(*index)))
        .max()
        .unwrap_or(0)
        .max(width("endpoint"));
    println!(
        "{:<column$}  {:<8}  {:<11}  reason",
        "endpoint", "browser", "status"
    );
    for (index, browser, verdict) in rows {
        let line = format!(
            "{:<column$}  {:<8}  {:<11}  {}",
            endpoint(*index),
            browser.name(),
            verdict.status.to_string(),
            verdict.reason
        );
        println!("{}", line.trim_end());
    }
}
