//! Headless Chromium driven through chromedriver (WebDriver, fantoccini), as a visitor would
//! use the page: open it, press Start, wait for the verdicts, read them, press Submit.

use crate::collector::Judged;
use crate::error::{bail, Context, Result};
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
/// Longest a run may take before the lab gives up on it. The blackout scenario needs ~125 s:
/// with no control answering, each attempt on an image with `bytes` may wait 30 s (5 s for
/// the answer plus the body budget at 32 kbit/s), three of them one after another.
const RUN_LIMIT: Duration = Duration::from_secs(170);

/// chromedriver and the browser it started; both end when this is dropped (the scenario's
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
}

impl Browser {
    /// Starts chromedriver on `port` and a fresh Chromium session with the lab's flags.
    ///
    /// # Errors
    /// If chromedriver or Chromium cannot start (logs in the workdir).
    pub async fn start(workdir: &Path, port: u16, flags: &[String]) -> Result<Self> {
        let log = workdir.join("chromedriver.log");
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context(format_args!("starting {CHROMEDRIVER}"))?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(addr).await.is_err() {
            if Instant::now() > deadline {
                bail!("chromedriver did not listen on {addr} within 15 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        let profile = workdir.join("chromium-profile");
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
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        args.extend(flags.iter().cloned());
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({ "binary": CHROMIUM, "args": args }),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://{addr}"))
            .await
            .context("starting a Chromium session through chromedriver")?;
        Ok(Browser {
            _driver: driver,
            client,
        })
    }

    /// Opens the page and waits until it has loaded its campaign and engine, ready for Start.
    ///
    /// # Errors
    /// If the page does not get there within 20 s.
    pub async fn open_page(&self, url: &str) -> Result<()> {
        let c = &self.client;
        c.goto(url).await.context(format_args!("opening {url}"))?;
        self.wait_ready().await
    }

    /// Opens a news article (`article_url`, another origin) that embeds the test with
    /// `embed.js`, enters the frame the script inserts and waits there until it is ready for
    /// Start; later calls act inside the frame, as the reader would.
    ///
    /// # Errors
    /// If the frame does not appear or get ready within 20 s.
    pub async fn open_embed(&self, article_url: &str) -> Result<()> {
        let c = &self.client;
        c.goto(article_url)
            .await
            .context(format_args!("opening {article_url}"))?;
        let frame = c
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("iframe[src*='embed.html']"))
            .await
            .context("waiting for embed.js to insert its frame")?;
        frame.enter_frame().await.context("entering the frame")?;
        self.wait_ready().await
    }

    /// Waits until the page (or frame) has loaded its campaign and engine, ready for Start.
    async fn wait_ready(&self) -> Result<()> {
        let c = &self.client;
        c.wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("button#start"))
            .await
            .context("waiting for button#start")?;
        // The page loads its campaign and engine before the click; wait for the platform
        // list so the click measures the run, not the page's start.
        c.wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(
                "#platforms li.chip:not(.muted), body[data-state=error]",
            ))
            .await
            .context("waiting for the campaign to load")?;
        Ok(())
    }

    /// Presses Start on the opened page and waits for the verdicts.
    ///
    /// # Errors
    /// If the page fails (`data-state=error`, with its message) or takes over two minutes.
    pub async fn run_page(&self) -> Result<PageResult> {
        let c = &self.client;
        let start = c
            .find(Locator::Css("button#start"))
            .await
            .context("finding button#start")?;
        let clicked = Instant::now();
        start.click().await.context("clicking #start")?;
        let body = c
            .wait()
            .at_most(RUN_LIMIT)
            .for_element(Locator::Css(
                "body[data-state=done], body[data-state=error]",
            ))
            .await
            .context("waiting for body[data-state=done]")?;
        let verdicts_in = clicked.elapsed();
        if body
            .attr("data-state")
            .await
            .context("reading data-state")?
            .as_deref()
            == Some("error")
        {
            let message = c
                .find(Locator::Css("#error"))
                .await
                .context("reading #error")?
                .text()
                .await
                .unwrap_or_default();
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
        let report_json = c
            .find(Locator::Css("pre#report"))
            .await
            .context("reading pre#report")?
            .text()
            .await
            .context("reading pre#report")?;
        Ok(PageResult {
            verdicts,
            verdicts_in,
            report_json,
        })
    }

    /// Presses Submit and returns the id the collector stored the report under.
    ///
    /// # Errors
    /// If the page says `data-submitted=failed` (with its message) or never says anything.
    pub async fn submit(&self) -> Result<i64> {
        let c = &self.client;
        let button = c
            .find(Locator::Css("button#submit"))
            .await
            .context("finding button#submit")?;
        // The page scrolls smoothly to the results after a run; a click that lands while
        // the button moves is retried once it has settled.
        if button.click().await.is_err() {
            tokio::time::sleep(Duration::from_millis(1000)).await;
            button.click().await.context("clicking #submit")?;
        }
        let body = c
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("body[data-submitted]"))
            .await
            .context("waiting for body[data-submitted]")?;
        let submitted = body
            .attr("data-submitted")
            .await
            .context("reading data-submitted")?
            .unwrap_or_default();
        match submitted.parse() {
            Ok(id) => Ok(id),
            Err(_) => {
                let status = c
                    .find(Locator::Css("#submit-status"))
                    .await
                    .context("reading #submit-status")?
                    .text()
                    .await
                    .unwrap_or_default();
                bail!("submitting failed (data-submitted={submitted}): {status}")
            }
        }
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
        c.find(Locator::Css("#results-section"))
            .await
            .context("finding #results-section")?
            .screenshot()
            .await
            .context("taking the screenshot")
    }
}
