//! netreach collector: anonymized reports in, k-anonymous aggregates out.
//!
//! One binary (axum on tokio). A report is checked in full (schema, the campaign it names, and
//! every verdict re-derived with the engine's own classifier) before anything is written; the
//! sender's IP address is used only in memory, for the country/network lookup and for rate
//! limiting, and never reaches storage or logs.
//!
//! # A tour, in the order a report flows through it
//!
//! - [`cli`] and [`server`]: the options, then the listener (capped by [`listener`]), state
//!   and shutdown.
//! - [`proxy`]: the client's address, from the peer or, behind trusted proxies, from
//!   `X-Forwarded-For`.
//! - [`routes`]: the HTTP API, one file per route (`reports`, `campaigns`, `aggregates`,
//!   `disruptions`, `ooni`, `health`) and the security headers of every answer (`security`),
//!   with [`error`] turning every failure into a status and a message.
//! - [`origin`]: which web pages may submit (the collector's own, configured embedders).
//! - [`rate_limit`]: per-sender limits keyed by a rotating hash of the address.
//! - [`senders`]: whether a report is its sender's first in its cell this hour (k counts
//!   distinct senders), from a keyed hash held in memory for the hour only.
//! - [`campaigns`]: the campaign descriptors a report must match.
//! - [`intake`]: from a request body to a report fit to store: parsed, checked against its
//!   campaign (every control, endpoint and trial, unless the run says it ended early), every
//!   verdict re-derived with the engine's classifier.
//! - [`geo`]: country and network (ASN) of the sender, from a MaxMind database, in memory only.
//! - [`connection`]: each report's connection condition (`normal`, `degraded`, `offline`),
//!   from its controls against its network's baseline for that hour of day, a table rebuilt
//!   from the rollups.
//! - [`storage`]: one trait, two stores (`sqlite`, `postgres`), chosen by the database URL;
//!   [`rollup`] folds each received hour into the hourly rollups that aggregates read, and
//!   [`retention`] deletes reports older than `--retain-days`.
//! - [`aggregate`]: verdict counts per cell with every cell under k left out, as JSON or CSV;
//!   [`aggregate_guard`]: the cache, concurrency cap and per-client allowance of those reads
//!   (and of disruptions).
//! - [`disruptions`]: disruption events from hourly counts (a binomial test of each cell's
//!   failing share against its own baseline), published as JSON and Atom.
//! - [`ooni`]: the published hour cells in OONI's base data format (`GET /v1/export/ooni`).
//! - [`catalog`]: the operator's `catalog` command, outcomes per endpoint from stored reports,
//!   to find rotten catalog entries.
//! - [`jsonl`]: the operator's `export` and `import` commands, stored reports as JSON lines
//!   (backups, moving storages, federating collectors), each imported line checked as intake
//!   checks a report.
//! - [`demo`]: a simulated week of synthetic reports (`netreach-collector demo`), for a
//!   collector started with `--demo`.
//! - [`metrics`] and [`time`]: Prometheus counters, hour arithmetic.

pub mod aggregate;
pub mod aggregate_guard;
pub mod campaigns;
pub mod catalog;
pub mod cli;
pub mod connection;
pub mod demo;
pub mod disruptions;
pub mod error;
pub mod geo;
pub mod intake;
pub mod jsonl;
pub mod listener;
pub mod metrics;
pub mod ooni;
pub mod origin;
pub mod proxy;
pub mod rate_limit;
pub mod retention;
pub mod rollup;
pub mod routes;
pub mod senders;
pub mod server;
pub mod storage;
pub mod time;
