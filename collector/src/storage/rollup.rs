//! Hourly rollups: what aggregates and disruption detection read instead of every raw row.
//!
//! Grouping the raw `verdicts` table (a dozen rows per report) on every request took 27 s at a
//! million reports on PostgreSQL. Three tables, made by migration 6 of both storages, hold
//! the same counts already grouped:
//!
//! - `rollup_verdicts`: per run hour (`started_at`), country, network, platform, verdict and
//!   campaign, the reports and the sum of their `new_sender`;
//! - `rollup_senders`: per run hour, country, network and campaign, the sum of `new_sender`;
//! - `rollup_state`: one row, `rolled_before` (W): every report received before W is in the
//!   rollups, none received at or after it is.
//!
//! Migration 7 of SQLite (8 of PostgreSQL) adds two, for the connection condition of each
//! report (issue #13, `crate::connection`):
//!
//! - `rollup_connections`: per run hour, country, network, campaign and condition, the
//!   reports and their senders (reports stored before the migration have no condition and
//!   are in neither the rollups nor the live part);
//! - `rollup_figures`: per run hour, country and network, of the reports not offline, how many
//!   had a control latency and the sum of its natural logarithms, and the same of the
//!   throughput: a day's geometric mean of an hour, for the baselines. Logarithms are stored
//!   in whole millionths (BIGINT), so that sums are exact and the same on both storages.
//!   SQLite has no `LN` built in here: the collector gives its writer connection one.
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
//! Rows of one cell and verdict from several campaigns are adjacent in the rollups' key order
//! and summed by the reader (`super::merge_hour_cells`), unless a query asks for one campaign.
//!
//! `received_at` is indexed (`reports_received`), so the live part and each fold read only
//! the rows of the reports concerned: SQLite finds their verdict rows through their runs'
//! cells (its verdicts table is clustered by cell), PostgreSQL by report id ([`Lookup`]).

/// The condition on `reports` that picks the live reports of runs started in `[from, to)`.
/// The unary `+` keeps SQLite's planner off the `started_at` index (`reports_run`): the
/// live reports are few, those of the range many.
pub(crate) fn live(from: &str, to: &str, rolled: &str) -> String {
    format!("received_at >= {rolled} AND +started_at >= {from} AND +started_at < {to}")
}

/// How a storage finds the verdict rows of given reports.
#[derive(Clone, Copy)]
pub(crate) enum Lookup {
    /// SQLite: verdict rows are clustered by their run's cell (the table's primary key leads
    /// with started_at, cc, asn), so the runs' cells are found first.
    ByCell,
    /// PostgreSQL: by `report_id`, the leading column of `verdicts_pkey`, its only index
    /// (the cell index went in migration 7: nothing reads verdicts by cell since the rollups,
    /// and it cost 13 index entries per report).
    ByReport,
}

/// Per cell and verdict, the reports and their senders of the reports picked by `which` (a
/// condition on `reports`), from their verdict rows, with the extra conditions `filters` on
/// `verdicts` (` AND …`). Columns: started_at, cc, asn, platform, verdict, (with
/// `by_campaign`) campaign, reports, senders.
fn verdicts_of(lookup: Lookup, which: &str, filters: &str, by_campaign: bool) -> String {
    let campaign = if by_campaign { ", campaign" } else { "" };
    let rows = match lookup {
        // The runs' cells first (CROSS JOIN keeps that order in SQLite), then their rows. The
        // `+` keeps SQLite from reading the whole `reports_run` index for the DISTINCT.
        Lookup::ByCell => format!(
            "(SELECT DISTINCT +started_at AS run_hour, cc AS run_cc, asn AS run_asn
               FROM reports WHERE {which}) AS runs
             CROSS JOIN verdicts
             WHERE started_at = run_hour AND cc = run_cc AND asn = run_asn
               AND report_id IN (SELECT id FROM reports WHERE {which})"
        ),
        Lookup::ByReport => {
            format!("verdicts WHERE report_id IN (SELECT id FROM reports WHERE {which})")
        }
    };
    format!(
        "SELECT started_at, cc, asn, platform, verdict{campaign}, COUNT(*) AS reports,
                SUM(new_sender) AS senders
         FROM {rows}{filters}
         GROUP BY started_at, cc, asn, platform, verdict{campaign}"
    )
}

/// Per cell and verdict of runs started in `[from, to)`, the live reports and their senders,
/// ordered by cell, with the conditions `filters` (` AND …`) on `cc`, `asn`, `platform`.
/// Columns as [`verdicts_of`]'s.
pub(crate) fn live_cells(
    lookup: Lookup,
    from: &str,
    to: &str,
    rolled: &str,
    filters: &str,
) -> String {
    format!(
        "{} ORDER BY 1, 2, 3, 4, 5",
        verdicts_of(lookup, &live(from, to, rolled), filters, false)
    )
}

/// Per hour, country, network and condition of runs started in `[from, to)`, the judged
/// reports and their senders, of the rollups and the live reports (received at or after
/// `rolled`) summed, with the conditions `filters` (` AND …` on `campaign`, `cc`, `asn`),
/// ordered by those columns, at most `limit` rows. Columns: started_at, cc, asn,
/// connection, reports, senders.
pub(crate) fn connections_sql(
    from: &str,
    to: &str,
    rolled: &str,
    filters: &str,
    limit: usize,
) -> String {
    format!(
        "SELECT started_at, cc, asn, connection, CAST(SUM(reports) AS BIGINT),
                CAST(SUM(senders) AS BIGINT) FROM (
            SELECT started_at, cc, asn, connection, reports, senders FROM rollup_connections
            WHERE started_at >= {from} AND started_at < {to}{filters}
            UNION ALL
            SELECT started_at, cc, asn, connection, 1, new_sender FROM reports
            WHERE {live}{filters} AND connection IS NOT NULL
         ) AS runs
         GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4 LIMIT {limit}",
        live = live(from, to, rolled)
    )
}

/// The rollups' control figures of the hours in `[from, to)` whose country and network have
/// at least `k` distinct senders (three placeholders). Columns as [`super::FigureRow`]'s:
/// started_at, cc, asn, senders, ms_reports, ms_log, kbps_reports, kbps_log.
pub(crate) fn figures_sql(from: &str, to: &str, k: &str) -> String {
    format!(
        "SELECT started_at, cc, asn, senders, ms_reports, ms_log, kbps_reports, kbps_log FROM (
            SELECT f.*, (SELECT CAST(SUM(s.senders) AS BIGINT) FROM rollup_senders s
                         WHERE s.started_at = f.started_at AND s.cc = f.cc AND s.asn = f.asn)
                   AS senders
            FROM rollup_figures f WHERE f.started_at >= {from} AND f.started_at < {to}
         ) AS hours
         WHERE senders >= {k}"
    )
}

/// The sum over reports of `column`'s natural logarithm in whole millionths, and how many
/// reports have it (`column` > 0; intake stores figures of at least 1).
fn log_sum(column: &str) -> String {
    format!(
        "COUNT(CASE WHEN {column} > 0 THEN 1 END),
         COALESCE(SUM(CASE WHEN {column} > 0
             THEN CAST(ROUND(LN(CAST({column} AS DOUBLE PRECISION)) * 1000000) AS BIGINT) END), 0)"
    )
}

/// How much one roll forward folds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fold {
    /// The first received hour the rollups do not hold: the server's way, a short
    /// transaction at a time.
    Hour,
    /// Everything received before the bound at once: one pass over the tables, for the
    /// first pass over a large database (`netreach-collector rollup --at-once`), where an
    /// hour at a time looks each report's verdicts up by report, a random read each when the
    /// database is larger than memory.
    All,
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

/// The statements that add the reports picked by `which` (a condition on `reports`) to the
/// rollups. Run in the transaction that moves W past them (or, for [`fold_report`], one that
/// holds W still), so that they are counted once.
pub(crate) fn fold_sql(lookup: Lookup, which: &str) -> [String; 4] {
    [
        format!(
            "INSERT INTO rollup_verdicts
                (started_at, cc, asn, platform, verdict, campaign, reports, senders)
             {counts}
             ON CONFLICT (started_at, cc, asn, platform, verdict, campaign) DO UPDATE
             SET reports = rollup_verdicts.reports + excluded.reports,
                 senders = rollup_verdicts.senders + excluded.senders",
            counts = verdicts_of(lookup, which, "", true)
        ),
        format!(
            "INSERT INTO rollup_senders (started_at, cc, asn, campaign, senders)
             SELECT started_at, cc, asn, campaign, SUM(new_sender) FROM reports WHERE {which}
             GROUP BY started_at, cc, asn, campaign
             ON CONFLICT (started_at, cc, asn, campaign) DO UPDATE
             SET senders = rollup_senders.senders + excluded.senders"
        ),
        format!(
            "INSERT INTO rollup_connections
                (started_at, cc, asn, campaign, connection, reports, senders)
             SELECT started_at, cc, asn, campaign, connection, COUNT(*), SUM(new_sender)
             FROM reports WHERE {which} AND connection IS NOT NULL
             GROUP BY started_at, cc, asn, campaign, connection
             ON CONFLICT (started_at, cc, asn, campaign, connection) DO UPDATE
             SET reports = rollup_connections.reports + excluded.reports,
                 senders = rollup_connections.senders + excluded.senders"
        ),
        // Offline reports never feed a baseline.
        format!(
            "INSERT INTO rollup_figures
                (started_at, cc, asn, ms_reports, ms_log, kbps_reports, kbps_log)
             SELECT started_at, cc, asn, {ms}, {kbps}
             FROM reports WHERE {which} AND connection IN ('normal', 'degraded')
               AND (control_ms IS NOT NULL OR control_kbps IS NOT NULL)
             GROUP BY started_at, cc, asn
             ON CONFLICT (started_at, cc, asn) DO UPDATE
             SET ms_reports = rollup_figures.ms_reports + excluded.ms_reports,
                 ms_log = rollup_figures.ms_log + excluded.ms_log,
                 kbps_reports = rollup_figures.kbps_reports + excluded.kbps_reports,
                 kbps_log = rollup_figures.kbps_log + excluded.kbps_log",
            ms = log_sum("control_ms"),
            kbps = log_sum("control_kbps")
        ),
    ]
}

/// The end of what a roll forward folds, from the first received hour it does not hold.
pub(crate) fn fold_end(fold: Fold, hour: i64, until: i64) -> i64 {
    match fold {
        Fold::Hour => (hour + crate::time::HOUR).min(until),
        Fold::All => until,
    }
}

/// The statements that fold the reports received in `[from, to)` (two placeholders).
pub(crate) fn fold_hour_sql(lookup: Lookup, from: &str, to: &str) -> [String; 4] {
    fold_sql(
        lookup,
        &format!("received_at >= {from} AND received_at < {to}"),
    )
}

/// The statements that fold the one report whose row id is the placeholder: an imported
/// report received before W.
pub(crate) fn fold_report(lookup: Lookup, id: &str) -> [String; 4] {
    fold_sql(lookup, &format!("id = {id}"))
}
