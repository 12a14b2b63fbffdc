//! The connection condition of a report: how the visitor's network itself fared, judged on the
//! server from the report's controls (issue #13). Platform verdicts are judged against the
//! controls, so a network that is cut or slowed as a whole shows in the controls, not in them.
//!
//! Rules, in order ([`judge`]):
//! - **offline**: no control loaded, every one failed repeatedly (the engine's own
//!   [`controls_down`], the rule that stops a run early);
//! - **degraded**: the controls loaded, but their median latency (successful, visible attempts)
//!   is at least [`DEGRADED_RATIO`] times the network's typical latency *and* at least
//!   [`DEGRADED_EXTRA_MS`] more, or their throughput is at most the typical throughput divided
//!   by [`DEGRADED_RATIO`];
//! - **normal**: otherwise, including when the network has no typical figures yet. `normal`
//!   means "not found degraded", never "found fast".
//!
//! Typical figures ([`Baselines`]) are the network's own (country and ASN) for the same UTC
//! hour of day as the report's run: an evening that is slow every day is that network's
//! evening, not a slowdown. Each is the median, over the [`BASELINE_DAYS`] days before the
//! run's day, of that day's geometric mean of the reports' figures in that hour (from the
//! rollups, `rollup_figures`). The median of days is IODA's way of keeping a baseline from
//! following an outage (each signal is compared with the median of a sliding window of its own
//! history, <https://ioda.caida.org/ioda/help>): a slowdown that lasts a few days stays below
//! half of the window and does not become the norm. The geometric mean within an hour keeps one
//! visitor's 60 s stall from outweighing the rest of the hour's reports. Only hours with at
//! least k distinct senders in that country and network (the hours aggregates publish) feed
//! a baseline, offline reports never do, and a baseline needs [`MIN_BASELINE_DAYS`] such days.
//!
//! Why these thresholds: a network's median latency at a given hour varies from day to day by
//! tens of percent (congestion, routes, which visitors ran the test); 3× is far outside that,
//! and is a change a person notices. The extra [`DEGRADED_EXTRA_MS`] keeps fast networks from
//! turning jitter into `degraded` (20 ms to 60 ms is 3×, and nothing a person notices), in the
//! spirit of the engine's own slowness rule (a ratio and an absolute margin, see
//! `netreach::classify`). A wrong `degraded` is a false alarm, so the bar is high.
//!
//! The table is rebuilt from the rollups at start and after each roll forward that folded
//! something (`crate::rollup::run`), never from raw reports; intake only looks it up (a hash
//! lookup and the median of at most [`BASELINE_DAYS`] numbers).

use crate::storage::{FigureRow, Storage, StorageError};
use crate::time::{floor_hour, DAY, HOUR};
use netreach::classify::{controls_down, figures};
use netreach::EndpointResult;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Degraded at this many times the typical latency (with [`DEGRADED_EXTRA_MS`] more), or at
/// the typical throughput divided by this.
pub const DEGRADED_RATIO: f64 = 3.0;
/// …and a latency at least this many milliseconds above the typical one.
pub const DEGRADED_EXTRA_MS: f64 = 300.0;
/// Days before the run's day whose same hour makes its baseline.
pub const BASELINE_DAYS: i64 = 28;
/// Days (k-anonymous hours with figures) a baseline needs, else there is none.
pub const MIN_BASELINE_DAYS: usize = 5;
/// How far back the table reaches: the oldest run intake accepts (30 days) and its window.
pub const TABLE_DAYS: i64 = crate::intake::MAX_AGE_SECS / DAY + BASELINE_DAYS + 1;
/// Stored logarithms are whole millionths (`rollup_figures`), so that their sums are exact.
pub const LOG_SCALE: f64 = 1_000_000.0;

/// How the controls of one report fared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Connection {
    /// Controls loaded, and not far slower than the network's own baseline for that hour of
    /// day (or there is no baseline to say otherwise).
    Normal,
    /// Controls loaded, but their latency or throughput was far worse than the network's own
    /// baseline for the same hour of day.
    Degraded,
    /// No control loaded (every one failed repeatedly).
    Offline,
}

impl Connection {
    /// Every condition, in wire order.
    pub const ALL: [Connection; 3] = [
        Connection::Normal,
        Connection::Degraded,
        Connection::Offline,
    ];

    /// The wire (and stored) name.
    pub fn as_str(self) -> &'static str {
        match self {
            Connection::Normal => "normal",
            Connection::Degraded => "degraded",
            Connection::Offline => "offline",
        }
    }

    /// The condition of a wire (or stored) name.
    pub fn parse(name: &str) -> Option<Connection> {
        Connection::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

/// What is typical of a network at one hour of day, for the visitor's answer; either figure
/// may be missing (its baseline lacks days), never both.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Typical {
    /// Median latency of the controls, in ms.
    pub control_ms: Option<u32>,
    /// Throughput of the controls, in kbit/s.
    pub control_kbps: Option<u32>,
}

/// A report's condition, the control figures it was judged on (stored with it) and the
/// typical figures it was judged against (answered to the sender).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Judged {
    pub connection: Connection,
    /// The controls' median latency (ms, at least 1), `None` when none loaded.
    pub control_ms: Option<u32>,
    /// The controls' throughput (kbit/s, at least 1), `None` without one.
    pub control_kbps: Option<u32>,
    pub typical: Option<Typical>,
}

/// Judges a report's controls against its network's typical figures (see the module's rules).
pub fn judge(controls: &[EndpointResult], typical: Option<Typical>) -> Judged {
    if controls_down(controls.iter().map(|c| c.attempts.as_slice())) {
        return Judged {
            connection: Connection::Offline,
            control_ms: None,
            control_kbps: None,
            typical,
        };
    }
    // At least 1: the rollups sum their logarithms (a cached 0 ms load is 1 ms here).
    let (ms, kbps) = figures(controls);
    let (control_ms, control_kbps) = (ms.map(|v| v.max(1)), kbps.map(|v| v.max(1)));
    let slow = match (control_ms, typical.and_then(|t| t.control_ms)) {
        (Some(ms), Some(usual)) => {
            let (ms, usual) = (f64::from(ms), f64::from(usual));
            ms >= DEGRADED_RATIO * usual && ms >= usual + DEGRADED_EXTRA_MS
        }
        _ => false,
    };
    let narrow = match (control_kbps, typical.and_then(|t| t.control_kbps)) {
        (Some(kbps), Some(usual)) => f64::from(kbps) * DEGRADED_RATIO <= f64::from(usual),
        _ => false,
    };
    Judged {
        connection: if slow || narrow {
            Connection::Degraded
        } else {
            Connection::Normal
        },
        control_ms,
        control_kbps,
        typical,
    }
}

/// A country code as the table keys it (every stored one is two letters, or `ZZ`).
type Cc = [u8; 2];

/// One day's figures of one network at one hour of day: the natural logarithms of the
/// geometric means of its reports' latency and throughput.
#[derive(Clone, Copy, Debug)]
struct Day {
    day: i64,
    ln_ms: Option<f64>,
    ln_kbps: Option<f64>,
}

/// Per network and hour of day, its days in order.
type Table = HashMap<(Cc, u32, u8), Vec<Day>>;

/// The typical figures of every network and hour of day, as the rollups give them (see the
/// module's documentation); replaced whole at each rebuild, read by intake.
pub struct Baselines {
    /// Only hours with at least k distinct senders feed the table.
    k: u32,
    table: RwLock<Arc<Table>>,
}

impl Baselines {
    /// An empty table (no network has a baseline yet).
    pub fn new(k: u32) -> Baselines {
        Baselines {
            k,
            table: RwLock::default(),
        }
    }

    /// Rebuilds the table from the rollups' hours of the [`TABLE_DAYS`] days before `now`.
    ///
    /// # Errors
    /// The rollups could not be read; the table stays as it was.
    pub async fn rebuild(&self, storage: &dyn Storage, now: i64) -> Result<(), StorageError> {
        let to = floor_hour(now) + HOUR;
        let rows = storage
            .baseline_figures(to - TABLE_DAYS * DAY, to, self.k)
            .await?;
        self.replace(&rows);
        Ok(())
    }

    /// Replaces the table with one of `rows` (hours under k are left out).
    pub fn replace(&self, rows: &[FigureRow]) {
        let mut table = Table::new();
        for row in rows.iter().filter(|r| r.senders >= u64::from(self.k)) {
            let Ok(cc) = Cc::try_from(row.cc.as_bytes()) else {
                continue;
            };
            let mean = |n: u64, sum: i64| (n > 0).then(|| sum as f64 / LOG_SCALE / n as f64);
            let day = Day {
                day: row.hour.div_euclid(DAY),
                ln_ms: mean(row.ms_reports, row.ms_log),
                ln_kbps: mean(row.kbps_reports, row.kbps_log),
            };
            let hour = (row.hour.rem_euclid(DAY) / HOUR) as u8;
            table.entry((cc, row.asn, hour)).or_default().push(day);
        }
        for days in table.values_mut() {
            days.sort_unstable_by_key(|d| d.day);
        }
        *self.table.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(table);
    }

    /// The typical figures of network `cc`/`asn` for a run started at `started_at`: over the
    /// [`BASELINE_DAYS`] days before its day, at its hour of day; `None` when neither figure
    /// has [`MIN_BASELINE_DAYS`] days.
    pub fn typical(&self, cc: &str, asn: u32, started_at: i64) -> Option<Typical> {
        let cc = Cc::try_from(cc.as_bytes()).ok()?;
        let hour = (started_at.rem_euclid(DAY) / HOUR) as u8;
        let table = self.table.read().unwrap_or_else(|e| e.into_inner()).clone();
        let days = table.get(&(cc, asn, hour))?;
        let today = started_at.div_euclid(DAY);
        let window: Vec<&Day> = days
            .iter()
            .filter(|d| (today - BASELINE_DAYS..today).contains(&d.day))
            .collect();
        let median_of = |ln: fn(&Day) -> Option<f64>| {
            let values: Vec<f64> = window.iter().filter_map(|d| ln(d)).collect();
            (values.len() >= MIN_BASELINE_DAYS)
                .then(|| netreach::stats::median(values))
                .flatten()
                .map(|ln| netreach::stats::round_u32(ln.exp()).max(1))
        };
        let typical = Typical {
            control_ms: median_of(|d| d.ln_ms),
            control_kbps: median_of(|d| d.ln_kbps),
        };
        (typical.control_ms.is_some() || typical.control_kbps.is_some()).then_some(typical)
    }

    /// Judges a report's controls against its network's typical figures for its run's hour.
    pub fn judge(
        &self,
        controls: &[EndpointResult],
        cc: &str,
        asn: u32,
        started_at: i64,
    ) -> Judged {
        judge(controls, self.typical(cc, asn, started_at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netreach::{Attempt, Outcome, ProbeKind};

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for c in Connection::ALL {
            assert_eq!(Connection::parse(c.as_str()), Some(c));
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
        assert_eq!(Connection::parse("Offline"), None);
        assert_eq!(Connection::parse(""), None);
    }

    /// Two controls whose three attempts each took `ms`, transferring at `kbps` if given.
    fn controls(outcome: Outcome, ms: u32, kbps: Option<u32>) -> Vec<EndpointResult> {
        let attempt = Attempt {
            outcome,
            ms,
            duration_ms: kbps.map(|_| 1000),
            bytes: kbps.map(|kbps| u64::from(kbps) * 125),
            hidden: false,
        };
        ["https://a.example/a.js", "https://b.example/b.png"]
            .into_iter()
            .map(|url| EndpointResult {
                url: url.into(),
                kind: ProbeKind::Fetch,
                attempts: vec![attempt.clone(); 3],
            })
            .collect()
    }

    fn typical(ms: Option<u32>, kbps: Option<u32>) -> Option<Typical> {
        Some(Typical {
            control_ms: ms,
            control_kbps: kbps,
        })
    }

    #[test]
    fn no_control_loaded_is_offline_whatever_the_baseline() {
        for usual in [None, typical(Some(100), Some(5000))] {
            let judged = judge(&controls(Outcome::Timeout, 9000, None), usual);
            assert_eq!(judged.connection, Connection::Offline);
            assert_eq!((judged.control_ms, judged.control_kbps), (None, None));
            assert_eq!(judged.typical, usual, "the sender is still told");
        }
        // One control loading is enough to be online.
        let mut one = controls(Outcome::Error, 3000, None);
        one[1] = controls(Outcome::Ok, 80, None).remove(0);
        assert_eq!(judge(&one, None).connection, Connection::Normal);
    }

    #[test]
    fn far_slower_than_typical_is_degraded_by_ratio_and_margin() {
        let usual = typical(Some(100), None);
        let at = |ms: u32| judge(&controls(Outcome::Ok, ms, None), usual);
        assert_eq!(at(100).connection, Connection::Normal);
        // 3.5 times, but only 250 ms more.
        assert_eq!(at(350).connection, Connection::Normal);
        assert_eq!(at(399).connection, Connection::Normal);
        assert_eq!(at(400).connection, Connection::Degraded);
        assert_eq!(
            (at(400).control_ms, at(400).control_kbps),
            (Some(400), None)
        );
        // A fast network: 3 times its 20 ms is jitter, not a slowdown; 320 ms is.
        let fast = typical(Some(20), None);
        assert_eq!(
            judge(&controls(Outcome::Ok, 60, None), fast).connection,
            Connection::Normal
        );
        assert_eq!(
            judge(&controls(Outcome::Ok, 320, None), fast).connection,
            Connection::Degraded
        );
    }

    #[test]
    fn a_third_of_the_typical_throughput_is_degraded() {
        let usual = typical(Some(100), Some(3000));
        let at = |kbps: u32| judge(&controls(Outcome::Ok, 100, Some(kbps)), usual);
        assert_eq!(at(1001).connection, Connection::Normal);
        assert_eq!(at(1000).connection, Connection::Degraded);
        assert_eq!(at(1000).control_kbps, Some(1000));
        // Without a typical throughput, a throughput alone says nothing.
        let no_kbps = typical(Some(100), None);
        assert_eq!(
            judge(&controls(Outcome::Ok, 100, Some(10)), no_kbps).connection,
            Connection::Normal
        );
    }

    #[test]
    fn without_a_baseline_a_slow_connection_is_normal() {
        let judged = judge(&controls(Outcome::Ok, 20_000, Some(5)), None);
        assert_eq!(judged.connection, Connection::Normal);
        assert_eq!(
            (judged.control_ms, judged.control_kbps),
            (Some(20_000), Some(5))
        );
        // Figures of at least 1: their logarithms are summed.
        let instant = judge(&controls(Outcome::Ok, 0, None), None);
        assert_eq!(instant.control_ms, Some(1));
    }

    /// 2026-11-16T00:00Z, a Monday.
    const TODAY: i64 = 1_795_305_600;

    /// An hour of figures `days_ago` days before [`TODAY`] at hour of day `hour`: four
    /// reports of `ms` (and `kbps`), from `senders` senders.
    fn hour(days_ago: i64, hour: i64, ms: u32, kbps: Option<u32>, senders: u64) -> FigureRow {
        let ln = |v: u32| (f64::from(v).ln() * LOG_SCALE).round() as i64 * 4;
        FigureRow {
            hour: TODAY - days_ago * DAY + hour * HOUR,
            cc: "PK".into(),
            asn: 17557,
            senders,
            ms_reports: 4,
            ms_log: ln(ms),
            kbps_reports: if kbps.is_some() { 4 } else { 0 },
            kbps_log: kbps.map_or(0, ln),
        }
    }

    #[test]
    fn an_evening_slow_every_day_is_that_networks_evening() {
        // Ten days: 10:00 at 100 ms, 20:00-23:00 four times slower, at 400 ms.
        let mut rows = Vec::new();
        for day in 1..=10 {
            rows.push(hour(day, 10, 100, Some(8000), 5));
            for evening in 20..=23 {
                rows.push(hour(day, evening, 400, Some(2000), 5));
            }
        }
        let baselines = Baselines::new(5);
        baselines.replace(&rows);
        let at = |h: i64| TODAY + h * HOUR;
        assert_eq!(
            baselines.typical("PK", 17557, at(21)),
            typical(Some(400), Some(2000))
        );
        // Today's evening as slow as every evening: normal.
        let evening = controls(Outcome::Ok, 420, Some(1900));
        let judged = baselines.judge(&evening, "PK", 17557, at(21));
        assert_eq!(judged.connection, Connection::Normal);
        // The same at 10:00, against that hour's 100 ms and 8000 kbit/s: degraded.
        let judged = baselines.judge(&evening, "PK", 17557, at(10));
        assert_eq!(judged.connection, Connection::Degraded);
        assert_eq!(judged.typical, typical(Some(100), Some(8000)));
        // Another network, another hour of day: no baseline.
        assert_eq!(baselines.typical("PK", 38193, at(21)), None);
        assert_eq!(baselines.typical("PK", 17557, at(15)), None);
        assert_eq!(
            baselines.judge(&evening, "PK", 17557, at(15)).connection,
            Connection::Normal
        );
    }

    #[test]
    fn only_hours_with_k_senders_and_enough_days_make_a_baseline() {
        let baselines = Baselines::new(5);
        // Ten days with four senders each: under k, none feeds the baseline.
        let under_k: Vec<FigureRow> = (1..=10).map(|d| hour(d, 9, 100, None, 4)).collect();
        baselines.replace(&under_k);
        assert_eq!(baselines.typical("PK", 17557, TODAY + 9 * HOUR), None);
        // Four days at k: too few; five: a baseline.
        let at_k: Vec<FigureRow> = (1..=4).map(|d| hour(d, 9, 100, None, 5)).collect();
        baselines.replace(&at_k);
        assert_eq!(baselines.typical("PK", 17557, TODAY + 9 * HOUR), None);
        let at_k: Vec<FigureRow> = (1..=5).map(|d| hour(d, 9, 100, None, 5)).collect();
        baselines.replace(&at_k);
        assert_eq!(
            baselines.typical("PK", 17557, TODAY + 9 * HOUR),
            typical(Some(100), None)
        );
    }

    #[test]
    fn the_baseline_is_the_median_of_the_28_days_before_the_run() {
        // Ten days at 100 ms, then the last four days at 1000 ms (a slowdown that lasts):
        // still 100 ms typical, so the fifth day of it is still degraded.
        let mut rows: Vec<FigureRow> = (5..=14).map(|d| hour(d, 9, 100, None, 5)).collect();
        rows.extend((1..=4).map(|d| hour(d, 9, 1000, None, 5)));
        // The run's own day and days over 28 before are not in its window.
        rows.push(hour(0, 9, 5000, None, 5));
        rows.extend((29..=40).map(|d| hour(d, 9, 5000, None, 5)));
        let baselines = Baselines::new(5);
        baselines.replace(&rows);
        let run = TODAY + 9 * HOUR + 1800;
        assert_eq!(
            baselines.typical("PK", 17557, run),
            typical(Some(100), None)
        );
        assert_eq!(
            baselines
                .judge(&controls(Outcome::Ok, 1000, None), "PK", 17557, run)
                .connection,
            Connection::Degraded
        );
        // A run 30 days ago is judged against its own 28 days (all 5000 ms).
        assert_eq!(
            baselines.typical("PK", 17557, run - 28 * DAY),
            typical(Some(5000), None)
        );
    }
}
