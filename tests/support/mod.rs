//! Shared by the browser tests: the fixture server's address, running a campaign through the
//! public API, and reading the server's request log.
#![allow(dead_code)]

use js_sys::{Promise, JSON};
use netreach::{Report, RunOptions};
use serde_json::{json, Value};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The fixture server (`netreach-fixtures`), compiled in by `cargo xtask test`.
pub fn fixtures() -> &'static str {
    match option_env!("NETREACH_FIXTURES") {
        Some(address) => address,
        None => panic!(
            "NETREACH_FIXTURES is not set: start `netreach-fixtures --listen 127.0.0.1:8718` and \
             build the tests with NETREACH_FIXTURES=http://127.0.0.1:8718 (cargo xtask test does both)"
        ),
    }
}

/// `path` on the fixture server.
pub fn at(path: &str) -> String {
    format!("{}{path}", fixtures())
}

/// A token unique to this test run, to find a test's own requests in the log.
pub fn token(name: &str) -> String {
    format!("{name}-{}", (js_sys::Math::random() * 1e12) as u64)
}

pub fn js(value: &Value) -> JsValue {
    JSON::parse(&value.to_string()).expect("valid JSON")
}

pub fn to_json(value: &JsValue) -> Value {
    let text: String = JSON::stringify(value).expect("serializable").into();
    serde_json::from_str(&text).expect("JSON")
}

pub fn fetch_endpoint(url: &str) -> Value {
    json!({ "url": url, "kind": "fetch" })
}

pub fn image_endpoint(url: &str) -> Value {
    json!({ "url": url, "kind": "image" })
}

/// A `fetch` endpoint at `path` on the fixture server.
pub fn fetch_at(path: &str) -> Value {
    fetch_endpoint(&at(path))
}

/// An image endpoint at `path` on the fixture server.
pub fn image_at(path: &str) -> Value {
    image_endpoint(&at(path))
}

/// A campaign with the fixture server's `/text` as its control and one platform `p`.
pub fn campaign(endpoints: Vec<Value>, trials: u32) -> Value {
    json!({
        "id": "test",
        "trials": trials,
        "controls": [fetch_at("/text?control")],
        "platforms": [{ "id": "p", "name": "Platform", "endpoints": endpoints }],
    })
}

/// Runs a campaign through the exported `run`, as a page would.
pub async fn run_with(campaign: &Value, options: JsValue) -> Result<JsValue, String> {
    let options: Option<RunOptions> = (!options.is_undefined()).then(|| options.unchecked_into());
    netreach::run(js(campaign), options)
        .await
        .map_err(|e| String::from(e.message()))
}

/// Runs a campaign and returns the report as JSON and as the collector would parse it.
pub async fn run(campaign: &Value) -> (Value, Report) {
    let report = run_with(campaign, JsValue::UNDEFINED)
        .await
        .expect("run resolves");
    let json = to_json(&report);
    let parsed: Report = serde_json::from_value(json.clone()).expect("report parses as Report");
    (json, parsed)
}

pub async fn eval_promise(code: &str) -> JsValue {
    let promise: Promise = js_sys::eval(code).expect("evaluates").unchecked_into();
    JsFuture::from(promise).await.expect("promise resolves")
}

/// Every request the fixture server logged, oldest first.
pub async fn log() -> Vec<Value> {
    let code = format!("fetch('{}').then(r => r.text())", at("/log"));
    let text = eval_promise(&code).await.as_string().expect("text");
    serde_json::from_str(&text).expect("log JSON")
}

/// The logged requests whose target contains `needle`.
pub async fn requests(needle: &str) -> Vec<Value> {
    log()
        .await
        .into_iter()
        .filter(|e| e["target"].as_str().is_some_and(|t| t.contains(needle)))
        .collect()
}

/// A loopback URL on which nothing listens (connection refused).
pub async fn refused_url(path: &str) -> String {
    let code = format!("fetch('{}').then(r => r.json())", at("/info"));
    let info = to_json(&eval_promise(&code).await);
    let port = info["closed_port"].as_u64().expect("closed_port");
    format!("http://127.0.0.1:{port}{path}")
}

/// `navigator.userAgent` of the browser the tests run in.
pub fn user_agent() -> String {
    js_sys::eval("navigator.userAgent")
        .expect("evaluates")
        .as_string()
        .expect("a string")
}

/// Whether the tests run in Firefox (`cargo xtask test browser-firefox`) rather than Chromium:
/// where the two browsers differ, a test states what each one does.
pub fn in_firefox() -> bool {
    user_agent().contains("Firefox/")
}

pub async fn sleep(ms: u32) {
    let code = format!("new Promise(r => setTimeout(r, {ms}))");
    eval_promise(&code).await;
}

/// Every attempt of the first platform's endpoint `i`.
pub fn attempts(report: &Value, i: usize) -> &[Value] {
    report["platforms"][0]["endpoints"][i]["attempts"]
        .as_array()
        .expect("attempts")
}

/// The outcomes of every attempt of the first platform's endpoint `i`.
pub fn outcomes(report: &Value, i: usize) -> Vec<String> {
    attempts(report, i)
        .iter()
        .map(|a| a["outcome"].as_str().expect("outcome").to_owned())
        .collect()
}

/// The first platform's verdict and reason.
/// Asserts the outcomes of the first platform's endpoints: `expected[i]` for endpoint `i`.
#[track_caller]
pub fn assert_outcomes<const N: usize>(report: &Value, expected: &[[&str; N]]) {
    for (i, want) in expected.iter().enumerate() {
        assert_eq!(outcomes(report, i), want, "endpoint {i}");
    }
}

/// The first platform's verdict and reason.
pub fn verdict(report: &Value) -> (&str, &str) {
    let p = &report["platforms"][0];
    (
        p["verdict"].as_str().expect("verdict"),
        p["reason"].as_str().expect("reason"),
    )
}
