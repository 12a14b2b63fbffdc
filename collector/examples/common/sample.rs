//! A valid report for a campaign: every endpoint loads on each of the campaign's trials, the
//! verdicts computed with the engine's classifier (shared by the `sample_report` and `fuzz`
//! examples).

use netreach::classify::{judge, Baseline};
use netreach::{Attempt, Campaign, Client, Endpoint, EndpointResult, Outcome, Report};

fn loaded(endpoint: &Endpoint, trials: u32, ms: u32) -> EndpointResult {
    let attempts = (0..trials)
        .map(|i| Attempt {
            outcome: Outcome::Ok,
            ms: ms + 7 * i,
            duration_ms: endpoint.bytes.map(|_| ms * 3 + i),
            bytes: endpoint.bytes,
            hidden: false,
        })
        .collect();
    EndpointResult {
        url: endpoint.url.clone(),
        kind: endpoint.kind,
        attempts,
    }
}

/// The report, started this hour.
pub fn sample_report(campaign: &Campaign) -> Report {
    let controls: Vec<EndpointResult> = campaign
        .controls
        .iter()
        .map(|e| loaded(e, campaign.trials, 40))
        .collect();
    let baseline = Baseline::new(&controls);
    let platforms = campaign
        .platforms
        .iter()
        .map(|p| {
            let endpoints = p
                .endpoints
                .iter()
                .map(|e| loaded(e, campaign.trials, 60))
                .collect();
            judge(p.id.clone(), endpoints, &baseline, &[])
        })
        .collect();
    let hour = netreach_collector::time::floor_hour(netreach_collector::time::now());
    Report {
        schema: netreach::SCHEMA.into(),
        campaign: campaign.id.clone(),
        started_at: netreach_collector::time::format_utc(hour).replace('Z', ".000Z"),
        runtime_ms: 4321,
        client: Client {
            browser: netreach::Browser::Chrome,
            version: 156,
            os: netreach::Os::Android,
        },
        conditions: vec![],
        controls,
        platforms,
    }
}

/// The campaign in the file at `path`, checked.
pub fn campaign_file(path: &str) -> Campaign {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let campaign: Campaign = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    campaign
        .validate()
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    campaign
}
