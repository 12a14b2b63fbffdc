//! The half of a scenario that runs in its network namespace, where the visitor is: lab
//! servers, collector, browser; the page is driven like a visitor would, and what it showed
//! is written down for the host side, which compares it with what the collector stored.

use crate::browser::{Browser, BrowserKind, Launch, Trust};
use crate::censor;
use crate::certs::{Authority, Identity};
use crate::collector_inspector::{self, CollectorInspector};
use crate::content::Content;
use crate::delay;
use crate::dns::Zone;
use crate::error::{Context, Result};
use crate::scenarios::{
    Delivery, Judged, LayoutSeen, Observation, Recovery, Scenario, WaitingSeen,
};
use crate::servers::Servers;
use crate::topology::{self, COLLECTOR, COLLECTOR_PORT, HOSTS, INTERCEPTOR, RESOLVER};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How long the page is left alone before Start, and the results before Submit, to see that
/// it sends nothing by itself.
const CONSENT_WAIT: Duration = Duration::from_millis(1_500);
/// Browser sessions tried before a scenario fails for a page that never opened.
const BROWSER_LAUNCHES: u32 = 2;

/// What to do once the verdicts are in.
pub enum Afterwards {
    Finish,
    /// Write a PNG of the results there.
    Screenshot(PathBuf),
    /// Keep everything running and print how to look at it, until Ctrl-C.
    Hold,
}

/// Where things are.
pub struct Setup<'a> {
    pub browser: BrowserKind,
    pub workdir: &'a Path,
    pub www: &'a Path,
    pub collector: &'a Path,
    pub afterwards: Afterwards,
}

/// Runs the scenario and reports what was seen, as far as the run got.
pub async fn run(scenario: &Scenario, setup: &Setup<'_>) -> Observation {
    let mut seen = Observation::default();
    if let Err(e) = observe(scenario, setup, &mut seen).await {
        seen.error = Some(e.to_string());
    }
    seen
}

async fn observe(scenario: &Scenario, setup: &Setup<'_>, seen: &mut Observation) -> Result<()> {
    let campaign = topology::campaign();
    let campaigns = setup.workdir.join("campaigns");
    std::fs::create_dir_all(&campaigns).context("creating the campaigns folder")?;
    let json = serde_json::to_string_pretty(&campaign).context("serializing the lab campaign")?;
    std::fs::write(campaigns.join("lab.json"), json).context("writing lab.json")?;

    let _delay = match scenario.round_trip {
        Duration::ZERO => None,
        round_trip => Some(delay::start(round_trip)?),
    };
    let zone = censor::zone(&scenario.censors);
    let (mut servers, ca, lab) =
        start_servers(scenario.latency, scenario.gone, zone.clone()).await?;

    let listen = SocketAddr::from((COLLECTOR, COLLECTOR_PORT));
    let collector = CollectorInspector::start(&collector_inspector::Options {
        binary: setup.collector,
        listen,
        www: setup.www,
        campaigns: &campaigns,
        workdir: setup.workdir,
    })
    .await?;

    let extension = if scenario.blocker.is_empty() {
        None
    } else {
        Some(blocker_extension(setup.workdir, scenario.blocker)?)
    };
    let launch = Launch {
        kind: setup.browser,
        workdir: setup.workdir,
        trust: Trust {
            ca: &ca.cert,
            spki_sha256: &lab.spki_sha256,
        },
        extension: extension.as_deref(),
        tracking_list: scenario.tracking_list,
    };
    let url = match scenario.language {
        Some(code) => format!("http://{listen}/?campaign=/v1/campaigns/lab&lang={code}"),
        None => format!("http://{listen}/?campaign=/v1/campaigns/lab"),
    };
    let article_at = SocketAddr::from((COLLECTOR, ARTICLE_PORT));
    let article_url = format!("http://{article_at}/article.html");
    if scenario.embedded {
        servers
            .start_page(article_at, article(&format!("http://{listen}")))
            .await?;
    }
    // Consent first: with the page loaded and the engine ready, nothing may have reached a
    // platform's or a control's server, and nothing the collector.
    let mut launches = 0;
    let browser = loop {
        launches += 1;
        let browser = Browser::start(&launch).await?;
        match open(&browser, scenario, &url, &article_url).await {
            Ok(()) => break browser,
            // With an extension loaded, a Chromium session's renderer sometimes never answers
            // in any tab (about one run in six of `blocker-x`); a new session does.
            Err(e) if launches < BROWSER_LAUNCHES => {
                eprintln!("lab: {e:#}; starting the browser again");
                browser.quit().await;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => return Err(e),
        }
    };
    tokio::time::sleep(CONSENT_WAIT).await;
    seen.connections_before_start = servers.connections();
    let page = browser.run_page().await?;
    seen.connections_after_run = servers.connections();
    tokio::time::sleep(CONSENT_WAIT).await;
    seen.reports_before_submit = collector.report_count()?;
    seen.page = page.verdicts;
    seen.offline_note = page.offline_note;
    seen.verdicts_ms = page.verdicts_in.as_millis() as u64;
    seen.report = serde_json::from_str(&page.report_json).ok();
    if let Some(code) = scenario.language {
        seen.layout = Some(layout(&browser, setup.www, code).await?);
    }

    let id = match scenario.delivery {
        Delivery::Direct => Some(browser.submit().await?),
        delivery => {
            let visit = || open(&browser, scenario, &url, &article_url);
            let shown = serde_json::from_str(&page.report_json).context("the shown report")?;
            let mut waited = WaitingSeen {
                shown,
                ..WaitingSeen::default()
            };
            let id = deliver_later(delivery, &browser, &collector, visit, &mut waited).await;
            seen.waiting = Some(waited);
            id?
        }
    };
    if let Some(id) = id {
        record_stored(&collector, id, seen)?;
    }
    seen.aggregated = collector.aggregated().await?;
    if scenario.card {
        let lang = scenario
            .language
            .map_or(String::new(), |l| format!("&lang={l}"));
        seen.card = Some(
            browser
                .card(&format!("http://{listen}/card.html?cc=ZZ{lang}"))
                .await?,
        );
    }

    match &setup.afterwards {
        Afterwards::Finish => {}
        Afterwards::Screenshot(path) => {
            let png = browser.screenshot_results().await?;
            std::fs::write(path, png).context(format_args!("writing {}", path.display()))?;
            println!("screenshot written to {}", path.display());
        }
        Afterwards::Hold => {
            // Written now: Ctrl-C ends this process before it could write it later.
            write_observation(setup.workdir, seen)?;
            let id = id.map_or("none".into(), |id| id.to_string());
            println!(
                "\nThe page has run under this scenario in headless {}; stored report id {id}.",
                setup.browser
            );
            println!("Open it from this host (the censor rules apply to this path too):");
            println!("  http://{listen}/?campaign=/v1/campaigns/lab");
            // The host does not use the lab's DNS server: Chromium maps the names itself.
            println!("in a Chromium started with the lab's name mapping and certificate trust:");
            println!(
                "  chromium --user-data-dir=$(mktemp -d) --disable-quic \
                 '--host-resolver-rules={}' '--ignore-certificate-errors-spki-list={}'",
                zone.host_resolver_rules(),
                lab.spki_sha256
            );
            println!("Press Ctrl-C to stop the lab and remove its namespace.");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
    let _ = browser.client.close().await;
    drop(servers);
    Ok(())
}

/// The page's language and layout as shown, beside what catalog `code` says they should be.
async fn layout(browser: &Browser, www: &Path, code: &str) -> Result<LayoutSeen> {
    let path = www.join("i18n").join(format!("{code}.json"));
    let text =
        std::fs::read_to_string(&path).context(format_args!("reading {}", path.display()))?;
    let catalog: serde_json::Value =
        serde_json::from_str(&text).context(format_args!("parsing {}", path.display()))?;
    let entry = |pointer: &str| {
        catalog
            .pointer(pointer)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .ok_or_else(|| crate::error::Error::new(format!("{} has no {pointer}", path.display())))
    };
    let mut seen = browser.layout().await?;
    seen.catalog_dir = entry("/_meta/dir")?;
    seen.catalog_results_title = entry("/results.title")?;
    Ok(seen)
}

/// Opens the scenario's page, or the news article that embeds it, ready for Start.
async fn open(browser: &Browser, scenario: &Scenario, url: &str, article_url: &str) -> Result<()> {
    if scenario.embedded {
        browser.open_embed(article_url).await
    } else {
        browser.open_page(url).await
    }
}

/// Reads back report `id` as the collector stored it, with its verdict rows.
fn record_stored(collector: &CollectorInspector, id: i64, seen: &mut Observation) -> Result<()> {
    let stored = collector.stored(id)?;
    seen.stored = stored
        .report
        .platforms
        .iter()
        .map(|p| Judged {
            platform: p.id.clone(),
            verdict: p.verdict.as_str().into(),
            reason: p.reason.as_str().into(),
        })
        .collect();
    seen.rows = stored.rows;
    seen.connection = stored.connection;
    seen.report = Some(stored.report);
    Ok(())
}

/// Submit with the collector cut off, then the cut ended: what the page listed and kept, what
/// the collector stored, and the id the waiting report got once sent (none when deleted).
/// `visit` opens the page again, as the visitor's next visit.
async fn deliver_later<F: std::future::Future<Output = Result<()>>>(
    delivery: Delivery,
    browser: &Browser,
    collector: &CollectorInspector,
    visit: impl Fn() -> F,
    waited: &mut WaitingSeen,
) -> Result<Option<i64>> {
    censor::cut_collector(true)?;
    let submitted = browser.submit_to_wait().await;
    let cut = match submitted {
        Ok(()) => browser.waiting().await,
        Err(e) => Err(e),
    };
    waited.stored_while_cut = collector.report_count()?;
    if delivery == Delivery::WaitsThenDeleted {
        browser.delete_waiting().await?;
    }
    censor::cut_collector(false)?;
    waited.cut = cut?;
    // The trigger that must send it, then the other one, which must send nothing more.
    let online_first = delivery
        != Delivery::WaitsThenSent {
            then: Recovery::NextVisit,
        };
    if online_first {
        browser.announce_online().await?;
    } else {
        visit().await?;
    }
    let id = match delivery {
        Delivery::WaitsThenSent { .. } => Some(browser.waiting_sent().await?),
        _ => {
            tokio::time::sleep(CONSENT_WAIT).await;
            None
        }
    };
    if online_first {
        visit().await?;
    } else {
        browser.announce_online().await?;
    }
    tokio::time::sleep(CONSENT_WAIT).await;
    waited.at_end = browser.waiting().await?;
    waited.stored_at_end = collector.report_count()?;
    Ok(id)
}

/// Port of the news article that embeds the test: another origin than the collector's (same
/// host, so Chromium's Private Network Access rules treat both alike, as for a news site and a
/// netreach host on the public Internet).
const ARTICLE_PORT: u16 = COLLECTOR_PORT + 1;

/// A news article that embeds the test from `host` (`embed.js`, campaign `lab`).
fn article(host: &str) -> String {
    format!(
        "<!doctype html><meta charset=utf-8><title>Social media disrupted</title>\
         <h1>Social media disrupted</h1><p>Check it from your own network:</p>\
         <script src=\"{host}/embed.js\" data-campaign=\"lab\" async></script>\
         <p>The article goes on.</p>"
    )
}

/// Saves what was seen for the host side of the lab.
///
/// # Errors
/// If the workdir cannot be written.
pub fn write_observation(workdir: &Path, seen: &Observation) -> Result<()> {
    let json = serde_json::to_string_pretty(seen).context("serializing the observation")?;
    std::fs::write(workdir.join("observation.json"), json).context("writing observation.json")
}

/// Every lab server, the interceptor and the DNS server answering from `zone`, with fresh
/// keys; returns the lab CA and the servers' identity.
async fn start_servers(
    latency: Duration,
    gone: &[&str],
    zone: Zone,
) -> Result<(Servers, Authority, Identity)> {
    let names: Vec<&str> = HOSTS.iter().map(|h| h.name).collect();
    let ca = Authority::generate()?;
    let lab = ca.issue(&names)?;
    let interceptor = Identity::self_signed(&names)?;
    let content = Arc::new(Content::new(
        &topology::large_objects(&topology::campaign()),
        gone,
    ));
    let mut servers = Servers::default();
    for host in HOSTS {
        servers
            .start(host.ip, lab.acceptor()?, content.clone(), latency)
            .await?;
    }
    servers
        .start(INTERCEPTOR, interceptor.acceptor()?, content, latency)
        .await?;
    servers
        .start_dns(SocketAddr::from((RESOLVER, 53)), zone, latency)
        .await?;
    Ok((servers, ca, lab))
}

/// The servers alone, until Ctrl-C.
///
/// # Errors
/// If the lab addresses are not configured here.
pub async fn serve(latency: Duration) -> Result<()> {
    let (_servers, _ca, lab) = start_servers(latency, &[], censor::zone(&[])).await?;
    println!(
        "lab servers up, DNS on {RESOLVER}; SPKI sha256 {}",
        lab.spki_sha256
    );
    let _ = tokio::signal::ctrl_c().await;
    Ok(())
}

/// Writes an unpacked Manifest V3 extension whose declarativeNetRequest rule blocks `hosts`
/// (and their subdomains) for every kind of request, and returns its folder. Firefox needs an
/// add-on id to install it; Chromium ignores that key.
fn blocker_extension(workdir: &Path, hosts: &[&str]) -> Result<PathBuf> {
    let dir = workdir.join("blocker-extension");
    std::fs::create_dir_all(&dir).context("creating the blocker extension's folder")?;
    let manifest = serde_json::json!({
        "manifest_version": 3,
        "name": "netreach lab blocker",
        "version": "1.0",
        "permissions": ["declarativeNetRequest"],
        "browser_specific_settings": { "gecko": { "id": "blocker@netreach-lab.example" } },
        "declarative_net_request": {
            "rule_resources": [{ "id": "block", "enabled": true, "path": "rules.json" }]
        }
    });
    let rules = serde_json::json!([{
        "id": 1,
        "priority": 1,
        "action": { "type": "block" },
        "condition": { "requestDomains": hosts }
    }]);
    std::fs::write(dir.join("manifest.json"), manifest.to_string())
        .context("writing the blocker's manifest")?;
    std::fs::write(dir.join("rules.json"), rules.to_string())
        .context("writing the blocker's rules")?;
    Ok(dir)
}
