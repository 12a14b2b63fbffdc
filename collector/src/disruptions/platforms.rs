//! Platform events' evidence: each platform's failing verdicts (`blocked`, `partial`,
//! `throttled`) out of its conclusive ones, per network-hour, from the verdict counts;
//! `inconclusive` verdicts count in the cell's reports (its k check) and nowhere else.

use super::{Cells, EventVerdict, Signal, Tally};
use crate::storage::CountRow;
use netreach::Verdict;

/// The failing verdicts, most severe first (the order that breaks ties for the dominant one).
pub(super) const FAILING: [Verdict; 3] = [Verdict::Blocked, Verdict::Partial, Verdict::Throttled];

/// The events' names of [`FAILING`], in its order.
const FAILING_EVENTS: [EventVerdict; 3] = [
    EventVerdict::Blocked,
    EventVerdict::Partial,
    EventVerdict::Throttled,
];

/// Every network cell-hour of every platform with its evidence and reports.
pub(super) fn cells(rows: &[CountRow]) -> Cells {
    let mut cells = Cells::new();
    for row in rows {
        let key = (
            row.cc.clone(),
            Some(row.asn),
            Signal::Platform(row.platform.clone()),
        );
        let (tally, reports): &mut (Tally, u64) = cells.entry((key, row.bucket)).or_default();
        *reports += row.count;
        match FAILING.iter().position(|&v| v == row.verdict) {
            Some(i) => tally.failing[i] += row.count,
            None if row.verdict == Verdict::Reachable => tally.passing += row.count,
            None => {}
        }
    }
    cells
}

/// The dominant failing verdict of counts in [`FAILING`]'s order (ties to the more severe).
pub(super) fn dominant(failing: &[u64; 3]) -> EventVerdict {
    let mut best = 0;
    for i in 1..FAILING.len() {
        if failing[i] > failing[best] {
            best = i;
        }
    }
    FAILING_EVENTS[best]
}
