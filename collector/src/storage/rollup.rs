//! Hourly rollups: what aggregates and disruption detection read instead of every raw row.
//!
//! Grouping the raw `verdicts` table (a dozen rows per report) on every request took 27 s at a
//! million reports on PostgreSQL. Three tables, made by migration 6 of both storages, hold
//! the same counts already grouped:
//!
//! - `rollup_verdicts`: per run hour (`started_at`), country, network, platform and verdict,
//!   the reports and the sum of their `new_sender`;
//! - `rollup_senders`: per run hour, country and network, the sum of `new_sender`;
//! - `rollup_state`: one row, `rolled_before` (W): every report received before W is in the
//!   rollups, none received at or after it is.
//!
//! Reads take the rollups plus the live part, the raw rows of reports received at or after W
//! (an hour or two of reports), so answers are exactly those of the raw rows; a report
//! counted in the rollups is never read raw again. Nothing is added to the insert path (issue
//! #10): `crate::rollup` moves W forward off the request path, one received hour per
//! transaction ([`Storage::roll_hour`](super::Storage::roll_hour)), once every insert
//! stamped with that hour has committed or failed. The one exception is `import`, which
//! stores reports received long ago: one received before W is counted into the rollups in
//! its own transaction ([`fold_report`]).
//!
//! `received_at` is indexed (`reports_received`), and a report's verdict rows are found
//! through its run's cell, the leading columns of both storages' verdict indexes, so the
//! live part and each fold read only the rows of the reports concerned.

/// The condition on `reports` that picks the live reports of runs started in `[from, to)`.
/// The unary `+` keeps SQLite's planner off the `started_at` index (`reports_run`): the
/// live reports are few, those of the range many.
pub(crate) fn live(from: &str, to: &str, rolled: &str) -> String {
    format!("received_at >= {rolled} AND +started_at >= {from} AND +started_at < {to}")
}

/// Per cell and verdict, the reports and their senders of the reports picked by `which` (a
/// condition on `reports`), from their verdict rows, with the extra conditions `filters` on
/// `verdicts` (` AND …`). Columns: started_at, cc, asn, platform, verdict, reports, senders.
fn verdicts_of(which: &str, filters: &str) -> String {
    // The runs' cells first (CROSS JOIN keeps that order in SQLite), then their rows. The `+`
    // keeps SQLite from reading the whole `reports_run` index for the DISTINCT.
    format!(
        "SELECT started_at, cc, asn, platform, verdict, COUNT(*) AS reports,
                SUM(new_sender) AS senders
         FROM (SELECT DISTINCT +started_at AS run_hour, cc AS run_cc, asn AS run_asn
               FROM reports WHERE {which}) AS runs
         CROSS JOIN verdicts
         WHERE started_at = run_hour AND cc = run_cc AND asn = run_asn
           AND report_id IN (SELECT id FROM reports WHERE {which}){filters}
         GROUP BY started_at, cc, asn, platform, verdict"
    )
}

/// Per cell and verdict of runs started in `[from, to)`, the live reports and their senders,
/// ordered by cell, with the conditions `filters` (` AND …`) on `cc`, `asn`, `platform`.
/// Columns as [`verdicts_of`]'s.
pub(crate) fn live_cells(from: &str, to: &str, rolled: &str, filters: &str) -> String {
    format!(
        "{} ORDER BY 1, 2, 3, 4, 5",
        verdicts_of(&live(from, to, rolled), filters)
    )
}

/// The bound W (see the module's documentation).
pub(crate) const ROLLED_SQL: &str = "SELECT rolled_before FROM rollup_state WHERE id = 1";

/// The first hour received at or after W (`$1`/`?1`) and before the bound `until` (the
/// second placeholder), if any.
pub(crate) fn next_hour_sql(rolled: &str, until: &str) -> String {
    format!(
        "SELECT MIN(received_at) FROM reports WHERE received_at >= {rolled} AND received_at < {until}"
    )
}

/// Moves W: the placeholder is the new bound.
pub(crate) fn set_rolled_sql(to: &str) -> String {
    format!("UPDATE rollup_state SET rolled_before = {to} WHERE id = 1")
}

/// The two statements that add the reports picked by `which` (a condition on `reports`)
/// to the rollups. Run in the transaction that moves W past them (or, for
/// [`fold_report`], one that holds W still), so that they are counted once.
pub(crate) fn fold_sql(which: &str) -> [String; 2] {
    [
        format!(
            "INSERT INTO rollup_verdicts (started_at, cc, asn, platform, verdict, reports, senders)
             {counts}
             ON CONFLICT (started_at, cc, asn, platform, verdict) DO UPDATE
             SET reports = rollup_verdicts.reports + excluded.reports,
                 senders = rollup_verdicts.senders + excluded.senders",
            counts = verdicts_of(which, "")
        ),
        format!(
            "INSERT INTO rollup_senders (started_at, cc, asn, senders)
             SELECT started_at, cc, asn, SUM(new_sender) FROM reports WHERE {which}
             GROUP BY started_at, cc, asn
             ON CONFLICT (started_at, cc, asn) DO UPDATE
             SET senders = rollup_senders.senders + excluded.senders"
        ),
    ]
}

/// The statements that fold the reports received in `[from, to)` (two placeholders).
pub(crate) fn fold_hour_sql(from: &str, to: &str) -> [String; 2] {
    fold_sql(&format!("received_at >= {from} AND received_at < {to}"))
}

/// The statements that fold the one report whose row id is the placeholder: an imported
/// report received before W.
pub(crate) fn fold_report(id: &str) -> [String; 2] {
    fold_sql(&format!("id = {id}"))
}
