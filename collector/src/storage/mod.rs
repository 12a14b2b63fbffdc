//! Where reports go: one small trait, two implementations chosen by the database URL.
//!
//! - `sqlite://PATH`: the default, nothing to install. WAL journal with `synchronous=FULL`;
//!   a single writer thread commits queued reports in batches and answers each insert only
//!   after its batch has committed (one fsync for many reports).
//! - `postgres://…`: for several stateless collectors sharing one database. Each insert is its
//!   own transaction, answered after COMMIT (PostgreSQL's default `synchronous_commit=on`).
//!
//! Both keep the same two tables: `reports` (one row per report, with the report's JSON as
//! stored, its connection condition and the control figures it was judged on, see
//! [`crate::connection`]) and `verdicts` (one row per platform result, denormalized with the cell columns and
//! the report's `new_sender` flag), and aggregates read their counts from hourly rollups of
//! them plus the reports received since ([`rollup`]). Times are Unix seconds
//! rounded down to the hour; no column holds an address or anything derived from one but that
//! flag (whether the report was its sender's first in its cells that hour, see
//! [`crate::senders`]), and no column could. Stored reports are read back a page at a time
//! ([`StoredReports`]), for `netreach-collector catalog` and `export`; `import` stores a
//! report only when the same one is not there yet ([`Storage::insert_unless_present`], found
//! through the index of migration 4 and compared in full).
//!
//! The id a sender gets back is `reports.public_id`, random ([`random_report_id`]), not the
//! row's sequential `id`: it says nothing about how many reports came before it or when.

mod pg_tls;
mod postgres;
pub mod rollup;
mod sqlite;

use crate::connection::Connection;
use netreach::{Client, Reason, Verdict};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub use postgres::PostgresStorage;
pub use sqlite::SqliteStorage;

/// A boxed future, so that [`Storage`] can be used as a trait object.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A storage failure.
#[derive(Clone, Debug)]
pub enum StorageError {
    /// The database is unreachable, full, shutting down, or refused a statement: a retry
    /// may succeed.
    Unavailable(String),
    /// The database answered with a row this collector did not write and cannot read (an
    /// unknown verdict name): a retry will not help.
    Unreadable(String),
    /// The write queue is full: the report was refused at once rather than held waiting;
    /// a retry a moment later may succeed.
    Overloaded(String),
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageError::Unavailable(what)
            | StorageError::Unreadable(what)
            | StorageError::Overloaded(what) => f.write_str(what),
        }
    }
}

impl std::error::Error for StorageError {}

impl From<rusqlite::Error> for StorageError {
    fn from(e: rusqlite::Error) -> Self {
        StorageError::Unavailable(format!("sqlite: {e}"))
    }
}

impl From<tokio_postgres::Error> for StorageError {
    fn from(e: tokio_postgres::Error) -> Self {
        // A server's error displays as "db error" alone; its message says what went wrong.
        match e.as_db_error() {
            Some(db) => StorageError::Unavailable(format!("postgres: {db}")),
            None => {
                // The cause ("server does not support TLS", a certificate's fault) is in the
                // chain of sources, not in the error's own words.
                let mut text = format!("postgres: {e}");
                let mut source = std::error::Error::source(&e);
                while let Some(cause) = source {
                    text += &format!(": {cause}");
                    source = cause.source();
                }
                StorageError::Unavailable(text)
            }
        }
    }
}

/// One platform's verdict in a stored report.
#[derive(Clone, Debug)]
pub struct VerdictRow {
    pub platform: String,
    pub verdict: Verdict,
    pub reason: Reason,
}

/// A checked, anonymized report, ready to insert.
#[derive(Clone, Debug)]
pub struct NewReport {
    /// When it arrived, rounded down to the hour (Unix seconds).
    pub received_at: i64,
    /// When the run started, as reported (a whole hour, Unix seconds).
    pub started_at: i64,
    pub campaign: String,
    /// Country (ISO 3166-1 alpha-2 or `ZZ`).
    pub cc: String,
    /// Autonomous system number (0 when unknown).
    pub asn: u32,
    pub client: Client,
    pub runtime_ms: u32,
    pub verdicts: Vec<VerdictRow>,
    /// Whether this is its sender's first report in its cells this hour (see
    /// [`crate::senders`]): the only trace of the sender, summed per cell into its distinct
    /// senders.
    pub new_sender: bool,
    /// The report as stored (only the schema's fields).
    pub json: String,
    /// Its connection condition (see [`crate::connection`]).
    pub connection: crate::connection::Connection,
    /// The control figures it was judged on (latency in ms, throughput in kbit/s).
    pub control_ms: Option<u32>,
    pub control_kbps: Option<u32>,
}

impl NewReport {
    /// The row to store: the checked report with its sender's coarse location, whether it
    /// counts as a new sender, the hour it was received, and its connection condition as
    /// judged ([`crate::connection::Baselines::judge`]).
    ///
    /// # Errors
    /// The report cannot be serialized again (not expected of a value that was just parsed).
    pub fn checked(
        accepted: crate::intake::Accepted,
        location: crate::geo::Location,
        new_sender: bool,
        received_at: i64,
        judged: &crate::connection::Judged,
    ) -> Result<Self, serde_json::Error> {
        let report = accepted.report;
        let verdicts = report
            .platforms
            .iter()
            .map(|p| VerdictRow {
                platform: p.id.clone(),
                verdict: p.verdict,
                reason: p.reason,
            })
            .collect();
        Ok(NewReport {
            received_at,
            started_at: accepted.started_at,
            json: serde_json::to_string(&report)?,
            campaign: report.campaign,
            cc: location.country,
            asn: location.asn,
            client: report.client,
            runtime_ms: report.runtime_ms,
            verdicts,
            new_sender,
            connection: judged.connection,
            control_ms: judged.control_ms,
            control_kbps: judged.control_kbps,
        })
    }
}

/// What `GET /v1/aggregates` asks for; `None` means no filter.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct AggregateQuery {
    /// Reports of this campaign only (any revision).
    pub campaign: Option<String>,
    pub cc: Option<String>,
    pub asn: Option<u32>,
    pub platform: Option<String>,
    /// Inclusive lower bound on `started_at` (Unix seconds).
    pub from: i64,
    /// Exclusive upper bound on `started_at`.
    pub to: i64,
    /// Width of a time bucket in seconds (3600 or 86400).
    pub bucket: i64,
}

impl AggregateQuery {
    /// Every cell, hour by hour, of runs started in `[from, to)`.
    pub fn hourly(from: i64, to: i64) -> Self {
        AggregateQuery {
            from,
            to,
            bucket: crate::time::HOUR,
            ..AggregateQuery::default()
        }
    }
}

/// A count of one verdict in one cell (bucket, country, network, platform): a published one
/// from [`Storage::aggregate`], any one from [`Storage::hourly_counts`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountRow {
    pub bucket: i64,
    pub cc: String,
    pub asn: u32,
    pub platform: String,
    pub verdict: Verdict,
    /// Reports with this verdict.
    pub count: u64,
    /// Of those, the reports that counted as a new sender (`new_sender`).
    pub senders: u64,
}

impl CountRow {
    /// The row's cell and verdict, whose order is storage's (bucket, country, network,
    /// platform, verdict).
    pub fn cell(&self) -> (i64, &str, u32, &str, &'static str) {
        (
            self.bucket,
            &self.cc,
            self.asn,
            &self.platform,
            self.verdict.as_str(),
        )
    }
}

/// The senders of one hour in one country and network, as k counts them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SenderRow {
    /// Start of the hour (Unix seconds).
    pub hour: i64,
    pub cc: String,
    pub asn: u32,
    pub senders: u64,
}

/// Reports of one connection condition in one hour, country and network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionRow {
    /// Start of the hour the runs started in (Unix seconds).
    pub hour: i64,
    pub cc: String,
    pub asn: u32,
    pub connection: crate::connection::Connection,
    /// Reports with this condition.
    pub count: u64,
}

/// Reports of one connection condition in one cell (bucket, country, network) and their
/// senders: a published one from [`Storage::connections`], or an hour's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionCount {
    /// Start of the bucket (Unix seconds).
    pub bucket: i64,
    pub cc: String,
    pub asn: u32,
    pub connection: crate::connection::Connection,
    pub count: u64,
    /// Of those, the reports that counted as a new sender (`new_sender`).
    pub senders: u64,
}

/// The control figures of one hour (runs started in it) in one country and network, as the
/// rollups hold them (`rollup_figures`), with that hour's distinct senders: what
/// [`crate::connection::Baselines`] are made of. Logarithms are natural, in millionths, summed
/// over the hour's reports that were not offline and had the figure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FigureRow {
    pub hour: i64,
    pub cc: String,
    pub asn: u32,
    /// Distinct senders of the hour in this country and network (every report, every
    /// campaign).
    pub senders: u64,
    pub ms_reports: u64,
    pub ms_log: i64,
    pub kbps_reports: u64,
    pub kbps_log: i64,
}

/// What disruption detection reads: verdict counts per hour and cell (country, network,
/// platform), senders per hour, country and network, and the reports' connection conditions
/// per hour, country and network.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HourlyCounts {
    /// Ordered by hour, country, ASN, platform, verdict (as [`Storage::aggregate`] gives them).
    pub verdicts: Vec<CountRow>,
    /// Ordered by hour, country, ASN.
    pub senders: Vec<SenderRow>,
    /// Ordered by hour, country, ASN, condition.
    pub connections: Vec<ConnectionRow>,
}

/// The SQL of senders per hour, country and network, for runs started in `[from, to)`:
/// the rollups' and the live reports' (received at or after `rolled`), of one campaign when
/// `campaign` (its placeholder) is given. Placeholders in `sqlite` or `postgres` style.
pub(crate) fn senders_sql(from: &str, to: &str, rolled: &str, campaign: Option<&str>) -> String {
    let only = campaign.map_or(String::new(), |c| format!(" AND campaign = {c}"));
    format!(
        // Distinct senders, as k counts them (see `crate::senders`).
        "SELECT started_at, cc, asn, CAST(SUM(senders) AS BIGINT) FROM (
            SELECT started_at, cc, asn, senders FROM rollup_senders
            WHERE started_at >= {from} AND started_at < {to}{only}
            UNION ALL
            SELECT started_at, cc, asn, new_sender FROM reports
            WHERE {live}{only}
         ) AS runs
         GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        live = rollup::live(from, to, rolled)
    )
}

/// A verdict read back from storage, by its wire name.
///
/// # Errors
/// [`StorageError::Unreadable`] for a name that is not a verdict: the table was written by
/// something else than this collector.
pub fn stored_verdict(name: &str) -> Result<Verdict, StorageError> {
    Verdict::from_name(name).ok_or_else(|| {
        StorageError::Unreadable(format!(
            "the verdicts table holds an unknown verdict {name:?}"
        ))
    })
}

/// Ids are below 2^53, so that every JSON reader (a browser's `Number` among them) reads them
/// exactly.
const REPORT_ID_LIMIT: u64 = 1 << 53;

/// The id a sender gets back for a stored report: a keyed permutation of its row id (a
/// four-round Feistel network of SipHash-2-4 rounds on 54 bits, walked back into 1..2^53), so
/// ids are unique by construction and, without the key, neither count the reports nor order
/// them. (Random ids with a unique index did the same, but every insert then wrote a page at
/// a random place in that index: a quarter fewer reports/s on SQLite.) The key is drawn once
/// per database and kept in it (`report_id_key`), so every collector on one database agrees.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReportIds {
    key: (u64, u64),
}

impl ReportIds {
    const HALF: u32 = 27;

    pub(crate) fn new(key: (u64, u64)) -> ReportIds {
        ReportIds { key }
    }

    /// A fresh random key (stored by the caller unless the database has one).
    ///
    /// # Errors
    /// The operating system gave no random bytes.
    pub(crate) fn random_key() -> Result<(i64, i64), StorageError> {
        let draw = || {
            getrandom::u64()
                .map(|bits| bits as i64)
                .map_err(|e| StorageError::Unavailable(format!("no random report id key: {e}")))
        };
        Ok((draw()?, draw()?))
    }

    /// The public id of row `row` (1 ≤ row < 2^53).
    pub(crate) fn public(&self, row: i64) -> i64 {
        let mut x = row as u64;
        // Cycle walking: the permutation of 0..2^54 applied until it lands in 1..2^53 is a
        // permutation of 1..2^53 (each step about once in two).
        loop {
            x = self.permute(x);
            if (1..REPORT_ID_LIMIT).contains(&x) {
                return x as i64;
            }
        }
    }

    fn permute(&self, x: u64) -> u64 {
        let mask = (1u64 << Self::HALF) - 1;
        let (mut left, mut right) = (x >> Self::HALF & mask, x & mask);
        for round in 0..4u64 {
            #[allow(deprecated)] // SipHasher: std's only keyed PRF; deprecated, not unsound
            let mut f = std::hash::SipHasher::new_with_keys(self.key.0, self.key.1);
            std::hash::Hasher::write_u64(&mut f, round << 32 | right);
            (left, right) = (right, left ^ (std::hash::Hasher::finish(&f) & mask));
        }
        left << Self::HALF | right
    }
}

/// How storage is opened for serving.
#[derive(Clone, Debug)]
pub struct StorageOptions {
    /// PostgreSQL: the CA file (PEM) that signed the server's certificate (`--db-ca`), for
    /// `sslmode=verify-ca` and `verify-full` (see `pg_tls`).
    pub db_ca: Option<std::path::PathBuf>,
    /// Connections (PostgreSQL) or read connections (SQLite) kept open.
    pub pool_size: usize,
    /// Reports that may wait for the SQLite writer; past it an insert is refused at once
    /// ([`StorageError::Overloaded`]).
    pub write_queue: usize,
    /// PostgreSQL: the longest wait for a pooled connection, to connect, and for any
    /// statement; past it the operation fails as [`StorageError::Unavailable`].
    pub timeout: std::time::Duration,
}

/// The SQL of the hour cells (hour, country, network, platform, verdict: reports and the
/// sum of their `new_sender`) of runs started in `[from, to)`, every cell whether published or
/// not, in two statements: the rolled-up rows in key order, at most `limit`, and the live rows
/// (see [`rollup`]). `mark(n)` writes the n-th parameter (`?n` or `$n`): 1 and 2 the range,
/// then one per condition of `filters` (on `cc`, `asn`, `platform`), and the live statement's
/// last, `rolled`, the rollups' bound. [`merge_hour_cells`] sums the two: the rollups' rows
/// are read as stored, where summing both in SQL grouped every rolled-up row again (0.8 s
/// for the 394,000 rows of 14 days at a million reports, against 0.25 s to read them).
pub(crate) fn hour_cells_sql(
    lookup: rollup::Lookup,
    mark: fn(usize) -> String,
    filters: &str,
    rolled: usize,
    limit: usize,
) -> [String; 2] {
    let (from, to, rolled) = (mark(1), mark(2), mark(rolled));
    [
        format!(
            "SELECT started_at, cc, asn, platform, verdict, reports, senders FROM rollup_verdicts
             WHERE started_at >= {from} AND started_at < {to}{filters}
             ORDER BY started_at, cc, asn, platform, verdict LIMIT {limit}"
        ),
        rollup::live_cells(lookup, &from, &to, &rolled, filters),
    ]
}

/// The hour cells of the rollups and of the live reports summed, ordered by cell (hour,
/// country, network, platform, verdict); `None` over `max_rows`.
pub(crate) fn merge_hour_cells(
    rolled: Vec<CountRow>,
    live: Vec<CountRow>,
    max_rows: usize,
) -> Option<Vec<CountRow>> {
    // Borrowed keys: hundreds of thousands of rows, compared without copying their names.
    fn key(r: &CountRow) -> (i64, &str, u32, &str, Verdict) {
        (r.bucket, &r.cc, r.asn, &r.platform, r.verdict)
    }
    // The rollups keep a row per campaign: one cell's rows are adjacent, summed here.
    let mut cells: Vec<CountRow> = Vec::with_capacity(rolled.len() + live.len());
    for row in rolled {
        match cells.last_mut() {
            Some(last) if key(last) == key(&row) => {
                last.count += row.count;
                last.senders += row.senders;
            }
            _ => cells.push(row),
        }
    }
    if !live.is_empty() {
        let index: std::collections::HashMap<_, usize> =
            live.iter().enumerate().map(|(i, r)| (key(r), i)).collect();
        let mut new = vec![true; live.len()];
        for cell in &mut cells {
            if let Some(&i) = index.get(&key(cell)) {
                cell.count += live[i].count;
                cell.senders += live[i].senders;
                new[i] = false;
            }
        }
        drop(index);
        cells.extend(
            live.into_iter()
                .zip(new)
                .filter_map(|(r, new)| new.then_some(r)),
        );
    }
    if cells.len() > max_rows {
        return None;
    }
    // One order on both storages, whatever the database's collation (already so, most
    // often: then no sort).
    if !cells.is_sorted_by(|a, b| a.cell() <= b.cell()) {
        cells.sort_unstable_by(|a, b| a.cell().cmp(&b.cell()));
    }
    Some(cells)
}

/// An hour's count that [`publish`] sums into buckets: a verdict in a platform's cell
/// ([`CountRow`]) or a connection condition in a network's ([`ConnectionCount`]).
pub(crate) trait HourCount: Clone {
    /// What is counted and where, but the time: its order is the published rows' order
    /// within a bucket.
    type Key: Ord;
    fn key(&self) -> Self::Key;
    /// Whether `other` is of the same hour cell, the unit k is counted over.
    fn same_cell(&self, other: &Self) -> bool;
    /// Start of its hour (or bucket), its reports and their senders.
    fn counts(&self) -> (i64, u64, u64);
    fn set_counts(&mut self, bucket: i64, count: u64, senders: u64);
}

impl HourCount for CountRow {
    /// Verdicts by name, as storage has always ordered them.
    type Key = (String, u32, String, &'static str);
    fn key(&self) -> Self::Key {
        let (cc, platform) = (self.cc.clone(), self.platform.clone());
        (cc, self.asn, platform, self.verdict.as_str())
    }
    fn same_cell(&self, other: &Self) -> bool {
        (self.bucket, self.asn, &self.cc, &self.platform)
            == (other.bucket, other.asn, &other.cc, &other.platform)
    }
    fn counts(&self) -> (i64, u64, u64) {
        (self.bucket, self.count, self.senders)
    }
    fn set_counts(&mut self, bucket: i64, count: u64, senders: u64) {
        (self.bucket, self.count, self.senders) = (bucket, count, senders);
    }
}

impl HourCount for ConnectionCount {
    /// Conditions in wire order.
    type Key = (String, u32, Connection);
    fn key(&self) -> Self::Key {
        (self.cc.clone(), self.asn, self.connection)
    }
    fn same_cell(&self, other: &Self) -> bool {
        (self.bucket, self.asn, &self.cc) == (other.bucket, other.asn, &other.cc)
    }
    fn counts(&self) -> (i64, u64, u64) {
        (self.bucket, self.count, self.senders)
    }
    fn set_counts(&mut self, bucket: i64, count: u64, senders: u64) {
        (self.bucket, self.count, self.senders) = (bucket, count, senders);
    }
}

/// What an aggregate publishes of its hour cells (ordered by cell, as [`merge_hour_cells`]
/// gives them): only hour cells (hour, country, network, platform; for connection conditions
/// hour, country, network) with at least k distinct senders (the sum of `new_sender` over the
/// cell's reports) are kept, and what is kept is summed into buckets of `bucket` seconds. So
/// a day cell is the sum of that day's published hour cells: a day query minus the hour
/// queries of that day is always zero, and no granularity opens a suppressed hour. Ordered by
/// bucket, then [`HourCount::Key`] (country, network, platform, verdict; or country,
/// network, condition).
pub(crate) fn publish<R: HourCount>(hours: Vec<R>, k: u32, bucket: i64) -> Vec<R> {
    let mut buckets: std::collections::BTreeMap<(i64, R::Key), R> =
        std::collections::BTreeMap::new();
    for cell in hours.chunk_by(R::same_cell) {
        if cell.iter().map(|row| row.counts().2).sum::<u64>() < u64::from(k) {
            continue;
        }
        for row in cell {
            let (hour, count, senders) = row.counts();
            let start = hour.div_euclid(bucket) * bucket;
            let sum = buckets.entry((start, row.key())).or_insert_with(|| {
                let mut sum = row.clone();
                sum.set_counts(start, 0, 0);
                sum
            });
            let (_, before, their_senders) = sum.counts();
            sum.set_counts(start, before + count, their_senders + senders);
        }
    }
    buckets.into_values().collect()
}

/// A connection condition read back from storage, by its wire name.
///
/// # Errors
/// [`StorageError::Unreadable`] for a name that is not a condition: the table was written by
/// something else than this collector.
pub fn stored_connection(name: &str) -> Result<Connection, StorageError> {
    Connection::parse(name).ok_or_else(|| {
        StorageError::Unreadable(format!(
            "the reports table holds an unknown connection condition {name:?}"
        ))
    })
}

/// The connection rows of hours read from storage (hour, country, network, condition,
/// reports, senders), as [`HourlyCounts::connections`] orders them: by hour, country, ASN,
/// condition in wire order, whatever the database's collation.
pub(crate) fn connection_rows(mut hours: Vec<ConnectionCount>) -> Vec<ConnectionRow> {
    hours.sort_unstable_by(|a, b| {
        (a.bucket, &a.cc, a.asn, a.connection).cmp(&(b.bucket, &b.cc, b.asn, b.connection))
    });
    hours
        .into_iter()
        .map(|row| ConnectionRow {
            hour: row.bucket,
            cc: row.cc,
            asn: row.asn,
            connection: row.connection,
            count: row.count,
        })
        .collect()
}

/// Which stored reports to read back: those of runs started in a range, optionally of one
/// campaign.
#[derive(Clone, Debug)]
pub struct ReportQuery {
    pub campaign: Option<String>,
    /// Inclusive lower bound on `started_at` (Unix seconds).
    pub from: i64,
    /// Exclusive upper bound on `started_at`.
    pub to: i64,
}

/// A stored report: its id, the sender's coarse location and its JSON as stored.
#[derive(Clone, Debug)]
pub struct StoredReport {
    pub id: i64,
    /// Country (ISO 3166-1 alpha-2 or `ZZ`).
    pub cc: String,
    /// Autonomous system number (0 when unknown).
    pub asn: u32,
    pub json: String,
    /// The hour the run started (Unix seconds), as stored beside the JSON.
    pub started_at: i64,
}

/// Reports read in one round trip by [`Storage::reports_after`]. A report is at most
/// `--max-body` (128 KiB by default), so a page stays within a few MiB.
pub const REPORTS_PAGE: usize = 64;

/// Reports deleted in one transaction by [`Storage::delete_received_before`].
pub const EXPIRE_BATCH: usize = 500;

/// Whether a report like `r` is stored: the same run hour, country, network and
/// `runtime_ms` (the index `reports_run` of migration 4) and exactly the same JSON. The five
/// placeholders, in `sqlite` or `postgres` style, take those values in that order.
pub(crate) fn present_sql(mark: fn(usize) -> String) -> String {
    format!(
        "SELECT EXISTS (SELECT 1 FROM reports WHERE started_at = {} AND cc = {} AND asn = {}
            AND runtime_ms = {} AND report = {})",
        mark(1),
        mark(2),
        mark(3),
        mark(4),
        mark(5)
    )
}

/// Report storage.
pub trait Storage: Send + Sync {
    /// Stores a report under a new random public id; resolves with that id once the write
    /// is durable.
    fn insert(&self, report: NewReport) -> BoxFuture<'_, Result<i64, StorageError>>;
    /// Stores a report as [`Storage::insert`] does, unless a report with the same run hour,
    /// country, network, `runtime_ms` and exactly the same stored JSON is already there:
    /// then nothing is written and the answer is `None` (`netreach-collector import`).
    fn insert_unless_present(
        &self,
        report: NewReport,
    ) -> BoxFuture<'_, Result<Option<i64>, StorageError>>;
    /// Verdict counts per published cell, ordered by bucket, country, ASN, platform,
    /// verdict: only hour cells with at least `k` distinct senders are counted, and a day
    /// cell is the sum of its published hours (see [`publish`]). `None` when the query's
    /// hour cells (published or not) are more than `max_rows`: the database stops at
    /// `max_rows + 1` rows.
    fn aggregate(
        &self,
        query: AggregateQuery,
        k: u32,
        max_rows: usize,
    ) -> BoxFuture<'_, Result<Option<Vec<CountRow>>, StorageError>>;
    /// Verdict counts per hour, country, network and platform, senders per hour, country
    /// and network, and reports per hour, country, network and connection condition (judged
    /// reports only: those stored before migration 7 of SQLite, 8 of PostgreSQL have none),
    /// for runs started in `[from, to)` (of one campaign, if given); `None` when the verdict
    /// counts would be more than `max_rows` rows (as for [`Storage::aggregate`]).
    fn hourly_counts(
        &self,
        from: i64,
        to: i64,
        campaign: Option<String>,
        max_rows: usize,
    ) -> BoxFuture<'_, Result<Option<HourlyCounts>, StorageError>>;
    /// Connection condition counts per published cell (bucket, country, network), ordered by
    /// bucket, country, ASN, condition: only network hours whose judged reports have at least
    /// `k` distinct senders are counted, and a day is the sum of its published hours (see
    /// [`publish`]). The query's `platform` is not read: a condition is the
    /// network's. `None` when the hour rows are more than `max_rows`.
    fn connections(
        &self,
        query: AggregateQuery,
        k: u32,
        max_rows: usize,
    ) -> BoxFuture<'_, Result<Option<Vec<ConnectionCount>>, StorageError>>;
    /// The rollups' control figures of the hours in `[from, to)` with at least `k` distinct
    /// senders in their country and network (reports received since the rollups' bound are
    /// left out: baselines move with the rollups).
    fn baseline_figures(
        &self,
        from: i64,
        to: i64,
        k: u32,
    ) -> BoxFuture<'_, Result<Vec<FigureRow>, StorageError>>;
    /// The next page of stored reports matching `query`: at most [`REPORTS_PAGE`], with ids
    /// above `after`, in id order. [`StoredReports`] reads them all, a page at a time.
    fn reports_after(
        &self,
        query: ReportQuery,
        after: i64,
    ) -> BoxFuture<'_, Result<Vec<StoredReport>, StorageError>>;
    /// Deletes the reports received before `cutoff` (Unix seconds, a whole hour) and
    /// already in the rollups (which keep counting them) with their verdict rows, a batch of [`EXPIRE_BATCH`] per transaction so that writers are held
    /// back only briefly; resolves with how many reports went.
    fn delete_received_before(&self, cutoff: i64) -> BoxFuture<'_, Result<u64, StorageError>>;
    /// Adds to the rollups the reports of the first hour received before `until` that they
    /// do not hold yet, in one transaction that moves their bound past that hour (see
    /// [`rollup`]); resolves with that hour, or `None` when every report received before
    /// `until` is in them. Collectors sharing a database may run it at once: each hour is
    /// added once.
    /// With [`rollup::Fold::All`], everything received before `until` goes in that one
    /// transaction.
    fn roll_hour(
        &self,
        until: i64,
        fold: rollup::Fold,
    ) -> BoxFuture<'_, Result<Option<i64>, StorageError>>;
    /// Checks that the database answers.
    fn health(&self) -> BoxFuture<'_, Result<(), StorageError>>;
    /// Stops taking writes and waits until every queued write has finished.
    fn close(&self) -> BoxFuture<'_, ()>;
    /// `sqlite` or `postgres`, for logs and metrics.
    fn kind(&self) -> &'static str;
}

/// Every stored report matching a query, read a page at a time (memory stays bounded by one
/// page, whatever the range holds).
pub struct StoredReports<'a> {
    storage: &'a dyn Storage,
    query: ReportQuery,
    after: i64,
    page: std::vec::IntoIter<StoredReport>,
    exhausted: bool,
}

impl<'a> StoredReports<'a> {
    pub fn new(storage: &'a dyn Storage, query: ReportQuery) -> Self {
        StoredReports {
            storage,
            query,
            after: i64::MIN,
            page: Vec::new().into_iter(),
            exhausted: false,
        }
    }

    /// The next report, `None` after the last.
    ///
    /// # Errors
    /// A page could not be read.
    pub async fn next(&mut self) -> Result<Option<StoredReport>, StorageError> {
        if let Some(report) = self.page.next() {
            return Ok(Some(report));
        }
        if self.exhausted {
            return Ok(None);
        }
        let page = self
            .storage
            .reports_after(self.query.clone(), self.after)
            .await?;
        self.exhausted = page.len() < REPORTS_PAGE;
        if let Some(last) = page.last() {
            self.after = last.id;
        }
        self.page = page.into_iter();
        Ok(self.page.next())
    }
}

/// Where a database URL points.
enum Location<'a> {
    Sqlite(&'a std::path::Path),
    Postgres(&'a str),
}

fn locate(url: &str) -> Result<Location<'_>, StorageError> {
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        let path = path.split('?').next().unwrap_or(path);
        if path.is_empty() {
            return Err(StorageError::Unavailable(
                "sqlite URL without a path".into(),
            ));
        }
        Ok(Location::Sqlite(path.as_ref()))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Location::Postgres(url))
    } else {
        Err(StorageError::Unavailable(
            "database URL must start with sqlite:// or postgres://".into(),
        ))
    }
}

/// Opens the storage named by `url`, creating the schema (migrations run on every start and
/// are idempotent).
///
/// # Errors
/// An unknown URL scheme, or a database that cannot be opened or migrated.
pub async fn open(
    url: &str,
    options: StorageOptions,
    metrics: Arc<crate::metrics::Metrics>,
) -> Result<Arc<dyn Storage>, StorageError> {
    Ok(match locate(url)? {
        Location::Sqlite(path) => Arc::new(SqliteStorage::open(path, options, metrics)?),
        Location::Postgres(url) => Arc::new(PostgresStorage::open(url, options, metrics).await?),
    })
}

/// Opens an existing database to read its reports: nothing is created or migrated, and
/// inserts fail.
///
/// # Errors
/// An unknown URL scheme, a SQLite file that does not exist, a server that cannot be
/// reached, or a database without a `reports` table.
pub async fn open_to_read(
    url: &str,
    db_ca: Option<&std::path::Path>,
) -> Result<Arc<dyn Storage>, StorageError> {
    Ok(match locate(url)? {
        Location::Sqlite(path) => Arc::new(SqliteStorage::open_to_read(path)?),
        Location::Postgres(url) => Arc::new(PostgresStorage::open_to_read(url, db_ca).await?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn report_ids_are_distinct_in_range_and_keyed() {
        let ids = ReportIds::new((0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210));
        let other = ReportIds::new((1, 2));
        let rows = (1..=100_000).chain([(1 << 53) - 1]);
        let mut seen = HashSet::new();
        for row in rows {
            let id = ids.public(row);
            assert!((1..1 << 53).contains(&id), "row {row}: id {id}");
            assert!(seen.insert(id), "row {row}: id {id} given twice");
            assert_eq!(id, ids.public(row), "the same row, the same id");
        }
        // Consecutive rows give ids far apart and in no order; another key, other ids.
        let first: Vec<i64> = (1..=64).map(|row| ids.public(row)).collect();
        assert!(
            first.windows(2).all(|w| (w[1] - w[0]).abs() > 1 << 20),
            "{first:?}"
        );
        assert!(first.windows(2).any(|w| w[1] < w[0]), "{first:?}");
        assert!((1..=64).all(|row| other.public(row) != ids.public(row)));
    }
}
