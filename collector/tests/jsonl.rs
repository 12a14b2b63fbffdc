//! `netreach-collector export` and `import` (the built binary) on both storages: an export
//! imported into a fresh database gives the same aggregates and the same export; importing
//! again stores nothing; bad lines are named with the API's own messages and skipped (exit
//! 1); SQLite moves to PostgreSQL; bad usage exits 2.

mod common;

use common::{campaigns_in, report, report_json, Collector, Store, TempDir};
use netreach::{Outcome, Verdict};
use netreach_collector::time::{self, DAY};
use std::path::Path;
use std::process::Command;

/// What one run of a command gave.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn collector_command(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_netreach-collector"))
        .args(args)
        .output()
        .expect("run netreach-collector");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// The export of `store`, every report.
fn export(store: &Store) -> String {
    let run = collector_command(&["export", "--database", &store.url()]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    run.stdout
}

/// `import FILE` into `store`, with the test campaign from `dir`.
fn import(store: &Store, dir: &Path, file: &Path, extra: &[&str]) -> Run {
    let campaigns = campaigns_in(dir);
    let url = store.url();
    let mut args = vec![
        "import",
        "--database",
        &url,
        "--campaigns",
        campaigns.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    args.push(file.to_str().unwrap());
    collector_command(&args)
}

/// A fresh, empty store of the same kind as `store` (SQLite in `dir`).
fn fresh_like(store: &Store, dir: &Path) -> Store {
    match store {
        Store::Sqlite(_) => Store::sqlite(dir),
        Store::Postgres(..) => Store::postgres(),
    }
}

/// Hourly aggregates of today and yesterday, as `/v1/aggregates` answers them.
fn aggregates(collector: &Collector) -> String {
    let today = time::floor_hour(time::now()).div_euclid(DAY) * DAY;
    let path = format!(
        "/v1/aggregates?bucket=hour&from={}&to={}",
        time::format_utc(today - DAY),
        time::format_utc(today + 2 * DAY)
    );
    let answer = collector.get(&path);
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body
}

/// Three reports from three senders over the API (country ZZ, ASN 0 without geo databases)
/// and two imported from Pakistan's AS17557, into `store`; returns the collector serving it.
fn fill(store: &Store, dir: &Path) -> Collector {
    common::clear_of_the_hour_change();
    let collector = Collector::on(store, dir, &["--k", "2"], "source.log");
    for (i, source) in ["127.0.0.2", "127.0.0.3", "127.0.0.4"].iter().enumerate() {
        let outcome = if i == 0 {
            Outcome::Timeout
        } else {
            Outcome::Ok
        };
        let r = collector.post_from(source, &report_json(i as u32 + 1, outcome, Outcome::Ok));
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let file = dir.join("pk.jsonl");
    let lines: Vec<String> = [10, 11]
        .iter()
        .map(|marker| {
            format!(
                r#"{{"cc": "PK", "asn": 17557, "report": {}}}"#,
                report_json(*marker, Outcome::Error, Outcome::Ok)
            )
        })
        .collect();
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let run = import(store, dir, &file, &[]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    collector
}

/// Export, import into a fresh store, compare; import again: nothing stored twice.
fn moves_reports_between(source: Store, target: Store, dir: &Path) {
    let source_collector = fill(&source, &dir.join("source"));
    let exported = export(&source);
    assert_eq!(exported.lines().count(), 5, "{exported}");
    let line: serde_json::Value = serde_json::from_str(exported.lines().last().unwrap()).unwrap();
    assert_eq!(
        (line["cc"].as_str(), line["asn"].as_u64()),
        (Some("PK"), Some(17557))
    );
    assert_eq!(line["report"]["runtime_ms"], 11);
    assert_eq!(
        line.as_object().unwrap().len(),
        3,
        "no ids, no sender: {line}"
    );

    let file = dir.join("export.jsonl");
    std::fs::write(&file, &exported).unwrap();
    let target_dir = dir.join("target");
    let run = import(&target, &target_dir, &file, &[]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.stderr.trim(),
        "netreach-collector: imported 5, skipped 0 (bad), 0 already present"
    );
    // The same reports, in the same order, with the same locations.
    assert_eq!(export(&target), exported);
    // Each imported report one distinct sender, as each was at the source.
    let senders =
        "SELECT cc, asn, SUM(new_sender), COUNT(*) FROM reports GROUP BY cc, asn ORDER BY cc";
    assert_eq!(target.query(senders), ["PK\t17557\t2\t2", "ZZ\t0\t3\t3"]);
    assert_eq!(target.query(senders), source.query(senders));

    let target_collector = Collector::on(&target, &target_dir, &["--k", "2"], "target.log");
    let published = aggregates(&source_collector);
    assert!(
        published.contains(r#""cc":"PK","asn":17557"#) && published.contains(r#""cc":"ZZ""#),
        "{published}"
    );
    assert_eq!(aggregates(&target_collector), published);

    // Again, into the target and into the source (whose reports came over the API): every
    // report is found there.
    for (store, dir) in [(&target, &target_dir), (&source, &dir.join("source"))] {
        let run = import(store, dir, &file, &[]);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        assert_eq!(
            run.stderr.trim(),
            "netreach-collector: imported 0, skipped 0 (bad), 5 already present"
        );
        assert_eq!(store.query("SELECT COUNT(*) FROM reports"), ["5"]);
        assert_eq!(store.query("SELECT COUNT(*) FROM verdicts"), ["10"]);
    }
    assert_eq!(aggregates(&target_collector), published);
}

fn export_then_import_gives_the_same_aggregates(store: Store) {
    let dir = TempDir::new(&format!("{}-jsonl-move", store.name()));
    let target = fresh_like(&store, &dir.path().join("target"));
    moves_reports_between(store, target, dir.path());
}

test_on_both_stores!(export_then_import_gives_the_same_aggregates);

#[test]
fn moves_sqlite_to_postgres() {
    let dir = TempDir::new("jsonl-sqlite-to-postgres");
    let source = Store::sqlite(&dir.path().join("source"));
    moves_reports_between(source, Store::postgres(), dir.path());
}

/// Bad lines are named by number with the message `POST /v1/reports` gives; the good ones are
/// stored; exit 1. `--any-age` takes a report older than 30 days.
fn bad_lines_are_named_and_skipped(store: Store) {
    let dir = TempDir::new(&format!("{}-jsonl-bad", store.name()));
    common::clear_of_the_hour_change();
    let collector = Collector::on(&store, dir.path(), &[], "collector.log");
    let line = |cc: &str, asn: &str, report: &str| {
        format!(r#"{{"cc": {cc}, "asn": {asn}, "report": {report}}}"#)
    };
    let good = report_json(1, Outcome::Ok, Outcome::Ok);
    let mut wrong_verdict = report(2, Outcome::Ok, Outcome::Ok);
    wrong_verdict.platforms[0].verdict = Verdict::Blocked;
    let wrong_verdict = serde_json::to_string(&wrong_verdict).unwrap();
    let mut old = report(3, Outcome::Ok, Outcome::Ok);
    let month_ago = time::floor_hour(time::now()) - 31 * DAY;
    old.started_at = time::format_utc(month_ago).replace('Z', ".000Z");
    let old = serde_json::to_string(&old).unwrap();
    let api_error = |body: &str| {
        let r = collector.post(body);
        assert_eq!(r.status, 422, "{}", r.body);
        r.error()
    };
    let lines = [
        line(r#""PK""#, "17557", &good),
        "this is not JSON".to_owned(),
        line(r#""PK""#, "17557", &wrong_verdict),
        line(r#""pk""#, "17557", &good),
        line(r#""PK""#, "-1", &good),
        String::new(),
        line(r#""PK""#, "17557", &old),
        r#"["PK", 17557, {}]"#.to_owned(),
    ];
    let file = dir.path().join("mixed.jsonl");
    std::fs::write(&file, lines.join("\n")).unwrap();
    let run = import(&store, dir.path(), &file, &[]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let stderr: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(stderr.len(), 7, "{}", run.stderr);
    assert!(
        stderr[0].starts_with("line 2: malformed JSON: expected ident at line 1 column 2"),
        "{}",
        stderr[0]
    );
    assert_eq!(stderr[1], format!("line 3: {}", api_error(&wrong_verdict)));
    assert!(
        stderr[1].contains("platforms[0].verdict: blocked/"),
        "{}",
        stderr[1]
    );
    assert_eq!(
        stderr[2],
        "line 4: cc: must be two upper-case letters (a country code, or ZZ)"
    );
    assert_eq!(
        stderr[3],
        "line 5: asn: must be a whole number from 0 to 4294967295"
    );
    // The empty line 6 is no report, and no error.
    assert_eq!(stderr[4], format!("line 7: {}", api_error(&old)));
    assert_eq!(stderr[4], "line 7: started_at: is more than 30 days ago");
    assert_eq!(
        stderr[5],
        "line 8: line: must be a JSON object with cc, asn and report"
    );
    assert_eq!(
        stderr[6],
        "netreach-collector: imported 1, skipped 6 (bad), 0 already present"
    );
    assert_eq!(
        store.query("SELECT cc, asn, runtime_ms, new_sender FROM reports"),
        ["PK\t17557\t1\t1"]
    );

    // A backup may hold older runs: `--any-age` takes them, and then only the bad ones are
    // left out.
    let run = import(&store, dir.path(), &file, &["--any-age"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr
            .ends_with("netreach-collector: imported 1, skipped 5 (bad), 1 already present\n"),
        "{}",
        run.stderr
    );
    // Retention counts an imported report from its run's hour.
    let hour = time::floor_hour(time::now());
    assert_eq!(
        store.query("SELECT runtime_ms, started_at, received_at FROM reports ORDER BY runtime_ms"),
        [
            format!("1\t{hour}\t{hour}"),
            format!("3\t{month_ago}\t{month_ago}")
        ]
    );
}

test_on_both_stores!(bad_lines_are_named_and_skipped);

#[test]
fn bad_usage_exits_2_and_a_bad_range_1() {
    let dir = TempDir::new("jsonl-usage");
    let store = Store::sqlite(dir.path());
    let missing = dir.path().join("missing.jsonl");
    let run = import(&store, dir.path(), &missing, &[]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.starts_with(&format!(
            "netreach-collector: {}: No such file",
            missing.display()
        )),
        "{}",
        run.stderr
    );
    let Store::Sqlite(path) = &store else {
        unreachable!()
    };
    assert!(!path.exists(), "nothing created before the input is known");
    let file = dir.path().join("empty.jsonl");
    std::fs::write(&file, "").unwrap();
    let run = import(&store, dir.path(), &file, &["--keep-everything"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run
        .stderr
        .contains("unexpected argument '--keep-everything'"));
    let run = import(&store, dir.path(), &file, &[]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);

    let url = store.url();
    let run = collector_command(&["export", "--database", &url, "--from", "yesterday"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("must be a UTC date like 2026-11-22"));
    let run = collector_command(&[
        "export",
        "--database",
        &url,
        "--from",
        "2026-11-22",
        "--to",
        "2026-11-22",
    ]);
    assert_eq!(
        (run.code, run.stderr.trim()),
        (Some(1), "netreach-collector: --from must be before --to")
    );
    let run = collector_command(&["export", "--database", &url, "--to", "2026-11-22"]);
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.trim()),
        (Some(0), "", "netreach-collector: exported 0 reports")
    );
}
