//! Hand-built hourly counts for the tests of detection, as storage would give them.

use super::{detect, Disruption, Window, BASELINE_HOURS};
use crate::connection::Connection;
use crate::storage::{ConnectionRow, CountRow, HourlyCounts, SenderRow};
use crate::time::HOUR;
use netreach::Verdict;

/// A fixed hour: 2026-12-02T21:00Z.
pub const T: i64 = 1_796_245_200;
pub const K: u32 = 5;

#[derive(Default)]
pub struct Counts(pub HourlyCounts);

impl Counts {
    /// One network-hour of one platform: `reachable`, then `failing` of `verdict`, then
    /// `inconclusive`; its senders are the reports of the hour (the largest platform's).
    #[allow(clippy::too_many_arguments)]
    pub fn add(
        &mut self,
        hour: i64,
        cc: &str,
        asn: u32,
        platform: &str,
        reachable: u64,
        verdict: Verdict,
        failing: u64,
        inconclusive: u64,
    ) {
        for (v, count) in [
            (Verdict::Reachable, reachable),
            (verdict, failing),
            (Verdict::Inconclusive, inconclusive),
        ] {
            if count > 0 {
                self.0.verdicts.push(CountRow {
                    bucket: hour,
                    cc: cc.into(),
                    asn,
                    platform: platform.into(),
                    verdict: v,
                    count,
                    // Each test report from its own sender.
                    senders: count,
                });
            }
        }
        self.senders(hour, cc, asn, reachable + failing + inconclusive);
    }

    /// The network-hour's senders: at least `reports` (each report its own sender; a
    /// network-hour's reports are its largest cell's).
    fn senders(&mut self, hour: i64, cc: &str, asn: u32, reports: u64) {
        match self
            .0
            .senders
            .iter_mut()
            .find(|s| (s.hour, s.cc.as_str(), s.asn) == (hour, cc, asn))
        {
            Some(s) => s.senders = s.senders.max(reports),
            None => self.0.senders.push(SenderRow {
                hour,
                cc: cc.into(),
                asn,
                senders: reports,
            }),
        }
    }

    /// One network-hour's connection conditions: `normal`, `degraded` and `offline` reports,
    /// by the hour their runs started, each of its own sender.
    pub fn connections(
        &mut self,
        hour: i64,
        cc: &str,
        asn: u32,
        normal: u64,
        degraded: u64,
        offline: u64,
    ) {
        for (connection, count) in [
            (Connection::Normal, normal),
            (Connection::Degraded, degraded),
            (Connection::Offline, offline),
        ] {
            if count > 0 {
                self.0.connections.push(ConnectionRow {
                    hour,
                    cc: cc.into(),
                    asn,
                    connection,
                    count,
                });
            }
        }
        self.senders(hour, cc, asn, normal + degraded + offline);
    }

    /// A steady week of conditions before `T` (and up to `until`, excluded) for a network:
    /// `per_hour` reports, one in 25 degraded and one in 33 offline (4 % and 3 %: bad lines,
    /// phones in a lift).
    pub fn steady(&mut self, cc: &str, asn: u32, per_hour: u64, until: i64) {
        let mut n = 0u64;
        let mut hour = T - BASELINE_HOURS * HOUR;
        while hour < until {
            let every = |m: u64| (0..per_hour).filter(|i| (n + i).is_multiple_of(m)).count() as u64;
            let (degraded, offline) = (every(25), every(33));
            self.connections(
                hour,
                cc,
                asn,
                per_hour - degraded - offline,
                degraded,
                offline,
            );
            n += per_hour;
            hour += HOUR;
        }
    }

    /// A clean week before `T` (and up to `until`, excluded) for a network: `per_hour`
    /// reports of each platform, one in 33 blocked (3 %, a blocker's background).
    pub fn clean(&mut self, cc: &str, asn: u32, platforms: &[&str], per_hour: u64, until: i64) {
        let mut n = 0u64;
        let mut hour = T - BASELINE_HOURS * HOUR;
        while hour < until {
            for p in platforms {
                let blocked = (0..per_hour).filter(|i| (n + i).is_multiple_of(33)).count() as u64;
                self.add(
                    hour,
                    cc,
                    asn,
                    p,
                    per_hour - blocked,
                    Verdict::Blocked,
                    blocked,
                    0,
                );
            }
            n += per_hour;
            hour += HOUR;
        }
    }

    pub fn detect(&mut self, to: i64) -> Vec<Disruption> {
        self.0.verdicts.sort_by(|a, b| a.cell().cmp(&b.cell()));
        self.0
            .connections
            .sort_by_key(|c| (c.hour, c.cc.clone(), c.asn, c.connection));
        let window = Window {
            from: T - 24 * HOUR,
            to,
            now: to - HOUR + 60,
        };
        detect(&self.0, K, window)
    }
}
