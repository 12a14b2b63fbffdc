//! Both storages (SQLite file, real PostgreSQL server): reports are stored with their ids,
//! survive a restart, migrations are idempotent, and aggregates count verdicts per cell with
//! cells under k left out.

mod common;

use common::{report_json, Collector, Store, TempDir};
use netreach::Outcome;

fn start(store: &Store, dir: &TempDir, k: &str, log: &str) -> Collector {
    Collector::on(store, dir.path(), &["--k", k], log)
}

/// Ids that count nothing: spread over the JS-safe integers (a browser reads them exactly),
/// neither consecutive nor in the order the reports came. Four sequential ids fail each check;
/// four random ones fail the spread by chance about once in a billion (2^-30).
fn the_ids_are_random(ids: &[i64]) {
    assert!(
        ids.iter().all(|&id| (1..1 << 53).contains(&id)),
        "ids outside 1..2^53: {ids:?}"
    );
    let gaps: Vec<i64> = ids.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    assert!(
        gaps.iter().all(|&gap| gap > 1 << 20),
        "ids close to each other, as a sequence would give: {ids:?}"
    );
}

fn stores_reports_and_aggregates_them_k_anonymously(store: Store) {
    let dir = TempDir::new(store.name());
    let mut collector = start(&store, &dir, "5", "first.log");
    let mut ids = Vec::new();
    // x: three blocked, one reachable; yt: four reachable. Markers 101..104, each from its
    // own address (k counts distinct senders).
    common::clear_of_the_hour_change();
    for (marker, x, source) in [
        (101, Outcome::Timeout, "127.0.0.2"),
        (102, Outcome::Timeout, "127.0.0.3"),
        (103, Outcome::Error, "127.0.0.4"),
        (104, Outcome::Ok, "127.0.0.5"),
    ] {
        let r = collector.post_from(source, &report_json(marker, x, Outcome::Ok));
        assert_eq!(r.status, 201, "{}", r.body);
        ids.push(r.json()["id"].as_i64().unwrap());
    }
    let rows = store.query("SELECT public_id, runtime_ms FROM reports ORDER BY runtime_ms");
    let want: Vec<String> = ids
        .iter()
        .zip(101..)
        .map(|(id, m)| format!("{id}\t{m}"))
        .collect();
    assert_eq!(
        rows,
        want,
        "{}: each 201 id is the stored row",
        store.name()
    );
    the_ids_are_random(&ids);

    // k = 5: both cells (x, yt) have 4 senders and are left out, without a count of them.
    let agg = collector.get("/v1/aggregates").json();
    assert_eq!(agg["cells"].as_array().unwrap().len(), 0, "{agg}");
    assert_eq!(agg.get("suppressed_cells"), None, "{agg}");
    assert_eq!(agg["k"], 5);
    assert_eq!(collector.terminate().code(), Some(0));

    // Restart with k = 3 on the same database: migrations run again, data is there.
    let collector = start(&store, &dir, "3", "second.log");
    // PostgreSQL's 7 drops the verdicts' cell index (rows are found by report since the
    // rollups); SQLite's verdicts table is itself ordered by cell. The last (SQLite's 7,
    // PostgreSQL's 8) adds the reports' connection conditions and their rollups.
    let migrations = match store {
        Store::Postgres(..) => 8,
        _ => 7,
    };
    assert_eq!(
        store.query("SELECT version FROM schema_migrations ORDER BY version"),
        (1..=migrations).map(|v| v.to_string()).collect::<Vec<_>>()
    );
    if let Store::Postgres(..) = store {
        assert_eq!(
            store.query("SELECT indexname FROM pg_indexes WHERE tablename = 'verdicts'"),
            ["verdicts_pkey"],
            "one index entry per verdict row at insert"
        );
    }
    let agg = collector.get("/v1/aggregates?platform=x").json();
    let cells = agg["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 1, "{agg}");
    let x = &cells[0];
    assert_eq!(
        (x["platform"].as_str(), x["cc"].as_str(), x["asn"].as_u64()),
        (Some("x"), Some("ZZ"), Some(0))
    );
    assert_eq!(
        (
            x["reports"].as_u64(),
            x["senders"].as_u64(),
            x["blocked"].as_u64(),
            x["reachable"].as_u64()
        ),
        (Some(4), Some(4), Some(3), Some(1))
    );
    assert!(x["bucket"].as_str().unwrap().ends_with(":00:00Z"));

    let day = collector.get("/v1/aggregates?bucket=day&format=csv");
    assert_eq!(day.status, 200);
    assert!(day.header("content-type").unwrap().starts_with("text/csv"));
    assert_eq!(day.header("x-netreach-k"), Some("3"));
    let lines: Vec<&str> = day.body.lines().collect();
    assert_eq!(
        lines[0],
        "bucket,cc,asn,platform,reports,senders,reachable,throttled,partial,blocked,inconclusive"
    );
    assert_eq!(lines.len(), 3, "{}", day.body);
    assert!(
        lines[1].ends_with("T00:00:00Z,ZZ,0,x,4,4,1,0,0,3,0"),
        "{}",
        lines[1]
    );
    assert!(lines[2].ends_with(",ZZ,0,yt,4,4,4,0,0,0,0"), "{}", lines[2]);

    // Filters that match nothing, and a range in the past.
    let none = collector.get("/v1/aggregates?cc=PK").json();
    assert_eq!(none["cells"].as_array().unwrap().len(), 0);
    let past = collector
        .get("/v1/aggregates?from=2020-01-01&to=2020-02-01")
        .json();
    assert_eq!(past["cells"].as_array().unwrap().len(), 0);
    let bad = collector.get("/v1/aggregates?bucket=week");
    assert_eq!(
        (bad.status, bad.error().as_str()),
        (400, "bucket: must be hour or day")
    );
    assert_eq!(collector.get("/healthz").status, 200);

    // Stored times are whole hours.
    let times = store.query("SELECT received_at, started_at FROM reports");
    for row in times {
        for t in row.split('\t') {
            assert_eq!(t.parse::<i64>().unwrap() % 3600, 0, "unrounded time {t}");
        }
    }
}

test_on_both_stores!(stores_reports_and_aggregates_them_k_anonymously);

/// A verdict name this collector does not know (written by another program, or a newer
/// collector) must stop the aggregates, not be counted as some other verdict.
fn unknown_stored_verdict_is_an_error_not_a_count(store: Store) {
    let dir = TempDir::new(&format!("{}-unknown-verdict", store.name()));
    let collector = start(&store, &dir, "1", "collector.log");
    let r = collector.post(&report_json(301, Outcome::Timeout, Outcome::Ok));
    assert_eq!(r.status, 201, "{}", r.body);
    // Another query than those below, whose answers must not come from the cache.
    assert_eq!(collector.get("/v1/aggregates?bucket=day").status, 200);

    store.execute("UPDATE verdicts SET verdict = 'censored' WHERE platform = 'x'");
    let message = "storage holds data this collector cannot read: \
                   the verdicts table holds an unknown verdict \"censored\"";
    for path in ["/v1/aggregates", "/v1/aggregates?format=csv"] {
        let r = collector.get(path);
        assert_eq!(
            (r.status, r.error().as_str()),
            (500, message),
            "{}: {path}: {}",
            store.name(),
            r.body
        );
    }
    // The database itself answers: this is not an outage to retry.
    assert_eq!(collector.get("/healthz").status, 200);
    assert!(
        collector
            .log_text()
            .contains("unknown verdict \"censored\""),
        "{}",
        collector.log_text()
    );
}

test_on_both_stores!(unknown_stored_verdict_is_an_error_not_a_count);

/// Rows stored before k counted senders (schema version 1, no `new_sender`) count as one
/// sender each once migrated: what they were counted as before.
fn rows_stored_before_the_sender_count_count_as_one_sender_each(store: Store) {
    let dir = TempDir::new(&format!("{}-migration-2", store.name()));
    let mut collector = start(&store, &dir, "2", "first.log");
    common::clear_of_the_hour_change();
    for marker in [401, 402] {
        let r = collector.post(&report_json(marker, Outcome::Ok, Outcome::Ok));
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let yt = "/v1/aggregates?platform=yt&bucket=day";
    assert_eq!(collector.get(yt).json()["cells"], serde_json::json!([]));
    assert_eq!(collector.terminate().code(), Some(0));
    // The database as schema version 1 left it.
    store.execute(
        "ALTER TABLE reports DROP COLUMN new_sender;
         ALTER TABLE verdicts DROP COLUMN new_sender;
         DELETE FROM schema_migrations WHERE version = 2;",
    );
    let collector = start(&store, &dir, "2", "second.log");
    let cell = &collector.get(yt).json()["cells"][0];
    assert_eq!(
        (cell["reports"].as_u64(), cell["senders"].as_u64()),
        (Some(2), Some(2)),
        "{}",
        store.name()
    );
}

test_on_both_stores!(rows_stored_before_the_sender_count_count_as_one_sender_each);

#[test]
fn two_collectors_share_one_postgres_database() {
    let store = Store::postgres();
    let dir = TempDir::new("replicas");
    let a = start(&store, &dir, "1", "a.log");
    let b = start(&store, &dir, "1", "b.log");
    let mut ids = Vec::new();
    for i in 0..10 {
        let c = if i % 2 == 0 { &a } else { &b };
        let r = c.post(&report_json(200 + i, Outcome::Ok, Outcome::Ok));
        assert_eq!(r.status, 201, "{}", r.body);
        ids.push(r.json()["id"].as_i64().unwrap());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 10, "ids are unique across replicas");
    let from_a = a.get("/v1/aggregates?platform=yt").json();
    let from_b = b.get("/v1/aggregates?platform=yt").json();
    assert_eq!(from_a["cells"][0]["reports"], 10);
    assert_eq!(from_a, from_b);
}

/// New report JSON is TOASTed with lz4 (pglz was an eighth of the server's CPU per insert);
/// the setting is made once and survives a restart.
#[test]
fn postgres_compresses_new_reports_with_lz4() {
    let store = Store::postgres();
    let dir = TempDir::new("lz4");
    let compression = || {
        store.query(
            "SELECT attcompression FROM pg_attribute
             WHERE attrelid = 'reports'::regclass AND attname = 'report'",
        )
    };
    let mut c = start(&store, &dir, "1", "lz4.log");
    assert_eq!(compression(), ["l"]);
    let r = c.post(&report_json(1, Outcome::Ok, Outcome::Ok));
    assert_eq!(r.status, 201, "{}", r.body);
    c.terminate();
    let c = start(&store, &dir, "1", "lz4-again.log");
    assert_eq!(compression(), ["l"]);
    assert!(
        !c.log_text().contains("stay compressed"),
        "{}",
        c.log_text()
    );
}
