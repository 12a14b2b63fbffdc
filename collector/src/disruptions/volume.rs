//! The volume signal: people run the test when something is wrong, as they file complaints on
//! Downdetector when a service fails (Downdetector flags a service when its complaints rise
//! significantly above the typical volume for that time of day). Each event's `volume` is the reports its cells
//! got over its hours divided by what is typical for those cells and hours: per hour, the
//! median of the same hour of day over the previous [`TYPICAL_DAYS`] days.
//!
//! It is supporting evidence only: it never makes, ends or changes an event. A surge alone is
//! no proof of anything (a news story, a link shared in a group chat, a school's computer
//! class), and a shutdown can just as well lower it (reports wait in the page until the
//! network is back); an event with a volume of 2.5 is an event whose people tested two and a
//! half times as much as usual, which a reader may weigh.
//!
//! Only published counts go in: the reports of a network-hour the aggregates publish (k
//! senders and k reports), read as the largest of its published cells (every report of a
//! campaign carries a verdict for each of its platforms, and a connection condition): an hour
//! not published counts as none, which says no more than the aggregates' own silence. An hour
//! of the event whose typical cannot be told (fewer than [`MIN_TYPICAL_DAYS`] of its previous
//! days in the counts and after the first published hour, or a typical of 0) is left out of
//! both sums; when no hour of the event has a typical, the volume is `None`.

use super::binomial::round1;
use super::{Disruption, Scope};
use crate::time::{DAY, HOUR};
use std::collections::BTreeMap;

/// Days of the same hour of day the typical is the median of.
pub const TYPICAL_DAYS: i64 = 7;
/// Days of them the counts must cover for a typical.
pub const MIN_TYPICAL_DAYS: usize = 3;

/// The reports of every published network-hour.
pub(super) struct Volumes {
    /// Reports by network, by hour.
    networks: BTreeMap<(String, u32), BTreeMap<i64, u64>>,
    /// The first hour of the counts: days before it are unknown, not empty.
    counted_from: i64,
    /// The first published hour: days before it are unknown too (a collector's first week).
    first: Option<i64>,
}

impl Volumes {
    pub(super) fn new(counted_from: i64) -> Self {
        Volumes {
            networks: BTreeMap::new(),
            counted_from,
            first: None,
        }
    }

    /// A published cell of a network-hour with `reports`: the hour's reports are at least that.
    pub(super) fn add(&mut self, cc: &str, asn: u32, hour: i64, reports: u64) {
        self.first = Some(self.first.map_or(hour, |first| first.min(hour)));
        let hours = self.networks.entry((cc.to_owned(), asn)).or_default();
        let known = hours.entry(hour).or_default();
        *known = (*known).max(reports);
    }

    /// The event's volume: its cells' reports over its hours against their typical.
    pub(super) fn of(&self, e: &Disruption) -> Option<f64> {
        // The event's cells: its network, its country's networks, or every network.
        let mut reports: BTreeMap<i64, u64> = BTreeMap::new();
        for ((cc, asn), hours) in &self.networks {
            let in_event = match e.scope {
                Scope::Network => e.cc.as_ref() == Some(cc) && e.asn == Some(*asn),
                Scope::Country => e.cc.as_ref() == Some(cc),
                Scope::Global => true,
            };
            if in_event {
                for (&hour, &n) in hours {
                    *reports.entry(hour).or_default() += n;
                }
            }
        }
        let (mut seen, mut typical) = (0u64, 0f64);
        let mut hour = e.start;
        while hour <= e.last {
            if let Some(usual) = self.typical(&reports, hour) {
                seen += reports.get(&hour).copied().unwrap_or(0);
                typical += usual;
            }
            hour += HOUR;
        }
        (typical > 0.0).then(|| round1(seen as f64 / typical))
    }

    /// The median reports of `hour`'s hour of day over the days before it, or `None` (see
    /// the module's documentation).
    fn typical(&self, reports: &BTreeMap<i64, u64>, hour: i64) -> Option<f64> {
        let mut days: Vec<u64> = (1..=TYPICAL_DAYS)
            .map(|d| hour - d * DAY)
            .filter(|&h| h >= self.counted_from.max(self.first.unwrap_or(i64::MIN)))
            .map(|h| reports.get(&h).copied().unwrap_or(0))
            .collect();
        if days.len() < MIN_TYPICAL_DAYS {
            return None;
        }
        days.sort_unstable();
        let middle = days.len() / 2;
        let median = if days.len() % 2 == 1 {
            days[middle] as f64
        } else {
            (days[middle - 1] + days[middle]) as f64 / 2.0
        };
        (median > 0.0).then_some(median)
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{Counts, T};
    use super::super::{EventVerdict, Scope};
    use super::*;
    use netreach::Verdict;

    #[test]
    fn the_typical_is_the_median_of_the_same_hour_on_the_days_before() {
        let volumes = Volumes::new(T - 7 * DAY);
        let mut reports = BTreeMap::new();
        // Six days of 10 reports at 21:00 and one of 100 (another event): the median is 10.
        for d in 1..=7 {
            reports.insert(T - d * DAY, if d == 3 { 100 } else { 10 });
        }
        reports.insert(T - HOUR, 1000);
        assert_eq!(volumes.typical(&reports, T), Some(10.0));
        // A day without a published hour counts as none: 4 days of 10, 3 of nothing.
        for d in 5..=7 {
            reports.remove(&(T - d * DAY));
        }
        reports.insert(T - 3 * DAY, 10);
        assert_eq!(volumes.typical(&reports, T), Some(10.0));
        // Three days of 10, four of nothing: a typical of 0, nothing to compare with.
        reports.remove(&(T - DAY));
        assert_eq!(volumes.typical(&reports, T), None);
        // Counts that start two days back: too few days to tell.
        let short = Volumes::new(T - 2 * DAY);
        assert_eq!(short.typical(&reports, T), None);
        // Four days (an even count): the mean of the middle two. Days before the first
        // published hour are unknown, not empty.
        let mut four = Volumes::new(T - 7 * DAY);
        four.add("PK", 1, T - 4 * DAY, 10);
        let even: BTreeMap<i64, u64> = (1..=4).map(|d| (T - d * DAY, d as u64 * 10)).collect();
        assert_eq!(four.typical(&even, T), Some(25.0));
    }

    #[test]
    fn an_event_s_volume_is_its_reports_over_the_typical_of_its_hours() {
        let mut c = Counts::default();
        for asn in [17557, 38193] {
            c.clean("PK", asn, &["x"], 10, T);
            // Two and a half times the usual reports, 20 of 25 blocked, for two hours.
            for h in 0..2 {
                c.add(T + h * HOUR, "PK", asn, "x", 5, Verdict::Blocked, 20, 0);
            }
        }
        let events = c.detect(T + 3 * HOUR);
        assert_eq!(events.len(), 3, "{events:#?}");
        for e in &events {
            assert_eq!(e.volume, Some(2.5), "{e:?}");
        }
        assert_eq!(events[0].scope, Scope::Country);
    }

    #[test]
    fn without_a_typical_the_volume_is_null() {
        let mut c = Counts::default();
        for (cc, asn) in [("US", 7922), ("DE", 3320)] {
            c.clean(cc, asn, &["x"], 40, T + HOUR);
        }
        // A network's first hour: blocked against the same hour elsewhere, nothing to
        // compare its reports with.
        c.add(T, "PK", 17557, "x", 2, Verdict::Blocked, 8, 0);
        let events = c.detect(T + HOUR);
        assert_eq!(events.len(), 1, "{events:#?}");
        assert_eq!(
            (events[0].verdict, events[0].volume),
            (EventVerdict::Blocked, None)
        );
    }

    #[test]
    fn a_surge_of_tests_alone_makes_no_event() {
        let mut c = Counts::default();
        c.clean("PK", 17557, &["x"], 10, T);
        c.steady("PK", 17557, 10, T);
        // Five times the usual runs, with the usual shares: 1 in 33 blocked, 4 % degraded,
        // 3 % offline.
        for h in 0..3 {
            c.add(T + h * HOUR, "PK", 17557, "x", 48, Verdict::Blocked, 2, 0);
            c.connections(T + h * HOUR, "PK", 17557, 46, 2, 2);
        }
        assert_eq!(c.detect(T + 3 * HOUR), []);
    }
}
