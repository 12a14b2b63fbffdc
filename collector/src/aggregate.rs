//! Aggregates: verdict counts per cell (time bucket, country, network, platform), with every
//! cell of fewer than k reports left out.
//!
//! How many cells were left out is not published: any such count, zero included, says whether
//! anyone reported in a narrow query (one network, one hour), and even a count shown only for
//! broad queries gives it away by subtraction (two broad queries that differ by one hour).
//!
//! Cells are always the finest grouping of the query; filters only choose whole cells, and the
//! time range covers whole buckets at both ends (see `routes::aggregates`), so no choice of
//! filters or range opens a suppressed cell. (Comparing an hourly and a daily query of the
//! same cell can still reveal a suppressed hour's counts by subtraction when it is the only
//! one suppressed that day: the dashboard's audience is newsrooms, and reports carry no
//! identity, but deployments with small networks should raise k.)

use crate::storage::CountRow;
use crate::time::format_utc;
use netreach::Verdict;
use serde::Serialize;

/// One published cell.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Cell {
    /// Start of the bucket, `YYYY-MM-DDTHH:00:00Z`.
    pub bucket: String,
    pub cc: String,
    pub asn: u32,
    pub platform: String,
    /// Reports in the cell (the sum of the verdict counts).
    pub reports: u64,
    // One column per verdict, named as in `Verdict::ALL` (checked by a test below).
    pub reachable: u64,
    pub throttled: u64,
    pub partial: u64,
    pub blocked: u64,
    pub inconclusive: u64,
}

/// The answer to an aggregates query.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Aggregate {
    pub k: u32,
    /// `hour` or `day`.
    pub bucket: &'static str,
    pub from: String,
    pub to: String,
    pub cells: Vec<Cell>,
}

impl Cell {
    fn add(&mut self, verdict: Verdict, count: u64) {
        let slot = match verdict {
            Verdict::Reachable => &mut self.reachable,
            Verdict::Throttled => &mut self.throttled,
            Verdict::Partial => &mut self.partial,
            Verdict::Blocked => &mut self.blocked,
            Verdict::Inconclusive => &mut self.inconclusive,
        };
        *slot += count;
        self.reports += count;
    }

    /// The count of one verdict.
    pub fn count(&self, verdict: Verdict) -> u64 {
        match verdict {
            Verdict::Reachable => self.reachable,
            Verdict::Throttled => self.throttled,
            Verdict::Partial => self.partial,
            Verdict::Blocked => self.blocked,
            Verdict::Inconclusive => self.inconclusive,
        }
    }
}

/// Groups rows (ordered by cell, as storage returns them) into cells and leaves out those
/// under `k`.
pub fn cells(rows: &[CountRow], k: u32) -> Vec<Cell> {
    let mut current: Option<(i64, &str, u32, &str)> = None;
    let mut all = Vec::new();
    for row in rows {
        let key = (row.bucket, row.cc.as_str(), row.asn, row.platform.as_str());
        if current != Some(key) {
            current = Some(key);
            all.push(Cell {
                bucket: format_utc(row.bucket),
                cc: row.cc.clone(),
                asn: row.asn,
                platform: row.platform.clone(),
                reports: 0,
                reachable: 0,
                throttled: 0,
                partial: 0,
                blocked: 0,
                inconclusive: 0,
            });
        }
        if let Some(cell) = all.last_mut() {
            cell.add(row.verdict, row.count);
        }
    }
    all.retain(|cell| cell.reports >= u64::from(k));
    all
}

fn csv_field(s: &str) -> String {
    // Quote what could split a field; prefix what a spreadsheet would run as a formula
    // (OWASP's list: a leading tab or carriage return is skipped by some spreadsheets, which
    // then run what follows).
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

impl Aggregate {
    /// CSV with a header line; k is in a response header.
    pub fn to_csv(&self) -> String {
        let verdicts: Vec<&str> = Verdict::ALL.iter().map(|v| v.as_str()).collect();
        let mut out = format!("bucket,cc,asn,platform,reports,{}\n", verdicts.join(","));
        for c in &self.cells {
            let counts: Vec<String> = Verdict::ALL
                .iter()
                .map(|&v| c.count(v).to_string())
                .collect();
            out += &format!(
                "{},{},{},{},{},{}\n",
                c.bucket,
                csv_field(&c.cc),
                c.asn,
                csv_field(&c.platform),
                c.reports,
                counts.join(",")
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(bucket: i64, cc: &str, platform: &str, verdict: Verdict, count: u64) -> CountRow {
        CountRow {
            bucket,
            cc: cc.into(),
            asn: 64500,
            platform: platform.into(),
            verdict,
            count,
        }
    }

    #[test]
    fn cells_under_k_are_left_out() {
        let rows = [
            row(0, "PK", "x", Verdict::Blocked, 4),
            row(0, "PK", "x", Verdict::Reachable, 1),
            row(0, "PK", "youtube", Verdict::Reachable, 4),
            row(3600, "PK", "x", Verdict::Blocked, 7),
        ];
        let cells = cells(&rows, 5);
        assert_eq!(cells.len(), 2);
        assert_eq!(cells[0].platform, "x");
        assert_eq!(
            (cells[0].reports, cells[0].blocked, cells[0].reachable),
            (5, 4, 1)
        );
        assert_eq!(cells[1].bucket, "1970-01-01T01:00:00Z");
    }

    #[test]
    fn csv_has_a_header_and_escapes_fields() {
        let cells = cells(
            &[
                row(0, "PK", "a,\"b\"", Verdict::Partial, 2),
                row(0, "PK", "=1", Verdict::Blocked, 2),
            ],
            1,
        );
        let agg = Aggregate {
            k: 1,
            bucket: "hour",
            from: String::new(),
            to: String::new(),
            cells,
        };
        let csv = agg.to_csv();
        let mut lines = csv.lines();
        assert_eq!(
            lines.next(),
            Some("bucket,cc,asn,platform,reports,reachable,throttled,partial,blocked,inconclusive")
        );
        assert_eq!(
            lines.next(),
            Some("1970-01-01T00:00:00Z,PK,64500,\"a,\"\"b\"\"\",2,0,0,2,0,0")
        );
        assert_eq!(
            lines.next(),
            Some("1970-01-01T00:00:00Z,PK,64500,'=1,2,0,0,0,2,0")
        );
    }

    #[test]
    fn fields_a_spreadsheet_would_run_are_prefixed() {
        for (field, written) in [
            ("=1+1", "'=1+1"),
            ("+1", "'+1"),
            ("-x", "'-x"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1+1", "'\t=1+1"),
            ("\r=1+1", "\"'\r=1+1\""),
            ("x", "x"),
            ("a=1", "a=1"),
        ] {
            assert_eq!(csv_field(field), written, "{field:?}");
        }
    }

    #[test]
    fn every_verdict_has_its_column_under_its_wire_name() {
        let cells = cells(
            &Verdict::ALL
                .iter()
                .zip(1..)
                .map(|(&v, n)| row(0, "PK", "x", v, n))
                .collect::<Vec<_>>(),
            1,
        );
        let json = serde_json::to_value(&cells[0]).unwrap();
        for (&v, n) in Verdict::ALL.iter().zip(1u64..) {
            assert_eq!(json[v.as_str()], n, "{v:?}");
        }
        assert_eq!(json["reports"], 15);
    }
}
