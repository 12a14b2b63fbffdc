//! The JavaScript API as a page uses it: validation before any probe, the report's shape and
//! anonymity, verdicts end to end, progress, cancellation, and submission.
#![cfg(target_arch = "wasm32")]

mod support;

use serde_json::{json, Value};
use std::cell::RefCell;
use std::rc::Rc;
use support::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// The engine reads campaigns with a hand-written reader (smaller than serde in the package,
/// see src/browser/object.rs); the collector reads them with serde. Both must accept and
/// refuse the same campaigns, and read the same values.
#[wasm_bindgen_test]
fn the_campaign_reader_agrees_with_the_serde_shape() {
    let default: Value =
        serde_json::from_str(include_str!("../www/campaigns/default.json")).unwrap();
    let minimal = json!({ "id": "t", "controls": [{ "url": "https://c.example/", "kind": "fetch" }],
        "platforms": [{ "id": "x", "name": "X",
            "endpoints": [{ "url": "https://x.example/a.png", "kind": "image" }] }] });
    let with = |change: &dyn Fn(&mut Value)| {
        let mut c = minimal.clone();
        change(&mut c);
        c
    };
    fn endpoint(c: &mut Value) -> &mut Value {
        &mut c["platforms"][0]["endpoints"][0]
    }
    let cases = [
        default,
        minimal.clone(),
        with(&|c| {
            c["trials"] = json!(5);
            c["collector"] = json!("https://c.example/v1/reports");
            *endpoint(c) = json!({ "url": "https://x.example/big.jpg", "kind": "image",
                "bytes": 100_000, "bust": false });
        }),
        with(&|c| {
            c["note"] = json!("unknown fields are ignored");
            c["platforms"][0]["icon"] = json!(1);
            endpoint(c)["weight"] = json!([]);
        }),
        with(&|c| {
            c["collector"] = Value::Null;
            endpoint(c)["bytes"] = Value::Null;
        }),
        with(&|c| c["trials"] = Value::Null),
        with(&|c| c["trials"] = json!(1.5)),
        with(&|c| c["trials"] = json!("3")),
        with(&|c| c["trials"] = json!(11)),
        with(&|c| endpoint(c)["bust"] = Value::Null),
        with(&|c| endpoint(c)["bytes"] = json!(-1)),
        with(&|c| endpoint(c)["kind"] = json!("websocket")),
        with(&|c| endpoint(c)["url"] = json!("http://x.example/")),
        with(&|c| c["platforms"][0]["name"] = Value::Null),
        with(&|c| c["id"] = json!(7)),
        with(&|c| c["controls"] = json!({})),
        json!([minimal]),
    ];
    for case in &cases {
        let by_serde = serde_json::from_value::<netreach::Campaign>(case.clone())
            .ok()
            .filter(|c| c.validate().is_ok());
        let by_reader = netreach::read_campaign(&js(case)).ok();
        assert_eq!(by_reader, by_serde, "{case}");
    }
}

#[wasm_bindgen_test]
async fn invalid_campaigns_are_refused_naming_the_field_and_probe_nothing() {
    let tag = token("invalid");
    let ok = fetch_at(&format!("/text?{tag}"));
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({ "id": "t", "controls": [ok], "platforms": [{ "id": "x", "name": "X",
                "endpoints": [ok, { "url": "http://x.com/", "kind": "fetch" }] }] }),
            "invalid campaign: platforms[0].endpoints[1].url: must be an https:// URL (plain \
             http:// is allowed only for loopback hosts)",
        ),
        (
            json!({ "id": "t", "controls": [ok], "platforms": [{ "id": "x", "name": "X",
                "endpoints": [{ "url": "https://x.com/", "kind": "websocket" }] }] }),
            "invalid campaign: platforms[0].endpoints[0].kind: must be \"fetch\" or \"image\"",
        ),
        (
            json!({ "id": "t", "controls": [ok], "platforms": [] }),
            "invalid campaign: platforms: at least one platform is needed",
        ),
        (
            json!({ "id": "t", "controls": [ok], "trials": 0, "platforms": [{ "id": "x",
                "name": "X", "endpoints": [ok] }] }),
            "invalid campaign: trials: must be between 1 and 10",
        ),
        (
            json!({ "id": "t", "controls": [{ "kind": "fetch" }], "platforms": [] }),
            "invalid campaign: controls[0].url: is required",
        ),
        (
            json!({ "id": "t", "controls": [ok], "platforms": [{ "id": "x", "name": "X",
                "endpoints": [{ "url": at("/text"), "kind": "fetch", "bytes": "big" }] }] }),
            "invalid campaign: platforms[0].endpoints[0].bytes: must be a whole number",
        ),
        (
            json!("default"),
            "invalid campaign: campaign: must be an object",
        ),
    ];
    for (campaign, message) in &cases {
        assert_eq!(
            run_with(campaign, JsValue::UNDEFINED).await.unwrap_err(),
            *message
        );
        let thrown = netreach::validate(js(campaign)).unwrap_err();
        assert_eq!(String::from(thrown.message()), *message);
    }
    assert!(netreach::validate(js(&campaign(vec![ok.clone()], 1))).is_ok());
    sleep(100).await;
    assert_eq!(
        requests(&tag).await,
        Vec::<Value>::new(),
        "nothing may be probed"
    );
}

#[wasm_bindgen_test]
async fn the_report_has_the_contract_shape_and_nothing_that_identifies_the_page() {
    let c = campaign(vec![fetch_at("/text"), image_at("/image.png")], 2);
    let (report, parsed) = run(&c).await;
    assert_eq!(report["schema"], "netreach.report/1");
    assert_eq!(report["campaign"], "test");
    let started = report["started_at"].as_str().unwrap();
    assert!(
        started.ends_with(":00:00.000Z") && started.len() == 24,
        "{started}"
    );
    let family = if in_firefox() { "firefox" } else { "chrome" };
    assert_eq!(report["client"]["browser"], family);
    assert_eq!(report["client"]["os"], "linux");
    assert!(report["client"]["version"].as_u64().unwrap() >= 100);
    assert_eq!(report["client"].as_object().unwrap().len(), 3);
    assert!(report["runtime_ms"].is_u64());
    assert!(report.get("conditions").is_none(), "{report}");
    assert_eq!(report["controls"][0]["url"], at("/text?control"));
    assert_eq!(report["controls"][0]["kind"], "fetch");
    assert_eq!(report["platforms"][0]["endpoints"][1]["kind"], "image");
    // Endpoint URLs as in the campaign, without the cache-busting parameter.
    assert_eq!(report["platforms"][0]["endpoints"][0]["url"], at("/text"));
    // The collector re-derives every verdict from the attempts: they must agree.
    assert!(netreach::classify_report(&parsed).is_empty());
    let text = report.to_string();
    let location = js_sys::eval("location.href").unwrap().as_string().unwrap();
    let origin = js_sys::eval("location.host").unwrap().as_string().unwrap();
    assert!(
        !text.contains(&location) && !text.contains(&origin),
        "{text}"
    );
    let agent = user_agent();
    assert!(!text.contains(&agent) && !text.contains("HeadlessChrome"));
    assert!(!text.contains("Gecko/"), "{text}");
}

#[wasm_bindgen_test]
async fn platforms_that_load_are_reachable() {
    let c = campaign(vec![fetch_at("/text"), fetch_at("/page")], 3);
    let (report, _) = run(&c).await;
    assert_eq!(verdict(&report), ("reachable", "endpoints_loaded"));
    assert!(report["platforms"][0]["median_ms"].is_u64());
}

#[wasm_bindgen_test]
async fn failures_with_failing_controls_are_inconclusive_never_blocked() {
    let refused = refused_url("/").await;
    let c = json!({
        "id": "offline",
        "trials": 2,
        "controls": [fetch_endpoint(&refused), image_endpoint(&refused_url("/logo.png").await)],
        "platforms": [
            { "id": "down", "name": "Down", "endpoints": [fetch_endpoint(&format!("{refused}x"))] },
            { "id": "up", "name": "Up", "endpoints": [fetch_at("/text")] },
        ],
    });
    let (report, _) = run(&c).await;
    assert_eq!(
        report["platforms"][0]["verdict"], "inconclusive",
        "{report}"
    );
    assert_eq!(report["platforms"][0]["reason"], "controls_failed");
    assert_eq!(report["platforms"][1]["verdict"], "reachable");
}

#[wasm_bindgen_test]
async fn progress_reports_every_attempt_once() {
    let events = Rc::new(RefCell::new(Vec::<Value>::new()));
    let sink = Rc::clone(&events);
    let on_progress = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
        sink.borrow_mut().push(to_json(&event))
    });
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"onProgress".into(), on_progress.as_ref()).unwrap();
    let c = campaign(vec![fetch_at("/text"), fetch_at("/missing")], 3);
    run_with(&c, options.into()).await.expect("run resolves");
    let events = events.borrow();
    assert_eq!(events.len(), 9, "{events:?}");
    for (i, event) in events.iter().enumerate() {
        assert_eq!(event["done"], i + 1);
        assert_eq!(event["total"], 9);
        assert_eq!(event["outcome"], "ok");
    }
    let controls = events
        .iter()
        .filter(|e| e.get("platform").is_none())
        .count();
    assert_eq!(controls, 3);
    assert_eq!(
        events[0]["url"],
        at("/text?control"),
        "the controls go first"
    );
    assert!(events
        .iter()
        .any(|e| e["platform"] == "p" && e["url"] == at("/missing")));
}

#[wasm_bindgen_test]
async fn cancelling_aborts_probes_and_resolves_with_an_inconclusive_report() {
    let tag = token("cancel");
    let controller = web_abort_controller();
    let options = js_sys::Object::new();
    let signal = js_sys::Reflect::get(&controller, &"signal".into()).unwrap();
    js_sys::Reflect::set(&options, &"signal".into(), &signal).unwrap();
    let abort = js_sys::Function::new_with_args("c", "setTimeout(() => c.abort(), 600)");
    abort.call1(&JsValue::UNDEFINED, &controller).unwrap();
    let c = campaign(
        vec![fetch_at(&format!("/hang?{tag}")), fetch_at("/text")],
        3,
    );
    let started = js_sys::Date::now();
    let report = to_json(&run_with(&c, options.into()).await.expect("resolves"));
    ended_as_cancelled(&report, js_sys::Date::now() - started, &tag).await;
}

#[wasm_bindgen_test]
async fn a_run_that_reaches_its_hard_ceiling_ends_as_a_cancelled_one() {
    // The same hanging endpoint and no signal: only the ceiling (here 600 ms instead of the
    // two minutes) can end the run before the attempt's own timeout.
    let tag = token("ceiling");
    let c = campaign(
        vec![fetch_at(&format!("/hang?{tag}")), fetch_at("/text")],
        3,
    );
    netreach::set_run_ceiling(600);
    let started = js_sys::Date::now();
    let report = run_with(&c, JsValue::UNDEFINED).await;
    let took = js_sys::Date::now() - started;
    netreach::set_run_ceiling(netreach::schedule::RUN_CEILING_MS);
    ended_as_cancelled(&to_json(&report.expect("resolves")), took, &tag).await;
}

/// A run ended early: within 1.5 s, every verdict inconclusive for that reason, and the
/// hanging request closed by the browser rather than left open.
async fn ended_as_cancelled(report: &Value, took_ms: f64, tag: &str) {
    assert!(took_ms < 1_500.0, "the run took {took_ms} ms");
    assert_eq!(report["conditions"], json!(["cancelled"]));
    assert_eq!(verdict(report), ("inconclusive", "cancelled"));
    sleep(200).await;
    let hung = requests(tag).await;
    assert_eq!(hung.len(), 1, "{hung:?}");
    assert_eq!(hung[0]["event"], "client_closed");
    assert!(hung[0]["closed_after_ms"].as_u64().unwrap() < 1_500);
}

#[wasm_bindgen_test]
async fn an_already_aborted_signal_rejects_before_any_probe() {
    let tag = token("aborted");
    let controller = web_abort_controller();
    js_sys::Reflect::get(&controller, &"abort".into())
        .unwrap()
        .unchecked_into::<js_sys::Function>()
        .call0(&controller)
        .unwrap();
    let options = js_sys::Object::new();
    let signal = js_sys::Reflect::get(&controller, &"signal".into()).unwrap();
    js_sys::Reflect::set(&options, &"signal".into(), &signal).unwrap();
    let c = campaign(vec![fetch_at(&format!("/text?{tag}"))], 1);
    let error = run_with(&c, options.into()).await.unwrap_err();
    assert_eq!(error, "run cancelled before it started");
    let bad = js(&json!({ "onProgress": 5 }));
    let error = run_with(&c, bad).await.unwrap_err();
    assert_eq!(error, "options.onProgress must be a function");
    sleep(100).await;
    assert!(requests(&tag).await.is_empty());
}

#[wasm_bindgen_test]
async fn nothing_throws_uncaught_during_a_run_with_every_kind_of_failure() {
    let errors = js_sys::eval(
        "(() => { const seen = []; \
           addEventListener('error', e => seen.push('error: ' + e.message)); \
           addEventListener('unhandledrejection', e => seen.push('rejection: ' + e.reason)); \
           return seen; })()",
    )
    .unwrap();
    let c = campaign(
        vec![
            fetch_at("/hang"),
            fetch_at("/reset"),
            fetch_endpoint(&refused_url("/").await),
            image_at("/not-image.png"),
            image_at("/hang"),
            fetch_at("/bytes?n=20000&kbps=2000"),
        ],
        2,
    );
    let (report, _) = run(&c).await;
    assert_eq!(report["platforms"][0]["verdict"], "partial");
    sleep(500).await;
    let seen: Vec<String> = js_sys::Array::from(&errors)
        .iter()
        .filter_map(|e| e.as_string())
        .collect();
    assert!(seen.is_empty(), "uncaught: {seen:?}");
}

#[wasm_bindgen_test]
async fn submit_posts_plain_text_without_referrer_and_returns_the_collector_answer() {
    let (_, _) = run(&campaign(vec![fetch_at("/text")], 1)).await;
    let report = run_with(&campaign(vec![fetch_at("/text")], 1), JsValue::UNDEFINED)
        .await
        .unwrap();
    let answer = netreach::submit(report.clone(), at("/collector/accept"))
        .await
        .unwrap();
    assert_eq!(to_json(&answer), json!({ "id": 7 }));
    let posted = requests("/collector/accept").await;
    let note = posted.last().unwrap()["note"].as_str().unwrap().to_owned();
    assert!(note.starts_with("content-type=text/plain"), "{note}");
    assert!(
        note.contains("referer=false") && note.contains("schema=true"),
        "{note}"
    );

    let refused = netreach::submit(report.clone(), at("/collector/refuse"))
        .await
        .unwrap_err();
    let message = String::from(refused.message());
    assert!(message.contains("HTTP 422"), "{message}");
    // The status the page decides by: a refusal is dropped, no answer (0) waits.
    assert_eq!(status_of(&refused), Some(422.0));
    assert!(
        message.contains("verdict of platform x does not follow"),
        "{message}"
    );

    let unreachable = netreach::submit(report, refused_url("/v1/reports").await)
        .await
        .unwrap_err();
    let message = String::from(unreachable.message());
    assert!(
        message.starts_with("the collector could not be reached"),
        "{message}"
    );
    assert_eq!(status_of(&unreachable), Some(0.0));
}

/// The `status` a rejection of `submit` carries.
fn status_of(error: &js_sys::Error) -> Option<f64> {
    js_sys::Reflect::get(error, &JsValue::from_str("status"))
        .ok()
        .and_then(|s| s.as_f64())
}

fn web_abort_controller() -> JsValue {
    js_sys::eval("new AbortController()").unwrap()
}
