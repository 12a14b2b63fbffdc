//! Aggregates: verdict counts per cell (time bucket, country, network, platform), published
//! only where they hold k distinct senders.
//!
//! The unit of suppression is the hour cell (hour, country, network, platform), the finest
//! grouping there is. An hour cell is published only when at least k distinct senders
//! reported in it (the sum of the reports' `new_sender` flags, see [`crate::senders`]); a day
//! cell is the sum of that day's published hour cells, never of suppressed ones (one function
//! for both storages, [`crate::storage::publish`]). Every answer is thus a sum of published
//! hour cells:
//! no difference of two answers (an hour and its day, two ranges, two filters) can single
//! out a suppressed hour.
//!
//! What a cell publishes: `reports` and the verdict counts count reports (a sender who reported
//! three times counts three times there), and `senders` the distinct senders behind them, at
//! least k (for a day, the sum over its published hours: a sender of two hours counts twice).
//!
//! Connection conditions (`connections`, issue #13, see [`crate::connection`]) are published
//! the same way, per network instead of per platform: a network hour (hour, country, network)
//! only when its judged reports have at least k distinct senders, a day being the sum of its
//! published hours ([`crate::storage::publish`]). A condition is the network's,
//! so the `platform` filter leaves them as they are (every report of a campaign measured all
//! of its platforms). CSV carries the verdict cells only, as before: one table of one shape;
//! connections are in the JSON answer.
//!
//! How many cells were left out is not published: any such count, zero included, says whether
//! anyone reported in a narrow query (one network, one hour), and even a count shown only for
//! broad queries gives it away by subtraction (two broad queries that differ by one hour).

use crate::connection::Connection;
use crate::storage::{ConnectionCount, CountRow};
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
    /// Distinct senders behind them (at least k; a day sums its published hours).
    pub senders: u64,
    // One column per verdict, named as in `Verdict::ALL` (checked by a test below).
    pub reachable: u64,
    pub throttled: u64,
    pub partial: u64,
    pub blocked: u64,
    pub inconclusive: u64,
}

/// One published network cell's connection conditions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConnectionCell {
    /// Start of the bucket, `YYYY-MM-DDTHH:00:00Z`.
    pub bucket: String,
    pub cc: String,
    pub asn: u32,
    /// Judged reports in the cell (the sum of the condition counts).
    pub reports: u64,
    /// Distinct senders behind them (at least k; a day sums its published hours).
    pub senders: u64,
    // One column per condition, named as in `Connection::ALL` (checked by a test below).
    pub normal: u64,
    pub degraded: u64,
    pub offline: u64,
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
    pub connections: Vec<ConnectionCell>,
}

impl Cell {
    fn add(&mut self, verdict: Verdict, count: u64, senders: u64) {
        let slot = match verdict {
            Verdict::Reachable => &mut self.reachable,
            Verdict::Throttled => &mut self.throttled,
            Verdict::Partial => &mut self.partial,
            Verdict::Blocked => &mut self.blocked,
            Verdict::Inconclusive => &mut self.inconclusive,
        };
        *slot += count;
        self.reports += count;
        self.senders += senders;
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

/// Groups rows (ordered by cell, as storage returns them, every one of a published cell)
/// into cells.
pub fn cells(rows: &[CountRow]) -> Vec<Cell> {
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
                senders: 0,
                reachable: 0,
                throttled: 0,
                partial: 0,
                blocked: 0,
                inconclusive: 0,
            });
        }
        if let Some(cell) = all.last_mut() {
            cell.add(row.verdict, row.count, row.senders);
        }
    }
    all
}

/// Groups published condition counts (ordered by bucket, country, network) into cells.
pub fn connection_cells(rows: &[ConnectionCount]) -> Vec<ConnectionCell> {
    let mut all: Vec<ConnectionCell> = Vec::new();
    for row in rows.chunk_by(|a, b| (a.bucket, a.asn, &a.cc) == (b.bucket, b.asn, &b.cc)) {
        let mut cell = ConnectionCell {
            bucket: format_utc(row[0].bucket),
            cc: row[0].cc.clone(),
            asn: row[0].asn,
            reports: 0,
            senders: 0,
            normal: 0,
            degraded: 0,
            offline: 0,
        };
        for count in row {
            *match count.connection {
                Connection::Normal => &mut cell.normal,
                Connection::Degraded => &mut cell.degraded,
                Connection::Offline => &mut cell.offline,
            } += count.count;
            cell.reports += count.count;
            cell.senders += count.senders;
        }
        all.push(cell);
    }
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
        let mut out = format!(
            "bucket,cc,asn,platform,reports,senders,{}\n",
            verdicts.join(",")
        );
        for c in &self.cells {
            let counts: Vec<String> = Verdict::ALL
                .iter()
                .map(|&v| c.count(v).to_string())
                .collect();
            out += &format!(
                "{},{},{},{},{},{},{}\n",
                c.bucket,
                csv_field(&c.cc),
                c.asn,
                csv_field(&c.platform),
                c.reports,
                c.senders,
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
            senders: count.min(2),
        }
    }

    #[test]
    fn rows_are_grouped_into_cells_with_their_reports_and_senders() {
        let rows = [
            row(0, "PK", "x", Verdict::Blocked, 4),
            row(0, "PK", "x", Verdict::Reachable, 1),
            row(0, "PK", "youtube", Verdict::Reachable, 4),
            row(3600, "PK", "x", Verdict::Blocked, 7),
        ];
        let cells = cells(&rows);
        assert_eq!(cells.len(), 3);
        assert_eq!(cells[0].platform, "x");
        assert_eq!(
            (
                cells[0].reports,
                cells[0].senders,
                cells[0].blocked,
                cells[0].reachable
            ),
            (5, 3, 4, 1)
        );
        assert_eq!(cells[2].bucket, "1970-01-01T01:00:00Z");
    }

    #[test]
    fn csv_has_a_header_and_escapes_fields() {
        let cells = cells(&[
            row(0, "PK", "a,\"b\"", Verdict::Partial, 2),
            row(0, "PK", "=1", Verdict::Blocked, 2),
        ]);
        let agg = Aggregate {
            k: 1,
            bucket: "hour",
            from: String::new(),
            to: String::new(),
            cells,
            connections: Vec::new(),
        };
        let csv = agg.to_csv();
        let mut lines = csv.lines();
        assert_eq!(
            lines.next(),
            Some(
                "bucket,cc,asn,platform,reports,senders,reachable,throttled,partial,blocked,inconclusive"
            )
        );
        assert_eq!(
            lines.next(),
            Some("1970-01-01T00:00:00Z,PK,64500,\"a,\"\"b\"\"\",2,2,0,0,2,0,0")
        );
        assert_eq!(
            lines.next(),
            Some("1970-01-01T00:00:00Z,PK,64500,'=1,2,2,0,0,0,2,0")
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
        );
        let json = serde_json::to_value(&cells[0]).unwrap();
        for (&v, n) in Verdict::ALL.iter().zip(1u64..) {
            assert_eq!(json[v.as_str()], n, "{v:?}");
        }
        assert_eq!(
            (json["reports"].as_u64(), json["senders"].as_u64()),
            (Some(15), Some(9))
        );
    }

    #[test]
    fn every_condition_has_its_column_and_networks_are_grouped() {
        let count = |bucket: i64, asn: u32, connection: Connection, count: u64| ConnectionCount {
            bucket,
            cc: "PK".into(),
            asn,
            connection,
            count,
            senders: 1,
        };
        let rows: Vec<ConnectionCount> = Connection::ALL
            .iter()
            .zip(1..)
            .map(|(&c, n)| count(0, 1, c, n))
            .chain([count(0, 2, Connection::Offline, 7)])
            .collect();
        let cells = connection_cells(&rows);
        assert_eq!(cells.len(), 2);
        let json = serde_json::to_value(&cells[0]).unwrap();
        for (&c, n) in Connection::ALL.iter().zip(1u64..) {
            assert_eq!(json[c.as_str()], n, "{c:?}");
        }
        assert_eq!((cells[0].reports, cells[0].senders), (6, 3));
        assert_eq!(
            (cells[1].asn, cells[1].offline, cells[1].reports),
            (2, 7, 7)
        );
    }
}
