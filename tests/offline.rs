//! On a machine without internet (like the build machine), the default campaign must come out
//! inconclusive for every platform: its controls fail too, so no failure is evidence of a
//! block. A `blocked` here would be the worst bug this tool can have.
#![cfg(target_arch = "wasm32")]

mod support;

use support::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const DEFAULT_CAMPAIGN: &str = include_str!("../www/campaigns/default.json");

#[wasm_bindgen_test]
async fn without_internet_the_default_campaign_is_inconclusive_everywhere() {
    let campaign: serde_json::Value = serde_json::from_str(DEFAULT_CAMPAIGN).unwrap();
    let (report, parsed) = run(&campaign).await;
    let platforms = report["platforms"].as_array().unwrap();
    assert!(platforms.len() >= 10);
    for p in platforms {
        assert_eq!(p["verdict"], "inconclusive", "{}: {}", p["id"], p["reason"]);
        assert_eq!(p["reason"], "controls_failed", "{}", p["id"]);
    }
    for control in &parsed.controls {
        assert!(control
            .attempts
            .iter()
            .all(|a| a.outcome != netreach::Outcome::Ok));
    }
    assert!(netreach::classify_report(&parsed).is_empty());
    // Once every control is down, one attempt per platform endpoint and no more: failures
    // could not be judged, and an offline visitor should not wait for them.
    for p in &parsed.platforms {
        for e in &p.endpoints {
            assert!(
                e.attempts.len() <= 1,
                "{}: {} attempts",
                e.url,
                e.attempts.len()
            );
        }
    }
}
