//! Aggregates that cannot be differenced into a suppressed cell: a query covers whole buckets
//! at both ends, so moving `to` inside a bucket changes nothing (issue #10: two day-bucket
//! queries whose `to` differed by one hour returned different counts); and no count of the
//! cells left out says whether anyone reported in an hour.

mod common;

use common::{report, Collector, Store};
use netreach::Outcome;
use netreach_collector::time::{self, format_utc, DAY, HOUR};
use serde_json::Value;

fn differencing_by_to_inside_a_day_reveals_nothing(store: Store) {
    let dir = common::TempDir::new(store.name());
    let collector = Collector::on(&store, dir.path(), &["--k", "5"], "collector.log");
    // Yesterday (UTC): five reports at 10:00 (a published hour), two at 11:00 (suppressed).
    let day = time::now().div_euclid(DAY) * DAY - DAY;
    for (hour, count) in [(10, 5), (11, 2)] {
        for i in 0..count {
            let mut r = report(1000 * hour + i, Outcome::Timeout, Outcome::Ok);
            r.started_at = format_utc(day + hour as i64 * HOUR).replace('Z', ".000Z");
            let answer = collector.post(&serde_json::to_string(&r).unwrap());
            assert_eq!(answer.status, 201, "{}", answer.body);
        }
    }
    let hourly = collector
        .get(&format!(
            "/v1/aggregates?platform=x&from={}&to={}",
            format_utc(day),
            format_utc(day + DAY)
        ))
        .json();
    let hours: Vec<(&str, u64)> = hourly["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["bucket"].as_str().unwrap(),
                c["reports"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(hours, [(format_utc(day + 10 * HOUR).as_str(), 5)]);
    // The hour left out is not even counted.
    assert_eq!(hourly.get("suppressed_cells"), None, "{hourly}");

    // The attack: day buckets up to 11:00 and up to 12:00 of that day.
    let by_day = |to: i64| {
        let path = format!(
            "/v1/aggregates?platform=x&bucket=day&from={}&to={}",
            format_utc(day),
            format_utc(to)
        );
        (
            collector.get(&path),
            collector.get(&format!("{path}&format=csv")),
        )
    };
    let (json_11, csv_11) = by_day(day + 11 * HOUR);
    let (json_12, csv_12) = by_day(day + 12 * HOUR);
    let reports = |r: &common::Response| r.json()["cells"][0]["reports"].as_u64();
    eprintln!(
        "{}: day cell with to=11:00 {:?} reports, with to=12:00 {:?}",
        store.name(),
        reports(&json_11),
        reports(&json_12)
    );
    assert_eq!(json_11.body, json_12.body, "JSON answers differ");
    assert_eq!(csv_11.body, csv_12.body, "CSV answers differ");
    // Both are the whole day: the suppressed hour is inside a published total only.
    assert_eq!(reports(&json_11), Some(7));
    assert_eq!(json_11.json()["to"], format_utc(day + DAY));
}

test_on_both_stores!(differencing_by_to_inside_a_day_reveals_nothing);

/// Posts one report of campaign `t` (platforms x and yt) started at `hour`.
fn post_at(collector: &Collector, marker: u32, hour: i64) {
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
        post_at(&collector, hour as u32, day + hour * HOUR);
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
