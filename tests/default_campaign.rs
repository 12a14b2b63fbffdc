//! The default campaign (www/campaigns/default.json) is data edited by hand: these checks keep
//! it runnable and keep the rules that protect against a false `blocked`.
#![cfg(not(target_arch = "wasm32"))]

use netreach::Campaign;
use std::collections::HashSet;

const REQUIRED: [&str; 8] = [
    "x",
    "facebook",
    "instagram",
    "youtube",
    "tiktok",
    "whatsapp",
    "telegram",
    "google",
];

fn default_campaign() -> Campaign {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/www/campaigns/default.json");
    let text = std::fs::read_to_string(path).expect("www/campaigns/default.json is readable");
    serde_json::from_str(&text).expect("default.json parses as a Campaign")
}

fn host(url: &str) -> &str {
    let rest = url.strip_prefix("https://").expect("https URL");
    rest.split(['/', '?', '#', ':']).next().unwrap_or("")
}

#[test]
fn default_campaign_is_valid() {
    let campaign = default_campaign();
    assert_eq!(campaign.validate(), Ok(()));
    assert_eq!(campaign.id, "default");
    assert_eq!(campaign.trials, 3);
}

#[test]
fn default_campaign_covers_the_platforms_people_check() {
    let campaign = default_campaign();
    let ids: HashSet<&str> = campaign.platforms.iter().map(|p| p.id.as_str()).collect();
    for id in REQUIRED {
        assert!(ids.contains(id), "missing platform {id}");
    }
    assert!(
        campaign.platforms.len() >= 10,
        "at least two platforms beyond the eight"
    );
}

#[test]
fn every_platform_has_endpoints_on_two_hosts() {
    for platform in default_campaign().platforms {
        let hosts: HashSet<&str> = platform.endpoints.iter().map(|e| host(&e.url)).collect();
        assert!(
            hosts.len() >= 2,
            "{}: endpoints on one host only",
            platform.id
        );
    }
}

#[test]
fn every_url_is_https_and_controls_share_no_host_with_platforms() {
    let campaign = default_campaign();
    assert!(!campaign.controls.is_empty());
    let all = campaign
        .controls
        .iter()
        .chain(campaign.platforms.iter().flat_map(|p| p.endpoints.iter()));
    for endpoint in all {
        assert!(endpoint.url.starts_with("https://"), "{}", endpoint.url);
    }
    let platform_hosts: HashSet<&str> = campaign
        .platforms
        .iter()
        .flat_map(|p| p.endpoints.iter())
        .map(|e| host(&e.url))
        .collect();
    for control in &campaign.controls {
        assert!(
            !platform_hosts.contains(host(&control.url)),
            "control {} is also a platform host",
            control.url
        );
    }
}

#[test]
fn throughput_objects_are_large_enough_to_measure() {
    let campaign = default_campaign();
    let all = campaign
        .controls
        .iter()
        .chain(campaign.platforms.iter().flat_map(|p| p.endpoints.iter()));
    let mut sized = 0;
    for endpoint in all {
        if let Some(bytes) = endpoint.bytes {
            sized += 1;
            // Below ~30 KB the transfer time is mostly latency: no throughput to speak of.
            assert!(
                bytes >= 30_000,
                "{}: {bytes} bytes is too small",
                endpoint.url
            );
        }
    }
    assert!(
        campaign.controls.iter().any(|c| c.bytes.is_some()),
        "a control measures throughput"
    );
    assert!(
        sized >= 2,
        "throughput needs a control and at least one platform object"
    );
}
