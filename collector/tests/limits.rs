//! Bounded cost and shedding: what a reader or a sender gets when they ask for too much, too
//! often or too slowly, or when storage is behind or silent. Every limit is set small on the
//! command line; no assertion depends on how fast this machine is.

mod common;

use common::http::{connect, read_response, request_from};
use common::pg::Cluster;
use common::{report_json, Collector, Store, TempDir};
use netreach::Outcome;
use std::io::Write;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn sqlite_collector(dir: &TempDir, extra: &[&str]) -> (Collector, Store) {
    let store = Store::sqlite(dir.path());
    let args = [&["--k", "1"], extra].concat();
    let collector = Collector::on(&store, dir.path(), &args, "collector.log");
    (collector, store)
}

/// Posts a report that must be stored (201).
#[track_caller]
fn stored(c: &Collector, marker: u32, x: Outcome, yt: Outcome) {
    let r = c.post(&report_json(marker, x, yt));
    assert_eq!(r.status, 201, "{}", r.body);
}

/// `GET path` from the loopback address `source`.
fn get_from(c: &Collector, source: &str, path: &str) -> common::Response {
    let source: IpAddr = source.parse().unwrap();
    request_from(Some(source), c.addr, "GET", path, &[], b"").unwrap()
}

fn reports_in(aggregate: &serde_json::Value) -> Vec<u64> {
    aggregate["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["reports"].as_u64().unwrap())
        .collect()
}

#[test]
fn an_aggregate_over_the_row_cap_is_refused_with_400_naming_the_cap() {
    let dir = TempDir::new("row-cap");
    let (c, _) = sqlite_collector(
        &dir,
        &[
            "--max-aggregate-rows",
            "3",
            "--aggregate-cache-seconds",
            "0",
        ],
    );
    // x blocked, yt reachable: two rows (cell and verdict).
    assert_eq!(
        c.post(&report_json(1, Outcome::Timeout, Outcome::Ok))
            .status,
        201
    );
    // x reachable: a third row.
    stored(&c, 2, Outcome::Ok, Outcome::Ok);
    let r = c.get("/v1/aggregates");
    assert_eq!(r.status, 200, "three rows, the cap: {}", r.body);
    // yt blocked: a fourth row.
    assert_eq!(
        c.post(&report_json(3, Outcome::Ok, Outcome::Timeout))
            .status,
        201
    );
    let r = c.get("/v1/aggregates");
    assert_eq!(
        (r.status, r.error().as_str()),
        (
            400,
            "too many cells (over 3 rows): narrow the query (cc, asn, platform, a shorter range or bucket=day)"
        )
    );
    let narrowed = c.get("/v1/aggregates?platform=x");
    assert_eq!(narrowed.status, 200, "two rows: {}", narrowed.body);
    assert_eq!(reports_in(&narrowed.json()), [3]);
}

#[test]
fn identical_aggregate_queries_are_answered_from_the_cache() {
    let dir = TempDir::new("cache");
    let (c, _) = sqlite_collector(&dir, &["--aggregate-cache-seconds", "600"]);
    stored(&c, 1, Outcome::Ok, Outcome::Ok);
    assert_eq!(reports_in(&c.get("/v1/aggregates?platform=x").json()), [1]);
    stored(&c, 2, Outcome::Ok, Outcome::Ok);
    // The same query (JSON or CSV): the answer computed before the second report.
    assert_eq!(reports_in(&c.get("/v1/aggregates?platform=x").json()), [1]);
    let csv = c.get("/v1/aggregates?platform=x&format=csv");
    assert_eq!(
        csv.body.lines().nth(1).unwrap().split(',').nth(4),
        Some("1")
    );
    // Another query reads storage.
    assert_eq!(reports_in(&c.get("/v1/aggregates?platform=yt").json()), [2]);
}

#[test]
fn aggregate_reads_have_an_allowance_per_client() {
    let dir = TempDir::new("read-limit");
    let (c, _) = sqlite_collector(&dir, &["--aggregate-rate-limit", "2"]);
    let from = |source: &str, path: &str| get_from(&c, source, path);
    assert_eq!(from("127.0.0.2", "/v1/aggregates").status, 200);
    assert_eq!(from("127.0.0.2", "/v1/aggregates?bucket=day").status, 200);
    let r = from("127.0.0.2", "/v1/aggregates");
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(r.header("retry-after"), Some("30"));
    assert_eq!(
        r.error(),
        "too many aggregate queries from this network; try again in 30 s"
    );
    assert_eq!(
        from("127.0.0.3", "/v1/aggregates").status,
        200,
        "another client"
    );
    // Reports have their own allowance (off here).
    stored(&c, 1, Outcome::Ok, Outcome::Ok);
}

#[test]
fn a_full_rate_limit_table_refuses_new_clients_with_503() {
    let dir = TempDir::new("limiter-table");
    let (c, _) = sqlite_collector(&dir, &["--rate-limit-clients", "1"]);
    let get = |source: &str| get_from(&c, source, "/v1/aggregates");
    assert_eq!(get("127.0.0.2").status, 200);
    let r = get("127.0.0.3");
    assert_eq!(
        (r.status, r.error().as_str()),
        (503, "too many clients at once; try again later")
    );
    assert_eq!(r.header("retry-after"), Some("60"));
    assert_eq!(get("127.0.0.2").status, 200, "a known client goes on");
}

/// Holds SQLite's write lock from outside the collector, so that its writer waits.
struct WriteLock(rusqlite::Connection);

impl WriteLock {
    fn take(store: &Store) -> WriteLock {
        let Store::Sqlite(path) = store else {
            unreachable!()
        };
        let conn = rusqlite::Connection::open(path).unwrap();
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        WriteLock(conn)
    }

    fn release(self) {
        self.0.execute_batch("COMMIT").unwrap();
    }
}

#[test]
fn a_full_write_queue_gets_503_with_retry_after_at_once() {
    let dir = TempDir::new("queue-full");
    let (c, store) = sqlite_collector(&dir, &["--write-queue", "1"]);
    // One report first, so the schema is there and the writer has its connection.
    stored(&c, 1, Outcome::Ok, Outcome::Ok);
    let lock = WriteLock::take(&store);
    // With the writer stuck on the lock, at most one report is in its hands and one queued:
    // of six at once, four or more are refused without waiting for the writer.
    let senders: Vec<_> = (0..6)
        .map(|i| {
            let addr = c.addr;
            std::thread::spawn(move || {
                let body = report_json(10 + i, Outcome::Ok, Outcome::Ok);
                common::post(addr, "application/json", body.as_bytes())
            })
        })
        .collect();
    let answers: Vec<_> = senders.into_iter().map(|s| s.join().unwrap()).collect();
    lock.release();
    let busy: Vec<_> = answers
        .iter()
        .filter(|r| {
            r.status == 503
                && r.error()
                    == "the collector is busy; the report was not stored, please retry in a moment"
        })
        .collect();
    assert!(busy.len() >= 4, "{answers:#?}");
    assert!(busy.iter().all(|r| r.header("retry-after") == Some("1")));
    stored(&c, 2, Outcome::Ok, Outcome::Ok);
}

#[test]
fn a_request_over_the_handler_timeout_gets_503() {
    let dir = TempDir::new("handler-timeout");
    let (c, store) = sqlite_collector(&dir, &["--request-timeout-ms", "300"]);
    stored(&c, 1, Outcome::Ok, Outcome::Ok);
    let lock = WriteLock::take(&store);
    // The writer waits for the lock (up to 5 s, then fails the batch with a JSON error):
    // the request ends at 300 ms with the timeout's empty 503 instead.
    let r = c.post(&report_json(2, Outcome::Ok, Outcome::Ok));
    lock.release();
    assert_eq!((r.status, r.body.as_str()), (503, ""), "{r:?}");
}

#[test]
fn a_stalled_body_gets_408() {
    let dir = TempDir::new("body-timeout");
    let (c, store) = sqlite_collector(&dir, &["--body-timeout-ms", "300"]);
    let mut stream = connect(c.addr, None).unwrap();
    let body = report_json(1, Outcome::Ok, Outcome::Ok);
    let head = format!(
        "POST /v1/reports HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\
         Origin: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        c.addr,
        common::own_origin(c.addr),
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&body.as_bytes()[..10]).unwrap();
    // Nothing more is sent; the answer comes without the rest.
    let r = read_response(&mut stream).unwrap();
    assert_eq!(
        (r.status, r.error().as_str()),
        (408, "the request body stalled; send it at once")
    );
    assert_eq!(store.query("SELECT COUNT(*) FROM reports"), ["0"]);
}

#[test]
fn connections_over_the_cap_get_503_and_the_slot_comes_back() {
    let dir = TempDir::new("connections");
    let (c, _) = sqlite_collector(&dir, &["--max-connections", "2"]);
    let first = connect(c.addr, None).unwrap();
    let _second = connect(c.addr, None).unwrap();
    let r = c.get("/healthz");
    assert_eq!(
        (r.status, r.error().as_str()),
        (503, "too many connections; try again shortly")
    );
    assert_eq!(r.header("retry-after"), Some("1"));
    drop(first);
    // The collector notices the close in its own time: ask until it has.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = c.get("/healthz");
        if r.status == 200 {
            break;
        }
        assert_eq!(r.status, 503);
        assert!(Instant::now() < deadline, "the slot never came back");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Resumes a stopped cluster whatever the test's outcome, so that it can be shut down.
struct Resume<'a>(&'a Cluster);

impl Drop for Resume<'_> {
    fn drop(&mut self) {
        self.0.signal("CONT");
    }
}

#[test]
fn a_silent_postgres_gives_503_not_a_hang() {
    let cluster = Arc::new(Cluster::start());
    let db = cluster.create_database();
    let store = Store::Postgres(cluster.clone(), db);
    let dir = TempDir::new("pg-silent");
    let c = Collector::on(
        &store,
        dir.path(),
        &[
            "--db-timeout-ms",
            "2000",
            "--admin-listen",
            "127.0.0.1:0",
            "--k",
            "1",
        ],
        "collector.log",
    );
    stored(&c, 1, Outcome::Ok, Outcome::Ok);
    assert_eq!(c.get("/healthz").status, 200);

    cluster.signal("STOP");
    let resume = Resume(&cluster);
    let r = c.post(&report_json(2, Outcome::Ok, Outcome::Ok));
    assert_eq!(
        (r.status, r.error().as_str()),
        (
            503,
            "storage is unavailable; the report was not stored, please retry"
        )
    );
    assert_eq!(r.header("retry-after"), Some("5"));
    let r = c.get("/v1/aggregates");
    assert_eq!(
        (r.status, r.error().as_str()),
        (503, "storage is unavailable")
    );
    // In public, no cause; on the admin listener and in the log, the cause.
    let public = c.get("/healthz");
    assert_eq!(
        (public.status, public.body.as_str()),
        (503, "unavailable\n")
    );
    let admin = c.admin_get("/healthz");
    assert_eq!(
        (admin.status, admin.body.as_str()),
        (503, "postgres: no answer within 2000 ms\n")
    );
    assert!(
        c.log_text()
            .contains("unhealthy: postgres: no answer within 2000 ms"),
        "{}",
        c.log_text()
    );
    drop(resume);

    let deadline = Instant::now() + Duration::from_secs(60);
    while c.get("/healthz").status != 200 {
        assert!(Instant::now() < deadline, "never healthy again");
        std::thread::sleep(Duration::from_millis(100));
    }
    stored(&c, 3, Outcome::Ok, Outcome::Ok);
    assert!(c.log_text().contains("healthy again"));
}
