//! Headless Chromium and Firefox ESR, each driven through its WebDriver server, running the
//! engine's own `run` (the shipped package, nothing exported for the check) on a campaign from
//! the check's origin page.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::wd::TimeoutConfiguration;
use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use netreach::Report;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

/// Longest a campaign's run may take in the page: the engine's own ceiling (2 minutes), plus
/// loading the package.
const RUN_LIMIT: Duration = Duration::from_secs(150);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Browser {
    Chromium,
    Firefox,
}

impl Browser {
    pub const ALL: [Browser; 2] = [Browser::Chromium, Browser::Firefox];

    pub fn name(self) -> &'static str {
        match self {
            Browser::Chromium => "chromium",
            Browser::Firefox => "firefox",
        }
    }

    pub fn from_name(name: &str) -> Option<Browser> {
        Browser::ALL.into_iter().find(|b| b.name() == name)
    }

    /// The WebDriver server: `CHROMEDRIVER` / `GECKODRIVER` when set (the variables
    /// wasm-bindgen-test-runner reads, set by `cargo xtask`), else Debian's chromedriver and
    /// geckodriver on PATH.
    fn driver(self) -> PathBuf {
        let (variable, default) = match self {
            Browser::Chromium => ("CHROMEDRIVER", "/usr/bin/chromedriver"),
            Browser::Firefox => ("GECKODRIVER", "geckodriver"),
        };
        std::env::var_os(variable).map_or_else(|| default.into(), PathBuf::from)
    }

    fn driver_args(self, port: u16) -> Vec<String> {
        match self {
            Browser::Chromium => vec![format!("--port={port}")],
            Browser::Firefox => vec!["--port".into(), port.to_string()],
        }
    }

    /// A fresh profile per session (chromedriver and geckodriver each make one), headless;
    /// otherwise the browser as a visitor has it.
    fn capabilities(self) -> serde_json::Map<String, Value> {
        let mut capabilities = serde_json::Map::new();
        match self {
            Browser::Chromium => capabilities.insert(
                "goog:chromeOptions".into(),
                json!({ "binary": "/usr/bin/chromium", "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run",
                ] }),
            ),
            Browser::Firefox => capabilities.insert(
                "moz:firefoxOptions".into(),
                json!({ "args": ["-headless"] }),
            ),
        };
        capabilities
    }
}

/// A browser session; the browser and its driver end when it is dropped.
pub struct Session {
    client: Client,
    _driver: Child,
}

/// What the page gave back for one campaign.
#[derive(Deserialize)]
pub struct PageRun {
    /// The engine's report, one attempt per endpoint.
    pub report: Report,
    /// Per endpoint (controls first, then each platform's in order): the largest
    /// `encodedBodySize` among its Resource Timing entries, 0 when the host hides it.
    pub sizes: Vec<u64>,
}

impl Session {
    /// Starts the driver and a session in `browser`.
    ///
    /// # Errors
    /// The driver or the browser cannot start.
    pub async fn start(browser: Browser) -> Result<Session, String> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("a port for the driver: {e}"))?
            .port();
        let driver_path = browser.driver();
        let driver = Command::new(&driver_path)
            .args(browser.driver_args(port))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", driver_path.display()))?;
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(address).await.is_err() {
            if Instant::now() > deadline {
                return Err(format!(
                    "{} did not listen on {address} within 15 s",
                    driver_path.display()
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(browser.capabilities())
            .connect(&format!("http://{address}"))
            .await
            .map_err(|e| format!("starting {} through its driver: {e}", browser.name()))?;
        client
            .update_timeouts(TimeoutConfiguration::new(
                Some(RUN_LIMIT),
                Some(Duration::from_secs(30)),
                Some(Duration::ZERO),
            ))
            .await
            .map_err(|e| format!("setting timeouts: {e}"))?;
        Ok(Session {
            client,
            _driver: driver,
        })
    }

    /// Opens `origin` and runs `campaign` (its JSON, as the file has it) with the engine's
    /// `run`, one trial per endpoint.
    ///
    /// # Errors
    /// The page does not load, the engine rejects the campaign or does not finish in time.
    pub async fn run(
        &self,
        origin: &str,
        campaign: &Value,
        urls: &[&str],
    ) -> Result<PageRun, String> {
        self.client
            .goto(origin)
            .await
            .map_err(|e| format!("opening {origin}: {e}"))?;
        let result = self
            .client
            .execute_async(RUN_SCRIPT, vec![campaign.clone(), json!(urls)])
            .await
            .map_err(|e| format!("running the engine: {e}"))?;
        if let Some(error) = result.get("error").and_then(Value::as_str) {
            return Err(format!("the engine failed: {error}"));
        }
        serde_json::from_value(result).map_err(|e| format!("reading the page's result: {e}"))
    }

    /// Ends the session (the browser closes; the driver is killed on drop).
    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}

/// Loads the package as a page does, runs the campaign with one trial, then reads the sizes
/// the page can see in Resource Timing (each probe URL starts with its endpoint's URL: the
/// engine only appends its `nr=` query).
const RUN_SCRIPT: &str = r#"
const [campaign, urls, done] = arguments;
import("/pkg/netreach.js")
  .then(async (engine) => {
    await engine.default();
    const report = await engine.run(Object.assign({}, campaign, { trials: 1 }));
    const entries = performance.getEntriesByType("resource");
    const sizes = urls.map((url) => {
      const href = new URL(url).href;
      return entries
        .filter((entry) => entry.name.startsWith(href))
        .reduce((most, entry) => Math.max(most, entry.encodedBodySize || 0), 0);
    });
    done({ report, sizes });
  })
  .catch((error) => done({ error: String(error) }));
"#;
