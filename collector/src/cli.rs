//! The command line. Every flag has a default, so `netreach-collector` alone serves
//! http://127.0.0.1:8080 from `www/` with a SQLite file under `data/`;
//! `netreach-collector catalog` reads the same storage and prints the health of every
//! endpoint the stored reports measured (see [`crate::catalog`]).

use crate::origin::Origin;
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

/// The storage used when `--database` is not given.
pub const DEFAULT_DATABASE: &str = "sqlite://data/netreach.db";

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
}

/// The arguments of `netreach-collector catalog`.
#[derive(Clone, Debug, Args)]
pub struct CatalogArgs {
    /// The storage to read: `sqlite://PATH` (an existing file) or `postgres://…`.
    #[arg(long, default_value = DEFAULT_DATABASE)]
    pub database: String,

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

    /// Folder of static files (the page, the embed, `pkg/` with the Wasm engine, the dashboard).
    #[arg(long, default_value = "www")]
    pub www: PathBuf,

    /// Folder of campaign files (`{id}.json`), served as `/v1/campaigns/{id}`.
    #[arg(long, default_value = "www/campaigns")]
    pub campaigns: PathBuf,

    /// Aggregates leave out every cell (hour or day, country, network, platform) with fewer
    /// than k reports.
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

    /// Take the client address from the last `X-Forwarded-For` entry. Only behind a reverse
    /// proxy that appends it: otherwise anyone could choose their country and dodge limits.
    #[arg(long)]
    pub trusted_proxy: bool,

    /// Reports accepted per minute from one client address (IPv6: per /64), with bursts of
    /// the same size; 0 turns rate limiting off.
    #[arg(long, default_value_t = 60)]
    pub rate_limit: u32,

    /// Largest accepted report body, in bytes (larger ones get 413).
    #[arg(long, default_value_t = 128 * 1024)]
    pub max_body: usize,

    /// Connections (PostgreSQL) or read connections (SQLite) kept open.
    #[arg(long, default_value_t = 16)]
    pub pool_size: usize,

    /// Seconds that a shutdown (SIGTERM, Ctrl-C) waits for requests in flight.
    #[arg(long, default_value_t = 30)]
    pub drain_seconds: u64,
}
