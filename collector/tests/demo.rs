//! The demo data end to end, as `cargo xtask serve --demo` uses them: `netreach-collector
//! demo` writes a week ending now, `import` takes every line (each checked as the API checks a
//! report), and a collector started with `--demo` on that database finds exactly the four
//! simulated events (the nation-scale disruption in Pakistan, country-wide and on its four
//! networks; the one-network X block, under way; the internet outage on one network, from runs
//! sent after it; the slowdown on one network, judged against the network's own earlier
//! days as the import goes) and nothing in the background, and says SYNTHETIC in every
//! answer. `--demo` is refused on the real database.

mod common;

use common::chromium::{rendered, text};
use common::{Collector, TempDir};
use netreach_collector::demo::{
    self, NATION_SCALE_HOURS, NETWORKS, ONE_NETWORK, OUTAGE_AGO, OUTAGE_HOURS, OUTAGE_NETWORK,
    SLOWDOWN_AGO, SLOWDOWN_HOURS, SLOWDOWN_NETWORK,
};
use netreach_collector::time::{self, format_utc, HOUR};
use std::collections::BTreeSet;
use std::process::Command;

fn collector_command(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_netreach-collector"))
        .args(args)
        .output()
        .expect("run netreach-collector")
}

#[test]
fn the_demo_week_shows_its_four_events_and_nothing_else_labelled_synthetic() {
    common::clear_of_the_hour_change();
    let dir = TempDir::new("demo");
    let campaigns = common::www().join("campaigns");
    let campaigns = campaigns.to_str().unwrap();
    let generated = collector_command(&["demo", "--campaigns", campaigns]);
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    let lines = generated
        .stdout
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .count();
    assert!(lines > 5000, "{lines} reports");
    let file = dir.path().join("demo.jsonl");
    std::fs::write(&file, &generated.stdout).unwrap();

    let database = format!("sqlite://{}", dir.path().join("demo.db").display());
    let imported = collector_command(&[
        "import",
        "--database",
        &database,
        "--campaigns",
        campaigns,
        file.to_str().unwrap(),
    ]);
    let summary = String::from_utf8_lossy(&imported.stderr);
    assert_eq!(imported.status.code(), Some(0), "{summary}");
    assert!(
        summary.contains(&format!(
            "imported {lines}, skipped 0 (bad), 0 already present"
        )),
        "{summary}"
    );

    let collector = Collector::start(
        &[
            "--demo",
            "--database",
            &database,
            "--campaigns",
            campaigns,
            "--www",
            common::www().to_str().unwrap(),
        ],
        &dir.path().join("collector.log"),
    );
    let answer = collector.get("/v1/disruptions");
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.header("x-netreach-synthetic"), Some("true"));
    let body = answer.json();
    assert_eq!(body["synthetic"], true);

    let now_hour = time::floor_hour(time::now());
    let start = format_utc(demo::nation_scale(now_hour));
    let end = format_utc(demo::nation_scale(now_hour) + NATION_SCALE_HOURS * HOUR);
    let one_network_start = format_utc(now_hour - demo::ONE_NETWORK_HOURS * HOUR);
    // (cc, asn, scope, platforms, verdict, start, end) of every event found.
    let found: BTreeSet<String> = body["disruptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {} {} {} {}",
                e["cc"], e["asn"], e["scope"], e["platforms"], e["verdict"], e["start"], e["end"]
            )
        })
        .collect();
    let mut expected = BTreeSet::new();
    let pk_networks = NETWORKS
        .iter()
        .filter(|n| n.cc == "PK" && n.asn != ONE_NETWORK.1);
    for asn in pk_networks
        .map(|n| n.asn.to_string())
        .chain(["null".to_owned()])
    {
        let scope = if asn == "null" { "country" } else { "network" };
        expected.insert(format!(
            r#""PK" {asn} "{scope}" ["facebook","instagram","x"] "blocked" "{start}" "{end}""#
        ));
        expected.insert(format!(
            r#""PK" {asn} "{scope}" ["youtube"] "throttled" "{start}" "{end}""#
        ));
    }
    expected.insert(format!(
        r#""PK" {} "network" ["x"] "blocked" "{one_network_start}" null"#,
        ONE_NETWORK.1
    ));
    for ((cc, asn), ago, hours, verdict) in [
        (OUTAGE_NETWORK, OUTAGE_AGO, OUTAGE_HOURS, "outage"),
        (SLOWDOWN_NETWORK, SLOWDOWN_AGO, SLOWDOWN_HOURS, "slowdown"),
    ] {
        let start = now_hour - ago * HOUR;
        expected.insert(format!(
            r#""{cc}" {asn} "network" [] "{verdict}" "{}" "{}""#,
            format_utc(start),
            format_utc(start + hours * HOUR)
        ));
    }
    assert_eq!(found, expected, "{}", answer.body);
    for e in body["disruptions"].as_array().unwrap() {
        assert!(e["confidence"].as_f64().unwrap() >= 0.99, "{e}");
        assert!(e["share"].as_f64().unwrap() > 0.7, "{e}");
    }

    // Every answer says it: aggregates, the feed's titles, the pages.
    let aggregates = collector.get("/v1/aggregates?cc=PK");
    assert_eq!(aggregates.json()["synthetic"], true, "{}", aggregates.body);
    assert!(aggregates.json()["cells"].as_array().unwrap().len() > 100);
    let feed = collector.get("/v1/disruptions.atom?cc=PK");
    assert!(feed
        .body
        .contains("<title>SYNTHETIC DEMO DATA: netreach: disruptions detected</title>"));
    let titles = feed.body.matches("<title>").count();
    assert_eq!(
        titles,
        feed.body.matches("<title>SYNTHETIC DEMO DATA: ").count()
    );
    let in_pk = expected.iter().filter(|e| e.starts_with(r#""PK""#)).count();
    assert_eq!(titles, 1 + in_pk, "{}", feed.body);
    for page in ["/", "/dashboard"] {
        assert_eq!(
            collector.get(page).header("x-netreach-synthetic"),
            Some("true"),
            "{page}"
        );
    }
    // The status card, in a real browser, shows the banner above the events it draws.
    let card = rendered(&format!("http://{}/card.html?cc=PK", collector.addr));
    assert!(
        card.contains(
            r#"<p id="synthetic" class="synthetic" role="note" data-i18n="card.synthetic">"#
        ),
        "{card}"
    );
    assert!(text(&card).contains("Blocked on network AS9541"), "{card}");

    // The dashboard filtered by campaign: its reports (all of the demo's) and events, the
    // campaign offered by name, and kept in the feed's address.
    let dashboard = rendered(&format!(
        "http://{}/dashboard?cc=PK&campaign=default",
        collector.addr
    ));
    assert!(dashboard.contains(r#"data-state="ready""#), "{dashboard}");
    assert!(
        dashboard.contains(r#"href="/v1/disruptions.atom?campaign=default&amp;cc=PK""#),
        "{dashboard}"
    );
    assert!(text(&dashboard).contains("AS9541"), "{dashboard}");
    let other = rendered(&format!(
        "http://{}/dashboard?cc=PK&campaign=elsewhere",
        collector.addr
    ));
    assert!(other.contains(r#"data-state="ready""#), "{other}");
    assert!(
        !text(&other).contains("AS9541"),
        "no report of that campaign: {other}"
    );
}

#[test]
fn demo_is_refused_on_the_real_database_and_absent_without_it() {
    let dir = TempDir::new("demo-refused");
    let refused = collector_command(&["--demo", "--listen", "127.0.0.1:0"]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("--demo serves synthetic data: give it a database of its own"),
        "{stderr}"
    );
    let database = format!("sqlite://{}", dir.path().join("real.db").display());
    let collector = Collector::start(&["--database", &database], &dir.path().join("log"));
    let answer = collector.get("/v1/disruptions");
    assert_eq!(answer.header("x-netreach-synthetic"), None);
    assert_eq!(answer.json().get("synthetic"), None, "{}", answer.body);
    let feed = collector.get("/v1/disruptions.atom");
    assert!(!feed.body.contains("SYNTHETIC"), "{}", feed.body);
}
