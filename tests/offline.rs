//! An offline visitor must see the default campaign come out inconclusive for every platform:
//! its controls fail too, so no failure is evidence of a block. A `blocked` here would be the
//! worst bug this tool can have.
//!
//! The test makes its own offline, whatever the machine's connectivity: it runs the default
//! campaign's shape (its controls, platforms, endpoints, kinds, sizes and trials) with every
//! URL moved to a loopback port nothing listens on, so no probe needs DNS or a route out and
//! every one is refused.
#![cfg(target_arch = "wasm32")]

mod support;

use serde_json::Value;
use support::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const DEFAULT_CAMPAIGN: &str = include_str!("../www/campaigns/default.json");

#[wasm_bindgen_test]
async fn offline_the_default_campaign_is_inconclusive_everywhere_after_one_try_per_endpoint() {
    let default: Value = serde_json::from_str(DEFAULT_CAMPAIGN).unwrap();
    let campaign = unreachable_copy(&default).await;
    let (report, parsed) = run(&campaign).await;
    let platforms = report["platforms"].as_array().unwrap();
    assert_eq!(
        platforms.len(),
        default["platforms"].as_array().unwrap().len()
    );
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

/// `campaign` with each URL `https://host/path` moved to `http://127.0.0.1:P/host/path`, where
/// P is the fixture server's closed port: the same shape, and not one address that could
/// answer.
async fn unreachable_copy(campaign: &Value) -> Value {
    let refused = refused_url("/").await;
    let mut copy = campaign.clone();
    move_urls(&mut copy["controls"], &refused);
    for platform in copy["platforms"].as_array_mut().unwrap() {
        move_urls(&mut platform["endpoints"], &refused);
    }
    copy
}

fn move_urls(endpoints: &mut Value, refused: &str) {
    for endpoint in endpoints.as_array_mut().unwrap() {
        let url = endpoint["url"].as_str().unwrap();
        let host_and_path = url.strip_prefix("https://").expect("an https:// URL");
        endpoint["url"] = format!("{refused}{host_and_path}").into();
    }
}
