//! The lab's inspector of the real collector: it starts the collector binary inside the
//! namespace with a fresh SQLite file (the collector serves the page and the lab campaign and
//! stores the report the page submits), then reads back what it stored, from its database,
//! and what it publishes, from its API.

use crate::error::{bail, Context, Result};
use crate::scenarios::Judged;
use netreach::{Report, Verdict};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

/// A running collector, seen from the lab; the collector is killed when this is dropped.
pub struct CollectorInspector {
    _child: Child,
    database: PathBuf,
    listen: SocketAddr,
}

/// How the collector is started.
pub struct Options<'a> {
    pub binary: &'a Path,
    pub listen: SocketAddr,
    pub www: &'a Path,
    pub campaigns: &'a Path,
    pub workdir: &'a Path,
}

/// What the collector holds for one report: the report itself and its rows of verdicts.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Stored {
    pub report: Report,
    pub rows: Vec<Judged>,
    /// The connection condition the collector judged the report's controls to show.
    pub connection: Option<String>,
}

impl CollectorInspector {
    /// Starts the collector (k = 1 so a single report is visible; no rate limit) and waits
    /// until `/healthz` answers.
    ///
    /// # Errors
    /// If it cannot start or is not healthy within 20 s (its log is in the workdir).
    pub async fn start(options: &Options<'_>) -> Result<Self> {
        let database = options.workdir.join("reports.db");
        let log = std::fs::File::create(options.workdir.join("collector.log"))
            .context("creating collector.log")?;
        let child = Command::new(options.binary)
            .arg("--listen")
            .arg(options.listen.to_string())
            .arg("--database")
            .arg(format!("sqlite://{}", database.display()))
            .arg("--www")
            .arg(options.www)
            .arg("--campaigns")
            .arg(options.campaigns)
            .args(["--k", "1", "--rate-limit", "0"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().context("collector log")?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .context(format_args!("starting {}", options.binary.display()))?;
        let mut collector = CollectorInspector {
            _child: child,
            database,
            listen: options.listen,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(status) = get_status(options.listen, "/healthz").await {
                if status == 200 {
                    return Ok(collector);
                }
            }
            if let Ok(Some(exit)) = collector._child.try_wait() {
                bail!("the collector exited at start ({exit}); see collector.log");
            }
            if Instant::now() > deadline {
                bail!("the collector did not answer /healthz within 20 s; see collector.log");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The collector's SQLite file, read-only.
    fn database(&self) -> Result<rusqlite::Connection> {
        rusqlite::Connection::open_with_flags(
            &self.database,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .context("opening the collector's database")
    }

    /// How many reports the collector has stored.
    ///
    /// # Errors
    /// If its database cannot be read.
    pub fn report_count(&self) -> Result<u64> {
        let db = self.database()?;
        let count: i64 = db
            .query_row("SELECT COUNT(*) FROM reports", [], |row| row.get(0))
            .context("counting stored reports")?;
        Ok(count.unsigned_abs())
    }

    /// The stored report whose public id (the one `POST /v1/reports` answered) is `id`, and
    /// its verdict rows, read from the collector's SQLite file.
    ///
    /// # Errors
    /// If the file, the row or its JSON is not as the collector's schema says.
    pub fn stored(&self, id: i64) -> Result<Stored> {
        let db = self.database()?;
        let (rowid, json, connection): (i64, String, Option<String>) = db
            .query_row(
                "SELECT id, report, connection FROM reports WHERE public_id = ?1",
                [id],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .context(format_args!("reading stored report {id}"))?;
        let report: Report =
            serde_json::from_str(&json).context(format_args!("parsing stored report {id}"))?;
        let mut statement = db
            .prepare(
                "SELECT platform, verdict, reason FROM verdicts WHERE report_id = ?1
                 ORDER BY platform",
            )
            .context("querying stored verdicts")?;
        let rows = statement
            .query_map([rowid], |row| {
                Ok(Judged {
                    platform: row.get(0)?,
                    verdict: row.get(1)?,
                    reason: row.get(2)?,
                })
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .context(format_args!("reading stored verdicts of report {id}"))?;
        Ok(Stored {
            report,
            rows,
            connection,
        })
    }

    /// What `GET /v1/aggregates` publishes (k = 1 here): per platform, the verdict of each
    /// cell's single report, as `(platform, verdict)`.
    ///
    /// # Errors
    /// No answer, or not the aggregates JSON.
    pub async fn aggregated(&self) -> Result<Vec<(String, String)>> {
        let (_, body) = get(self.listen, "/v1/aggregates")
            .await
            .context("asking for /v1/aggregates")?;
        let json: serde_json::Value =
            serde_json::from_str(&body).context("the aggregates are not JSON")?;
        let Some(cells) = json["cells"].as_array() else {
            bail!("the aggregates have no cells: {body}");
        };
        let mut seen = Vec::new();
        for cell in cells {
            let platform = cell["platform"].as_str().unwrap_or_default().to_owned();
            for verdict in Verdict::ALL.iter().map(|v| v.as_str()) {
                for _ in 0..cell[verdict].as_u64().unwrap_or(0) {
                    seen.push((platform.clone(), verdict.to_owned()));
                }
            }
        }
        Ok(seen)
    }
}

/// Status and body of a GET, over a bare HTTP/1.0 exchange (the collector closes after it).
async fn get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(addr).await?;
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    let answer = String::from_utf8_lossy(&answer);
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("not an HTTP answer"))?;
    let status = head
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("not an HTTP answer"))?;
    Ok((status, body.to_owned()))
}

async fn get_status(addr: SocketAddr, path: &str) -> std::io::Result<u16> {
    Ok(get(addr, path).await?.0)
}
