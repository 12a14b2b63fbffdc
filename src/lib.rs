//! netreach: is a platform blocked for me, right now?
//!
//! # A tour, in the order a run flows through it
//!
//! - [`vocabulary`]: every name of the contract (verdicts, reasons, attempt outcomes, probe
//!   kinds, conditions, browser and OS families, the report schema), each list defined once.
//! - [`campaign`]: what to measure (controls, platforms, endpoints, trials) and its validation.
//! - [`schedule`]: adaptive timeouts, shuffled rounds of trials, cache-busting probe URLs.
//! - `browser/` (wasm32 only): the probes (`fetch`, image loads), timers, Resource Timing, page
//!   visibility and CSP, report submission; the only code that touches JavaScript values.
//! - `engine` (wasm32 only): one run, driving the browser layer with the schedule.
//! - [`classify`]: the verdict rules, from attempts to one honest verdict per platform; the
//!   same code re-derives verdicts in the collector ([`classify_report`]).
//! - [`report`], [`client`], [`stats`]: the anonymized report, the coarse browser/OS family,
//!   medians.
//! - `api` (wasm32 only): the JavaScript API (`run`, `submit`, `validate`), where everything
//!   crossing the boundary is checked.
//!
//! Pure modules know nothing of the browser: they are tested natively and shared with the
//! collector. `text` holds byte-level string helpers that keep the Wasm package small.

// `std` only in tests: everything here needs just `alloc`, which keeps the Wasm package free of
// std's panic machinery when it is built without the `std` feature.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod campaign;
pub mod classify;
pub mod client;
pub mod report;
pub mod schedule;
pub mod stats;
mod text;
pub mod vocabulary;

#[cfg(target_arch = "wasm32")]
mod api;
#[cfg(target_arch = "wasm32")]
mod browser;
#[cfg(target_arch = "wasm32")]
mod engine;

// The JS API, also callable from Rust (the browser tests call it directly).
#[cfg(target_arch = "wasm32")]
pub use api::{read_campaign, run, set_run_ceiling, submit, validate, RunOptions};

pub use campaign::{Campaign, CampaignError, Endpoint, Platform};
pub use classify::{classify_report, Mismatch};
pub use report::{Attempt, Client, EndpointResult, PlatformResult, Report};
pub use vocabulary::{Browser, Condition, Os, Outcome, ProbeKind, Reason, Verdict, SCHEMA};

/// Without std (the Wasm package), a panic traps, as `panic = "abort"` does with std, but
/// without formatting a message nobody can read.
#[cfg(all(target_arch = "wasm32", not(feature = "std"), not(test)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}
