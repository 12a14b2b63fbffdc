//! Sending a report the visitor agreed to send.
use alloc::string::String;

use super::js::fetch;
use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    ReferrerPolicy, RequestCache, RequestCredentials, RequestInit, RequestMode, Response,
};

/// Browsers refuse `keepalive` bodies over 64 KiB; larger reports go without it.
const KEEPALIVE_LIMIT: usize = 60 * 1024;

/// Why a report was not stored.
pub enum SubmitFailure {
    /// No answer: the network failed or the collector is not reachable from this page.
    Unreachable(JsValue),
    /// The collector answered with an error status, and its `error` message if it gave one.
    Refused {
        status: u16,
        message: Option<String>,
    },
    /// A success status without the expected JSON answer (a captive portal's or a censor's
    /// page answers 200 too), with that status.
    BadAnswer { status: u16 },
}

impl SubmitFailure {
    /// The collector's HTTP status, 0 when no answer came: what a page needs to decide
    /// whether sending again later can succeed.
    pub fn status(&self) -> u16 {
        match self {
            SubmitFailure::Unreachable(_) => 0,
            SubmitFailure::Refused { status, .. } | SubmitFailure::BadAnswer { status } => *status,
        }
    }
}

/// POSTs `body` (the report's JSON) as `text/plain` (no CORS preflight), without cookies or
/// referrer, with `keepalive` so that it survives the visitor closing the page.
///
/// # Errors
/// See [`SubmitFailure`].
pub async fn post_report(url: &str, body: &str) -> Result<JsValue, SubmitFailure> {
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_mode(RequestMode::Cors);
    init.set_cache(RequestCache::NoStore);
    init.set_credentials(RequestCredentials::Omit);
    init.set_referrer_policy(ReferrerPolicy::NoReferrer);
    init.set_body(&JsValue::from_str(body));
    // Not in web-sys's RequestInit yet.
    let keepalive = JsValue::from_bool(body.len() <= KEEPALIVE_LIMIT);
    let _ = Reflect::set(&init, &JsValue::from_str("keepalive"), &keepalive);
    let response: Response = JsFuture::from(fetch(url, &init))
        .await
        .map_err(SubmitFailure::Unreachable)?
        .unchecked_into();
    let answer = match response.json() {
        Ok(promise) => JsFuture::from(promise).await.ok(),
        Err(_) => None,
    };
    if response.ok() {
        return answer
            .filter(JsValue::is_object)
            .ok_or(SubmitFailure::BadAnswer {
                status: response.status(),
            });
    }
    let message = answer
        .and_then(|a| Reflect::get(&a, &JsValue::from_str("error")).ok())
        .and_then(|m| m.as_string());
    Err(SubmitFailure::Refused {
        status: response.status(),
        message,
    })
}
