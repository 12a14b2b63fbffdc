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
pub(super) fn cells(rows: &[ConnectionRow]) -> Cells {
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
            let key = (cc.to_owned(), Some(asn), signal);
            cells.insert((key, hour), (tally, reports));
        }
    }
    cells
}
