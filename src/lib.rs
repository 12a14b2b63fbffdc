//! netreach: is a platform blocked for me, right now?
//!
//! Pure modules (the campaign model, statistics, classification, the report) know nothing of
//! the browser and are shared with the collector, which re-derives every verdict it receives.
//! The browser layer and the `#[wasm_bindgen]` exports exist only on wasm32.

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
pub use api::{run, submit, validate, RunOptions};

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
