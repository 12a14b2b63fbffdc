//! A host page that is cross-origin isolated (COOP + COEP `require-corp`, as some news sites
//! set for SharedArrayBuffer): the browser refuses every no-cors load without a
//! `Cross-Origin-Resource-Policy` header, the controls' included. The engine must name the
//! page as the cause, never blame the network.
//!
//! Ignored in the ordinary browser run, which serves the test page without isolation;
//! `cargo xtask test` runs it again on its own with the runner's isolation headers on.
#![cfg(target_arch = "wasm32")]

mod support;

use support::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
#[ignore = "needs the runner's cross-origin isolation (cargo xtask test runs it so)"]
async fn under_cross_origin_isolation_failures_are_the_page_not_the_network() {
    let isolated = js_sys::eval("globalThis.crossOriginIsolated === true").unwrap();
    assert_eq!(isolated.as_bool(), Some(true), "the page is not isolated");
    let c = campaign(vec![fetch_at("/text"), image_at("/image.png")], 2);
    let (report, _) = run(&c).await;
    let conditions = report["conditions"].as_array().unwrap();
    assert!(
        conditions.iter().any(|c| c == "cross_origin_isolated"),
        "{conditions:?}"
    );
    // No CORP header on the fixture server: refused like a block would fail, the controls
    // too, so the engine stops after one attempt per endpoint.
    assert_outcomes(&report, &[["error"], ["error"]]);
    assert_eq!(verdict(&report), ("inconclusive", "cross_origin_isolated"));
}
