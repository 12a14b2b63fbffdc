//! SQLite storage: WAL, `synchronous=FULL`, one writer thread committing in batches.

use super::{
    stored_verdict, AggregateQuery, BoxFuture, ConnectionCount, CountRow, FigureRow, HourlyCounts,
    NewReport, ReportIds, ReportQuery, SenderRow, Storage, StorageError, StorageOptions,
    StoredReport, REPORTS_PAGE,
};
use crate::metrics::Metrics;
use rusqlite::{params, params_from_iter, Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// Most reports committed in one transaction.
const MAX_BATCH: usize = 512;

/// The WAL's bound. Readers that follow one another without a pause (dashboard queries under
/// load) keep SQLite's automatic checkpoint from ever starting the WAL afresh, so it grows
/// without end: 25 GB in 15 minutes of the soak at full speed. Past this size the writer
/// checkpoints and truncates it itself.
const WAL_LIMIT: u64 = 64 << 20;
/// How often the writer looks at the WAL's size (one `stat`).
const WAL_CHECK_EVERY: Duration = Duration::from_secs(10);
/// How long the truncating checkpoint waits for readers of the old WAL; writes wait with it
/// (the queue holds them), so it is short, and a busy checkpoint is tried again later.
const WAL_TRUNCATE_WAIT: Duration = Duration::from_secs(1);
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Versioned schema; each step runs once, in a transaction with its version row.
/// How reads and roll forwards find verdict rows here.
const LOOKUP: super::rollup::Lookup = super::rollup::Lookup::ByCell;

const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        "CREATE TABLE IF NOT EXISTS reports (
        id INTEGER PRIMARY KEY,
        received_at INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        campaign TEXT NOT NULL,
        cc TEXT NOT NULL,
        asn INTEGER NOT NULL,
        browser TEXT NOT NULL,
        browser_version INTEGER NOT NULL,
        os TEXT NOT NULL,
        runtime_ms INTEGER NOT NULL,
        report TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS verdicts (
        report_id INTEGER NOT NULL,
        platform TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        cc TEXT NOT NULL,
        asn INTEGER NOT NULL,
        verdict TEXT NOT NULL,
        reason TEXT NOT NULL,
        PRIMARY KEY (started_at, cc, asn, platform, report_id)
    ) WITHOUT ROWID;",
    ),
    // k counts distinct senders (see `crate::senders`): 1 marks a report that was its
    // sender's first in its cells that hour. Rows stored before count as one sender each.
    (
        2,
        "ALTER TABLE reports ADD COLUMN new_sender INTEGER NOT NULL DEFAULT 1;
         ALTER TABLE verdicts ADD COLUMN new_sender INTEGER NOT NULL DEFAULT 1;",
    ),
    // Issue #10: the id a sender gets back is random (`public_id`; rows keep their sequential
    // rowid, so inserts still append), and retention finds reports by the hour they arrived.
    (
        3,
        "ALTER TABLE reports ADD COLUMN public_id INTEGER;
         CREATE UNIQUE INDEX IF NOT EXISTS reports_public_id ON reports (public_id);
         CREATE INDEX IF NOT EXISTS reports_received ON reports (received_at);",
    ),
    // Issue #11: `import` finds a report already stored by its run (see `present_sql`).
    (
        4,
        "CREATE INDEX IF NOT EXISTS reports_run ON reports (started_at, cc, asn, runtime_ms);",
    ),
    // Public ids are a keyed permutation of the row id (`ReportIds`): no random unique index
    // to update at every insert. Rows stored before keep the random ids they were given.
    (
        5,
        "CREATE TABLE IF NOT EXISTS report_id_key (
            id INTEGER PRIMARY KEY CHECK (id = 1), k0 INTEGER NOT NULL, k1 INTEGER NOT NULL);
         DROP INDEX IF EXISTS reports_public_id;",
    ),
    // Issue #11: hourly rollups, so that aggregates and detection do not group every raw row
    // (see `super::rollup`). The first roll forward folds in every report stored before.
    // Verdict rows carry their report's campaign, which the rollups keep (issue #12: results
    // filtered by campaign).
    (
        6,
        "ALTER TABLE verdicts ADD COLUMN campaign TEXT NOT NULL DEFAULT '';
         UPDATE verdicts SET campaign = (SELECT campaign FROM reports WHERE reports.id = verdicts.report_id);
         CREATE TABLE IF NOT EXISTS rollup_verdicts (
            started_at INTEGER NOT NULL,
            cc TEXT NOT NULL,
            asn INTEGER NOT NULL,
            platform TEXT NOT NULL,
            verdict TEXT NOT NULL,
            campaign TEXT NOT NULL,
            reports INTEGER NOT NULL,
            senders INTEGER NOT NULL,
            PRIMARY KEY (started_at, cc, asn, platform, verdict, campaign)
         ) WITHOUT ROWID;
         CREATE TABLE IF NOT EXISTS rollup_senders (
            started_at INTEGER NOT NULL,
            cc TEXT NOT NULL,
            asn INTEGER NOT NULL,
            campaign TEXT NOT NULL,
            senders INTEGER NOT NULL,
            PRIMARY KEY (started_at, cc, asn, campaign)
         ) WITHOUT ROWID;
         CREATE TABLE IF NOT EXISTS rollup_state (
            id INTEGER PRIMARY KEY CHECK (id = 1), rolled_before INTEGER NOT NULL);
         INSERT OR IGNORE INTO rollup_state (id, rolled_before) VALUES (1, 0);",
    ),
    // Issue #13: each report's connection condition and the control figures it was judged on
    // (`crate::connection`), and their rollups (see `super::rollup`). Reports stored before
    // keep NULL: not judged, never counted.
    (
        7,
        "ALTER TABLE reports ADD COLUMN connection TEXT;
         ALTER TABLE reports ADD COLUMN control_ms INTEGER;
         ALTER TABLE reports ADD COLUMN control_kbps INTEGER;
         CREATE TABLE IF NOT EXISTS rollup_connections (
            started_at INTEGER NOT NULL,
            cc TEXT NOT NULL,
            asn INTEGER NOT NULL,
            campaign TEXT NOT NULL,
            connection TEXT NOT NULL,
            reports INTEGER NOT NULL,
            senders INTEGER NOT NULL,
            PRIMARY KEY (started_at, cc, asn, campaign, connection)
         ) WITHOUT ROWID;
         CREATE TABLE IF NOT EXISTS rollup_figures (
            started_at INTEGER NOT NULL,
            cc TEXT NOT NULL,
            asn INTEGER NOT NULL,
            ms_reports INTEGER NOT NULL,
            ms_log INTEGER NOT NULL,
            kbps_reports INTEGER NOT NULL,
            kbps_log INTEGER NOT NULL,
            PRIMARY KEY (started_at, cc, asn)
         ) WITHOUT ROWID;",
    ),
];

struct Job {
    report: NewReport,
    /// Store nothing when the same report is already there (then `done` gets `None`).
    unless_present: bool,
    done: oneshot::Sender<Result<Option<i64>, StorageError>>,
}

/// What the writer thread does: store reports, or move the rollups forward by an hour (the
/// single writer orders it after every report queued before it).
enum Work {
    Insert(Job),
    RollHour {
        until: i64,
        fold: super::rollup::Fold,
        done: oneshot::Sender<Result<Option<i64>, StorageError>>,
    },
}

/// Reports in a SQLite file.
pub struct SqliteStorage {
    path: PathBuf,
    sender: Mutex<Option<mpsc::Sender<Work>>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    readers: Arc<Mutex<Vec<Connection>>>,
    pool_size: usize,
    metrics: Arc<Metrics>,
}

fn connect(path: &Path, flags: OpenFlags) -> Result<Connection, StorageError> {
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(conn)
}

/// Creates the database's folder (mode 0700) and file (mode 0600) where they do not exist
/// yet, so that only the collector's user can read the reports. SQLite gives the WAL and
/// shared-memory files it creates beside the database the database's own mode. An existing
/// file is left as the operator made it, with a warning if others may read it.
fn create_owner_only(path: &Path) -> Result<(), StorageError> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    let failed = |what: &Path, e: std::io::Error| {
        StorageError::Unavailable(format!("{}: {e}", what.display()))
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| failed(dir, e))?;
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let mode = std::fs::metadata(path)
                .map_err(|e| failed(path, e))?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                eprintln!(
                    "netreach-collector: warning: {} has mode {:o}: others may read the reports (chmod 600, and its -wal and -shm files)",
                    path.display(),
                    mode & 0o777
                );
            }
            Ok(())
        }
        Err(e) => Err(failed(path, e)),
    }
}

fn migrate(conn: &mut Connection) -> Result<(), StorageError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
    )?;
    for (version, sql) in MIGRATIONS {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let done: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?1)",
            [version],
            |row| row.get(0),
        )?;
        if !done {
            tx.execute_batch(sql)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
                params![version, crate::time::floor_hour(crate::time::now())],
            )?;
        }
        tx.commit()?;
    }
    Ok(())
}

/// Gives `conn` the SQL function `LN` (the natural logarithm; NULL for NULL or a number not
/// above 0), which this SQLite build lacks and the rollups' figures need (see
/// `super::rollup`). Only the writer folds, so only its connection needs it.
fn add_ln(conn: &Connection) -> Result<(), StorageError> {
    use rusqlite::functions::FunctionFlags;
    conn.create_scalar_function(
        "ln",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| Ok(ctx.get::<Option<f64>>(0)?.filter(|x| *x > 0.0).map(f64::ln)),
    )?;
    Ok(())
}

/// The database's report id key, drawn and stored the first time.
fn report_ids(conn: &Connection) -> Result<ReportIds, StorageError> {
    let (k0, k1) = ReportIds::random_key()?;
    conn.execute(
        "INSERT OR IGNORE INTO report_id_key (id, k0, k1) VALUES (1, ?1, ?2)",
        params![k0, k1],
    )?;
    let key = conn.query_row("SELECT k0, k1 FROM report_id_key", [], |row| {
        Ok((row.get::<_, i64>(0)? as u64, row.get::<_, i64>(1)? as u64))
    })?;
    Ok(ReportIds::new(key))
}

fn write_batch(
    conn: &mut Connection,
    jobs: &[Job],
    report_ids: ReportIds,
) -> Result<Vec<Option<i64>>, StorageError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let rolled: i64 = tx.query_row(super::rollup::ROLLED_SQL, [], |row| row.get(0))?;
    let mut ids = Vec::with_capacity(jobs.len());
    // The row ids SQLite would choose (the largest + 1; the write lock is held), chosen here to
    // store each row's public id with it.
    let mut next: i64 =
        tx.query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM reports", [], |row| {
            row.get(0)
        })?;
    {
        let mut report_stmt = tx.prepare_cached(
            "INSERT INTO reports (id, public_id, received_at, started_at, campaign, cc, asn,
                browser, browser_version, os, runtime_ms, report, new_sender, connection,
                control_ms, control_kbps)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
        )?;
        let mut verdict_stmt = tx.prepare_cached(
            "INSERT INTO verdicts (report_id, platform, started_at, cc, asn, verdict, reason,
                new_sender, campaign)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        let mut present_stmt = tx.prepare_cached(&super::present_sql(|n| format!("?{n}")))?;
        let fold = super::rollup::fold_report(LOOKUP, "?1");
        for job in jobs {
            let r = &job.report;
            // Inside the batch's transaction: a twin earlier in the same batch counts too.
            if job.unless_present
                && present_stmt.query_row(
                    params![r.started_at, r.cc, r.asn, r.runtime_ms, r.json],
                    |row| row.get::<_, bool>(0),
                )?
            {
                ids.push(None);
                continue;
            }
            let id = next;
            next += 1;
            let public_id = report_ids.public(id);
            report_stmt.execute(params![
                id,
                public_id,
                r.received_at,
                r.started_at,
                r.campaign,
                r.cc,
                r.asn,
                r.client.browser.as_str(),
                r.client.version,
                r.client.os.as_str(),
                r.runtime_ms,
                r.json,
                r.new_sender,
                r.connection.as_str(),
                r.control_ms,
                r.control_kbps,
            ])?;
            for v in &r.verdicts {
                verdict_stmt.execute(params![
                    id,
                    v.platform,
                    r.started_at,
                    r.cc,
                    r.asn,
                    v.verdict.as_str(),
                    v.reason.as_str(),
                    r.new_sender,
                    r.campaign,
                ])?;
            }
            // Only an import stores a report received before the rollups' bound.
            if r.received_at < rolled {
                for sql in &fold {
                    tx.prepare_cached(sql)?.execute([id])?;
                }
            }
            ids.push(Some(public_id));
        }
    }
    tx.commit()?;
    Ok(ids)
}

/// Folds the next received hour before `until` into the rollups (see [`Storage::roll_hour`]),
/// in one transaction.
fn roll_hour(
    conn: &mut Connection,
    until: i64,
    fold: super::rollup::Fold,
) -> Result<Option<i64>, StorageError> {
    use super::rollup;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let rolled: i64 = tx.query_row(rollup::ROLLED_SQL, [], |row| row.get(0))?;
    if rolled >= until {
        return Ok(None);
    }
    let next: Option<i64> =
        tx.query_row(&rollup::next_hour_sql("?1", "?2"), [rolled, until], |row| {
            row.get(0)
        })?;
    let folded = match next {
        Some(hour) => {
            let end = rollup::fold_end(fold, hour, until);
            for sql in rollup::fold_hour_sql(LOOKUP, "?1", "?2") {
                tx.execute(&sql, [hour, end])?;
            }
            tx.execute(&rollup::set_rolled_sql("?1"), [end])?;
            Some(hour)
        }
        None => {
            tx.execute(&rollup::set_rolled_sql("?1"), [until])?;
            None
        }
    };
    tx.commit()?;
    Ok(folded)
}

/// Deletes one batch of reports received before `cutoff` and already in the rollups, with
/// their verdict rows, in one transaction; returns how many reports went (0: none left).
fn expire_batch(conn: &mut Connection, cutoff: i64) -> Result<usize, StorageError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let rolled: i64 = tx.query_row(super::rollup::ROLLED_SQL, [], |row| row.get(0))?;
    let cutoff = cutoff.min(rolled);
    tx.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS expired (id INTEGER PRIMARY KEY); DELETE FROM expired;",
    )?;
    let expired = tx.execute(
        "INSERT INTO expired SELECT id FROM reports WHERE received_at < ?1 LIMIT ?2",
        params![cutoff, super::EXPIRE_BATCH as i64],
    )?;
    // Verdict rows are clustered by `started_at`, and a run starts at most an hour after the
    // hour its report is received in (intake's bound): a range scan, with a day to spare.
    tx.execute(
        "DELETE FROM verdicts WHERE started_at < ?1 AND report_id IN (SELECT id FROM expired)",
        [cutoff + crate::time::DAY],
    )?;
    tx.execute(
        "DELETE FROM reports WHERE id IN (SELECT id FROM expired)",
        [],
    )?;
    tx.execute("DELETE FROM expired", [])?;
    tx.commit()?;
    Ok(expired)
}

/// The conditions of `q`'s filters (` AND cc = ?n …`), their values pushed onto `args`.
fn filters(q: &AggregateQuery, args: &mut Vec<rusqlite::types::Value>) -> String {
    let mut filters = String::new();
    if let Some(campaign) = &q.campaign {
        args.push(campaign.clone().into());
        filters += &format!(" AND campaign = ?{}", args.len());
    }
    if let Some(cc) = &q.cc {
        args.push(cc.clone().into());
        filters += &format!(" AND cc = ?{}", args.len());
    }
    if let Some(asn) = q.asn {
        args.push(i64::from(asn).into());
        filters += &format!(" AND asn = ?{}", args.len());
    }
    if let Some(platform) = &q.platform {
        args.push(platform.clone().into());
        filters += &format!(" AND platform = ?{}", args.len());
    }
    filters
}

/// The rollups' bound, read in the caller's transaction.
fn rolled(conn: &Connection) -> Result<i64, StorageError> {
    Ok(conn.query_row(super::rollup::ROLLED_SQL, [], |row| row.get(0))?)
}

/// The hour cells of `q`'s runs with its filters (see [`super::hour_cells_sql`]), every
/// cell whether published or not, ordered by cell; `None` over `max_rows` rows. `q.bucket` is
/// not read: these are hours.
fn hour_cells(
    conn: &Connection,
    q: &AggregateQuery,
    max_rows: usize,
) -> Result<Option<Vec<CountRow>>, StorageError> {
    let mut args: Vec<rusqlite::types::Value> = vec![q.from.into(), q.to.into()];
    let filters = filters(q, &mut args);
    let [rolled_sql, live_sql] = super::hour_cells_sql(
        LOOKUP,
        |n| format!("?{n}"),
        &filters,
        args.len() + 1,
        max_rows + 1,
    );
    let read = |sql: &str, args: &[rusqlite::types::Value]| {
        conn.prepare_cached(sql)?
            .query_map(params_from_iter(args), count_row)?
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .collect::<Result<Vec<_>, StorageError>>()
    };
    let rolled = read(&rolled_sql, &args)?;
    if rolled.len() > max_rows {
        return Ok(None);
    }
    args.push(self::rolled(conn)?.into());
    let live = read(&live_sql, &args)?;
    Ok(super::merge_hour_cells(rolled, live, max_rows))
}

/// A row of bucket, cc, asn, platform, verdict, count, senders; the verdict checked apart
/// (rusqlite's row mapping takes only its own errors).
fn count_row(row: &rusqlite::Row) -> rusqlite::Result<Result<CountRow, StorageError>> {
    let verdict = row.get::<_, String>(4)?;
    let (bucket, cc, asn, platform) = (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
    let (count, senders) = (row.get::<_, i64>(5)? as u64, row.get::<_, i64>(6)? as u64);
    Ok(stored_verdict(&verdict).map(|verdict| CountRow {
        bucket,
        cc,
        asn,
        platform,
        verdict,
        count,
        senders,
    }))
}

/// Per hour, country, network and condition of `q`'s runs with its filters but `platform`
/// (see [`super::rollup::connections_sql`]), every row whether published or not; `None` over
/// `max_rows` rows.
fn connection_hours(
    conn: &Connection,
    q: &AggregateQuery,
    max_rows: usize,
) -> Result<Option<Vec<ConnectionCount>>, StorageError> {
    let mut args: Vec<rusqlite::types::Value> = vec![q.from.into(), q.to.into()];
    let network = AggregateQuery {
        platform: None,
        ..q.clone()
    };
    let filters = filters(&network, &mut args);
    args.push(rolled(conn)?.into());
    let sql = super::rollup::connections_sql(
        "?1",
        "?2",
        &format!("?{}", args.len()),
        &filters,
        max_rows + 1,
    );
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(params_from_iter(args), |row| {
            let connection = row.get::<_, String>(3)?;
            let (bucket, cc, asn) = (row.get(0)?, row.get(1)?, row.get(2)?);
            let (count, senders) = (row.get::<_, i64>(4)? as u64, row.get::<_, i64>(5)? as u64);
            Ok(
                super::stored_connection(&connection).map(|connection| ConnectionCount {
                    bucket,
                    cc,
                    asn,
                    connection,
                    count,
                    senders,
                }),
            )
        })?
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .collect::<Result<Vec<_>, StorageError>>()?;
    Ok((rows.len() <= max_rows).then_some(rows))
}

/// The WAL file SQLite keeps beside `database`.
fn wal_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// Checkpoints the whole WAL into the database and truncates it when it is over `limit`
/// bytes. Returns whether the WAL was over the limit and is still (readers of its old frames
/// outlasted [`WAL_TRUNCATE_WAIT`]); a later call tries again.
fn bound_wal(conn: &Connection, wal: &Path, limit: u64) -> Result<bool, StorageError> {
    let size = std::fs::metadata(wal).map_or(0, |m| m.len());
    if size <= limit {
        return Ok(false);
    }
    conn.busy_timeout(WAL_TRUNCATE_WAIT)?;
    // TRUNCATE holds off writers, lets new readers read the database file, and waits (busy
    // timeout) for the readers still on the old frames; its first column is 1 if they stayed.
    let busy = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| {
        row.get::<_, i64>(0)
    });
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(busy? != 0)
}

/// The writer thread: takes the reports queued (up to [`MAX_BATCH`], up to a roll forward),
/// commits them in one transaction, then answers every sender, and rolls forward in turn;
/// every [`WAL_CHECK_EVERY`] it bounds the WAL. Ends when every sender is gone and the queue
/// is empty, so closing drains it.
fn run_writer(
    mut conn: Connection,
    mut queue: mpsc::Receiver<Work>,
    metrics: Arc<Metrics>,
    wal: &Path,
    ids: ReportIds,
) {
    let mut wal_checked = Instant::now();
    let mut wal_warned = false;
    let mut next = queue.blocking_recv();
    while let Some(work) = next.take() {
        let first = match work {
            Work::RollHour { until, fold, done } => {
                let _ = done.send(roll_hour(&mut conn, until, fold));
                next = queue.blocking_recv();
                continue;
            }
            Work::Insert(job) => job,
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(Work::Insert(job)) => batch.push(job),
                // After this batch, in queue order.
                Ok(roll) => {
                    next = Some(roll);
                    break;
                }
                Err(_) => break,
            }
        }
        metrics.queue(-(batch.len() as i64));
        let started = Instant::now();
        let result = write_batch(&mut conn, &batch, ids);
        match result {
            Ok(ids) => {
                metrics.write_committed(started.elapsed(), batch.len());
                for (job, id) in batch.into_iter().zip(ids) {
                    let _ = job.done.send(Ok(id));
                }
            }
            Err(e) => {
                eprintln!(
                    "netreach-collector: storage error, batch of {} rolled back: {e}",
                    batch.len()
                );
                for job in batch {
                    let _ = job.done.send(Err(e.clone()));
                }
            }
        }
        if wal_checked.elapsed() >= WAL_CHECK_EVERY {
            wal_checked = Instant::now();
            match bound_wal(&conn, wal, WAL_LIMIT) {
                Ok(false) => wal_warned = false,
                // Once per stretch of failures: under steady readers it is retried every check.
                Ok(true) if !wal_warned => {
                    wal_warned = true;
                    eprintln!(
                        "netreach-collector: warning: {} is over {} MiB and readers kept it from being truncated; trying again",
                        wal.display(),
                        WAL_LIMIT >> 20
                    );
                }
                Ok(true) => {}
                Err(e) => eprintln!(
                    "netreach-collector: checkpoint of {} failed: {e}",
                    wal.display()
                ),
            }
        }
        if next.is_none() {
            next = queue.blocking_recv();
        }
    }
}

impl SqliteStorage {
    /// Opens (or creates) the database file and its folder, migrates it and starts the writer.
    ///
    /// # Errors
    /// The folder or file cannot be created, or the schema cannot be migrated.
    pub fn open(
        path: &Path,
        options: StorageOptions,
        metrics: Arc<Metrics>,
    ) -> Result<Self, StorageError> {
        create_owner_only(path)?;
        let mut conn = connect(path, OpenFlags::default())?;
        // WAL lets readers work beside the writer; FULL fsyncs the WAL at every commit,
        // so a committed batch survives a crash of the process or of the machine.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        // Verdict rows are clustered by cell (no separate index to update); a larger cache
        // and rarer checkpoints keep the single writer's commits short.
        conn.pragma_update(None, "cache_size", -65_536)?;
        conn.pragma_update(None, "wal_autocheckpoint", 16_384)?;
        // After a checkpoint that restarts the WAL, its file is cut back to the bound.
        conn.pragma_update(None, "journal_size_limit", WAL_LIMIT as i64)?;
        migrate(&mut conn)?;
        add_ln(&conn)?;
        let ids = report_ids(&conn)?;
        let (sender, receiver) = mpsc::channel(options.write_queue.max(1));
        let writer_metrics = metrics.clone();
        let wal = wal_path(path);
        let writer = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run_writer(conn, receiver, writer_metrics, &wal, ids))
            .map_err(|e| {
                StorageError::Unavailable(format!("cannot start the writer thread: {e}"))
            })?;
        Ok(SqliteStorage {
            path: path.to_owned(),
            sender: Mutex::new(Some(sender)),
            writer: Mutex::new(Some(writer)),
            readers: Arc::new(Mutex::new(Vec::new())),
            pool_size: options.pool_size.max(1),
            metrics,
        })
    }

    /// Opens an existing database file to read, without a writer: nothing is created or
    /// migrated, and inserts fail.
    ///
    /// # Errors
    /// The file does not exist, cannot be opened, or holds no `reports` table.
    pub fn open_to_read(path: &Path) -> Result<Self, StorageError> {
        if !path.is_file() {
            return Err(StorageError::Unavailable(format!(
                "no SQLite database at {}",
                path.display()
            )));
        }
        let conn = connect(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        let has_reports: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'reports')",
            [],
            |row| row.get(0),
        )?;
        if !has_reports {
            return Err(StorageError::Unavailable(format!(
                "{} is not a netreach database (no reports table)",
                path.display()
            )));
        }
        Ok(SqliteStorage {
            path: path.to_owned(),
            sender: Mutex::new(None),
            writer: Mutex::new(None),
            readers: Arc::new(Mutex::new(vec![conn])),
            pool_size: 1,
            metrics: Arc::default(),
        })
    }

    /// Runs `f` on a read-only connection from the pool, off the async threads.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StorageError> + Send + 'static,
    ) -> Result<T, StorageError> {
        let readers = self.readers.clone();
        let path = self.path.clone();
        let keep = self.pool_size;
        tokio::task::spawn_blocking(move || {
            let pooled = readers.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let conn = match pooled {
                Some(conn) => conn,
                None => connect(
                    &path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?,
            };
            let result = f(&conn);
            let mut pool = readers.lock().unwrap_or_else(|e| e.into_inner());
            if pool.len() < keep {
                pool.push(conn);
            }
            result
        })
        .await
        .map_err(|e| StorageError::Unavailable(format!("reader task failed: {e}")))?
    }
}

impl SqliteStorage {
    /// Queues `report` for the writer and waits for its batch to commit.
    async fn write(
        &self,
        report: NewReport,
        unless_present: bool,
    ) -> Result<Option<i64>, StorageError> {
        let sender = self
            .sender
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| StorageError::Unavailable("shutting down".into()))?;
        let (done, answer) = oneshot::channel();
        self.metrics.queue(1);
        // A full queue refuses at once: a sender held waiting would hold its connection
        // and its memory for as long as the writer is behind.
        let job = Work::Insert(Job {
            report,
            unless_present,
            done,
        });
        if let Err(e) = sender.try_send(job) {
            self.metrics.queue(-1);
            return Err(match e {
                mpsc::error::TrySendError::Full(_) => {
                    StorageError::Overloaded("the write queue is full".into())
                }
                mpsc::error::TrySendError::Closed(_) => {
                    StorageError::Unavailable("the writer has stopped".into())
                }
            });
        }
        answer
            .await
            .map_err(|_| StorageError::Unavailable("the writer has stopped".into()))?
    }
}

impl Storage for SqliteStorage {
    fn insert(&self, report: NewReport) -> BoxFuture<'_, Result<i64, StorageError>> {
        Box::pin(async move {
            self.write(report, false).await?.ok_or_else(|| {
                StorageError::Unavailable("the writer skipped a report it had to store".into())
            })
        })
    }

    fn insert_unless_present(
        &self,
        report: NewReport,
    ) -> BoxFuture<'_, Result<Option<i64>, StorageError>> {
        Box::pin(self.write(report, true))
    }

    fn aggregate(
        &self,
        q: AggregateQuery,
        k: u32,
        max_rows: usize,
    ) -> BoxFuture<'_, Result<Option<Vec<CountRow>>, StorageError>> {
        Box::pin(self.read(move |conn| {
            // One read transaction: the bound and the rows it splits agree.
            let tx = conn.unchecked_transaction()?;
            let hours = hour_cells(&tx, &q, max_rows)?;
            tx.finish()?;
            Ok(hours.map(|hours| super::publish(hours, k, q.bucket)))
        }))
    }

    fn hourly_counts(
        &self,
        from: i64,
        to: i64,
        campaign: Option<String>,
        max_rows: usize,
    ) -> BoxFuture<'_, Result<Option<HourlyCounts>, StorageError>> {
        Box::pin(self.read(move |conn| {
            // One read transaction: both statements see the same reports.
            let tx = conn.unchecked_transaction()?;
            let hours = AggregateQuery {
                campaign,
                ..AggregateQuery::hourly(from, to)
            };
            let Some(verdicts) = hour_cells(&tx, &hours, max_rows)? else {
                return Ok(None);
            };
            let only = hours.campaign.as_ref().map(|_| "?4");
            let mut stmt = tx.prepare_cached(&super::senders_sql("?1", "?2", "?3", only))?;
            let mut args: Vec<rusqlite::types::Value> =
                vec![from.into(), to.into(), rolled(&tx)?.into()];
            if let Some(campaign) = &hours.campaign {
                args.push(campaign.clone().into());
            }
            let senders = stmt
                .query_map(rusqlite::params_from_iter(args), |row| {
                    Ok(SenderRow {
                        hour: row.get(0)?,
                        cc: row.get(1)?,
                        asn: row.get(2)?,
                        senders: row.get::<_, i64>(3)? as u64,
                    })
                })?
                .collect::<Result<_, _>>()?;
            drop(stmt);
            let Some(connections) = connection_hours(&tx, &hours, max_rows)? else {
                return Ok(None);
            };
            tx.finish()?;
            Ok(Some(HourlyCounts {
                verdicts,
                senders,
                connections: super::connection_rows(connections),
            }))
        }))
    }

    fn connections(
        &self,
        q: AggregateQuery,
        k: u32,
        max_rows: usize,
    ) -> BoxFuture<'_, Result<Option<Vec<ConnectionCount>>, StorageError>> {
        Box::pin(self.read(move |conn| {
            // One read transaction: the bound and the rows it splits agree.
            let tx = conn.unchecked_transaction()?;
            let hours = connection_hours(&tx, &q, max_rows)?;
            tx.finish()?;
            Ok(hours.map(|hours| super::publish(hours, k, q.bucket)))
        }))
    }

    fn baseline_figures(
        &self,
        from: i64,
        to: i64,
        k: u32,
    ) -> BoxFuture<'_, Result<Vec<FigureRow>, StorageError>> {
        Box::pin(self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&super::rollup::figures_sql("?1", "?2", "?3"))?;
            let rows = stmt.query_map(params![from, to, k], |row| {
                Ok(FigureRow {
                    hour: row.get(0)?,
                    cc: row.get(1)?,
                    asn: row.get(2)?,
                    senders: row.get::<_, i64>(3)? as u64,
                    ms_reports: row.get::<_, i64>(4)? as u64,
                    ms_log: row.get(5)?,
                    kbps_reports: row.get::<_, i64>(6)? as u64,
                    kbps_log: row.get(7)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        }))
    }

    fn reports_after(
        &self,
        q: ReportQuery,
        after: i64,
    ) -> BoxFuture<'_, Result<Vec<StoredReport>, StorageError>> {
        Box::pin(self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, cc, asn, report, started_at FROM reports
                 WHERE id > ?1 AND started_at >= ?2 AND started_at < ?3
                   AND (?4 IS NULL OR campaign = ?4)
                 ORDER BY id LIMIT ?5",
            )?;
            let rows = stmt.query_map(
                params![after, q.from, q.to, q.campaign, REPORTS_PAGE as i64],
                |row| {
                    Ok(StoredReport {
                        id: row.get(0)?,
                        cc: row.get(1)?,
                        asn: row.get(2)?,
                        json: row.get(3)?,
                        started_at: row.get(4)?,
                    })
                },
            )?;
            Ok(rows.collect::<Result<_, _>>()?)
        }))
    }

    fn roll_hour(
        &self,
        until: i64,
        fold: super::rollup::Fold,
    ) -> BoxFuture<'_, Result<Option<i64>, StorageError>> {
        Box::pin(async move {
            let sender = self
                .sender
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
                .ok_or_else(|| StorageError::Unavailable("no writer (opened to read)".into()))?;
            let (done, answer) = oneshot::channel();
            // Waits for room in the queue rather than being refused: it is off the request path.
            sender
                .send(Work::RollHour { until, fold, done })
                .await
                .map_err(|_| StorageError::Unavailable("the writer has stopped".into()))?;
            answer
                .await
                .map_err(|_| StorageError::Unavailable("the writer has stopped".into()))?
        })
    }

    fn delete_received_before(&self, cutoff: i64) -> BoxFuture<'_, Result<u64, StorageError>> {
        let path = self.path.clone();
        Box::pin(async move {
            // A connection of its own: each batch takes the write lock briefly, and the
            // writer thread waits for it (busy timeout) as for any other writer.
            tokio::task::spawn_blocking(move || {
                let mut conn = connect(&path, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
                let mut deleted = 0;
                loop {
                    let batch = expire_batch(&mut conn, cutoff)?;
                    deleted += batch as u64;
                    if batch < super::EXPIRE_BATCH {
                        return Ok(deleted);
                    }
                }
            })
            .await
            .map_err(|e| StorageError::Unavailable(format!("retention task failed: {e}")))?
        })
    }

    fn health(&self) -> BoxFuture<'_, Result<(), StorageError>> {
        Box::pin(async move {
            let writer = self.sender.lock().ok().and_then(|s| s.clone());
            match writer {
                None => return Err(StorageError::Unavailable("shutting down".into())),
                // The writer thread owns the receiving end: closed means it has ended.
                Some(writer) if writer.is_closed() => {
                    return Err(StorageError::Unavailable("the writer has stopped".into()))
                }
                Some(_) => {}
            }
            self.read(|conn| Ok(conn.query_row("SELECT 1", [], |_| Ok(()))?))
                .await
        })
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            drop(self.sender.lock().unwrap_or_else(|e| e.into_inner()).take());
            let writer = self.writer.lock().unwrap_or_else(|e| e.into_inner()).take();
            if let Some(writer) = writer {
                let _ = tokio::task::spawn_blocking(move || writer.join()).await;
            }
        })
    }

    fn kind(&self) -> &'static str {
        "sqlite"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netreach::{Browser, Client, Os, Reason, Verdict};

    fn options() -> StorageOptions {
        StorageOptions {
            db_ca: None,
            pool_size: 2,
            write_queue: 16,
            timeout: std::time::Duration::from_secs(5),
        }
    }

    fn temp_db(tag: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("netreach-sqlite-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir.join("netreach.db")
    }

    fn report(started_at: i64, platforms: &[&str]) -> NewReport {
        NewReport {
            received_at: started_at,
            started_at,
            campaign: "t".into(),
            cc: "PK".into(),
            asn: 17557,
            client: Client {
                browser: Browser::Chrome,
                version: 156,
                os: Os::Linux,
            },
            runtime_ms: 1,
            verdicts: platforms
                .iter()
                .map(|p| super::super::VerdictRow {
                    platform: (*p).into(),
                    verdict: Verdict::Reachable,
                    reason: Reason::EndpointsLoaded,
                })
                .collect(),
            new_sender: true,
            json: "{}".into(),
            connection: crate::connection::Connection::Normal,
            control_ms: Some(40),
            control_kbps: None,
        }
    }

    #[tokio::test]
    async fn an_aggregate_reading_more_hour_cells_than_the_cap_is_refused() {
        let path = temp_db("cap");
        let storage = SqliteStorage::open(&path, options(), Arc::default()).unwrap();
        // Three hours, two platforms: six rows (cell and verdict).
        for hour in 0..3 {
            storage
                .insert(report(1_795_000_000 + hour * 3600, &["x", "yt"]))
                .await
                .unwrap();
        }
        let q = AggregateQuery {
            from: 1_795_000_000 - 3600,
            to: 1_795_000_000 + 4 * 3600,
            bucket: 3600,
            ..AggregateQuery::default()
        };
        let rows = storage.aggregate(q.clone(), 1, 6).await.unwrap();
        assert_eq!(rows.map(|r| r.len()), Some(6));
        assert!(storage.aggregate(q.clone(), 1, 5).await.unwrap().is_none());
        // A day reads the same six hour cells: refused under six, two rows at six.
        let day = AggregateQuery {
            bucket: 86_400,
            ..q.clone()
        };
        assert!(storage
            .aggregate(day.clone(), 1, 5)
            .await
            .unwrap()
            .is_none());
        assert_eq!(
            storage.aggregate(day, 1, 6).await.unwrap().map(|r| r.len()),
            Some(2)
        );
        // The same with the hours rolled up.
        crate::rollup::roll_forward(&storage, 1_795_000_000 + 4 * 3600)
            .await
            .unwrap();
        assert_eq!(
            storage
                .aggregate(q.clone(), 1, 6)
                .await
                .unwrap()
                .map(|r| r.len()),
            Some(6)
        );
        assert!(storage.aggregate(q, 1, 5).await.unwrap().is_none());
        storage.close().await;
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[tokio::test]
    async fn retention_deletes_in_batches_until_none_is_left() {
        let path = temp_db("expire");
        let storage = SqliteStorage::open(&path, options(), Arc::default()).unwrap();
        let (old, recent) = (1_795_000_000, 1_795_000_000 + 30 * crate::time::DAY);
        // Two batches and a bit of old reports, and three recent ones.
        let old_count = 2 * crate::storage::EXPIRE_BATCH + 7;
        for i in 0..old_count + 3 {
            let at = if i < old_count { old } else { recent };
            storage.insert(report(at, &["x", "yt"])).await.unwrap();
        }
        // Only what the rollups hold is deleted: nothing before a roll forward.
        assert_eq!(storage.delete_received_before(recent).await.unwrap(), 0);
        crate::rollup::roll_forward(&storage, recent).await.unwrap();
        let deleted = storage.delete_received_before(recent).await.unwrap();
        assert_eq!(deleted, old_count as u64);
        let conn = Connection::open(&path).unwrap();
        let count = |sql: &str| conn.query_row(sql, [], |row| row.get::<_, i64>(0)).unwrap();
        assert_eq!(count("SELECT COUNT(*) FROM reports"), 3);
        assert_eq!(count("SELECT COUNT(*) FROM verdicts"), 6);
        assert_eq!(count("SELECT MIN(received_at) FROM reports"), recent);
        assert_eq!(storage.delete_received_before(recent).await.unwrap(), 0);
        storage.close().await;
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[tokio::test]
    async fn the_wal_is_truncated_once_readers_of_its_old_frames_are_done() {
        let path = temp_db("wal");
        let storage = SqliteStorage::open(&path, options(), Arc::default()).unwrap();
        let wal = wal_path(&path);
        storage.insert(report(1_795_000_000, &["x"])).await.unwrap();
        // A reader in a transaction keeps every checkpoint from passing the frames it reads.
        let reader = Connection::open(&path).unwrap();
        reader.execute_batch("BEGIN").unwrap();
        let count = |conn: &Connection| {
            conn.query_row("SELECT COUNT(*) FROM reports", [], |row| {
                row.get::<_, i64>(0)
            })
            .unwrap()
        };
        assert_eq!(count(&reader), 1);
        for _ in 0..200 {
            storage
                .insert(report(1_795_000_000, &["x", "yt"]))
                .await
                .unwrap();
        }
        let grown = std::fs::metadata(&wal).unwrap().len();
        assert!(grown > 64 * 1024, "WAL of {grown} B");
        let conn = connect(&path, OpenFlags::SQLITE_OPEN_READ_WRITE).unwrap();
        // Under the limit: nothing is done.
        assert!(!bound_wal(&conn, &wal, grown).unwrap());
        assert_eq!(std::fs::metadata(&wal).unwrap().len(), grown);
        // Over it with the reader still on old frames: still over, tried again later.
        assert!(bound_wal(&conn, &wal, 1024).unwrap());
        assert!(std::fs::metadata(&wal).unwrap().len() >= grown);
        assert_eq!(count(&reader), 1, "the reader keeps its snapshot");
        reader.execute_batch("COMMIT").unwrap();
        assert!(!bound_wal(&conn, &wal, 1024).unwrap());
        assert_eq!(std::fs::metadata(&wal).unwrap().len(), 0);
        // Nothing is lost, and the writer goes on in the new WAL.
        storage.insert(report(1_795_000_000, &["x"])).await.unwrap();
        assert_eq!(count(&conn), 202);
        storage.close().await;
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[tokio::test]
    async fn health_fails_once_the_writer_is_gone() {
        let path = temp_db("writer");
        let storage = SqliteStorage::open(&path, options(), Arc::default()).unwrap();
        assert!(storage.health().await.is_ok());
        // What a writer thread that ended (a panic) leaves behind: a queue nobody reads.
        let (orphan, receiver) = mpsc::channel(1);
        drop(receiver);
        *storage.sender.lock().unwrap() = Some(orphan);
        let health = storage.health().await.unwrap_err();
        assert_eq!(health.to_string(), "the writer has stopped");
        let insert = storage.insert(report(1_795_000_000, &["x"])).await;
        assert!(
            matches!(insert, Err(StorageError::Unavailable(_))),
            "{insert:?}"
        );
        storage.close().await;
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }
}
