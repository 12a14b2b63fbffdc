//! Published cells in OONI's base data format (ooni/spec, `data-formats/df-000-base.md`,
//! data format 0.2.0), one measurement a line, so that tools written for OONI's JSONL can read
//! netreach data.
//!
//! A line is one published hour cell (hour × country × network × platform) of
//! [`crate::aggregate`], never one report: a report's own country, network and hour would
//! single out its sender wherever the cell holds fewer than k of them, and even in a
//! published cell its attempts (milliseconds, outcomes, browser) set it apart from the others.
//! So the export publishes exactly what `GET /v1/aggregates?bucket=hour` does, in another
//! shape. The mapping, field by field, is in collector/README.md (*OONI export*).

use crate::aggregate::Cell;
use netreach::Verdict;
use serde::Serialize;
use std::collections::BTreeMap;

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
}

/// Reports per verdict: every verdict of `Verdict::ALL` under its wire name, in that order
/// (the order of the aggregates' columns).
#[derive(Debug)]
pub struct VerdictCounts([u64; Verdict::ALL.len()]);

impl Serialize for VerdictCounts {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (verdict, count) in Verdict::ALL.iter().zip(self.0) {
            map.serialize_entry(verdict.as_str(), &count)?;
        }
        map.end()
    }
}

/// The measurement line of a published hour cell, `k` being the threshold it met and
/// `synthetic` whether the collector serves demo data (`--demo`).
pub fn measurement(cell: &Cell, k: u32, synthetic: bool) -> Measurement<'_> {
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
        },
        test_name: TEST_NAME,
        test_start_time: start,
        test_version: netreach::SCHEMA,
    }
}

/// The cells as JSON lines, each ending with a newline.
///
/// # Errors
/// A cell that cannot be serialized (none can: every field is a string or a number).
pub fn to_jsonl(cells: &[Cell], k: u32, synthetic: bool) -> Result<String, serde_json::Error> {
    let mut out = String::new();
    for cell in cells {
        out += &serde_json::to_string(&measurement(cell, k, synthetic))?;
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

    #[test]
    fn a_cell_becomes_an_ooni_measurement() {
        let line = serde_json::to_value(measurement(&cell(), 5, false)).unwrap();
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
    }

    #[test]
    fn verdicts_come_in_the_order_of_the_aggregates_columns() {
        let line = serde_json::to_string(&measurement(&cell(), 5, false)).unwrap();
        assert!(
            line.contains(r#""verdicts":{"reachable":1,"throttled":0,"partial":0,"blocked":10,"inconclusive":1}"#),
            "{line}"
        );
    }

    #[test]
    fn demo_data_says_so_on_every_line() {
        let lines = to_jsonl(&[cell(), cell()], 5, true).unwrap();
        assert_eq!(lines.lines().count(), 2);
        for line in lines.lines() {
            let line: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(line["annotations"]["synthetic"], "true");
        }
    }
}
