//! The command line. Every flag has a default, so `netreach-collector` alone serves
//! http://127.0.0.1:8080 from `www/` with a SQLite file under `data/`;
//! `netreach-collector catalog` reads the same storage and prints the health of every
//! endpoint the stored reports measured (see [`crate::catalog`]); `export` and `import`
//! move stored reports through JSON lines (see [`crate::jsonl`]).

use crate::origin::Origin;
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

/// The storage used when `--database` is not given.
pub const DEFAULT_DATABASE: &str = "sqlite://data/netreach.db";

/// The largest report body accepted when `--max-body` is not given (and by `import`).
pub const DEFAULT_MAX_BODY: usize = 128 * 1024;

/// netreach collector: serves the page, campaigns and dashboard; takes anonymized reports in
/// and publishes k-anonymous aggregates. The sender's IP address is used only in memory (geo
/// lookup, rate limiting) and never written to storage or logs.
#[derive(Clone, Debug, Parser)]
#[command(
    name = "netreach-collector",
    version,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(flatten)]
    pub serve: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What the binary does instead of serving.
#[derive(Clone, Debug, Subcommand)]
pub enum Command {
    /// Reads stored reports (read only, no network) and prints, per campaign and endpoint,
    /// the attempts by outcome and the reports in which every attempt was unusable: rotten
    /// catalog entries come first.
    Catalog(CatalogArgs),
    /// Writes stored reports to stdout as JSON lines, `{"cc", "asn", "report"}` one report a
    /// line in storage order (read only): for backups, moving storages, federating collectors.
    Export(ExportArgs),
    /// Stores the reports of a JSON lines file written by `export`, each line checked as
    /// `POST /v1/reports` checks a report; bad lines are named on stderr and skipped, reports
    /// already stored are not stored again. Exit 0: every line stored or present; 1: some
    /// skipped (or the database failed); 2: bad usage.
    Import(ImportArgs),
    /// Folds every report received in an hour that is over into the hourly rollups that
    /// aggregates and disruptions read (the server does it every minute): after loading
    /// reports in bulk, or to make the first pass over a large database before serving.
    Rollup(RollupArgs),
    /// Writes a simulated week of SYNTHETIC reports to stdout as JSON lines for `import`
    /// (a steady background in four countries, a nation-scale social-media disruption in
    /// Pakistan, a one-network X block under way), ending with the current hour; serve the
    /// database they go into with `--demo`, never a real one.
    Demo(DemoArgs),
    /// Manages the campaigns folder: validate a campaign file, add it, revise it (the revision
    /// goes up when what is measured changes, and the earlier one is kept so its reports stay
    /// attributable), expire it (its reports are then refused with 410), list them, or turn a
    /// Citizen Lab test-list CSV into a campaign of websites. Exit 0: done; 1: refused (the
    /// message says why); 2: bad usage.
    Campaign(CampaignArgs),
}

/// The arguments of `netreach-collector campaign`.
#[derive(Clone, Debug, Args)]
pub struct CampaignArgs {
    /// Folder of campaign files, as the server's `--campaigns`.
    #[arg(long, default_value = "www/campaigns", global = true)]
    pub campaigns: PathBuf,

    #[command(subcommand)]
    pub action: CampaignAction,
}

/// What `netreach-collector campaign` does.
#[derive(Clone, Debug, Subcommand)]
pub enum CampaignAction {
    /// Checks a campaign file as `add` would (nothing written).
    Validate {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Adds a new campaign (revision 1, `date_created` now unless given) as `{id}.json`.
    Add {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Replaces a campaign with a new version of its file: when its controls, platforms or
    /// trials change, the revision goes up by one and the current file is kept as
    /// `{id}.r{revision}.json`; when only its descriptor changes, the revision stays.
    Revise {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Ends a campaign at `--at` (default now): from then on it is not listed, the page says
    /// it has ended and its reports are refused with 410; reports already stored stay counted.
    Expire {
        #[arg(value_name = "ID", value_parser = campaign_id)]
        id: String,
        /// A UTC date or date-time; default now.
        #[arg(long, value_name = "DATE", value_parser = date_time)]
        at: Option<i64>,
    },
    /// Lists the campaigns of the folder: id, revision, state, platforms, name.
    List,
    /// Writes a campaign of websites from a Citizen Lab test-list CSV
    /// (`url,category_code,category_description,date_added,source,notes`) to stdout: one
    /// target per host, probed at `https://HOST/favicon.ico` (a guess, to verify with `cargo
    /// xtask catalog check` before `add`), with the controls of the folder's `default`
    /// campaign. Bad rows are named by line on stderr and skipped.
    ImportCitizenlab {
        #[arg(value_name = "FILE.csv")]
        file: PathBuf,
        /// The id of the campaign written.
        #[arg(long, value_name = "ID", value_parser = campaign_id)]
        id: String,
        /// Only rows of this category code (repeatable), e.g. `NEWS`, `POLR`, `HUMR`.
        #[arg(long = "category", value_name = "CODE")]
        categories: Vec<String>,
    },
}

/// The arguments of `netreach-collector demo`.
#[derive(Clone, Debug, Args)]
pub struct DemoArgs {
    /// Folder of campaign files; the reports are of its `default` campaign.
    #[arg(long, default_value = "www/campaigns")]
    pub campaigns: PathBuf,

    /// The seed of the simulation: the same seed and hour give the same reports.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,

    /// The last hour of the week (UTC date-time); default now.
    #[arg(long, value_name = "DATE", value_parser = date_time)]
    pub now: Option<i64>,
}

/// The arguments of `netreach-collector rollup`.
#[derive(Clone, Debug, Args)]
pub struct RollupArgs {
    /// The storage: `sqlite://PATH` or `postgres://…` (migrated first, as the server does).
    #[arg(long, default_value = DEFAULT_DATABASE)]
    pub database: String,

    /// PostgreSQL: the CA (PEM) that signed the server's certificate.
    #[arg(long, value_name = "FILE.pem")]
    pub db_ca: Option<PathBuf>,

    /// The longest statement, as the server's `--db-timeout-ms`: each received hour is
    /// folded in one transaction within it, and an hour is folded once it ended more than
    /// twice this ago.
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..))]
    pub db_timeout_ms: u64,

    /// Fold everything at once, in one transaction (limited to 24 hours, not by
    /// `--db-timeout-ms`), instead of an hour per transaction: one pass over the tables, for
    /// the first pass over a large existing database, where an hour at a time reads each
    /// report's verdicts by report (measured on 10 million PostgreSQL reports larger than
    /// memory: 20 s an hour, about 4 hours for 30 days).
    #[arg(long)]
    pub at_once: bool,
}

/// The arguments of `netreach-collector export`.
#[derive(Clone, Debug, Args)]
pub struct ExportArgs {
    /// The storage to read: `sqlite://PATH` (an existing file) or `postgres://…`.
    #[arg(long, default_value = DEFAULT_DATABASE)]
    pub database: String,

    /// PostgreSQL: the CA (PEM) that signed the server's certificate (see `--help` of the
    /// server).
    #[arg(long, value_name = "FILE.pem")]
    pub db_ca: Option<PathBuf>,

    /// Only runs started at or after this UTC date or date-time (`started_at`, as the
    /// aggregates' `from`); default: the oldest stored.
    #[arg(long, value_name = "DATE", value_parser = date_time)]
    pub from: Option<i64>,

    /// Only runs started before this UTC date or date-time (excluded, as the aggregates'
    /// `to`); default: no end.
    #[arg(long, value_name = "DATE", value_parser = date_time)]
    pub to: Option<i64>,
}

/// The arguments of `netreach-collector import`.
#[derive(Clone, Debug, Args)]
pub struct ImportArgs {
    /// The storage to write: `sqlite://PATH` (created with its folder) or `postgres://…`.
    #[arg(long, default_value = DEFAULT_DATABASE)]
    pub database: String,

    /// PostgreSQL: the CA (PEM) that signed the server's certificate.
    #[arg(long, value_name = "FILE.pem")]
    pub db_ca: Option<PathBuf>,

    /// Folder of campaign files the reports are checked against, as the server's.
    #[arg(long, default_value = "www/campaigns")]
    pub campaigns: PathBuf,

    /// Accept runs started more than 30 days ago (the API refuses them): for restoring a
    /// backup or moving a database, not for files from other collectors.
    #[arg(long)]
    pub any_age: bool,

    /// The k of the collector serving this database: only hours with at least k distinct
    /// senders feed the baselines each report's connection is judged against.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub k: u32,

    /// The JSON lines file (`-` for stdin).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// A UTC date or date-time, as the aggregates take them.
fn date_time(s: &str) -> Result<i64, String> {
    crate::time::parse_utc(s)
        .ok_or_else(|| "must be a UTC date like 2026-11-22 or 2026-11-22T21:00:00Z".into())
}

/// The arguments of `netreach-collector catalog`.
#[derive(Clone, Debug, Args)]
pub struct CatalogArgs {
    /// The storage to read: `sqlite://PATH` (an existing file) or `postgres://…`.
    #[arg(long, default_value = DEFAULT_DATABASE)]
    pub database: String,

    /// PostgreSQL: the CA (PEM) that signed the server's certificate, for `sslmode=verify-ca`
    /// or `verify-full` in `--database`.
    #[arg(long, value_name = "FILE.pem")]
    pub db_ca: Option<PathBuf>,

    /// Only the reports of this campaign.
    #[arg(long, value_name = "ID", value_parser = campaign_id)]
    pub campaign: Option<String>,

    /// First day (UTC) of the runs read, on `started_at`; default 29 days before `--to`.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = date)]
    pub from: Option<i64>,

    /// Last day (UTC) of the runs read, included; default today.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = date)]
    pub to: Option<i64>,

    /// One JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
}

fn campaign_id(s: &str) -> Result<String, String> {
    if crate::campaigns::valid_id(s) {
        Ok(s.to_owned())
    } else {
        Err("must be a campaign id (letters, digits, - and _)".into())
    }
}

/// A UTC day as the Unix time of its midnight.
fn date(s: &str) -> Result<i64, String> {
    crate::time::parse_date(s).ok_or_else(|| "must be a date like 2026-11-22 (YYYY-MM-DD)".into())
}

/// The server's options (the binary without a subcommand).
#[derive(Clone, Debug, Args)]
pub struct Config {
    /// Address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Where reports are stored: `sqlite://PATH` (a file, created with its folder) or
    /// `postgres://USER[:PASSWORD]@HOST[:PORT]/DB` (several collectors may share it).
    #[arg(long, default_value = DEFAULT_DATABASE)]
    pub database: String,

    /// PostgreSQL: the CA (PEM) that signed the server's certificate. `sslmode` in the URL
    /// says what is checked: `verify-full` the chain and the host name, `verify-ca` the chain
    /// (both need this file), `require` nothing but TLS itself (the chain, with this file),
    /// `prefer` (default) TLS when the server offers it, `disable` none.
    #[arg(long, value_name = "FILE.pem")]
    pub db_ca: Option<PathBuf>,

    /// Folder of static files (the page, the embed, `pkg/` with the Wasm engine, the dashboard).
    #[arg(long, default_value = "www")]
    pub www: PathBuf,

    /// Folder of campaign files (`{id}.json`), served as `/v1/campaigns/{id}`.
    #[arg(long, default_value = "www/campaigns")]
    pub campaigns: PathBuf,

    /// Aggregates publish an hour cell (hour, country, network, platform) only when at least k
    /// distinct senders reported in it; a day is the sum of its published hours.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub k: u32,

    /// MaxMind DB file with countries (GeoLite2-Country or DB-IP layout: `country.iso_code`).
    /// Without it every report gets country `ZZ`.
    #[arg(long, value_name = "FILE.mmdb")]
    pub geo_country: Option<PathBuf>,

    /// MaxMind DB file with networks (GeoLite2-ASN layout: `autonomous_system_number`).
    /// Without it every report gets ASN 0.
    #[arg(long, value_name = "FILE.mmdb")]
    pub geo_asn: Option<PathBuf>,

    /// The address visitors open the collector at, `https://host[:port]`: its pages (the page
    /// and the embed frame) may submit reports. Without it, the own origin is read from the
    /// `Host` header, and only when that is an IP address or `localhost`: set it for any
    /// deployment under a host name, and always behind a reverse proxy.
    #[arg(long, value_name = "ORIGIN", value_parser = Origin::parse)]
    pub public_origin: Option<Origin>,

    /// Another site whose own pages run the engine and may submit reports here,
    /// `https://host[:port]` (repeat for several). Not needed for `embed.js` or `embed.html`:
    /// the embed frame is served by the collector, so it submits from the collector's origin.
    #[arg(long = "embed-origin", value_name = "ORIGIN", value_parser = Origin::parse)]
    pub embed_origins: Vec<Origin>,

    /// Address range of a reverse proxy in front of the collector (repeatable, e.g.
    /// `10.0.0.0/8`, `::1`): only from a peer in such a range is `X-Forwarded-For` read,
    /// right to left, past every entry that is itself in a trusted range (a CDN's).
    /// Without it the header is ignored (and a warning logged once if requests carry it).
    #[arg(long, value_name = "CIDR")]
    pub trusted_proxy: Vec<crate::proxy::Cidr>,

    /// `X-Forwarded-For` entries read at most, from the right: the trusted proxies in a row
    /// in front of the collector (2 for a CDN and then a reverse proxy).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=16))]
    pub trusted_hops: u32,

    /// Reports accepted per minute from one client address (IPv6: per /64), with bursts of
    /// the same size; 0 turns rate limiting off.
    #[arg(long, default_value_t = 60)]
    pub rate_limit: u32,

    /// Clients tracked at most by each rate limiter (reports, aggregates); when the table is
    /// full of clients still using their allowance, new clients get 503.
    #[arg(long, default_value_t = 200_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub rate_limit_clients: u64,

    /// Senders remembered per hour to count k in distinct senders (keyed hashes, in memory,
    /// emptied every hour); when full, further reports that hour still count as reports but
    /// not as senders.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_senders: u64,

    /// Aggregate queries per minute from one client address (IPv6: per /64), with bursts of
    /// the same size (429 past it); 0 turns this limit off.
    #[arg(long, default_value_t = 30)]
    pub aggregate_rate_limit: u32,

    /// Aggregate queries answered from storage at once; more get 503 + `Retry-After`.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_concurrent_aggregates: u32,

    /// Seconds an aggregate answer is reused for the same query (0: never).
    #[arg(long, default_value_t = 30)]
    pub aggregate_cache_seconds: u64,

    /// Rows (cell and verdict) one aggregate query may read; a query that would read more
    /// is refused with 400 (counted by the database, nothing read).
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_aggregate_rows: u64,

    /// Days raw reports are kept, by the hour they arrived: older ones are deleted with their
    /// verdict rows at start and then every hour, once in the hourly rollups, which keep
    /// counting them in aggregates. 0 keeps them forever.
    #[arg(long, value_name = "DAYS", default_value_t = 90)]
    pub retain_days: u32,

    /// Largest accepted report body, in bytes (larger ones get 413).
    #[arg(long, default_value_t = DEFAULT_MAX_BODY)]
    pub max_body: usize,

    /// Connections (PostgreSQL) or read connections (SQLite) kept open.
    #[arg(long, default_value_t = 16)]
    pub pool_size: usize,

    /// Seconds that a shutdown (SIGTERM, Ctrl-C) waits for requests in flight.
    #[arg(long, default_value_t = 30)]
    pub drain_seconds: u64,

    /// Reports that may wait for the SQLite writer; past it, 503 + `Retry-After` at once.
    #[arg(long, default_value_t = 8192, value_parser = clap::value_parser!(u64).range(1..))]
    pub write_queue: u64,

    /// PostgreSQL: milliseconds at most to wait for a pooled connection, to connect, and for
    /// any statement; past it the request gets 503.
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..))]
    pub db_timeout_ms: u64,

    /// Milliseconds a request body may stall between two pieces (408 past it).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub body_timeout_ms: u64,

    /// Milliseconds a request may take in all (503 past it).
    #[arg(long, default_value_t = 30_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout_ms: u64,

    /// Connections open at once; one more is answered 503 + `Retry-After` and closed.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,

    /// Address of the admin listener: `/metrics` and `/healthz` with the cause of a failure.
    /// Keep it on loopback or a private network; without it neither is served (the public
    /// `/healthz` says only `ok` or `unavailable`).
    #[arg(long, value_name = "ADDR:PORT")]
    pub admin_listen: Option<SocketAddr>,

    /// The database holds SYNTHETIC demo data (`netreach-collector demo`): every API answer
    /// says so (`X-Netreach-Synthetic: true`, `"synthetic": true`, the feed's titles), and the
    /// page and dashboard show a banner. Refused with the default `--database`, the real one.
    #[arg(long)]
    pub demo: bool,
}
