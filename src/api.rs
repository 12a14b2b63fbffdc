//! The JavaScript API (**contract**): `run`, `submit`, `validate`. Everything that crosses
//! the boundary is checked here, and every failure leaves as one `Error` with a message a web
//! developer can act on.
use alloc::{borrow::ToOwned, string::String, vec::Vec};
use core::sync::atomic::{AtomicU32, Ordering::Relaxed};

use crate::browser::{self, object, Cancel, SubmitFailure};
use crate::campaign::{Campaign, Endpoint, Platform, MAX_ENDPOINTS, MAX_PLATFORMS};
use crate::engine::{self, Progress};
use crate::vocabulary::{Outcome, ProbeKind};
use js_sys::Function;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

/// Every way a call can fail.
enum Error {
    /// The campaign is malformed or invalid: `invalid campaign: <field>: <problem>`.
    Campaign(String),
    /// An option of `run` has the wrong type.
    Option(&'static str),
    /// The signal was aborted before the run started.
    Cancelled,
    /// `submit` was not given the object `run` resolved with.
    Report,
    /// The collector URL is not an http(s) URL.
    CollectorUrl,
    /// The report was not stored.
    Submit(SubmitFailure),
}

impl From<Error> for js_sys::Error {
    fn from(error: Error) -> js_sys::Error {
        let status = match &error {
            Error::Submit(failure) => Some(failure.status()),
            _ => None,
        };
        let message = match error {
            Error::Campaign(message) => message,
            Error::Option(message) => message.into(),
            Error::Cancelled => "run cancelled before it started".into(),
            Error::Report => "the report must be the object run() resolved with".into(),
            Error::CollectorUrl => "collectorUrl must be an https:// (or http://) URL".into(),
            Error::Submit(SubmitFailure::Unreachable(why)) => {
                "the collector could not be reached: ".to_owned() + &object::error_message(&why)
            }
            Error::Submit(SubmitFailure::BadAnswer { .. }) => {
                "the collector's answer was not the expected JSON".into()
            }
            Error::Submit(SubmitFailure::Refused { status, message }) => {
                let mut s = "the collector refused the report (HTTP ".to_owned();
                crate::text::push_number(&mut s, u64::from(status));
                s.push(')');
                if let Some(message) = message {
                    s.push_str(": ");
                    s.push_str(&message);
                }
                s
            }
        };
        let error = js_sys::Error::new(&message);
        if let Some(status) = status {
            // The page keeps a report the collector could not take yet (0: no answer, 5xx,
            // 408, 429, a 2xx that is not the collector's) and drops one it refused.
            let _ = js_sys::Reflect::set(&error, &"status".into(), &status.into());
        }
        error
    }
}

fn invalid(field: &str, problem: &str) -> Error {
    let mut s = String::with_capacity(20 + field.len() + problem.len());
    s.push_str("invalid campaign: ");
    s.push_str(field);
    s.push_str(": ");
    s.push_str(problem);
    Error::Campaign(s)
}

/// Reads and validates a campaign object. Reading mirrors the serde shape of [`Campaign`]
/// (defaults: `trials` 3, `bust` true; `null` only for optional fields; unknown fields
/// ignored) but names the exact field at fault; the rules are those of [`Campaign::validate`].
/// `tests/api.rs` checks that it accepts and refuses what serde does, with the same values.
fn campaign(value: &JsValue) -> Result<Campaign, Error> {
    if !value.is_object() {
        return Err(invalid("campaign", "must be an object"));
    }
    if object::get(value, "trials").is_null() {
        return Err(invalid("trials", "must be a whole number"));
    }
    let campaign = Campaign {
        id: string(value, "id", "id")?,
        controls: list(value, "controls", "controls", endpoint)?,
        platforms: list(value, "platforms", "platforms", platform)?,
        trials: match number(value, "trials", "trials")? {
            Some(n) if n <= f64::from(u32::MAX) => n as u32,
            Some(_) => return Err(invalid("trials", "must be between 1 and 10")),
            None => 3,
        },
        collector: optional_string(value, "collector", "collector")?,
    };
    campaign
        .validate()
        .map_err(|e| invalid(&e.field, e.problem))?;
    Ok(campaign)
}

fn path(at: &str, key: &str) -> String {
    let mut s = String::with_capacity(at.len() + key.len() + 1);
    s.push_str(at);
    s.push('.');
    s.push_str(key);
    s
}

fn platform(value: &JsValue, at: &str) -> Result<Platform, Error> {
    if !value.is_object() {
        return Err(invalid(at, "must be an object"));
    }
    Ok(Platform {
        id: string(value, "id", &path(at, "id"))?,
        name: string(value, "name", &path(at, "name"))?,
        endpoints: list(value, "endpoints", &path(at, "endpoints"), endpoint)?,
    })
}

fn endpoint(value: &JsValue, at: &str) -> Result<Endpoint, Error> {
    if !value.is_object() {
        return Err(invalid(at, "must be an object"));
    }
    let url = string(value, "url", &path(at, "url"))?;
    let kind = match object::get(value, "kind").as_string().as_deref() {
        Some("fetch") => ProbeKind::Fetch,
        Some("image") => ProbeKind::Image,
        _ => return Err(invalid(&path(at, "kind"), "must be \"fetch\" or \"image\"")),
    };
    let bytes = number(value, "bytes", &path(at, "bytes"))?.map(|n| n as u64);
    let bust = object::get(value, "bust");
    let bust = match bust.as_bool() {
        Some(b) => b,
        None if bust.is_undefined() => true,
        None => return Err(invalid(&path(at, "bust"), "must be true or false")),
    };
    Ok(Endpoint {
        url,
        kind,
        bytes,
        bust,
    })
}

fn string(value: &JsValue, key: &str, at: &str) -> Result<String, Error> {
    optional_string(value, key, at)?.ok_or_else(|| invalid(at, "is required"))
}

fn optional_string(value: &JsValue, key: &str, at: &str) -> Result<Option<String>, Error> {
    let v = object::get(value, key);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.as_string()
        .map(Some)
        .ok_or_else(|| invalid(at, "must be a string"))
}

/// An optional whole number from 0 to 2^53.
fn number(value: &JsValue, key: &str, at: &str) -> Result<Option<f64>, Error> {
    let v = object::get(value, key);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    match v.as_f64() {
        Some(n) if (0.0..=9_007_199_254_740_992.0).contains(&n) && n as u64 as f64 == n => {
            Ok(Some(n))
        }
        _ => Err(invalid(at, "must be a whole number")),
    }
}

fn list<T>(
    value: &JsValue,
    key: &str,
    at: &str,
    item: impl Fn(&JsValue, &str) -> Result<T, Error>,
) -> Result<Vec<T>, Error> {
    let v = object::get(value, key);
    if v.is_undefined() || v.is_null() {
        return Err(invalid(at, "is required"));
    }
    let items = object::array(&v).ok_or_else(|| invalid(at, "must be an array"))?;
    // Past the limits that validation refuses anyway: do not read a huge array first.
    if items.len() > MAX_PLATFORMS.max(MAX_ENDPOINTS) {
        return Err(invalid(at, "too many entries"));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let mut item_at = String::with_capacity(at.len() + 4);
            item_at.push_str(at);
            item_at.push('[');
            crate::text::push_number(&mut item_at, i as u64);
            item_at.push(']');
            item(v, &item_at)
        })
        .collect()
}

#[wasm_bindgen]
extern "C" {
    /// The options of `run`.
    #[wasm_bindgen(
        typescript_type = "{ onProgress?: (event: { done: number, total: number, platform?: string, url: string, outcome: \"ok\" | \"timeout\" | \"error\" | \"unusable\" }) => void, signal?: AbortSignal }"
    )]
    pub type RunOptions;

    #[wasm_bindgen(method, getter, js_name = onProgress)]
    fn on_progress(this: &RunOptions) -> JsValue;

    #[wasm_bindgen(method, getter)]
    fn signal(this: &RunOptions) -> JsValue;
}

/// A progress event: `{ done, total, platform?, url, outcome }`.
#[derive(Serialize)]
struct ProgressEvent<'a> {
    done: u32,
    total: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    platform: Option<&'a str>,
    url: &'a str,
    outcome: Outcome,
}

/// `value` as a `T`, `None` when undefined or null.
fn optional<T: JsCast>(value: JsValue, problem: &'static str) -> Result<Option<T>, Error> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value
        .dyn_into()
        .map(Some)
        .map_err(|_| Error::Option(problem))
}

/// The hard ceiling of the next runs, `schedule::RUN_CEILING_MS` except in the test that checks
/// it (two minutes is too long for a test).
static RUN_CEILING: AtomicU32 = AtomicU32::new(crate::schedule::RUN_CEILING_MS);

/// Sets the hard ceiling of the runs that start after it; for that test only, not exported
/// to JavaScript.
#[doc(hidden)]
pub fn set_run_ceiling(ms: u32) {
    RUN_CEILING.store(ms, Relaxed);
}

/// Runs a campaign in this browser and resolves with its report (a plain object). Nothing is
/// probed before the campaign is found valid.
///
/// # Errors
/// Rejects with an `Error` naming the field of an invalid campaign, for options of the wrong
/// type, or when `options.signal` is already aborted. Cancelling during the run resolves
/// with a report whose verdicts are all inconclusive.
#[wasm_bindgen]
pub async fn run(campaign: JsValue, options: Option<RunOptions>) -> Result<JsValue, js_sys::Error> {
    let campaign = self::campaign(&campaign)?;
    let (on_progress, signal) = match &options {
        Some(options) => (options.on_progress(), options.signal()),
        None => (JsValue::UNDEFINED, JsValue::UNDEFINED),
    };
    let on_progress: Option<Function> =
        optional(on_progress, "options.onProgress must be a function")?;
    let signal: Option<AbortSignal> = optional(signal, "options.signal must be an AbortSignal")?;
    let mut cancel = Cancel::new(signal, RUN_CEILING.load(Relaxed));
    if cancel.is_set() {
        return Err(Error::Cancelled.into());
    }
    let progress = |p: &Progress<'_>| {
        if let Some(callback) = &on_progress {
            let event = ProgressEvent {
                done: p.done,
                total: p.total,
                platform: p.platform,
                url: p.url,
                outcome: p.outcome,
            };
            // A throwing callback must not stop the measurement.
            let _ = callback.call1(&JsValue::UNDEFINED, &object::to_js(&event));
        }
    };
    let report = engine::run(&campaign, &mut cancel, &progress).await;
    Ok(object::to_js(&report))
}

/// The campaign reader itself, for the test that keeps it in step with the serde shape; not
/// exported to JavaScript (so not in the package).
///
/// # Errors
/// The `Error` that `run` would reject with.
#[doc(hidden)]
pub fn read_campaign(value: &JsValue) -> Result<Campaign, js_sys::Error> {
    campaign(value).map_err(Into::into)
}

/// Checks a campaign without probing anything.
///
/// # Errors
/// Throws the `Error` that `run` would reject with.
#[wasm_bindgen]
pub fn validate(campaign: JsValue) -> Result<(), js_sys::Error> {
    self::campaign(&campaign).map(|_| ()).map_err(Into::into)
}

/// Sends a report (the object `run` resolved with) to a collector, as the visitor asked, and
/// resolves with the collector's answer (`{ id }`).
///
/// # Errors
/// Rejects with an `Error` carrying the collector's message when it refuses the report, or
/// saying that it could not be reached; its `status` is the collector's HTTP status, 0 when
/// no answer came (offline, blocked, network error).
#[wasm_bindgen]
pub async fn submit(report: JsValue, collector_url: String) -> Result<JsValue, js_sys::Error> {
    if !(collector_url.starts_with("https://") || collector_url.starts_with("http://")) {
        return Err(Error::CollectorUrl.into());
    }
    if !report.is_object() {
        return Err(Error::Report.into());
    }
    let body = js_sys::JSON::stringify(&report)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or(Error::Report)?;
    browser::post_report(&collector_url, &body)
        .await
        .map_err(|e| Error::Submit(e).into())
}
