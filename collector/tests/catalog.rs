//! `netreach-collector catalog` on both storages: reports with unusable attempts posted
//! through the HTTP API, then the command (the built binary) finds the rotten endpoints, by
//! day and campaign, as a table and as JSON lines; every bad input gets its message and a
//! non-zero exit.

mod common;

use common::{report, Collector, Store, TempDir, CAMPAIGN};
use netreach::classify::{classify, Baseline};
use netreach::{Attempt, Outcome, Report};
use netreach_collector::time::{self, DAY};
use serde_json::Value;
use std::process::Command;

const X_IMAGE: &str = "https://cdn.x.example/i.png";
const YT_IMAGE: &str = "https://i.yt.example/t.jpg";

/// What one run of the command gave.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn catalog(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_netreach-collector"))
        .arg("catalog")
        .args(args)
        .output()
        .expect("run netreach-collector catalog");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// A report of campaign `campaign` (the test campaign's endpoints) whose image endpoints of
/// x and yt ended as given, every other attempt `ok`, with verdicts re-derived.
fn report_with(campaign: &str, x_image: &[Outcome], yt_image: &[Outcome]) -> Report {
    let mut r = report(7, Outcome::Ok, Outcome::Ok);
    r.campaign = campaign.into();
    let baseline = Baseline::new(&r.controls);
    for platform in &mut r.platforms {
        for endpoint in &mut platform.endpoints {
            let outcomes = match endpoint.url.as_str() {
                X_IMAGE => x_image,
                YT_IMAGE => yt_image,
                _ => continue,
            };
            let template = endpoint.attempts[0].clone();
            endpoint.attempts = outcomes
                .iter()
                .map(|&outcome| Attempt {
                    outcome,
                    ..template.clone()
                })
                .collect();
        }
        (platform.verdict, platform.reason) = classify(&baseline, &[], &platform.endpoints);
    }
    r
}

fn post(collector: &Collector, report: &Report) {
    let r = collector.post(&serde_json::to_string(report).unwrap());
    assert_eq!(r.status, 201, "{}", r.body);
}

/// `YYYY-MM-DD` of a Unix time.
fn day(secs: i64) -> String {
    time::format_utc(secs)[..10].to_owned()
}

/// The JSON lines of a successful run.
fn json_lines(run: &Run) -> Vec<Value> {
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    run.stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// (campaign, platform, url, reports, ok, timeout, error, unusable, all_unusable) of a row.
fn summary(row: &Value) -> (String, String, String, [u64; 6]) {
    let text = |k: &str| row[k].as_str().unwrap_or("(control)").to_owned();
    let n = |k: &str| row[k].as_u64().unwrap();
    (
        text("campaign"),
        text("platform"),
        text("url"),
        [
            n("reports"),
            n("ok"),
            n("timeout"),
            n("error"),
            n("unusable"),
            n("all_unusable"),
        ],
    )
}

fn row(
    campaign: &str,
    platform: &str,
    url: &str,
    counts: [u64; 6],
) -> (String, String, String, [u64; 6]) {
    (campaign.into(), platform.into(), url.into(), counts)
}

fn finds_rotten_endpoints_by_day_and_campaign(store: Store) {
    use Outcome::{Ok, Unusable};
    let dir = TempDir::new(&format!("{}-catalog", store.name()));
    let mut collector = Collector::on(&store, dir.path(), &[], "collector.log");
    std::fs::write(
        dir.path().join("campaigns/u.json"),
        CAMPAIGN.replace(r#""id": "t""#, r#""id": "u""#),
    )
    .unwrap();

    // Today, campaign t: x's image unusable in every attempt twice out of three reports,
    // yt's image unusable in some attempts only.
    post(
        &collector,
        &report_with("t", &[Unusable; 3], &[Unusable, Ok, Ok]),
    );
    post(&collector, &report_with("t", &[Unusable; 3], &[Ok; 3]));
    post(
        &collector,
        &report_with("t", &[Ok; 3], &[Unusable, Unusable, Ok]),
    );
    // Three days ago, campaign t: yt's image unusable in every attempt.
    let now = time::now();
    let mut old = report_with("t", &[Ok; 3], &[Unusable; 3]);
    old.started_at = time::format_utc(time::floor_hour(now) - 3 * DAY).replace('Z', ".000Z");
    post(&collector, &old);
    // Today, campaign u: nothing rotten.
    post(&collector, &report_with("u", &[Ok; 3], &[Ok; 3]));

    let database = store.url();
    let today = day(now);
    let three_days_ago = day(now - 3 * DAY);

    let everything = catalog(&["--database", &database, "--json"]);
    let rows = json_lines(&everything);
    let summaries: Vec<_> = rows.iter().map(summary).collect();
    // Most reports unusable in every attempt first, then most unusable attempts.
    assert_eq!(
        summaries[..2],
        [
            row("t", "x", X_IMAGE, [4, 6, 0, 0, 6, 2]),
            row("t", "yt", YT_IMAGE, [4, 6, 0, 0, 6, 1]),
        ],
        "{}: {}",
        store.name(),
        everything.stdout
    );
    // Every other endpoint of both campaigns (2 controls, 2 fetch endpoints, and u's
    // images), nothing unusable.
    assert_eq!(rows.len(), 2 * 6, "{}", everything.stdout);
    for other in &summaries[2..] {
        assert_eq!((other.3[4], other.3[5]), (0, 0), "{other:?}");
    }
    let x_image = &rows[0];
    assert_eq!(
        (x_image["kind"].as_str(), &x_image["platform"]),
        (Some("image"), &Value::from("x"))
    );
    let control = rows
        .iter()
        .find(|r| r["platform"].is_null())
        .expect("controls are listed, with platform null");
    assert_eq!(control["reports"], 4);
    assert_eq!(
        everything.stderr.trim(),
        format!(
            "netreach-collector: 5 reports from {} to {today} (both included), 12 endpoints",
            day(now - 29 * DAY)
        )
    );

    // Today only: the old report is out, yt's image no longer rotten in a whole report.
    let rows = json_lines(&catalog(&[
        "--database",
        &database,
        "--json",
        "--from",
        &today,
        "--campaign",
        "t",
    ]));
    assert_eq!(rows.len(), 6);
    assert_eq!(
        summary(&rows[0]),
        row("t", "x", X_IMAGE, [3, 3, 0, 0, 6, 2])
    );
    assert_eq!(
        summary(&rows[1]),
        row("t", "yt", YT_IMAGE, [3, 6, 0, 0, 3, 0])
    );

    // The day of the old report only.
    let old_day = catalog(&[
        "--database",
        &database,
        "--json",
        "--from",
        &three_days_ago,
        "--to",
        &three_days_ago,
    ]);
    let rows = json_lines(&old_day);
    assert_eq!(
        summary(&rows[0]),
        row("t", "yt", YT_IMAGE, [1, 0, 0, 0, 3, 1])
    );
    assert!(
        old_day.stderr.contains(" 1 reports from "),
        "{}",
        old_day.stderr
    );

    // Campaign u alone: nothing unusable anywhere.
    let rows = json_lines(&catalog(&[
        "--database",
        &database,
        "--json",
        "--campaign",
        "u",
    ]));
    assert_eq!(rows.len(), 6);
    assert!(rows
        .iter()
        .all(|r| r["campaign"] == "u" && r["unusable"] == 0));

    // A day without reports: an empty answer, not an error.
    let empty = catalog(&["--database", &database, "--json", "--to", "2020-01-31"]);
    assert_eq!((empty.code, empty.stdout.as_str()), (Some(0), ""));

    // The table: a header naming every outcome, the rotten image first. The same once the
    // collector has stopped (SQLite: no WAL left behind to share).
    let table = catalog(&["--database", &database, "--campaign", "t"]);
    assert_eq!(table.code, Some(0), "{}", table.stderr);
    let lines: Vec<&str> = table.stdout.lines().collect();
    let words = |line: &str| {
        line.split_whitespace()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        words(lines[0]),
        [
            "all_unusable",
            "reports",
            "ok",
            "timeout",
            "error",
            "unusable",
            "campaign",
            "platform",
            "kind",
            "url"
        ]
    );
    assert_eq!(
        words(lines[1]),
        ["2", "4", "6", "0", "0", "6", "t", "x", "image", X_IMAGE]
    );
    assert!(
        lines.iter().any(|l| words(l)[7] == "(control)"),
        "{}",
        table.stdout
    );
    assert_eq!(lines.len(), 1 + 6);
    assert_eq!(collector.terminate().code(), Some(0));
    let after = catalog(&["--database", &database, "--campaign", "t"]);
    assert_eq!(
        (after.code, &after.stdout),
        (Some(0), &table.stdout),
        "{}",
        after.stderr
    );
}

test_on_both_stores!(finds_rotten_endpoints_by_day_and_campaign);

/// A database that is not there, or holds no reports, is an error: nothing is created.
fn refuses_a_missing_or_foreign_database(store: Store) {
    let (missing, missing_message, empty_url) = match &store {
        Store::Sqlite(path) => {
            let missing = format!("sqlite://{}", path.display());
            let message = format!("no SQLite database at {}", path.display());
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            let empty = path.with_file_name("empty.db");
            rusqlite::Connection::open(&empty)
                .unwrap()
                .execute_batch("CREATE TABLE notes (t TEXT)")
                .unwrap();
            (missing, message, format!("sqlite://{}", empty.display()))
        }
        Store::Postgres(cluster, _) => (
            cluster.url("no_such_db"),
            r#"database "no_such_db" does not exist"#.to_owned(),
            store.url(),
        ),
    };
    let run = catalog(&["--database", &missing]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.starts_with("netreach-collector: database: ")
            && run.stderr.contains(&missing_message),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "");
    if let Store::Sqlite(path) = &store {
        assert!(!path.exists(), "a read must not create the database");
    }
    let run = catalog(&["--database", &empty_url]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr
            .contains("not a netreach database (no reports table)"),
        "{}",
        run.stderr
    );
}

test_on_both_stores!(refuses_a_missing_or_foreign_database);

#[test]
fn bad_arguments_are_named_and_exit_non_zero() {
    let dir = TempDir::new("catalog-args");
    let nowhere = format!("sqlite://{}", dir.path().join("none.db").display());
    for (args, code, message) in [
        (
            vec!["--from", "2026-13-01"],
            2,
            "invalid value '2026-13-01' for '--from <YYYY-MM-DD>': must be a date like 2026-11-22 (YYYY-MM-DD)",
        ),
        (
            vec!["--to", "2026-11-22T00:00:00Z"],
            2,
            "invalid value '2026-11-22T00:00:00Z' for '--to <YYYY-MM-DD>': must be a date like",
        ),
        (
            vec!["--from", "2026-11-02", "--to", "2026-11-01"],
            1,
            "netreach-collector: --from 2026-11-02 is after --to 2026-11-01",
        ),
        (
            vec!["--campaign", "../t"],
            2,
            "invalid value '../t' for '--campaign <ID>': must be a campaign id (letters, digits, - and _)",
        ),
        (
            vec!["--database", "mysql://db/reports"],
            1,
            "netreach-collector: database: database URL must start with sqlite:// or postgres://",
        ),
        (
            vec!["--database", "sqlite://"],
            1,
            "netreach-collector: database: sqlite URL without a path",
        ),
        (
            vec!["--database", &nowhere, "--listen", "127.0.0.1:0"],
            2,
            "unexpected argument '--listen'",
        ),
    ] {
        let run = catalog(&args);
        assert_eq!(run.code, Some(code), "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
        assert_eq!(run.stdout, "", "{args:?}");
    }
}

/// More reports than one page: every one is counted once.
fn reads_every_report_across_pages(store: Store) {
    let dir = TempDir::new(&format!("{}-catalog-pages", store.name()));
    let collector = Collector::on(&store, dir.path(), &[], "collector.log");
    let n = 2 * netreach_collector::storage::REPORTS_PAGE + 1;
    for i in 0..n {
        let x_image = if i % 2 == 0 {
            [Outcome::Unusable; 3]
        } else {
            [Outcome::Ok; 3]
        };
        post(&collector, &report_with("t", &x_image, &[Outcome::Ok; 3]));
    }
    let run = catalog(&["--database", &store.url(), "--json"]);
    let rows = json_lines(&run);
    let n = n as u64;
    let rotten = n.div_ceil(2);
    assert_eq!(
        summary(&rows[0]),
        row(
            "t",
            "x",
            X_IMAGE,
            [n, 3 * (n - rotten), 0, 0, 3 * rotten, rotten]
        ),
        "{}",
        store.name()
    );
    assert!(rows.iter().all(|r| r["reports"] == n), "{}", run.stdout);
    assert!(
        run.stderr.contains(&format!(" {n} reports from ")),
        "{}",
        run.stderr
    );
}

test_on_both_stores!(reads_every_report_across_pages);
