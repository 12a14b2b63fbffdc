//! `GET /v1/export/ooni` over HTTP on SQLite and a real PostgreSQL: OONI's base data format
//! line by line, exactly the cells and counts of `/v1/aggregates?bucket=hour`, nothing of a
//! cell under k, the aggregates' filters, errors and allowance.
//!
//! Reports are written straight into storage (`common::filler`), each counting as one
//! sender; the collector is started first so that its migrations create the tables.

mod common;

use common::filler::{first_n, Filler, ATTEMPTS};
use common::{Collector, Store, TempDir};
use netreach_collector::time::{self, format_utc, HOUR};
use serde_json::Value;

const K: &str = "5";

fn start(store: &Store, dir: &TempDir, extra: &[&str]) -> Collector {
    let mut flags = vec!["--k", K, "--aggregate-cache-seconds", "0"];
    flags.extend_from_slice(extra);
    Collector::on(store, dir.path(), &flags, "collector.log")
}

/// The lines of an export, each parsed, after checking the answer's status and headers.
fn export(collector: &Collector, query: &str) -> Vec<Value> {
    let answer = collector.get(&format!("/v1/export/ooni?{query}"));
    assert_eq!(answer.status, 200, "{query}: {}", answer.body);
    assert_eq!(
        answer.header("content-type"),
        Some("application/x-ndjson"),
        "{query}"
    );
    assert_eq!(answer.header("x-netreach-k"), Some(K));
    assert!(answer.body.is_empty() || answer.body.ends_with('\n'));
    answer
        .body
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

/// Six hours ago, on the hour: inside the default range of both routes.
fn hour() -> i64 {
    time::floor_hour(time::now()) - 6 * HOUR
}

/// Two hours of PK AS17557 (6 reports each, 4 blocking X), one of DE AS3320 (5 reports) and
/// one of PK AS38193 under k (3 reports).
fn fill(store: &Store, t: i64) {
    let mut db = Filler::new(store);
    db.fill(
        "PK",
        17557,
        t,
        2,
        6,
        &[("x", &first_n(4, "blocked")), ("yt", "'reachable'")],
    );
    db.fill(
        "DE",
        3320,
        t,
        1,
        5,
        &[("x", "'reachable'"), ("yt", &first_n(1, "throttled"))],
    );
    db.fill("PK", 38193, t, 1, 3, &[("x", "'blocked'")]);
}

fn lines_are_the_hourly_aggregates_in_ooni_format(store: Store) {
    let dir = TempDir::new(store.name());
    let collector = start(&store, &dir, &["--aggregate-rate-limit", "0"]);
    let t = hour();
    fill(&store, t);

    let lines = export(&collector, "");
    let aggregates = collector.get("/v1/aggregates?bucket=hour").json();
    let cells = aggregates["cells"].as_array().unwrap();
    assert_eq!(lines.len(), 6, "{}: {lines:#?}", store.name());
    assert_eq!(lines.len(), cells.len());
    for (line, cell) in lines.iter().zip(cells) {
        let bucket = cell["bucket"].as_str().unwrap();
        let start = bucket.replace('T', " ").replace('Z', "");
        assert_eq!(line["measurement_start_time"], start.as_str());
        assert_eq!(line["test_start_time"], start.as_str());
        assert_eq!(line["probe_cc"], cell["cc"]);
        assert_eq!(line["probe_asn"], format!("AS{}", cell["asn"]).as_str());
        assert_eq!(line["input"], cell["platform"]);
        let keys = &line["test_keys"];
        assert_eq!(keys["reports"], cell["reports"]);
        assert_eq!(keys["senders"], cell["senders"]);
        assert_eq!(keys["k"], 5);
        for verdict in netreach::Verdict::ALL {
            let v = verdict.as_str();
            assert_eq!(keys["verdicts"][v], cell[v], "{v} in {line}");
        }
        // Every filled report gives each platform the same attempts: the cell's are that
        // many times as many as it has reports.
        let reports = cell["reports"].as_u64().unwrap();
        for outcome in netreach::Outcome::ALL {
            let o = outcome.as_str();
            let each = ATTEMPTS
                .iter()
                .find(|(name, _)| *name == o)
                .map_or(0, |a| a.1);
            assert_eq!(keys["attempts"][o], each * reports, "{o} in {line}");
        }
        assert_eq!(line["test_name"], "netreach_platforms");
        assert_eq!(line["test_version"], "netreach.report/1");
        assert_eq!(line["software_name"], "netreach");
        assert_eq!(line["software_version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(line["data_format_version"], "0.2.0");
        assert_eq!(line["probe_ip"], "127.0.0.1");
        let compact: String = bucket.chars().filter(|c| !"-:".contains(*c)).collect();
        let report_id = format!(
            "{compact}_{}_{}",
            line["probe_asn"].as_str().unwrap(),
            cell["cc"].as_str().unwrap()
        );
        assert_eq!(line["report_id"], report_id.as_str());
        assert!(line["annotations"].get("synthetic").is_none());
    }

    // The figures themselves, not only their agreement with the aggregates.
    let pk_x = |hour: i64| {
        lines
            .iter()
            .find(|l| {
                l["probe_asn"] == "AS17557"
                    && l["input"] == "x"
                    && l["measurement_start_time"]
                        == format_utc(hour).replace('T', " ").replace('Z', "").as_str()
            })
            .unwrap_or_else(|| panic!("PK AS17557 x at {hour}: {lines:#?}"))
    };
    for h in [t, t + HOUR] {
        let keys = &pk_x(h)["test_keys"];
        assert_eq!(
            (keys["reports"].as_u64(), keys["senders"].as_u64()),
            (Some(6), Some(6))
        );
        assert_eq!(
            (
                keys["verdicts"]["blocked"].as_u64(),
                keys["verdicts"]["reachable"].as_u64()
            ),
            (Some(4), Some(2))
        );
    }
    assert!(
        lines.iter().all(|l| l["probe_asn"] != "AS38193"),
        "a cell of 3 senders under k = 5 was exported: {lines:#?}"
    );

    // The aggregates' filters choose whole cells, here as there.
    let de = export(&collector, "cc=de");
    assert_eq!(de.len(), 2);
    assert!(de.iter().all(|l| l["probe_cc"] == "DE"));
    let throttled = &de.iter().find(|l| l["input"] == "yt").unwrap()["test_keys"]["verdicts"];
    assert_eq!(throttled["throttled"], 1);
    let one = export(&collector, "asn=AS17557&platform=yt");
    assert_eq!(one.len(), 2);
    assert!(one
        .iter()
        .all(|l| l["probe_asn"] == "AS17557" && l["input"] == "yt"));
    let first_hour = format!("from={}&to={}", format_utc(t), format_utc(t + HOUR));
    assert_eq!(export(&collector, &first_hour).len(), 4);
    // Only the cell under k had data in this hour: nothing, not even a sign of it.
    let later = format!(
        "from={}&to={}",
        format_utc(t + 2 * HOUR),
        format_utc(t + 3 * HOUR)
    );
    assert!(export(&collector, &later).is_empty());
    let under_k = export(&collector, "asn=38193");
    assert!(under_k.is_empty(), "{under_k:#?}");
}
test_on_both_stores!(lines_are_the_hourly_aggregates_in_ooni_format);

#[test]
fn a_range_with_more_reports_than_may_be_read_gets_400_asking_for_a_shorter_one() {
    let dir = TempDir::new("ooni-reports");
    let store = Store::sqlite(dir.path());
    // The 6 cells are within 20 rows; their 20 reports are not within 15.
    let collector = start(
        &store,
        &dir,
        &["--aggregate-rate-limit", "0", "--max-aggregate-rows", "15"],
    );
    fill(&store, hour());
    assert_eq!(collector.get("/v1/aggregates?bucket=hour").status, 200);
    let refused = collector.get("/v1/export/ooni");
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(
        refused.error(),
        "too many stored reports to count attempts from (over 15 in the range): choose a shorter range (from, to)"
    );
    let one_hour = collector.get(&format!(
        "/v1/export/ooni?from={}&to={}",
        format_utc(hour()),
        format_utc(hour() + HOUR)
    ));
    assert_eq!(one_hour.status, 200, "{}", one_hour.body);
}

#[test]
fn bad_parameters_get_400_naming_them() {
    let dir = TempDir::new("ooni-bad");
    let store = Store::sqlite(dir.path());
    let collector = start(&store, &dir, &["--aggregate-rate-limit", "0"]);
    for &(query, message) in common::BAD_FILTERS {
        let answer = collector.get(&format!("/v1/export/ooni?{query}"));
        assert_eq!(answer.status, 400, "{query}: {}", answer.body);
        assert_eq!(answer.error(), message, "{query}");
    }
}

#[test]
fn any_origin_reads_it_within_the_aggregates_allowance_and_demo_lines_say_synthetic() {
    let dir = TempDir::new("ooni-limit");
    let store = Store::sqlite(dir.path());
    let collector = start(&store, &dir, &["--aggregate-rate-limit", "2", "--demo"]);
    fill(&store, hour());
    assert_eq!(collector.get("/v1/aggregates").status, 200);
    // Any site may read it, as the aggregates (nothing is credentialed).
    let cross = common::request(
        collector.addr,
        "GET",
        "/v1/export/ooni",
        &[("Origin", "https://tools.example")],
        b"",
    );
    assert_eq!(cross.header("access-control-allow-origin"), Some("*"));
    let lines: Vec<Value> = cross
        .body
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 6);
    assert!(lines
        .iter()
        .all(|l| l["annotations"]["synthetic"] == "true"));
    let refused = collector.get("/v1/export/ooni");
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert_eq!(
        refused.error(),
        "too many aggregate queries from this network; try again in 30 s"
    );
}
