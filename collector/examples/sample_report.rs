//! Prints a valid report for a campaign file (every endpoint loads on each of the campaign's
//! trials; the verdicts are computed with the engine's classifier), for load tests and manual checks:
//! `cargo run -p netreach-collector --example sample_report -- www/campaigns/default.json`.

#[path = "common/sample.rs"]
mod sample;

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "www/campaigns/default.json".into());
    let report = sample::sample_report(&sample::campaign_file(&path));
    println!(
        "{}",
        serde_json::to_string(&report).expect("a report serializes")
    );
}
