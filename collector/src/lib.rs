//! netreach collector: anonymized reports in, k-anonymous aggregates out.
//!
//! One binary (axum on tokio). A report is checked in full (schema, the campaign it names, and
//! every verdict re-derived with the engine's own classifier) before anything is written; the
//! sender's IP address is used only in memory, for the country/network lookup and for rate
//! limiting, and never reaches storage or logs.

pub mod aggregate;
pub mod campaigns;
pub mod cli;
pub mod error;
pub mod geo;
pub mod intake;
pub mod metrics;
pub mod rate_limit;
pub mod routes;
pub mod server;
pub mod storage;
pub mod time;
