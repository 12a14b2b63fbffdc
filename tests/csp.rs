//! A host page whose Content-Security-Policy refuses the probes (a news site embedding the
//! engine with `img-src 'self'`): the refused loads fail like a block would, so the engine
//! must notice the violations and say `inconclusive/csp_violation`, never `blocked`.
//! A file of its own: the policy stays on the page for every test that shares it.
#![cfg(target_arch = "wasm32")]

mod support;

use support::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn probes_refused_by_the_page_csp_are_inconclusive_not_blocked() {
    // Images only from the page's own origin; the fixture server is another origin. Fetches
    // only of the control (/text), so it loads and the controls are healthy, while the check
    // that the images' host answers (a HEAD of the same URL) is refused too.
    let policy = format!("img-src 'self'; connect-src {}/text", fixtures());
    js_sys::eval(&format!(
        "const m = document.createElement('meta'); \
         m.httpEquiv = 'Content-Security-Policy'; m.content = \"{policy}\"; \
         document.head.appendChild(m);"
    ))
    .unwrap();
    let c = campaign(vec![image_at("/image.png"), image_at("/image.gif")], 2);
    let (report, _) = run(&c).await;
    assert_outcomes(&report, &[["error", "error"], ["error", "error"]]);
    let conditions = report["conditions"].as_array().unwrap();
    assert!(
        conditions.iter().any(|c| c == "csp_violation"),
        "{conditions:?}"
    );
    assert_eq!(verdict(&report), ("inconclusive", "csp_violation"));
}
