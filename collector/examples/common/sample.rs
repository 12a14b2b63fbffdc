//! A valid report for a campaign: every endpoint loads on each of the campaign's trials, the
//! verdicts computed with the engine's classifier (shared by the `sample_report`, `fuzz` and
//! `soak` examples; built by the demo data's generator, `netreach_collector::demo`).

use netreach::{Campaign, Client, Report};
use netreach_collector::demo::{self, Fate, Rng};

/// The report, started this hour.
pub fn sample_report(campaign: &Campaign) -> Report {
    let hour = netreach_collector::time::floor_hour(netreach_collector::time::now());
    let client = Client {
        browser: netreach::Browser::Chrome,
        version: 156,
        os: netreach::Os::Android,
    };
    let mut rng = Rng::new(4321);
    let mut report = demo::report(campaign, hour, client, 40, false, |_| Fate::Loads, &mut rng);
    report.runtime_ms = 4321;
    report
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
