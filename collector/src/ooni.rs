//! Published cells in OONI's base data format (ooni/spec, `data-formats/df-000-base.md`,
//! data format 0.2.0), one measurement a line, so that tools written for OONI's JSONL can read
//! netreach data.
//!
//! A line is one published hour cell (hour × country × network × platform) of
//! [`crate::aggregate`], never one report: a report's own country, network and hour would
//! single out its sender wherever the cell holds fewer than k of them, and even in a
//! published cell its attempts (milliseconds, outcomes, browser) set it apart from the others.
//! So the export publishes what `GET /v1/aggregates?bucket=hour` does, in another shape, plus
//! the cell's attempts counted by outcome ([`AttemptTally`], from the cell's stored reports):
//! a sum over at least k senders, like the verdict counts. The mapping, field by field, is in
//! collector/README.md (*OONI export*).

use crate::aggregate::Cell;
use crate::time::format_utc;
use netreach::{Outcome, Report, Verdict};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// OONI's `test_name` of a netreach cell.
pub const TEST_NAME: &str = "netreach_platforms";
/// The version of OONI's base data format the lines follow.
pub const DATA_FORMAT_VERSION: &str = "0.2.0";
/// OONI's value of `probe_ip` for a probe that does not share its address (netreach never
/// stores one).
const NO_PROBE_IP: &str = "127.0.0.1";

/// One line of the export.
#[derive(Debug, Serialize)]
pub struct Measurement<'a> {
    pub annotations: BTreeMap<&'static str, String>,
    pub data_format_version: &'static str,
    /// The platform id: one cell per platform, as OONI's URL-taking tests give one
    /// measurement per input.
    pub input: &'a str,
    pub measurement_start_time: String,
    pub probe_asn: String,
    pub probe_cc: &'a str,
    pub probe_ip: &'static str,
    pub report_id: String,
    pub software_name: &'static str,
    pub software_version: &'static str,
    pub test_keys: TestKeys,
    pub test_name: &'static str,
    pub test_start_time: String,
    pub test_version: &'static str,
}

/// What netreach measured in the cell.
#[derive(Debug, Serialize)]
pub struct TestKeys {
    /// Reports in the cell.
    pub reports: u64,
    /// Distinct senders behind them (at least `k`).
    pub senders: u64,
    /// The threshold the cell met.
    pub k: u32,
    /// Reports per verdict.
    pub verdicts: VerdictCounts,
    /// The platform's attempts in those reports, by outcome.
    pub attempts: AttemptCounts,
}

/// Reports per verdict: every verdict of `Verdict::ALL` under its wire name, in that order
/// (the order of the aggregates' columns).
#[derive(Debug)]
pub struct VerdictCounts([u64; Verdict::ALL.len()]);

impl Serialize for VerdictCounts {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        named_counts(serializer, Verdict::ALL.iter().map(|v| v.as_str()), &self.0)
    }
}

/// Counts as a map from each name to its count, in the names' order.
fn named_counts<S: serde::Serializer>(
    serializer: S,
    names: impl Iterator<Item = &'static str>,
    counts: &[u64],
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = serializer.serialize_map(Some(counts.len()))?;
    for (name, count) in names.zip(counts) {
        map.serialize_entry(name, count)?;
    }
    map.end()
}

/// Attempts per outcome: every outcome of `Outcome::ALL` under its wire name, in that order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AttemptCounts(pub [u64; Outcome::ALL.len()]);

impl Serialize for AttemptCounts {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        named_counts(serializer, Outcome::ALL.iter().map(|o| o.as_str()), &self.0)
    }
}

/// A cell's key: its bucket as published, country, network and platform.
type CellKey = (String, String, u32, String);

/// The attempts of published cells, counted from the stored reports of their hours. Only the
/// cells given to [`AttemptTally::new`] are counted: a report of an unpublished cell adds
/// nothing anywhere.
#[derive(Debug, Default)]
pub struct AttemptTally {
    cells: HashMap<CellKey, AttemptCounts>,
    /// Countries and networks with a published cell, to skip other reports unread.
    networks: HashSet<(String, u32)>,
}

impl AttemptTally {
    /// A tally of these published cells' attempts, all zero.
    pub fn new(cells: &[Cell]) -> Self {
        AttemptTally {
            cells: cells
                .iter()
                .map(|c| {
                    let key = (c.bucket.clone(), c.cc.clone(), c.asn, c.platform.clone());
                    (key, AttemptCounts::default())
                })
                .collect(),
            networks: cells.iter().map(|c| (c.cc.clone(), c.asn)).collect(),
        }
    }

    /// Whether a report from this country and network can add to a published cell.
    pub fn wants(&self, cc: &str, asn: u32) -> bool {
        self.networks.contains(&(cc.to_owned(), asn))
    }

    /// Counts the attempts of `report` (a run started in `hour`, sent from `cc`/`asn`) in
    /// the cells it belongs to.
    pub fn add(&mut self, hour: i64, cc: &str, asn: u32, report: &Report) {
        let bucket = format_utc(hour);
        for platform in &report.platforms {
            let key = (bucket.clone(), cc.to_owned(), asn, platform.id.clone());
            let Some(counts) = self.cells.get_mut(&key) else {
                continue;
            };
            for attempt in platform.endpoints.iter().flat_map(|e| &e.attempts) {
                if let Some(i) = Outcome::ALL.iter().position(|o| *o == attempt.outcome) {
                    counts.0[i] += 1;
                }
            }
        }
    }

    /// The attempts counted for `cell` (zero for a cell not given to [`AttemptTally::new`]).
    pub fn of(&self, cell: &Cell) -> AttemptCounts {
        let key = (
            cell.bucket.clone(),
            cell.cc.clone(),
            cell.asn,
            cell.platform.clone(),
        );
        self.cells.get(&key).copied().unwrap_or_default()
    }
}

/// The measurement line of a published hour cell with its attempts, `k` being the threshold
/// it met and `synthetic` whether the collector serves demo data (`--demo`).
pub fn measurement(
    cell: &Cell,
    attempts: AttemptCounts,
    k: u32,
    synthetic: bool,
) -> Measurement<'_> {
    // `bucket` is `YYYY-MM-DDTHH:00:00Z`; OONI writes `YYYY-MM-DD HH:MM:SS`, in UTC.
    let start = cell.bucket.trim_end_matches('Z').replacen('T', " ", 1);
    let compact: String = cell
        .bucket
        .chars()
        .filter(|c| !matches!(c, '-' | ':'))
        .collect();
    let mut annotations = BTreeMap::from([
        ("engine_name", "netreach".to_owned()),
        ("aggregation", "hour_cell".to_owned()),
    ]);
    if synthetic {
        annotations.insert("synthetic", "true".to_owned());
    }
    Measurement {
        annotations,
        data_format_version: DATA_FORMAT_VERSION,
        input: &cell.platform,
        measurement_start_time: start.clone(),
        probe_asn: format!("AS{}", cell.asn),
        probe_cc: &cell.cc,
        probe_ip: NO_PROBE_IP,
        // OONI's `{start}_{ASN}_{…}`: the lines of one hour and network share it, as the
        // measurements of one OONI report share theirs; it names the cell, nothing more.
        report_id: format!("{compact}_AS{}_{}", cell.asn, cell.cc),
        software_name: "netreach",
        software_version: env!("CARGO_PKG_VERSION"),
        test_keys: TestKeys {
            reports: cell.reports,
            senders: cell.senders,
            k,
            verdicts: VerdictCounts(std::array::from_fn(|i| cell.count(Verdict::ALL[i]))),
            attempts,
        },
        test_name: TEST_NAME,
        test_start_time: start,
        test_version: netreach::SCHEMA,
    }
}

/// The cells as JSON lines with their attempts, each ending with a newline.
///
/// # Errors
/// A cell that cannot be serialized (none can: every field is a string or a number).
pub fn to_jsonl(
    cells: &[Cell],
    attempts: &AttemptTally,
    k: u32,
    synthetic: bool,
) -> Result<String, serde_json::Error> {
    let mut out = String::new();
    for cell in cells {
        out += &serde_json::to_string(&measurement(cell, attempts.of(cell), k, synthetic))?;
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell() -> Cell {
        Cell {
            bucket: "2026-12-03T05:00:00Z".into(),
            cc: "PK".into(),
            asn: 17557,
            platform: "x".into(),
            reports: 12,
            senders: 9,
            reachable: 1,
            throttled: 0,
            partial: 0,
            blocked: 10,
            inconclusive: 1,
        }
    }

    fn attempts() -> AttemptCounts {
        AttemptCounts([3, 2, 30, 1])
    }

    #[test]
    fn a_cell_becomes_an_ooni_measurement() {
        let line = serde_json::to_value(measurement(&cell(), attempts(), 5, false)).unwrap();
        assert_eq!(line["measurement_start_time"], "2026-12-03 05:00:00");
        assert_eq!(line["test_start_time"], "2026-12-03 05:00:00");
        assert_eq!(line["probe_asn"], "AS17557");
        assert_eq!(line["probe_cc"], "PK");
        assert_eq!(line["probe_ip"], "127.0.0.1");
        assert_eq!(line["input"], "x");
        assert_eq!(line["report_id"], "20261203T050000Z_AS17557_PK");
        assert_eq!(line["test_name"], "netreach_platforms");
        assert_eq!(line["test_version"], "netreach.report/1");
        assert_eq!(line["data_format_version"], "0.2.0");
        assert_eq!(line["software_version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(line["annotations"]["engine_name"], "netreach");
        assert!(line["annotations"].get("synthetic").is_none());
        let keys = &line["test_keys"];
        assert_eq!(
            (keys["reports"].as_u64(), keys["senders"].as_u64()),
            (Some(12), Some(9))
        );
        assert_eq!(keys["k"], 5);
        for v in Verdict::ALL {
            assert_eq!(keys["verdicts"][v.as_str()], cell().count(*v), "{v:?}");
        }
        assert_eq!(
            keys["attempts"],
            serde_json::json!({"ok": 3, "timeout": 2, "error": 30, "unusable": 1})
        );
    }

    #[test]
    fn verdicts_and_attempts_come_in_the_order_of_their_vocabularies() {
        let line = serde_json::to_string(&measurement(&cell(), attempts(), 5, false)).unwrap();
        assert!(
            line.contains(r#""verdicts":{"reachable":1,"throttled":0,"partial":0,"blocked":10,"inconclusive":1},"attempts":{"ok":3,"timeout":2,"error":30,"unusable":1}"#),
            "{line}"
        );
    }

    /// A report of `platform` with these attempt outcomes on its one endpoint.
    fn report(platform: &str, outcomes: &[&str]) -> Report {
        let attempts: Vec<_> = outcomes
            .iter()
            .map(|o| serde_json::json!({"outcome": o, "ms": 40}))
            .collect();
        serde_json::from_value(serde_json::json!({
            "schema": netreach::SCHEMA, "campaign": "default",
            "started_at": "2026-12-03T05:00:00.000Z",
            "runtime_ms": 9000, "client": {"browser": "firefox", "version": 153, "os": "linux"},
            "controls": [],
            "platforms": [{"id": platform, "verdict": "blocked", "reason": "endpoints_failed",
                "endpoints": [{"url": "https://x.com/favicon.ico", "kind": "image",
                    "attempts": attempts}]}]
        }))
        .unwrap()
    }

    #[test]
    fn attempts_are_counted_only_in_the_published_cells_they_belong_to() {
        let mut tally = AttemptTally::new(&[cell()]);
        let hour = crate::time::parse_utc("2026-12-03T05:00:00Z").unwrap();
        tally.add(
            hour,
            "PK",
            17557,
            &report("x", &["error", "error", "timeout"]),
        );
        tally.add(hour, "PK", 17557, &report("x", &["ok", "unusable"]));
        // Not the cell's: another platform, hour, network or country.
        tally.add(hour, "PK", 17557, &report("youtube", &["error"]));
        tally.add(hour + 3600, "PK", 17557, &report("x", &["error"]));
        tally.add(hour, "PK", 38193, &report("x", &["error"]));
        tally.add(hour, "IR", 17557, &report("x", &["error"]));
        assert_eq!(tally.of(&cell()), AttemptCounts([1, 1, 2, 1]));
        assert!(tally.wants("PK", 17557));
        assert!(
            !tally.wants("PK", 38193),
            "no published cell of that network"
        );
        let other = Cell {
            platform: "youtube".into(),
            ..cell()
        };
        assert_eq!(tally.of(&other), AttemptCounts::default(), "not published");
    }

    #[test]
    fn demo_data_says_so_on_every_line() {
        let lines = to_jsonl(&[cell(), cell()], &AttemptTally::default(), 5, true).unwrap();
        assert_eq!(lines.lines().count(), 2);
        for line in lines.lines() {
            let line: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(line["annotations"]["synthetic"], "true");
        }
    }
}
