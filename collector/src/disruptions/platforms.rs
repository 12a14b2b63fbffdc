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
pub(super) fn cells(rows: &[CountRow]) -> Cells<'_> {
    fn by_cell(r: &CountRow) -> (i64, &str, u32, &str) {
        (r.bucket, r.cc.as_str(), r.asn, r.platform.as_str())
    }
    // Storage gives the rows ordered by cell, so a cell is a run of rows; hand-made counts
    // may not be, and are put in that order first.
    let mut rows: Vec<&CountRow> = rows.iter().collect();
    if !rows.is_sorted_by_key(|r| by_cell(r)) {
        rows.sort_by(|a, b| by_cell(a).cmp(&by_cell(b)));
    }
    let mut cells = Cells::with_capacity(rows.len() / 2);
    for cell in rows.chunk_by(|a, b| by_cell(a) == by_cell(b)) {
        let (hour, cc, asn, platform) = by_cell(cell[0]);
        let (mut tally, mut reports) = (Tally::default(), 0);
        for row in cell {
            reports += row.count;
            match FAILING.iter().position(|&v| v == row.verdict) {
                Some(i) => tally.failing[i] += row.count,
                None if row.verdict == Verdict::Reachable => tally.passing += row.count,
                None => {}
            }
        }
        cells.push(((cc, asn, Signal::Platform(platform)), hour, tally, reports));
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
