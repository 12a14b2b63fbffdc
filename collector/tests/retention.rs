//! Raw reports are not kept forever (issue #10): `--retain-days N` deletes reports received
//! more than N days ago, with their verdict rows, on both storages; and the SQLite database,
//! its WAL and shared-memory files are readable by the collector's user alone.

mod common;

use common::{report_json, Collector, Store, TempDir};
use netreach::Outcome;
use netreach_collector::time::DAY;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

/// Waits until the collector's log holds `line`, and returns the log.
fn wait_for_log(collector: &Collector, line: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = collector.log_text();
        if text.contains(line) {
            return text;
        }
        assert!(Instant::now() < deadline, "no {line:?} in the log:\n{text}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn reports_older_than_the_retention_are_deleted_with_their_verdicts(store: Store) {
    let dir = TempDir::new(store.name());
    let mut collector = Collector::on(&store, dir.path(), &[], "first.log");
    for marker in [101, 102, 103] {
        let r = collector.post(&report_json(marker, Outcome::Ok, Outcome::Ok));
        assert_eq!(r.status, 201, "{}", r.body);
    }
    assert_eq!(collector.terminate().code(), Some(0));
    // Reports 101 and 102 as if they had come 10 days ago (a run starts in its report's
    // hour at the latest, so its verdict rows move with it).
    let shift = 10 * DAY;
    store.execute(&format!(
        "UPDATE verdicts SET started_at = started_at - {shift}
           WHERE report_id IN (SELECT id FROM reports WHERE runtime_ms IN (101, 102));
         UPDATE reports SET received_at = received_at - {shift}, started_at = started_at - {shift}
           WHERE runtime_ms IN (101, 102);"
    ));

    // 0 keeps everything.
    let mut collector = Collector::on(&store, dir.path(), &["--retain-days", "0"], "keep.log");
    wait_for_log(&collector, "reports kept forever");
    assert_eq!(collector.get("/healthz").status, 200);
    assert_eq!(store.query("SELECT COUNT(*) FROM reports"), ["3"]);
    assert_eq!(collector.terminate().code(), Some(0));

    // 11 days keeps them too; 7 days does not.
    let mut collector = Collector::on(&store, dir.path(), &["--retain-days", "11"], "11.log");
    wait_for_log(&collector, "reports kept 11 days");
    assert_eq!(collector.get("/healthz").status, 200);
    assert_eq!(store.query("SELECT COUNT(*) FROM reports"), ["3"]);
    assert_eq!(collector.terminate().code(), Some(0));

    let collector = Collector::on(&store, dir.path(), &["--retain-days", "7"], "7.log");
    wait_for_log(&collector, "retention: 2 reports received before");
    assert_eq!(
        store.query("SELECT runtime_ms FROM reports"),
        ["103"],
        "{}: the two old reports are gone, the recent one stays",
        store.name()
    );
    assert_eq!(
        store
            .query("SELECT COUNT(*) FROM verdicts WHERE report_id NOT IN (SELECT id FROM reports)"),
        ["0"],
        "{}: no verdict row outlives its report",
        store.name()
    );
    assert_eq!(store.query("SELECT COUNT(*) FROM verdicts"), ["2"]);
    let r = collector.post(&report_json(104, Outcome::Ok, Outcome::Ok));
    assert_eq!(r.status, 201, "{}", r.body);
}

test_on_both_stores!(reports_older_than_the_retention_are_deleted_with_their_verdicts);

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn the_sqlite_database_its_wal_and_shm_are_owner_only() {
    let dir = TempDir::new("modes");
    let store = Store::sqlite(dir.path());
    let collector = Collector::on(&store, dir.path(), &[], "collector.log");
    let r = collector.post(&report_json(1, Outcome::Ok, Outcome::Ok));
    assert_eq!(r.status, 201, "{}", r.body);
    let Store::Sqlite(db) = &store else {
        unreachable!()
    };
    let mut modes = vec![(
        db.parent().unwrap().display().to_string(),
        mode(db.parent().unwrap()),
        0o700,
    )];
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{}{suffix}", db.display());
        modes.push((file.clone(), mode(Path::new(&file)), 0o600));
    }
    let wrong: Vec<String> = modes
        .iter()
        .filter(|(_, got, want)| got != want)
        .map(|(path, got, want)| format!("{path}: mode {got:o}, want {want:o}"))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
