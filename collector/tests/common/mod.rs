//! Shared test helpers: the collector as a real process, a raw HTTP client, report builders,
//! a throw-away PostgreSQL cluster and a tiny MaxMind DB writer.
#![allow(dead_code)]

pub mod chromium;
pub mod filler;
pub mod http;
pub mod mmdb;
pub mod pg;
pub mod rng;
mod temp;

pub use temp::TempDir;

use netreach::classify::{classify, Baseline};
use netreach::{Attempt, Client, EndpointResult, Outcome, PlatformResult, ProbeKind, Report};
use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

#[allow(unused_imports)]
pub use http::{get, own_origin, post, request, submit, Response};

/// The test campaign `t`: two controls, platforms `x` and `yt` with two endpoints each.
pub const CAMPAIGN: &str = r#"{
  "id": "t",
  "controls": [
    { "url": "https://control-a.example/a.js", "kind": "fetch" },
    { "url": "https://control-b.example/b.png", "kind": "image" }
  ],
  "platforms": [
    { "id": "x", "name": "X", "endpoints": [
      { "url": "https://x.example/favicon.ico", "kind": "fetch" },
      { "url": "https://cdn.x.example/i.png", "kind": "image" } ] },
    { "id": "yt", "name": "YouTube", "endpoints": [
      { "url": "https://yt.example/api", "kind": "fetch" },
      { "url": "https://i.yt.example/t.jpg", "kind": "image" } ] }
  ]
}"#;

/// Writes the test campaign into `dir/campaigns/` and returns that folder.
pub fn campaigns_in(dir: &Path) -> PathBuf {
    let campaigns = dir.join("campaigns");
    std::fs::create_dir_all(&campaigns).unwrap();
    std::fs::write(campaigns.join("t.json"), CAMPAIGN).unwrap();
    campaigns
}

fn endpoint(url: &str, kind: ProbeKind, outcome: Outcome) -> EndpointResult {
    let attempt = Attempt {
        outcome,
        ms: if outcome == Outcome::Ok { 40 } else { 3000 },
        duration_ms: None,
        bytes: None,
        hidden: false,
    };
    EndpointResult {
        url: url.into(),
        kind,
        attempts: vec![attempt; 3],
    }
}

/// Returns once the current UTC hour has at least a minute left, waiting for the next one if
/// not: reports posted next are then received in the hour they claim.
pub fn clear_of_the_hour_change() {
    let now = netreach_collector::time::now();
    let left = netreach_collector::time::floor_hour(now) + 3600 - now;
    if left < 60 {
        std::thread::sleep(Duration::from_secs(left as u64 + 1));
    }
}

/// Start of the current hour, as reports carry it.
pub fn this_hour() -> String {
    let now = netreach_collector::time::floor_hour(netreach_collector::time::now());
    netreach_collector::time::format_utc(now).replace('Z', ".000Z")
}

/// A report for campaign `t` whose verdicts follow from its attempts (computed with the
/// engine's classifier). `marker` goes into `runtime_ms`, so each report can be found again.
pub fn report(marker: u32, x: Outcome, yt: Outcome) -> Report {
    let controls = vec![
        endpoint(
            "https://control-a.example/a.js",
            ProbeKind::Fetch,
            Outcome::Ok,
        ),
        endpoint(
            "https://control-b.example/b.png",
            ProbeKind::Image,
            Outcome::Ok,
        ),
    ];
    let baseline = Baseline::new(&controls);
    let platform = |id: &str, urls: [&str; 2], outcome: Outcome| {
        let endpoints = vec![
            endpoint(urls[0], ProbeKind::Fetch, outcome),
            endpoint(urls[1], ProbeKind::Image, outcome),
        ];
        let (verdict, reason) = classify(&baseline, &[], &endpoints);
        PlatformResult {
            id: id.into(),
            verdict,
            reason,
            median_ms: None,
            kbps: None,
            endpoints,
        }
    };
    Report {
        schema: netreach::SCHEMA.into(),
        campaign: "t".into(),
        campaign_revision: None,
        started_at: this_hour(),
        runtime_ms: marker,
        client: Client {
            browser: netreach::Browser::Chrome,
            version: 156,
            os: netreach::Os::Linux,
        },
        conditions: vec![],
        controls,
        platforms: vec![
            platform(
                "x",
                [
                    "https://x.example/favicon.ico",
                    "https://cdn.x.example/i.png",
                ],
                x,
            ),
            platform(
                "yt",
                ["https://yt.example/api", "https://i.yt.example/t.jpg"],
                yt,
            ),
        ],
    }
}

/// A valid report as a JSON body.
pub fn report_json(marker: u32, x: Outcome, yt: Outcome) -> String {
    serde_json::to_string(&report(marker, x, yt)).unwrap()
}

/// The repository's `www/` folder.
pub fn www() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../www")
}

/// What the collector prints before its admin listener's address.
const ADMIN_LINE: &str = "admin (/metrics, /healthz with causes) on http://";

/// A collector process; killed on drop.
pub struct Collector {
    pub child: Option<Child>,
    pub addr: SocketAddr,
    /// The admin listener (`/metrics`), when started with `--admin-listen`.
    pub admin: Option<SocketAddr>,
    pub log: PathBuf,
}

impl Collector {
    /// Starts it on `store` with the test campaign (in `dir`) and no rate limit, plus
    /// `extra` flags, logging to `dir/log`.
    pub fn on(store: &Store, dir: &Path, extra: &[&str], log: &str) -> Collector {
        let campaigns = campaigns_in(dir);
        let url = store.url();
        let mut args = vec![
            "--database",
            &url,
            "--campaigns",
            campaigns.to_str().unwrap(),
            "--rate-limit",
            "0",
        ];
        args.extend_from_slice(extra);
        Collector::start(&args, &dir.join(log))
    }

    /// Starts it on a SQLite file in `dir`, serving `www` and the campaigns in `campaigns`
    /// (rate limit as by default), plus `extra` flags, logging to `dir/collector.log`.
    pub fn serving(dir: &Path, www: &Path, campaigns: &Path, extra: &[&str]) -> Collector {
        let url = Store::sqlite(dir).url();
        let mut args = vec![
            "--database",
            &url,
            "--www",
            www.to_str().unwrap(),
            "--campaigns",
            campaigns.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        Collector::start(&args, &dir.join("collector.log"))
    }

    /// Starts the binary with `args` (plus `--listen 127.0.0.1:0` unless given), logging
    /// stdout and stderr to `log`, and waits until it listens.
    pub fn start(args: &[&str], log: &Path) -> Collector {
        let out = File::create(log).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_netreach-collector"));
        if !args.contains(&"--listen") {
            cmd.args(["--listen", "127.0.0.1:0"]);
        }
        let child = cmd
            .args(args)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("start the collector");
        let mut collector = Collector {
            child: Some(child),
            addr: "0.0.0.0:0".parse().unwrap(),
            admin: None,
            log: log.to_owned(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let text = collector.log_text();
            // Only a whole line: the log may be read while the collector is writing it.
            let listening = text
                .split("listening on http://")
                .nth(1)
                .filter(|rest| rest.contains('\n'));
            if let Some(rest) = listening {
                let addr = rest.split_whitespace().next().unwrap();
                collector.addr = addr.parse().unwrap();
                // Printed before the public address, so it is there by now if at all.
                collector.admin = text
                    .split(ADMIN_LINE)
                    .nth(1)
                    .and_then(|rest| rest.split_whitespace().next())
                    .map(|addr| addr.parse().unwrap());
                return collector;
            }
            if let Some(status) = collector.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("collector exited ({status}) before listening:\n{text}");
            }
            assert!(
                Instant::now() < deadline,
                "collector did not start:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Everything the process printed so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// `kill -9`: no chance to flush or drain anything.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap(); // SIGKILL on Unix
            child.wait().unwrap();
        }
    }

    /// SIGTERM, then waits for the process to exit.
    pub fn terminate(&mut self) -> ExitStatus {
        let mut child = self.child.take().unwrap();
        let ok = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "collector did not stop after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn get(&self, path: &str) -> Response {
        get(self.addr, path)
    }

    /// `GET path` on the admin listener (`--admin-listen 127.0.0.1:0` must have been given).
    pub fn admin_get(&self, path: &str) -> Response {
        get(self.admin.expect("started without --admin-listen"), path)
    }

    pub fn post(&self, body: &str) -> Response {
        post(self.addr, "application/json", body.as_bytes())
    }

    /// Submits `body` as the collector's own page would, from the loopback address `source`
    /// (Linux routes all of 127.0.0.0/8 to lo): each address is another sender.
    pub fn post_from(&self, source: &str, body: &str) -> Response {
        let source: std::net::IpAddr = source.parse().unwrap();
        http::request_from(
            Some(source),
            self.addr,
            "POST",
            "/v1/reports",
            &[
                ("Content-Type", "application/json"),
                ("Origin", &own_origin(self.addr)),
            ],
            body.as_bytes(),
        )
        .unwrap()
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Two tests of `fn $check(store: Store)`: `$check::sqlite`, on a file in a temporary folder,
/// and `$check::postgres`, on a database of the shared cluster.
#[macro_export]
macro_rules! test_on_both_stores {
    ($check:ident) => {
        mod $check {
            use $crate::common::{Store, TempDir};

            #[test]
            fn sqlite() {
                let dir = TempDir::new(concat!(stringify!($check), "-sqlite"));
                super::$check(Store::sqlite(dir.path()));
            }

            #[test]
            fn postgres() {
                super::$check(Store::postgres());
            }
        }
    };
}

/// The storages every storage test runs against: SQLite always, PostgreSQL through a
/// cluster this test process starts (see `pg`).
pub enum Store {
    Sqlite(PathBuf),
    Postgres(std::sync::Arc<pg::Cluster>, String),
}

impl Store {
    pub fn sqlite(dir: &Path) -> Store {
        Store::Sqlite(dir.join("data/netreach.db"))
    }

    pub fn postgres() -> Store {
        let cluster = pg::Cluster::shared();
        let db = cluster.create_database();
        Store::Postgres(cluster, db)
    }

    pub fn url(&self) -> String {
        match self {
            Store::Sqlite(path) => format!("sqlite://{}", path.display()),
            Store::Postgres(cluster, db) => cluster.url(db),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(..) => "postgres",
        }
    }

    /// Runs `sql` (a statement without results) on the database, behind the collector's back.
    pub fn execute(&self, sql: &str) {
        match self {
            Store::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path).unwrap();
                conn.busy_timeout(Duration::from_secs(5)).unwrap();
                conn.execute_batch(sql).unwrap();
            }
            Store::Postgres(cluster, db) => {
                cluster.query(db, sql);
            }
        }
    }

    /// Rows of `sql` (the same SQL runs on both), each as tab-separated text.
    pub fn query(&self, sql: &str) -> Vec<String> {
        match self {
            Store::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path).unwrap();
                let mut stmt = conn.prepare(sql).unwrap();
                let n = stmt.column_count();
                stmt.query_map([], |row| {
                    let cols: Vec<String> = (0..n)
                        .map(|i| match row.get_ref(i).unwrap() {
                            rusqlite::types::ValueRef::Integer(v) => v.to_string(),
                            rusqlite::types::ValueRef::Text(t) => {
                                String::from_utf8_lossy(t).into_owned()
                            }
                            rusqlite::types::ValueRef::Null => String::new(),
                            other => format!("{other:?}"),
                        })
                        .collect();
                    Ok(cols.join("\t"))
                })
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
            }
            Store::Postgres(cluster, db) => cluster.query(db, sql),
        }
    }
}

/// Bad filter parameters of the read routes (aggregates, disruptions, the OONI export: one
/// parser) and the 400 message each gets.
pub const BAD_FILTERS: &[(&str, &str)] = &[
    ("cc=PAK", "cc: must be a two-letter country code"),
    ("asn=x", "asn: must be a number like 17557"),
    ("platform=../x", "platform: must be a platform id"),
    (
        "campaign=../pk",
        "campaign: must be a campaign id (letters, digits, - and _)",
    ),
    (
        "from=yesterday",
        "from: must be a UTC date (2026-11-22) or date-time (2026-11-22T21:00:00Z)",
    ),
    (
        "to=2026-13-01",
        "to: must be a UTC date (2026-11-22) or date-time (2026-11-22T21:00:00Z)",
    ),
    ("from=2026-11-22&to=2026-11-21", "from: must be before to"),
    (
        "from=2020-01-01&to=2026-01-01",
        "from: the range is limited to 400 days",
    ),
];
