//! Clocks, timers, randomness and the Resource Timing entries of probes.
use alloc::{borrow::ToOwned, string::String};

use super::js::{clear_timeout, set_timeout, PERFORMANCE};
use super::Resolvable;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::PerformanceEntry;

/// Milliseconds on the monotonic page clock (`performance.now()`).
pub fn now() -> f64 {
    PERFORMANCE.with(|p| p.now())
}

/// Milliseconds since the Unix epoch (`Date.now()`).
pub fn date_now() -> f64 {
    js_sys::Date::now()
}

/// `Math.random()`: only shuffles probe order and seeds cache-busting nonces.
pub fn random() -> f64 {
    js_sys::Math::random()
}

/// ISO 8601 UTC form of a Unix time in milliseconds.
pub fn iso_time(ms: f64) -> String {
    js_sys::Date::new(&JsValue::from_f64(ms))
        .to_iso_string()
        .into()
}

/// The URL as the browser writes it (the name of its Resource Timing entry).
pub fn href(url: &str) -> String {
    web_sys::Url::new(url).map_or_else(|_| url.to_owned(), |u| u.href())
}

/// Keeps room for every probe's Resource Timing entry on a host page that already loaded a
/// lot (the default buffer holds 250 entries and then drops new ones).
pub fn raise_timing_buffer(entries: u32) {
    PERFORMANCE.with(|p| p.set_resource_timing_buffer_size(entries));
}

/// `duration` of the Resource Timing entry of `url` that started at or after `since`
/// (a `performance.now()` time), once the browser has added it (after the body is in).
pub fn resource_duration(url: &str, since: f64) -> Option<f64> {
    let entries = PERFORMANCE.with(|p| p.get_entries_by_name_with_entry_type(url, "resource"));
    entries.iter().rev().find_map(|entry| {
        let entry: PerformanceEntry = entry.unchecked_into();
        // The entry's start is the fetch start, a hair after our clock reading.
        (entry.start_time() >= since - 1.0).then(|| entry.duration())
    })
}

/// A future that completes after `ms` milliseconds. Dropping it clears the timer.
///
/// Hand-written rather than gloo-timers' `TimeoutFuture`, which keeps a Rust closure and a
/// futures channel per timer and needs std: +741 B gzip in the package (BENCHMARKS.md,
/// "Hand-written or crate"), which would make it larger than it is, for the same behaviour.
#[must_use = "a Sleep does nothing unless awaited"]
pub struct Sleep {
    id: JsValue,
    done: Resolvable,
}

impl Sleep {
    pub fn new(ms: u32) -> Sleep {
        let mut id = JsValue::UNDEFINED;
        let done = Resolvable::new(|resolve| {
            id = set_timeout(resolve, ms.min(i32::MAX as u32) as i32);
        });
        Sleep { id, done }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.done).poll(cx)
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        clear_timeout(&self.id);
    }
}
