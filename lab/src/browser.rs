//! Headless Chromium (chromedriver) or Firefox ESR (geckodriver, `firefox`) driven through
//! WebDriver (fantoccini), as a visitor would use the page: open it, press Start, wait for
//! the verdicts, read them, press Submit.

pub mod firefox;

use crate::error::{bail, Context, Result};
use crate::scenarios::{CardSeen, Judged, LayoutSeen};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Longest a run may take before the lab gives up on it. The worst case is a scenario where
/// no control answers (drop-everything): each attempt on an image with `bytes` may then wait
/// 30 s (5 s for the answer plus the body budget at 32 kbit/s), three of them in a row.
const RUN_LIMIT: Duration = Duration::from_secs(170);
/// Longest wait for the page to show what needs no probe: its frame, its campaign loaded, the
/// answer to Submit.
const PAGE_LIMIT: Duration = Duration::from_secs(20);

/// How long a click on Submit has to start the sending, and how many clicks are tried.
const SUBMIT_CLICK_LIMIT: Duration = Duration::from_secs(3);
const SUBMIT_CLICKS: u32 = 3;

/// Longest one navigation may take before it is tried again, and how many tries.
const NAVIGATION_LIMIT: Duration = Duration::from_secs(15);
const NAVIGATION_TRIES: u32 = 2;

/// The driver and the browser it started; both end when this is dropped (the scenario's
/// namespace removal catches a browser that outlives its driver).
pub struct Browser {
    _driver: Child,
    pub client: Client,
}

/// What the page showed at the end of a run.
pub struct PageResult {
    pub verdicts: Vec<Judged>,
    /// From the click on Start to `data-state=done`.
    pub verdicts_in: Duration,
    /// The JSON shown in `#report` (what would be submitted).
    pub report_json: String,
    /// Whether the page said that the network itself seems down (`#offline-note` shown).
    pub offline_note: bool,
}

/// The reports a page lists as waiting for the network, and what its localStorage holds.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Waiting {
    /// Rows of the page's waiting list.
    pub listed: u64,
    /// Every key of the page's localStorage.
    pub keys: Vec<String>,
    /// What the page keeps under its key (`null` when nothing).
    pub kept: serde_json::Value,
}

/// The browsers the lab drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BrowserKind {
    Chromium,
    Firefox,
}

impl BrowserKind {
    pub const ALL: [BrowserKind; 2] = [BrowserKind::Chromium, BrowserKind::Firefox];

    pub fn name(self) -> &'static str {
        match self {
            BrowserKind::Chromium => "chromium",
            BrowserKind::Firefox => "firefox",
        }
    }
}

impl std::fmt::Display for BrowserKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How the browser comes to trust the lab's servers.
pub struct Trust<'a> {
    /// The lab CA (DER), for Firefox's certificate database.
    pub ca: &'a [u8],
    /// The servers' key, for Chromium's `--ignore-certificate-errors-spki-list`.
    pub spki_sha256: &'a str,
}

/// What the browser is started with.
pub struct Launch<'a> {
    pub kind: BrowserKind,
    pub workdir: &'a Path,
    pub trust: Trust<'a>,
    /// An unpacked extension to load (the content blocker of `blocker-x`).
    pub extension: Option<&'a Path>,
    /// Hosts on Firefox's tracking-protection list (ignored by Chromium, which has none).
    pub tracking_list: &'a [&'a str],
}

impl Browser {
    /// Starts the driver (chromedriver or geckodriver) and a fresh browser session with the
    /// lab's settings, the lab's certificates trusted and the extension, if any, loaded.
    ///
    /// # Errors
    /// If the driver or the browser cannot start (logs in the workdir).
    pub async fn start(launch: &Launch<'_>) -> Result<Self> {
        let (driver, client) = match launch.kind {
            BrowserKind::Chromium => start_chromium(launch).await?,
            BrowserKind::Firefox => firefox::start(launch).await?,
        };
        // A navigation that hangs is retried (see `navigate`) rather than waited for 300 s.
        client
            .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
                Some(Duration::from_secs(30)),
                Some(NAVIGATION_LIMIT),
                Some(Duration::ZERO),
            ))
            .await
            .context("setting the page load timeout")?;
        Ok(Browser {
            _driver: driver,
            client,
        })
    }

    /// Ends the session (the browser with it) before the driver is killed, so no browser is
    /// left holding the profile; a session that does not answer within 10 s is left to the
    /// driver's end.
    pub async fn quit(self) {
        let _ = tokio::time::timeout(Duration::from_secs(10), self.client.close()).await;
    }

    /// Opens the page and waits until it has loaded its campaign and engine, ready for Start.
    ///
    /// # Errors
    /// If the page does not get there within 20 s.
    pub async fn open_page(&self, url: &str) -> Result<()> {
        self.navigate(url).await?;
        self.wait_ready().await
    }

    /// Goes to `url`, trying again in a new tab when the navigation hangs: with an extension
    /// loaded, Chromium 156 sometimes never finishes the first navigation of a session (seen
    /// in about one run in four of `blocker-x`), while a second one mostly goes through.
    async fn navigate(&self, url: &str) -> Result<()> {
        let mut tries = 0;
        loop {
            tries += 1;
            match self.client.goto(url).await {
                Ok(()) => return Ok(()),
                Err(e) if tries < NAVIGATION_TRIES => {
                    eprintln!("lab: opening {url} failed ({e}); trying again in a new tab");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    self.fresh_tab().await;
                }
                Err(e) => return Err(e).context(format_args!("opening {url}")),
            }
        }
    }

    /// Moves to a new tab (a new renderer): in a whole lab run, Chromium's hung first
    /// navigation with an extension once hung again on both retries in the same tab. If the
    /// browser cannot open one, the next try stays where it is.
    async fn fresh_tab(&self) {
        let opened = match self.client.new_window(true).await {
            Ok(tab) => self.client.switch_to_window(tab.handle).await,
            Err(e) => Err(e),
        };
        if let Err(e) = opened {
            eprintln!("lab: no new tab ({e}); trying in the same one");
        }
    }

    /// Opens a news article (`article_url`, another origin) that embeds the test with
    /// `embed.js`, enters the frame the script inserts and waits there until it is ready for
    /// Start; later calls act inside the frame, as the reader would.
    ///
    /// # Errors
    /// If the frame does not appear or get ready within 20 s.
    pub async fn open_embed(&self, article_url: &str) -> Result<()> {
        self.navigate(article_url).await?;
        let frame = self
            .wait_for(
                "iframe[src*='embed.html']",
                PAGE_LIMIT,
                "embed.js to insert its frame",
            )
            .await?;
        frame.enter_frame().await.context("entering the frame")?;
        self.wait_ready().await
    }

    /// Waits until the page (or frame) has loaded its campaign and engine, ready for Start.
    async fn wait_ready(&self) -> Result<()> {
        self.wait_for("button#start", PAGE_LIMIT, "button#start")
            .await?;
        // The page loads its campaign and engine before the click; wait for the platform
        // list so the click measures the run, not the page's start.
        self.wait_for(
            "#platforms li.chip:not(.muted), body[data-state=error]",
            PAGE_LIMIT,
            "the campaign to load",
        )
        .await?;
        Ok(())
    }

    /// Presses Start on the opened page and waits for the verdicts.
    ///
    /// # Errors
    /// If the page fails (`data-state=error`, with its message) or takes over two minutes.
    pub async fn run_page(&self) -> Result<PageResult> {
        let c = &self.client;
        let start = self.element("button#start").await?;
        let clicked = Instant::now();
        start.click().await.context("clicking #start")?;
        let body = self
            .wait_for(
                "body[data-state=done], body[data-state=error]",
                RUN_LIMIT,
                "body[data-state=done]",
            )
            .await?;
        let verdicts_in = clicked.elapsed();
        if body
            .attr("data-state")
            .await
            .context("reading data-state")?
            .as_deref()
            == Some("error")
        {
            let message = self.message_in("#error").await?;
            bail!("the page ended in data-state=error: {message}");
        }
        let mut verdicts = Vec::new();
        for row in c
            .find_all(Locator::Css("#results [data-platform]"))
            .await
            .context("reading #results")?
        {
            let attr = |name: &'static str| {
                let row = row.clone();
                async move {
                    row.attr(name)
                        .await
                        .context(format_args!("reading {name}"))?
                        .ok_or_else(|| {
                            crate::error::Error::new(format!("a result row has no {name}"))
                        })
                }
            };
            verdicts.push(Judged {
                platform: attr("data-platform").await?,
                verdict: attr("data-verdict").await?,
                reason: attr("data-reason").await?,
            });
        }
        let report_json = self
            .element("pre#report")
            .await?
            .text()
            .await
            .context("reading pre#report")?;
        let offline_note = self
            .element("#offline-note")
            .await?
            .is_displayed()
            .await
            .context("reading #offline-note")?;
        Ok(PageResult {
            verdicts,
            verdicts_in,
            report_json,
            offline_note,
        })
    }

    /// Presses Submit and returns the id the collector stored the report under.
    ///
    /// # Errors
    /// If the page says `data-submitted=failed` (with its message) or never says anything.
    pub async fn submit(&self) -> Result<i64> {
        let submitted = self.press_submit().await?;
        match submitted.parse() {
            Ok(id) => Ok(id),
            Err(_) => {
                let status = self.message_in("#submit-status").await?;
                bail!("submitting failed (data-submitted={submitted}): {status}")
            }
        }
    }

    /// Presses Submit with the collector cut off and waits until the page says the report
    /// waits in the browser (`data-submitted=waiting`).
    ///
    /// # Errors
    /// If the page says anything else (with its message) or nothing.
    pub async fn submit_to_wait(&self) -> Result<()> {
        let submitted = self.press_submit().await?;
        if submitted != "waiting" {
            let status = self.message_in("#submit-status").await?;
            bail!(
                "expected the report to wait, the page says data-submitted={submitted}: {status}"
            );
        }
        Ok(())
    }

    /// Presses Submit and returns what the page then says in `data-submitted` (an id,
    /// `waiting` or `failed`).
    async fn press_submit(&self) -> Result<String> {
        let button = self.element("button#submit").await?;
        // The page scrolls smoothly to the results after a run: a click can land beside the
        // moving button. A click that started nothing (the page disables the button while it
        // sends) is tried again.
        let mut clicks = 0;
        loop {
            clicks += 1;
            self.bring_into_view(&button).await?;
            let clicked = button.click().await;
            let started = match clicked {
                Ok(()) => {
                    self.wait_for(
                        "body[data-submitted], button#submit:disabled",
                        SUBMIT_CLICK_LIMIT,
                        "the page to take the click on Submit",
                    )
                    .await
                }
                Err(e) => Err(e).context("clicking #submit"),
            };
            match started {
                Ok(_) => break,
                Err(e) if clicks >= SUBMIT_CLICKS => return Err(e),
                Err(e) => {
                    eprintln!("lab: Submit did not start sending ({e}); clicking again");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
        let body = match self
            .wait_for("body[data-submitted]", PAGE_LIMIT, "body[data-submitted]")
            .await
        {
            Ok(body) => body,
            Err(e) => {
                let status = self.message_in("#submit-status").await.unwrap_or_default();
                let disabled = button.prop("disabled").await.ok().flatten();
                bail!("{e} (#submit disabled: {disabled:?}, #submit-status: {status:?})")
            }
        };
        Ok(body
            .attr("data-submitted")
            .await
            .context("reading data-submitted")?
            .unwrap_or_default())
    }

    /// The reports the page lists as waiting and what its storage holds.
    ///
    /// # Errors
    /// If the script cannot run or answers something else.
    pub async fn waiting(&self) -> Result<Waiting> {
        let state = self
            .client
            .execute(
                "const kept = localStorage.getItem('netreach-waiting');
                 return { listed: document.querySelectorAll('#waiting li').length,
                          keys: Object.keys(localStorage),
                          kept: kept === null ? null : JSON.parse(kept) };",
                vec![],
            )
            .await
            .context("reading the waiting reports")?;
        serde_json::from_value(state).context("the waiting reports' state")
    }

    /// The page's language, direction and where Start sits in its row, for `LayoutSeen` (the
    /// catalog's side is filled by the caller).
    ///
    /// # Errors
    /// If the script cannot run or answers something else.
    pub async fn layout(&self) -> Result<LayoutSeen> {
        let state = self
            .client
            .execute(
                "const row = document.querySelector('#run .actions').getBoundingClientRect();
                 const start = document.getElementById('start').getBoundingClientRect();
                 const html = document.documentElement;
                 return { lang: html.lang, dir: html.dir,
                          direction: getComputedStyle(document.getElementById('results')).direction,
                          start_from_left: start.left - row.left,
                          start_from_right: row.right - start.right,
                          results_title: document.getElementById('results-title').textContent.trim(),
                          catalog_dir: '', catalog_results_title: '' };",
                vec![],
            )
            .await
            .context("reading the page's language and layout")?;
        serde_json::from_value(state).context("the page's language and layout")
    }

    /// Presses Delete on the first waiting report, as the visitor would.
    ///
    /// # Errors
    /// If there is no such button or the list does not shrink.
    pub async fn delete_waiting(&self) -> Result<()> {
        let before = self.waiting().await?.listed;
        let button = self.element("#waiting li button.delete").await?;
        self.bring_into_view(&button).await?;
        button.click().await.context("clicking Delete")?;
        let after = self.waiting().await?.listed;
        if after + 1 != before {
            bail!("Delete left {after} of {before} waiting reports listed");
        }
        Ok(())
    }

    /// Tells the page the browser is back online, as the browser does when its connection
    /// returns (WebDriver has no portable way to take a browser offline and back).
    ///
    /// # Errors
    /// If the script cannot run.
    pub async fn announce_online(&self) -> Result<()> {
        self.client
            .execute("window.dispatchEvent(new Event('online'));", vec![])
            .await
            .context("dispatching `online`")?;
        Ok(())
    }

    /// Waits until the page says a waiting report was sent and returns the id the collector
    /// stored it under.
    ///
    /// # Errors
    /// If the page says it was refused or dropped, or says nothing within 20 s.
    pub async fn waiting_sent(&self) -> Result<i64> {
        let line = self
            .wait_for(
                "#waiting-log li[data-outcome=sent], #waiting-log li[data-outcome=refused], \
                 #waiting-log li[data-outcome=expired]",
                PAGE_LIMIT,
                "the waiting report to be sent",
            )
            .await;
        let line = match line {
            Ok(line) => line,
            Err(e) => {
                let log = self.message_in("#waiting-log").await.unwrap_or_default();
                bail!("{e} (#waiting-log: {log:?})")
            }
        };
        let outcome = line
            .attr("data-outcome")
            .await
            .context("reading data-outcome")?;
        let id = line.attr("data-id").await.context("reading data-id")?;
        match (outcome.as_deref(), id.and_then(|id| id.parse().ok())) {
            (Some("sent"), Some(id)) => Ok(id),
            _ => {
                let text = line.text().await.unwrap_or_default();
                bail!("the waiting report was not sent ({outcome:?}): {text}")
            }
        }
    }

    /// Brings `button` into view before a click, as a reader would: geckodriver does not
    /// scroll the article around an embed's frame, and its click then hits nothing. A scroll
    /// that fails is left to the click to report.
    ///
    /// # Errors
    /// If the button cannot be passed to a script.
    async fn bring_into_view(&self, button: &Element) -> Result<()> {
        let _ = self
            .client
            .execute(
                "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});",
                vec![serde_json::to_value(button).context("the button as a script argument")?],
            )
            .await;
        Ok(())
    }

    /// The first element that matches `css`.
    ///
    /// # Errors
    /// If there is none.
    async fn element(&self, css: &str) -> Result<Element> {
        self.client
            .find(Locator::Css(css))
            .await
            .context(format_args!("finding {css}"))
    }

    /// The first element that matches `css`, once there is one.
    ///
    /// # Errors
    /// If none appears within `limit`; the error says what was awaited.
    async fn wait_for(&self, css: &str, limit: Duration, awaited: &str) -> Result<Element> {
        self.client
            .wait()
            .at_most(limit)
            .for_element(Locator::Css(css))
            .await
            .context(format_args!("waiting for {awaited}"))
    }

    /// The text of the page's message element `css` (why something failed); empty if it has
    /// none that can be read, so the failure it explains is still reported.
    ///
    /// # Errors
    /// If there is no such element.
    async fn message_in(&self, css: &str) -> Result<String> {
        Ok(self.element(css).await?.text().await.unwrap_or_default())
    }

    /// Opens the live status card at `url` in a tab of its own and reads what it settled on:
    /// its state (`disrupted`, `clear`, `thin` or `error`), headline and basis line; then
    /// closes that tab and is back on the page, as it was.
    ///
    /// # Errors
    /// If no tab can be opened, or the card does not settle within 20 s.
    pub async fn card(&self, url: &str) -> Result<CardSeen> {
        let c = &self.client;
        let page = c.window().await.context("the page's tab")?;
        let tab = c.new_window(true).await.context("a tab for the card")?;
        c.switch_to_window(tab.handle)
            .await
            .context("switching to the card's tab")?;
        let seen = self.settled_card(url).await;
        let _ = c.close_window().await;
        c.switch_to_window(page).await.context("back to the page")?;
        seen
    }

    async fn settled_card(&self, url: &str) -> Result<CardSeen> {
        self.navigate(url).await?;
        let body = self
            .wait_for(
                "body[data-state=disrupted], body[data-state=clear], body[data-state=thin], \
                 body[data-state=error]",
                PAGE_LIMIT,
                "the status card to settle",
            )
            .await?;
        Ok(CardSeen {
            state: body
                .attr("data-state")
                .await
                .context("reading the card's data-state")?
                .unwrap_or_default(),
            headline: self.message_in("#headline").await?,
            basis: self.message_in("#basis").await?,
        })
    }

    /// A PNG of the results, as a person would see them.
    ///
    /// # Errors
    /// If WebDriver cannot take it.
    pub async fn screenshot_results(&self) -> Result<Vec<u8>> {
        let c = &self.client;
        // A tall window holds the whole section: an element screenshot is cut at the viewport.
        c.set_window_size(760, 1600)
            .await
            .context("resizing the window")?;
        c.execute(
            "document.getElementById('results-section').scrollIntoView({block: 'start'});",
            vec![],
        )
        .await
        .context("scrolling to the results")?;
        // Let the page's smooth scroll and any transition settle.
        tokio::time::sleep(Duration::from_millis(800)).await;
        self.element("#results-section")
            .await?
            .screenshot()
            .await
            .context("taking the screenshot")
    }
}

/// Starts a driver listening on 127.0.0.1:`port`, its output in `log`, and waits for it.
///
/// # Errors
/// If it cannot start or does not listen within 15 s.
pub async fn start_driver(
    mut command: Command,
    port: u16,
    log: &Path,
) -> Result<(Child, SocketAddr)> {
    let log = std::fs::File::create(log).context(format_args!("creating {}", log.display()))?;
    let driver = command
        .stdin(Stdio::null())
        .stdout(log.try_clone().context("driver log")?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .context(format_args!(
            "starting {:?}",
            command.as_std().get_program()
        ))?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(15);
    while TcpStream::connect(addr).await.is_err() {
        if Instant::now() > deadline {
            bail!("the WebDriver server did not listen on {addr} within 15 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok((driver, addr))
}

/// A new WebDriver session with these capabilities.
///
/// # Errors
/// If the driver cannot start the browser.
pub async fn session(
    addr: SocketAddr,
    capabilities: serde_json::Map<String, serde_json::Value>,
    kind: BrowserKind,
) -> Result<Client> {
    ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://{addr}"))
        .await
        .context(format_args!("starting a {kind} session"))
}

/// chromedriver and Chromium: names resolved by the system's resolver (the namespace's
/// `/etc/resolv.conf`, the lab's DNS server), never by DNS over HTTPS; the servers' key
/// trusted; an extension loaded by flags (new headless mode loads unpacked extensions).
async fn start_chromium(launch: &Launch<'_>) -> Result<(Child, Client)> {
    let port = 9515;
    let mut command = Command::new(CHROMEDRIVER);
    command.arg(format!("--port={port}")).arg(format!(
        "--log-path={}",
        launch.workdir.join("chromedriver.log").display()
    ));
    let (driver, addr) =
        start_driver(command, port, &launch.workdir.join("chromedriver.out")).await?;
    let profile = launch.workdir.join("chromium-profile");
    let _ = std::fs::remove_dir_all(&profile);
    let mut args: Vec<String> = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        "--disable-dev-shm-usage",
        "--window-size=900,1300",
        "--disable-features=DnsOverHttps",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    args.push(format!(
        "--ignore-certificate-errors-spki-list={}",
        launch.trust.spki_sha256
    ));
    if let Some(dir) = launch.extension {
        let dir = dir.display();
        args.push(format!("--load-extension={dir}"));
        args.push(format!("--disable-extensions-except={dir}"));
    }
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({ "binary": CHROMIUM, "args": args }),
    );
    let client = session(addr, capabilities, launch.kind).await?;
    Ok((driver, client))
}
