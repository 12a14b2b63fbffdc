//! The report: what a run measured, anonymized, in the shape the collector stores.
//!
//! It carries no IP, no identifier, no page URL and no precise time: the client is reduced to
//! a browser family, its major version and an OS family, and the start time to the hour.
use alloc::{string::String, vec::Vec};

use crate::vocabulary::{Browser, Condition, Os, Outcome, ProbeKind, Reason, Verdict};
use serde::{Deserialize, Serialize};

/// Start times are rounded down to this many milliseconds (one hour).
pub const TIME_ROUNDING_MS: f64 = 3_600_000.0;

/// A finished (or cancelled) run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema: String,
    pub campaign: String,
    /// Set by the collector on the reports it stores: the revision of the campaign's
    /// descriptor the report was checked against, so a revised campaign's older reports stay
    /// attributable. The engine neither sends nor reads it (not compiled into the package:
    /// 26 B of gzip for a field it would only carry).
    #[cfg(not(target_arch = "wasm32"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign_revision: Option<u32>,
    /// UTC, rounded down to the hour, e.g. `2026-11-22T21:00:00.000Z`.
    pub started_at: String,
    pub runtime_ms: u32,
    pub client: Client,
    /// Things about the run that make failures unreliable (see [`Condition`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    pub controls: Vec<EndpointResult>,
    pub platforms: Vec<PlatformResult>,
}

/// The visitor's browser, as coarse as is still useful to explain odd results.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Client {
    pub browser: Browser,
    /// Major version only; 0 when unknown.
    pub version: u32,
    pub os: Os,
}

/// One platform's verdict and the evidence for it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlatformResult {
    pub id: String,
    pub verdict: Verdict,
    pub reason: Reason,
    /// Median time of successful attempts, for display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub median_ms: Option<u32>,
    /// Lowest median throughput among endpoints that declare `bytes`, in kbit/s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kbps: Option<u32>,
    pub endpoints: Vec<EndpointResult>,
}

/// The attempts made against one endpoint (or control).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EndpointResult {
    pub url: String,
    pub kind: ProbeKind,
    pub attempts: Vec<Attempt>,
}

/// One timed attempt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub outcome: Outcome,
    /// Time to the answer (fetch: headers; image: decoded), or to the failure.
    pub ms: u32,
    /// Whole-transfer time from Resource Timing, when the entry arrived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u32>,
    /// Bytes transferred, for endpoints that declare their size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// The page was hidden at some point during this attempt.
    #[serde(default, skip_serializing_if = "is_false")]
    pub hidden: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Attempt {
    /// Throughput in kbit/s, for a successful attempt with a size and a transfer time.
    pub fn kbps(&self) -> Option<f64> {
        match (self.outcome, self.bytes, self.duration_ms) {
            (Outcome::Ok, Some(bytes), Some(ms)) => Some(bytes as f64 * 8.0 / ms.max(1) as f64),
            _ => None,
        }
    }
}

/// Rounds a Unix time in milliseconds down to the hour, the precision reports carry.
pub fn round_time(ms: f64) -> f64 {
    crate::stats::floor(ms / TIME_ROUNDING_MS) * TIME_ROUNDING_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_time_is_rounded_down_to_the_hour() {
        // 2026-11-22T21:59:59.999Z
        let t = 1_795_384_799_999.0;
        assert_eq!(round_time(t), 1_795_381_200_000.0);
        assert_eq!(round_time(1_795_381_200_000.0), 1_795_381_200_000.0);
    }

    #[test]
    fn throughput_needs_size_and_duration() {
        let mut a = Attempt {
            outcome: Outcome::Ok,
            ms: 40,
            duration_ms: Some(1000),
            bytes: Some(16_000),
            hidden: false,
        };
        assert_eq!(a.kbps(), Some(128.0));
        a.duration_ms = None;
        assert_eq!(a.kbps(), None);
        a.duration_ms = Some(1000);
        a.outcome = Outcome::Timeout;
        assert_eq!(a.kbps(), None);
    }

    #[test]
    fn report_json_has_the_contract_shape() {
        let json = r#"{"schema":"netreach.report/1","campaign":"default",
          "started_at":"2026-11-22T21:00:00.000Z","runtime_ms":1200,
          "client":{"browser":"chrome","version":156,"os":"linux"},
          "controls":[{"url":"https://c.example/","kind":"fetch","attempts":[{"outcome":"ok","ms":12}]}],
          "platforms":[{"id":"x","verdict":"reachable","reason":"endpoints_loaded",
            "endpoints":[{"url":"https://x.com/","kind":"image","attempts":[{"outcome":"timeout","ms":3000}]}]}]}"#;
        let r: Report = serde_json::from_str(json).unwrap();
        assert_eq!(r.platforms[0].verdict, Verdict::Reachable);
        assert_eq!(
            r.platforms[0].endpoints[0].attempts[0].outcome,
            Outcome::Timeout
        );
        let back = serde_json::to_value(&r).unwrap();
        assert_eq!(back["platforms"][0]["reason"], "endpoints_loaded");
        assert!(back.get("conditions").is_none());
    }
}
