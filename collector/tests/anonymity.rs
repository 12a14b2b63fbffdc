//! Aggregates that cannot be differenced into a suppressed cell, and whose k counts people:
//! a query covers whole buckets at both ends, so moving `to` inside a bucket changes nothing
//! (issue #10: two day-bucket queries whose `to` differed by one hour returned different
//! counts); a day is the sum of its published hours, so a day query minus its hour queries is
//! zero (before, it gave the suppressed hour's reports); k counts distinct senders (before,
//! one sender posting k reports published a cell alone); and no count of the cells left out
//! says whether anyone reported in an hour.

mod common;

use common::{clear_of_the_hour_change, report, Collector, Store};
use netreach::Outcome;
use netreach_collector::time::{self, format_utc, DAY, HOUR};
use serde_json::Value;

/// A report of campaign `t` started at `hour`, as a JSON body (x blocked, yt reachable).
fn report_at(marker: u32, hour: i64) -> String {
    let mut r = report(marker, Outcome::Timeout, Outcome::Ok);
    r.started_at = format_utc(hour).replace('Z', ".000Z");
    serde_json::to_string(&r).unwrap()
}

/// Posts it from the loopback address `source`; it must be stored.
#[track_caller]
fn post_at(collector: &Collector, source: &str, marker: u32, hour: i64) {
    let answer = collector.post_from(source, &report_at(marker, hour));
    assert_eq!(answer.status, 201, "{}", answer.body);
}

/// `(bucket, reports)` of every cell of an answer.
fn cells(answer: &Value) -> Vec<(String, u64)> {
    listed(answer, "cells")
}

/// `(bucket, reports)` of every connection cell of an answer (issue #13).
fn connections(answer: &Value) -> Vec<(String, u64)> {
    listed(answer, "connections")
}

fn listed(answer: &Value, list: &str) -> Vec<(String, u64)> {
    answer[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["bucket"].as_str().unwrap().to_owned(),
                c["reports"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// Two hours of the current UTC day and its start: `(published, suppressed, day)`. The first
/// is the current hour (only a run of this hour or the previous one counts as a sender); the
/// second is the previous one, or just after midnight the next one (intake takes a run started
/// up to an hour ahead). Waits first if the hour is about to change.
fn two_hours_of_today() -> (i64, i64, i64) {
    clear_of_the_hour_change();
    let current = time::floor_hour(time::now());
    let other = if current % DAY == 0 {
        current + HOUR
    } else {
        current - HOUR
    };
    (current, other, current.div_euclid(DAY) * DAY)
}

/// A collector with `--k k` whose every aggregate query reads storage (no cache).
fn uncached(store: &Store, dir: &common::TempDir, k: &str) -> Collector {
    let flags = ["--k", k, "--aggregate-cache-seconds", "0"];
    Collector::on(store, dir.path(), &flags, "collector.log")
}

fn one_sender_cannot_fill_a_cell_alone(store: Store) {
    let dir = common::TempDir::new(store.name());
    let collector = uncached(&store, &dir, "5");
    clear_of_the_hour_change();
    let hour = time::floor_hour(time::now());
    let x = "/v1/aggregates?platform=x";
    // One visitor pressing "test again": k reports from one address.
    for marker in 1..=5 {
        post_at(&collector, "127.0.0.2", marker, hour);
    }
    let alone = collector.get(x).json();
    eprintln!("{}: 5 reports of one sender: {alone}", store.name());
    assert_eq!(cells(&alone), [], "one sender published a cell");
    assert_eq!(
        connections(&alone),
        [],
        "one sender published a network hour"
    );
    let day = collector.get(&format!("{x}&bucket=day")).json();
    assert_eq!(cells(&day), [], "nor its day");
    assert_eq!(connections(&day), [], "nor its day");
    // Three more senders: four, still under k.
    for (marker, source) in (6..).zip(["127.0.0.3", "127.0.0.4", "127.0.0.5"]) {
        post_at(&collector, source, marker, hour);
    }
    assert_eq!(cells(&collector.get(&format!("{x}&bucket=day")).json()), []);
    // The fifth: the cell is published, with every report in it and its senders.
    post_at(&collector, "127.0.0.6", 9, hour);
    let published = collector.get(&format!("{x}&to={}", format_utc(hour + HOUR)));
    let cell = &published.json()["cells"][0];
    assert_eq!(
        (
            cell["bucket"].as_str(),
            cell["reports"].as_u64(),
            cell["senders"].as_u64(),
            cell["blocked"].as_u64()
        ),
        (Some(format_utc(hour).as_str()), Some(9), Some(5), Some(9)),
        "{}",
        published.body
    );
    // The network hour too: every report judged normal (controls at 40 ms, no baseline).
    let network = &published.json()["connections"][0];
    assert_eq!(
        (
            network["reports"].as_u64(),
            network["senders"].as_u64(),
            network["normal"].as_u64()
        ),
        (Some(9), Some(5), Some(9)),
        "{}",
        published.body
    );
    let csv = collector.get(&format!("{x}&format=csv&to={}", format_utc(hour + HOUR)));
    assert_eq!(
        csv.body.lines().nth(1),
        Some(format!("{},ZZ,0,x,9,5,0,0,0,9,0", format_utc(hour)).as_str())
    );
}

test_on_both_stores!(one_sender_cannot_fill_a_cell_alone);

fn a_day_minus_its_published_hours_is_zero(store: Store) {
    let dir = common::TempDir::new(store.name());
    let collector = uncached(&store, &dir, "3");
    let (published, suppressed, day) = two_hours_of_today();
    // Three senders in one hour (published), two in another hour of the same day.
    for (marker, source) in (1..).zip(["127.0.0.2", "127.0.0.3", "127.0.0.4"]) {
        post_at(&collector, source, marker, published);
    }
    for (marker, source) in (4..).zip(["127.0.0.5", "127.0.0.6"]) {
        post_at(&collector, source, marker, suppressed);
    }
    let range = format!("from={}&to={}", format_utc(day), format_utc(day + DAY));
    for platform in ["x", "yt"] {
        let hours = collector
            .get(&format!("/v1/aggregates?platform={platform}&{range}"))
            .json();
        assert_eq!(cells(&hours), [(format_utc(published), 3)], "{hours}");
        let whole_day = collector
            .get(&format!(
                "/v1/aggregates?platform={platform}&bucket=day&{range}"
            ))
            .json();
        let day_reports: u64 = cells(&whole_day).iter().map(|(_, n)| n).sum();
        let hour_reports: u64 = cells(&hours).iter().map(|(_, n)| n).sum();
        eprintln!(
            "{} {platform}: day {day_reports} reports, published hours {hour_reports}",
            store.name()
        );
        assert_eq!(
            day_reports - hour_reports,
            0,
            "the day gave away the suppressed hour: {whole_day}"
        );
        assert_eq!(whole_day["cells"][0]["senders"], 3, "{whole_day}");
        // The network's conditions: the published hour alone, and its day is that hour.
        assert_eq!(connections(&hours), [(format_utc(published), 3)], "{hours}");
        assert_eq!(
            connections(&whole_day),
            [(format_utc(day), 3)],
            "{whole_day}"
        );
        assert_eq!(whole_day["connections"][0]["senders"], 3, "{whole_day}");
    }
}

test_on_both_stores!(a_day_minus_its_published_hours_is_zero);

fn differencing_by_to_inside_a_day_reveals_nothing(store: Store) {
    let dir = common::TempDir::new(store.name());
    let collector = uncached(&store, &dir, "5");
    // Five senders in this hour (published), two reports in another hour of today.
    let (published, suppressed, day) = two_hours_of_today();
    for marker in 0..5 {
        post_at(
            &collector,
            &format!("127.0.0.{}", 10 + marker),
            marker,
            published,
        );
    }
    for marker in 5..7 {
        post_at(&collector, "127.0.0.20", marker, suppressed);
    }
    let hourly = collector
        .get(&format!(
            "/v1/aggregates?platform=x&from={}&to={}",
            format_utc(day),
            format_utc(day + DAY)
        ))
        .json();
    assert_eq!(cells(&hourly), [(format_utc(published), 5)]);
    // The hour left out is not even counted.
    assert_eq!(hourly.get("suppressed_cells"), None, "{hourly}");

    // The attack: two day-bucket ranges whose edge differs by the suppressed hour alone.
    let by_day = |from: i64, to: i64| {
        let path = format!(
            "/v1/aggregates?platform=x&bucket=day&from={}&to={}",
            format_utc(from),
            format_utc(to)
        );
        (
            collector.get(&path),
            collector.get(&format!("{path}&format=csv")),
        )
    };
    let ((json_a, csv_a), (json_b, csv_b)) = if suppressed > published {
        (
            by_day(published, suppressed),
            by_day(published, suppressed + HOUR),
        )
    } else {
        (
            by_day(suppressed, published + HOUR),
            by_day(published, published + HOUR),
        )
    };
    let reports = |r: &common::Response| r.json()["cells"][0]["reports"].as_u64();
    eprintln!(
        "{}: day cell without the suppressed hour {:?} reports, with it {:?}",
        store.name(),
        reports(&json_b),
        reports(&json_a)
    );
    assert_eq!(json_a.body, json_b.body, "JSON answers differ");
    assert_eq!(csv_a.body, csv_b.body, "CSV answers differ");
    // Both are the whole day, made of its published hours only.
    assert_eq!(reports(&json_a), Some(5));
    assert_eq!(json_a.json()["to"], format_utc(day + DAY));
}

test_on_both_stores!(differencing_by_to_inside_a_day_reveals_nothing);

/// Posts one report of campaign `t` (platforms x and yt) started at `hour`.
fn post_one_at(collector: &Collector, marker: u32, hour: i64) {
    let mut r = report(marker, Outcome::Ok, Outcome::Ok);
    r.started_at = format_utc(hour).replace('Z', ".000Z");
    let answer = collector.post(&serde_json::to_string(&r).unwrap());
    assert_eq!(answer.status, 201, "{}", answer.body);
}

fn suppressed_counts_do_not_say_whether_anyone_reported(store: Store) {
    let dir = common::TempDir::new(store.name());
    let collector = Collector::on(&store, dir.path(), &["--k", "3"], "collector.log");
    // One report in each of hours 10 to 13 of yesterday (UTC); none at 14.
    let day = time::now().div_euclid(DAY) * DAY - DAY;
    for hour in 10..=13 {
        post_one_at(&collector, hour as u32, day + hour * HOUR);
    }
    // An answer for hours [from, to) without its range, and the header that once counted the
    // cells left out.
    let hours = |from: i64, to: i64| {
        let path = format!(
            "/v1/aggregates?from={}&to={}",
            format_utc(day + from * HOUR),
            format_utc(day + to * HOUR)
        );
        let answer = collector.get(&path);
        let mut body = answer.json();
        let fields = body.as_object_mut().unwrap();
        fields.remove("from");
        fields.remove("to");
        let header = answer
            .header("x-netreach-suppressed-cells")
            .map(str::to_owned);
        (body, header)
    };
    // A narrow query: hour 13 (one reporter) and hour 14 (nobody) answer the same.
    assert_eq!(hours(13, 14), hours(14, 15));
    // Differencing two broad queries, hours 10-12 and 10-13, that differ by hour 13 alone.
    let (broad, with_13) = (hours(10, 13), hours(10, 14));
    assert_eq!(broad, with_13);
    assert_eq!(broad.0["cells"], Value::Array(vec![]));
}

test_on_both_stores!(suppressed_counts_do_not_say_whether_anyone_reported);
