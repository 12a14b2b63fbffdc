//! The visitor switches tabs during a run: browsers throttle timers in hidden pages, so the
//! engine starts nothing while hidden, marks the attempts that overlapped it, and says so in
//! the report's conditions. Headless Chromium is never hidden by itself: the test stands in for
//! the browser with a `document.hidden` of its own and the `visibilitychange` events. A file of
//! its own, since it redefines `document.hidden` for the page.
#![cfg(target_arch = "wasm32")]

mod support;

use support::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn a_run_pauses_while_hidden_and_reports_it() {
    // Hidden from 150 ms to 1500 ms after the start.
    js_sys::eval(
        "(() => { let hidden = false; \
           Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden }); \
           const flip = (h) => { hidden = h; document.dispatchEvent(new Event('visibilitychange')); }; \
           setTimeout(() => flip(true), 150); setTimeout(() => flip(false), 1500); })()",
    )
    .unwrap();
    let started = js_sys::Date::now();
    let c = campaign(
        vec![fetch_at("/delay?ms=300&a"), fetch_at("/delay?ms=300&b")],
        3,
    );
    let (report, _) = run(&c).await;
    let took = js_sys::Date::now() - started;
    let conditions = report["conditions"].as_array().unwrap();
    assert!(
        conditions.iter().any(|c| c == "page_hidden"),
        "{conditions:?}"
    );
    // Attempts in flight when the page was hidden are marked; those after it are not.
    let attempts: Vec<&serde_json::Value> = report["platforms"][0]["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["attempts"].as_array().unwrap())
        .collect();
    assert_eq!(attempts.len(), 6);
    assert!(attempts.iter().any(|a| a["hidden"] == true), "{attempts:?}");
    assert!(attempts.iter().any(|a| a["hidden"] != true), "{attempts:?}");
    // Nothing new started while hidden: three 300 ms rounds cannot end before the page is
    // shown again at 1.5 s.
    assert!(took >= 1_500.0, "run took {took} ms");
    // Every attempt loaded: hidden or not, they are evidence of reachability.
    assert!(
        attempts.iter().all(|a| a["outcome"] == "ok"),
        "{attempts:?}"
    );
    assert_eq!(verdict(&report).0, "reachable");
}
