//! The connection condition of each report (issue #13) on SQLite and on a real PostgreSQL:
//! stored with its control figures and read back, before and after a roll forward; reports
//! stored before the migration (no condition) are never counted; a condition this collector
//! did not write is a clear error; and over HTTP, the sender is told its condition and its
//! network's typical figures for that hour of day, once the rollups hold five days of them.

mod common;

use common::{clear_of_the_hour_change, report, Collector, Store, TempDir};
use netreach::{Browser, Client, Os, Outcome};
use netreach_collector::connection::Connection;
use netreach_collector::rollup::roll_forward;
use netreach_collector::storage::{
    self, AggregateQuery, ConnectionRow, NewReport, Storage, StorageError, StorageOptions,
};
use netreach_collector::time::{self, format_utc, DAY, HOUR};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// 2026-11-16T09:00Z.
const HOUR_9: i64 = 1_795_338_000;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

async fn open(store: &Store) -> Arc<dyn Storage> {
    let options = StorageOptions {
        db_ca: None,
        pool_size: 2,
        write_queue: 64,
        timeout: Duration::from_secs(20),
    };
    storage::open(&store.url(), options, Arc::default())
        .await
        .unwrap()
}

/// A report of network PK/17557 started and received at `hour`, with `marker` as its
/// `runtime_ms`, judged `connection` on these figures.
fn judged(
    marker: u32,
    hour: i64,
    connection: Connection,
    ms: Option<u32>,
    kbps: Option<u32>,
) -> NewReport {
    NewReport {
        received_at: hour,
        started_at: hour,
        campaign: "t".into(),
        cc: "PK".into(),
        asn: 17557,
        client: Client {
            browser: Browser::Firefox,
            version: 153,
            os: Os::Android,
        },
        runtime_ms: marker,
        verdicts: Vec::new(),
        new_sender: true,
        json: format!("{{\"n\":{marker}}}"),
        connection,
        control_ms: ms,
        control_kbps: kbps,
    }
}

/// The hourly condition counts of the hour of 9:00.
async fn counted(storage: &dyn Storage) -> Result<Vec<ConnectionRow>, StorageError> {
    let counts = storage
        .hourly_counts(HOUR_9, HOUR_9 + HOUR, None, 1000)
        .await?
        .unwrap();
    Ok(counts.connections)
}

fn row(connection: Connection, count: u64) -> ConnectionRow {
    ConnectionRow {
        hour: HOUR_9,
        cc: "PK".into(),
        asn: 17557,
        connection,
        count,
    }
}

fn conditions_are_stored_with_their_figures_and_counted(store: Store) {
    runtime().block_on(async {
        let storage = open(&store).await;
        for r in [
            judged(1, HOUR_9, Connection::Normal, Some(80), Some(9000)),
            judged(2, HOUR_9, Connection::Degraded, Some(2400), None),
            judged(3, HOUR_9, Connection::Offline, None, None),
            judged(4, HOUR_9, Connection::Normal, Some(60), None),
        ] {
            storage.insert(r).await.unwrap();
        }
        assert_eq!(
            store.query(
                "SELECT runtime_ms, connection, control_ms, control_kbps FROM reports
                 ORDER BY runtime_ms"
            ),
            [
                "1\tnormal\t80\t9000",
                "2\tdegraded\t2400\t",
                "3\toffline\t\t",
                "4\tnormal\t60\t"
            ]
        );
        let want = [
            row(Connection::Normal, 2),
            row(Connection::Degraded, 1),
            row(Connection::Offline, 1),
        ];
        assert_eq!(counted(&*storage).await.unwrap(), want, "live");
        roll_forward(&*storage, HOUR_9 + HOUR).await.unwrap();
        assert_eq!(counted(&*storage).await.unwrap(), want, "rolled up");
        // The offline report feeds no figure: three latencies, one throughput.
        assert_eq!(
            store.query("SELECT ms_reports, kbps_reports FROM rollup_figures"),
            ["3\t1"]
        );
        storage.close().await;
    });
}

test_on_both_stores!(conditions_are_stored_with_their_figures_and_counted);

fn reports_stored_before_the_migration_are_not_counted(store: Store) {
    runtime().block_on(async {
        let storage = open(&store).await;
        for marker in 1..=3 {
            let r = judged(marker, HOUR_9, Connection::Degraded, Some(900), None);
            storage.insert(r).await.unwrap();
        }
        // What a report stored before the migration holds: no condition, no figures.
        store.execute(
            "UPDATE reports SET connection = NULL, control_ms = NULL WHERE runtime_ms = 2",
        );
        let q = AggregateQuery::hourly(HOUR_9, HOUR_9 + HOUR);
        for when in ["live", "rolled up"] {
            assert_eq!(
                counted(&*storage).await.unwrap(),
                [row(Connection::Degraded, 2)],
                "{when}"
            );
            let published = storage.connections(q.clone(), 2, 1000).await.unwrap();
            let published = published.unwrap();
            assert_eq!(published.len(), 1, "{when}: {published:?}");
            assert_eq!((published[0].count, published[0].senders), (2, 2), "{when}");
            // Its sender does not count towards k either: two judged senders, under 3.
            assert_eq!(
                storage.connections(q.clone(), 3, 1000).await.unwrap(),
                Some(vec![])
            );
            roll_forward(&*storage, HOUR_9 + HOUR).await.unwrap();
        }
        assert_eq!(store.query("SELECT ms_reports FROM rollup_figures"), ["2"]);
        storage.close().await;
    });
}

test_on_both_stores!(reports_stored_before_the_migration_are_not_counted);

fn a_condition_this_collector_did_not_write_is_a_clear_error(store: Store) {
    runtime().block_on(async {
        let storage = open(&store).await;
        let r = judged(1, HOUR_9, Connection::Normal, Some(50), None);
        storage.insert(r).await.unwrap();
        store.execute("UPDATE reports SET connection = 'slow'");
        let q = AggregateQuery::hourly(HOUR_9, HOUR_9 + HOUR);
        for when in ["live", "rolled up"] {
            let unreadable = |e: StorageError| match e {
                StorageError::Unreadable(message) => message,
                other => panic!("{when}: {other:?}"),
            };
            let expected = "the reports table holds an unknown connection condition \"slow\"";
            assert_eq!(unreadable(counted(&*storage).await.unwrap_err()), expected);
            let published = storage.connections(q.clone(), 1, 1000).await.unwrap_err();
            assert_eq!(unreadable(published), expected);
            roll_forward(&*storage, HOUR_9 + HOUR).await.unwrap();
        }
        storage.close().await;
    });
}

test_on_both_stores!(a_condition_this_collector_did_not_write_is_a_clear_error);

/// Posts `body` from `source` and returns its answer, which must be 201.
#[track_caller]
fn posted(collector: &Collector, source: &str, body: &netreach::Report) -> serde_json::Value {
    let answer = collector.post_from(source, &serde_json::to_string(body).unwrap());
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer.json()
}

fn the_sender_is_told_how_its_connection_compares_with_its_network(store: Store) {
    let dir = TempDir::new(&format!("connection-{}", store.name()));
    clear_of_the_hour_change();
    let now = time::floor_hour(time::now());
    // No geolocation database: every sender is ZZ/0. Six days before, at this hour of day,
    // two senders a day (k = 2) whose controls took 100 ms; a day with one sender is under k.
    runtime().block_on(async {
        let storage = open(&store).await;
        for day in 1..=6 {
            let hour = now - day * DAY;
            for n in 0..2 {
                let mut r = judged(n, hour, Connection::Normal, Some(100), None);
                (r.cc, r.asn) = ("ZZ".into(), 0);
                r.new_sender = day != 6 || n == 0;
                storage.insert(r).await.unwrap();
            }
        }
        roll_forward(&*storage, now).await.unwrap();
        storage.close().await;
    });
    let collector = Collector::on(&store, dir.path(), &["--k", "2"], "collector.log");
    let normal = report(1, Outcome::Ok, Outcome::Ok);
    // The baselines are rebuilt at start, beside serving: until then, no typical figures.
    let deadline = Instant::now() + Duration::from_secs(30);
    let answer = loop {
        let answer = posted(&collector, "127.0.0.2", &normal);
        assert!(answer["id"].as_i64().is_some_and(|id| id > 0), "{answer}");
        if answer["typical"] != serde_json::Value::Null || Instant::now() > deadline {
            break answer;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    // Five days at k: 40 ms against a typical 100 ms is normal.
    assert_eq!(
        answer,
        serde_json::json!({
            "id": answer["id"],
            "connection": "normal",
            "typical": { "control_ms": 100, "control_kbps": null }
        })
    );
    // Controls at 3000 ms: far slower than this network is at this hour.
    let mut slow = report(2, Outcome::Ok, Outcome::Ok);
    for control in &mut slow.controls {
        control.attempts.iter_mut().for_each(|a| a.ms = 3000);
    }
    let answer = posted(&collector, "127.0.0.3", &slow);
    assert_eq!(answer["connection"], "degraded", "{answer}");
    assert_eq!(answer["typical"]["control_ms"], 100, "{answer}");
    // The published conditions of this hour: two senders, k = 2.
    let range = format!("from={}&to={}", format_utc(now), format_utc(now + HOUR));
    let published = collector
        .get(&format!("/v1/aggregates?{range}&platform=x"))
        .json();
    let cells = published["connections"].as_array().unwrap();
    let last = cells.last().unwrap();
    assert_eq!(
        (
            &last["bucket"],
            &last["cc"],
            &last["degraded"],
            &last["senders"]
        ),
        (
            &serde_json::json!(format_utc(now)),
            &serde_json::json!("ZZ"),
            &serde_json::json!(1),
            &serde_json::json!(2)
        ),
        "{published}"
    );
}

test_on_both_stores!(the_sender_is_told_how_its_connection_compares_with_its_network);
