//! Network-wide events' evidence, from the reports' connection conditions
//! ([`crate::connection::Connection`], judged per report from its controls) per network-hour:
//!
//! - **outage**: `offline` reports (no control loaded) out of every report;
//! - **slowdown**: `degraded` reports (controls far slower than the network's own baseline for
//!   that hour of day, so the usual evening dip is already `normal`) out of `normal` +
//!   `degraded`: an offline report says nothing about speed.
//!
//! Conditions are counted by the hour the run started: a report made during a shutdown, kept
//! by the page and sent once the network is back, is evidence for the hours of the shutdown.
//! Both cells' k check is on the reports of the network-hour (every report has a condition).

use super::{Cells, Signal, Tally};
use crate::connection::Connection;
use crate::storage::ConnectionRow;
use std::collections::BTreeMap;

/// Every network-hour's outage and slowdown evidence with its reports.
pub(super) fn cells(rows: &[ConnectionRow]) -> Cells<'_> {
    // Reports per condition, in `Connection::ALL`'s order.
    let mut counts: BTreeMap<(&str, u32, i64), [u64; 3]> = BTreeMap::new();
    for row in rows {
        let slot = match row.connection {
            Connection::Normal => 0,
            Connection::Degraded => 1,
            Connection::Offline => 2,
        };
        counts.entry((&row.cc, row.asn, row.hour)).or_default()[slot] += row.count;
    }
    let mut cells = Cells::new();
    for ((cc, asn, hour), [normal, degraded, offline]) in counts {
        let reports = normal + degraded + offline;
        let outage = Tally {
            passing: normal + degraded,
            failing: [offline, 0, 0],
            senders: 0,
        };
        let slowdown = Tally {
            passing: normal,
            failing: [degraded, 0, 0],
            senders: 0,
        };
        for (signal, tally) in [(Signal::Outage, outage), (Signal::Slowdown, slowdown)] {
            cells.push(((cc, asn, signal), hour, tally, reports));
        }
    }
    cells
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{Counts, T};
    use super::super::{EventVerdict, Scope, BASELINE_HOURS};
    use crate::time::HOUR;
    use netreach::Verdict;

    /// (scope, cc, asn, verdict, start, end) of each event.
    type Found = (
        Scope,
        Option<String>,
        Option<u32>,
        EventVerdict,
        i64,
        Option<i64>,
    );

    fn found(events: &[super::super::Disruption]) -> Vec<Found> {
        events
            .iter()
            .map(|e| (e.scope, e.cc.clone(), e.asn, e.verdict, e.start, e.end))
            .collect()
    }

    fn pk(scope: Scope, asn: Option<u32>, verdict: EventVerdict, end: Option<i64>) -> Found {
        (scope, Some("PK".into()), asn, verdict, T, end)
    }

    #[test]
    fn an_outage_fires_when_most_runs_of_a_network_are_made_offline() {
        let mut c = Counts::default();
        c.steady("PK", 17557, 10, T);
        c.steady("PK", 38193, 10, T + 3 * HOUR);
        c.clean("PK", 17557, &["x"], 10, T);
        for h in 0..3 {
            c.connections(T + h * HOUR, "PK", 17557, 2, 0, 8);
            // The offline runs' platform verdicts are all inconclusive: no platform event.
            c.add(T + h * HOUR, "PK", 17557, "x", 2, Verdict::Blocked, 0, 8);
        }
        let events = c.detect(T + 3 * HOUR);
        assert_eq!(
            found(&events),
            [pk(Scope::Network, Some(17557), EventVerdict::Outage, None)]
        );
        let e = &events[0];
        assert!(e.platforms.is_empty());
        assert_eq!((e.share, e.senders), (0.8, 30));
        assert!(e.confidence > 0.99, "{}", e.confidence);
    }

    #[test]
    fn a_slowdown_fires_when_most_runs_have_far_slower_controls() {
        let mut c = Counts::default();
        c.steady("PK", 17557, 10, T);
        for h in 0..2 {
            c.connections(T + h * HOUR, "PK", 17557, 3, 7, 0);
        }
        c.connections(T + 2 * HOUR, "PK", 17557, 10, 0, 0);
        let events = c.detect(T + 4 * HOUR);
        assert_eq!(
            found(&events),
            [pk(
                Scope::Network,
                Some(17557),
                EventVerdict::Slowdown,
                Some(T + 2 * HOUR)
            )]
        );
        assert_eq!(events[0].share, 0.7);
    }

    #[test]
    fn a_steady_background_of_offline_and_degraded_runs_does_not_fire() {
        let mut c = Counts::default();
        // A pseudo-random 3 % offline and 4 % degraded, in small and large networks, with
        // twice the runs in the evening; in the evening a few more degraded (6 %): what is left
        // of the usual evening dip once each run is judged against its hour of day.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut draw = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % 10_000
        };
        for (asn, per_hour) in [(1, 5u64), (2, 6), (3, 12), (4, 40), (5, 200)] {
            let mut hour = T - BASELINE_HOURS * HOUR;
            while hour <= T + 23 * HOUR {
                let evening = (hour / HOUR).rem_euclid(24) >= 15;
                let (runs, slow) = if evening {
                    (per_hour * 2, 600)
                } else {
                    (per_hour, 400)
                };
                let (mut normal, mut degraded, mut offline) = (0, 0, 0);
                for _ in 0..runs {
                    match draw() {
                        x if x < 300 => offline += 1,
                        x if x < 300 + slow => degraded += 1,
                        _ => normal += 1,
                    }
                }
                c.connections(hour, "PK", asn, normal, degraded, offline);
                hour += HOUR;
            }
        }
        assert_eq!(c.detect(T + 24 * HOUR), []);
    }

    /// Reports made during a shutdown reach the collector only once it is over; they count by
    /// the hour their runs started, so the outage shows in its own hours once they arrive, and
    /// not before. At this level that is all it is: the counts of the outage's start hours.
    #[test]
    fn an_outage_made_only_of_reports_sent_after_it_fires_in_its_own_hours() {
        let mut before = Counts::default();
        before.steady("PK", 17557, 10, T);
        // 21:00 to 23:00 nothing arrives (the network is cut); at 23:00 it is back.
        for h in 2..4 {
            before.connections(T + h * HOUR, "PK", 17557, 10, 0, 0);
        }
        assert_eq!(before.detect(T + 4 * HOUR), []);
        // The runs made offline at 21:00 and 22:00, kept by their pages and sent after 23:00:
        // fewer than usual (6 of the usual 10 kept them), every one offline.
        let mut after = before;
        for h in 0..2 {
            after.connections(T + h * HOUR, "PK", 17557, 0, 0, 6);
        }
        let events = after.detect(T + 4 * HOUR);
        assert_eq!(
            found(&events),
            [pk(
                Scope::Network,
                Some(17557),
                EventVerdict::Outage,
                Some(T + 2 * HOUR)
            )]
        );
        assert_eq!((events[0].share, events[0].volume), (1.0, Some(0.6)));
    }

    #[test]
    fn a_country_wide_outage_needs_two_networks() {
        let outage = |networks: &[u32]| {
            let mut c = Counts::default();
            for asn in [17557, 38193, 45595] {
                c.steady("PK", asn, 10, T);
                let (normal, offline) = if networks.contains(&asn) {
                    (1, 9)
                } else {
                    (10, 0)
                };
                c.connections(T, "PK", asn, normal, 0, offline);
            }
            found(&c.detect(T + HOUR))
        };
        assert_eq!(
            outage(&[17557]),
            [pk(Scope::Network, Some(17557), EventVerdict::Outage, None)]
        );
        let mut two = outage(&[17557, 38193]);
        two.sort();
        assert_eq!(
            two,
            [
                pk(Scope::Network, Some(17557), EventVerdict::Outage, None),
                pk(Scope::Network, Some(38193), EventVerdict::Outage, None),
                pk(Scope::Country, None, EventVerdict::Outage, None),
            ]
        );
    }

    #[test]
    fn controls_failing_in_every_country_are_global_not_a_country_outage() {
        let mut c = Counts::default();
        for (cc, asns) in [("PK", [1, 2]), ("US", [3, 4]), ("DE", [5, 6])] {
            for asn in asns {
                c.steady(cc, asn, 10, T);
                c.connections(T, cc, asn, 0, 0, 10);
            }
        }
        let events = c.detect(T + HOUR);
        assert_eq!(
            found(&events),
            [(Scope::Global, None, None, EventVerdict::Outage, T, None)]
        );
        assert!(events[0].platforms.is_empty());
        assert_eq!(events[0].senders, 60);
    }

    #[test]
    fn hours_under_k_are_no_evidence_of_an_outage() {
        let mut c = Counts::default();
        c.steady("PK", 17557, 10, T);
        // A small network: every run offline, but 4 senders an hour (k = 5).
        c.steady("PK", 9541, 4, T);
        c.connections(T, "PK", 9541, 0, 0, 4);
        // 21:00 and 23:00 offline with 10 senders; 22:00 with 3.
        c.connections(T, "PK", 17557, 0, 0, 10);
        c.connections(T + HOUR, "PK", 17557, 0, 0, 3);
        c.connections(T + 2 * HOUR, "PK", 17557, 0, 0, 10);
        let spans: Vec<_> = c
            .detect(T + 3 * HOUR)
            .iter()
            .map(|e| (e.asn, e.verdict, e.start, e.end))
            .collect();
        assert_eq!(
            spans,
            [
                (Some(17557), EventVerdict::Outage, T + 2 * HOUR, None),
                (Some(17557), EventVerdict::Outage, T, Some(T + HOUR))
            ]
        );
    }

    #[test]
    fn an_outage_is_published_with_no_platforms_and_its_verdict() {
        let mut c = Counts::default();
        c.steady("PK", 17557, 10, T);
        c.connections(T, "PK", 17557, 0, 0, 10);
        let events = c.detect(T + HOUR);
        let json = serde_json::to_value(&events).unwrap();
        assert_eq!(
            json,
            serde_json::json!([{
                "cc": "PK", "asn": 17557, "scope": "network", "platforms": [],
                "verdict": "outage", "start": "2026-12-02T21:00:00Z", "end": null,
                "confidence": events[0].confidence, "senders": 10, "share": 1.0, "volume": 1.0
            }])
        );
    }
}
