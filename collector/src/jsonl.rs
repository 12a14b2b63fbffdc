//! `netreach-collector export` and `import`: stored reports as JSON lines, one a line,
//! `{"cc": "PK", "asn": 17557, "report": {...}}`, for backups, moving between SQLite and
//! PostgreSQL, federating collectors and demos.
//!
//! A line carries what storage keeps of a report and nothing more: the sender's coarse
//! location and the report as stored. No sender identity exists to export (none is stored),
//! and no ids (the target draws its own). An imported report counts as one distinct sender.
//!
//! Import checks every report exactly as `POST /v1/reports` does ([`intake::parse`] and
//! [`intake::check`] against the campaigns, the same body limit and the same messages), plus
//! the line's own `cc` and `asn`, and judges its connection condition as intake does, against
//! the baselines the target's rollups hold ([`Baselines`]). Those are brought up to date at
//! the start and whenever a line's run falls on a later day than the line before: the hours
//! imported so far are rolled up and the baselines rebuilt, so a file in time order (as
//! `export` and `demo` write them) is judged against its own earlier days, as a live collector
//! would have judged it, even in an empty database. A report already stored (same run hour,
//! country, network,
//! `runtime_ms` and exactly the same stored JSON) is not stored again, so an import may be
//! run twice.

use crate::campaigns::Campaigns;
use crate::cli::{ExportArgs, ImportArgs, DEFAULT_MAX_BODY};
use crate::connection::Baselines;
use crate::geo::{self, Location};
use crate::intake::{self, MAX_AGE_SECS};
use crate::storage::{self, NewReport, ReportQuery, Storage, StorageOptions, StoredReports};
use crate::time;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// A line as `export` writes it.
#[derive(Serialize)]
struct ExportLine<'a> {
    cc: &'a str,
    asn: u32,
    report: &'a RawValue,
}

/// A line as `import` reads it: `cc` and `asn` are checked by hand, to name them in the
/// message.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportLine<'a> {
    cc: serde_json::Value,
    asn: serde_json::Value,
    #[serde(borrow)]
    report: &'a RawValue,
}

/// How long `import` waits for PostgreSQL (it has no `--db-timeout-ms`).
const IMPORT_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `netreach-collector export`: every stored report of runs started in the range, in id
/// order, on stdout; a one-line summary on stderr.
///
/// # Errors
/// `--from` not before `--to`, a database that cannot be opened or read, a stored report that
/// is not one line of JSON, or stdout closed with an error other than a broken pipe.
pub async fn export(args: ExportArgs) -> Result<(), String> {
    let (from, to) = (args.from.unwrap_or(i64::MIN), args.to.unwrap_or(i64::MAX));
    if from >= to {
        return Err("--from must be before --to".into());
    }
    let storage = storage::open_to_read(&args.database, args.db_ca.as_deref())
        .await
        .map_err(|e| format!("database: {e}"))?;
    let query = ReportQuery {
        campaign: None,
        from,
        to,
    };
    let mut out = std::io::BufWriter::new(std::io::stdout());
    let mut stored = StoredReports::new(&*storage, query);
    let mut exported = 0u64;
    let written = loop {
        let Some(report) = stored.next().await.map_err(|e| format!("database: {e}"))? else {
            break out.flush();
        };
        let json = RawValue::from_string(report.json)
            .ok()
            .filter(|raw| !raw.get().contains('\n'))
            .ok_or_else(|| {
                format!(
                    "database: stored report {} is not one line of JSON",
                    report.id
                )
            })?;
        let line = ExportLine {
            cc: &report.cc,
            asn: report.asn,
            report: &json,
        };
        let done = serde_json::to_writer(&mut out, &line)
            .map_err(std::io::Error::from)
            .and_then(|()| out.write_all(b"\n"));
        if let Err(e) = done {
            break Err(e);
        }
        exported += 1;
    };
    storage.close().await;
    match written {
        // `| head` closing the pipe is not a failure of the command.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(format!("stdout: {e}")),
        _ => {}
    }
    eprintln!("netreach-collector: exported {exported} reports");
    Ok(())
}

/// What an import did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Imported {
    /// Reports stored.
    pub stored: u64,
    /// Lines refused (each named on stderr).
    pub skipped: u64,
    /// Reports found already stored.
    pub present: u64,
}

/// Runs `netreach-collector import`: the summary on stderr, and the exit code (0 every line
/// stored or present, 1 some skipped or the database failed, 2 bad usage).
pub async fn import(args: ImportArgs) -> ExitCode {
    let input: Box<dyn BufRead> = if args.file.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        match std::fs::File::open(&args.file) {
            Ok(file) => Box::new(std::io::BufReader::new(file)),
            Err(e) => return usage(&format!("{}: {e}", args.file.display())),
        }
    };
    if !args.campaigns.is_dir() {
        return usage(&format!(
            "--campaigns {}: not a folder",
            args.campaigns.display()
        ));
    }
    let campaigns = Campaigns::new(args.campaigns.clone());
    let options = StorageOptions {
        db_ca: args.db_ca.clone(),
        pool_size: 4,
        write_queue: 1,
        timeout: IMPORT_TIMEOUT,
    };
    let storage = match storage::open(&args.database, options, Arc::default()).await {
        Ok(storage) => storage,
        Err(e) => return failed(&format!("database: {e}")),
    };
    let max_age = (!args.any_age).then_some(MAX_AGE_SECS);
    let baselines = Baselines::new(args.k);
    if let Err(e) = baselines.rebuild(&*storage, time::now()).await {
        storage.close().await;
        return failed(&format!("database: {e}"));
    }
    let result = import_lines(
        input,
        &*storage,
        &campaigns,
        &baselines,
        time::now(),
        max_age,
    )
    .await;
    storage.close().await;
    match result {
        Ok(Imported {
            stored,
            skipped,
            present,
        }) => {
            eprintln!(
                "netreach-collector: imported {stored}, skipped {skipped} (bad), {present} already present"
            );
            if skipped == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => failed(&e),
    }
}

fn usage(message: &str) -> ExitCode {
    eprintln!("netreach-collector: {message}");
    ExitCode::from(2)
}

fn failed(message: &str) -> ExitCode {
    eprintln!("netreach-collector: {message}");
    ExitCode::from(1)
}

/// Checks and stores every line of `input` in order (so an export of the target lists them in
/// the file's order), naming each bad one on stderr (`line N: message`). One report at a
/// time: on SQLite each is its own commit. At each new day of runs, what is stored is rolled
/// up to `now`'s hour and `baselines` rebuilt (see the module's documentation).
///
/// # Errors
/// The input cannot be read, or storage fails (what was stored before stays; importing the
/// file again stores the rest).
pub async fn import_lines(
    mut input: impl BufRead,
    storage: &dyn Storage,
    campaigns: &Campaigns,
    baselines: &Baselines,
    now: i64,
    max_age: Option<i64>,
) -> Result<Imported, String> {
    let mut imported = Imported::default();
    let mut line = Vec::new();
    let mut number = 0u64;
    let mut day = None;
    loop {
        line.clear();
        let read = input
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("input: {e}"))?;
        if read == 0 {
            break;
        }
        number += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let (accepted, location) = match check_line(&line, campaigns, now, max_age) {
            Ok(checked) => checked,
            Err(message) => {
                eprintln!("line {number}: {message}");
                imported.skipped += 1;
                continue;
            }
        };
        let run_day = accepted.started_at.div_euclid(time::DAY);
        if day.is_some_and(|day| run_day > day) {
            let refresh = async {
                crate::rollup::roll_forward(storage, time::floor_hour(now)).await?;
                baselines.rebuild(storage, now).await
            };
            refresh
                .await
                .map_err(|e| format!("database: {e} (before line {number})"))?;
        }
        day = Some(day.map_or(run_day, |day: i64| day.max(run_day)));
        let judged = baselines.judge(
            &accepted.report.controls,
            &location.country,
            location.asn,
            accepted.started_at,
        );
        // Retention counts from arrival; the run's hour is the closest to it a line tells.
        let received_at = accepted.started_at;
        let report = match NewReport::checked(accepted, location, true, received_at, &judged) {
            Ok(report) => report,
            Err(e) => {
                eprintln!("line {number}: cannot encode: {e}");
                imported.skipped += 1;
                continue;
            }
        };
        match storage.insert_unless_present(report).await {
            Ok(Some(_)) => imported.stored += 1,
            Ok(None) => imported.present += 1,
            Err(e) => return Err(format!("database: {e} (after line {number})")),
        }
    }
    Ok(imported)
}

/// One line to a checked report and its sender's location, or the message naming what is
/// wrong: the report's as the API words it.
fn check_line(
    line: &[u8],
    campaigns: &Campaigns,
    now: i64,
    max_age: Option<i64>,
) -> Result<(intake::Accepted, Location), String> {
    // A struct would also be read from a positional array: only an object is a line.
    if line.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(
            match serde_json::from_slice::<serde::de::IgnoredAny>(line) {
                Ok(_) => "line: must be a JSON object with cc, asn and report".into(),
                Err(e) => format!("malformed JSON: {e}"),
            },
        );
    }
    let parsed: ImportLine = serde_json::from_slice(line).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => format!("line: {e}"),
        _ => format!("malformed JSON: {e}"),
    })?;
    let cc = parsed
        .cc
        .as_str()
        .filter(|cc| geo::valid_country(cc))
        .ok_or("cc: must be two upper-case letters (a country code, or ZZ)")?;
    let asn = parsed
        .asn
        .as_u64()
        .and_then(|asn| u32::try_from(asn).ok())
        .ok_or("asn: must be a whole number from 0 to 4294967295")?;
    let body = parsed.report.get().as_bytes();
    if body.len() > DEFAULT_MAX_BODY {
        return Err(format!("report larger than {DEFAULT_MAX_BODY} bytes"));
    }
    let accepted = intake::parse(body)
        .and_then(|report| intake::check_aged(report, campaigns, now, max_age))
        .map_err(|rejection| rejection.message())?;
    let location = Location {
        country: cc.to_owned(),
        asn,
    };
    Ok((accepted, location))
}
