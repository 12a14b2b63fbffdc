//! The command line. Every flag has a default, so `netreach-collector` alone serves
//! http://127.0.0.1:8080 from `www/` with a SQLite file under `data/`.

use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;

/// netreach collector: serves the page, campaigns and dashboard; takes anonymized reports in
/// and publishes k-anonymous aggregates. The sender's IP address is used only in memory (geo
/// lookup, rate limiting) and never written to storage or logs.
#[derive(Clone, Debug, Parser)]
#[command(name = "netreach-collector", version)]
pub struct Config {
    /// Address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Where reports are stored: `sqlite://PATH` (a file, created with its folder) or
    /// `postgres://USER[:PASSWORD]@HOST[:PORT]/DB` (several collectors may share it).
    #[arg(long, default_value = "sqlite://data/netreach.db")]
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
