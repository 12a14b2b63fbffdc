//! The status card, the dashboard and the page as headless Chromium renders them (issue #13),
//! from a stand-in collector that answers with known events and known answers: outages and
//! slowdowns of a network shown apart from a platform's block, in plain words, with the
//! volume of tests beside them, plural forms right for 1 and 2; and the page's notes on the
//! visitor's own connection (the network down before Submit; far slower than usual after it,
//! with the figures; nothing for a normal connection).
//!
//! The stand-in serves www/ from this repository and, for the page, a stand-in of the engine's
//! package (`pkg/netreach.js`: `run` resolves a given report, `submit` the collector's given
//! answer) and a few lines that press Start and Submit as a visitor would: the page's own
//! code (app.js, connection.js, i18n.js) does the rest. The real engine and collector on the
//! real page are the lab's (`cargo xtask test lab`); the card against the real collector is
//! collector/tests/card.rs, whose Chromium helper this file shares.
#![cfg(not(target_arch = "wasm32"))]

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;

#[path = "../collector/tests/common/chromium.rs"]
mod chromium;
#[path = "../collector/tests/common/temp.rs"]
mod temp;
// The collector's own UTC formatting (a file without dependencies; its unit tests run here too).
#[allow(dead_code)]
#[path = "../collector/src/time.rs"]
mod time;

use chromium::{rendered, text};
use temp::TempDir;

/// Start of the hour three hours ago (`YYYY-MM-DDTHH:00:00Z`): the events' start, inside
/// every window shown.
fn three_hours_ago() -> String {
    time::format_utc(time::floor_hour(time::now()) - 3 * time::HOUR)
}

/// What the stand-in answers besides the files of www/.
struct Answers {
    disruptions: String,
    aggregates: String,
    /// The stand-in engine module and the driver inserted into index.html, for the page.
    engine: String,
    driver: String,
}

fn www() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("www")
}

fn respond(stream: &mut TcpStream, status: &str, kind: &str, body: &[u8]) {
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(body);
}

fn serve(answers: &Answers, mut stream: TcpStream) {
    let mut line = String::new();
    if BufReader::new(&stream).read_line(&mut line).is_err() {
        return;
    }
    let target = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let path = target.split('?').next().unwrap_or("/");
    let json = "application/json";
    match path {
        "/v1/disruptions" => respond(&mut stream, "200 OK", json, answers.disruptions.as_bytes()),
        "/v1/aggregates" => respond(&mut stream, "200 OK", json, answers.aggregates.as_bytes()),
        "/v1/campaigns" => respond(&mut stream, "200 OK", json, br#"{"campaigns": []}"#),
        "/v1/campaigns/default" => {
            let campaign = std::fs::read(www().join("campaigns/default.json")).unwrap();
            respond(&mut stream, "200 OK", json, &campaign);
        }
        "/pkg/netreach.js" => respond(
            &mut stream,
            "200 OK",
            "text/javascript",
            answers.engine.as_bytes(),
        ),
        "/" | "/index.html" => {
            let page = std::fs::read_to_string(www().join("index.html")).unwrap();
            let page = page.replace("</body>", &format!("{}</body>", answers.driver));
            respond(
                &mut stream,
                "200 OK",
                "text/html; charset=utf-8",
                page.as_bytes(),
            );
        }
        _ => {
            let file = www().join(path.trim_start_matches('/'));
            let kind = match file.extension().and_then(|e| e.to_str()) {
                Some("html") => "text/html; charset=utf-8",
                Some("js") => "text/javascript",
                Some("css") => "text/css",
                Some("json") => json,
                Some("svg") => "image/svg+xml",
                _ => "application/octet-stream",
            };
            match std::fs::read(&file) {
                Ok(body) if !path.contains("..") => respond(&mut stream, "200 OK", kind, &body),
                _ => respond(&mut stream, "404 Not Found", "text/plain", b"not found"),
            }
        }
    }
}

/// The stand-in collector, serving until the test ends.
fn collector(answers: Answers) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let answers: &'static Answers = Box::leak(Box::new(answers));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || serve(answers, stream));
        }
    });
    addr
}

/// Pakistan three hours into an outage of two networks (AS17557, with 4.2 times the usual
/// tests, and AS38193), a slowdown of a third (AS45595) and X blocked on AS17557; one report
/// published in the window, and the connection's cells of two networks.
fn pakistan() -> Answers {
    let start = three_hours_ago();
    let next = time::format_utc(time::parse_utc(&start).unwrap() + time::HOUR);
    let event = |asn: u32, platforms: &str, verdict: &str, senders: u32, volume: &str| {
        format!(
            r#"{{"cc": "PK", "asn": {asn}, "scope": "network", "platforms": [{platforms}], "verdict": "{verdict}",
                "start": "{start}", "end": null, "confidence": 0.9995, "senders": {senders}, "share": 0.82,
                "volume": {volume}}}"#
        )
    };
    let events = [
        event(17557, r#""x""#, "blocked", 1, "1.1"),
        event(17557, "", "outage", 40, "4.2"),
        event(38193, "", "outage", 12, "null"),
        event(45595, "", "slowdown", 2, "null"),
    ];
    Answers {
        disruptions: format!(r#"{{"disruptions": [{}]}}"#, events.join(",")),
        aggregates: format!(
            r#"{{"k": 1, "bucket": "hour", "cells": [{{"bucket": "{start}", "cc": "PK", "asn": 17557, "platform": "x",
                "reports": 1, "senders": 1, "reachable": 0, "throttled": 0, "partial": 0, "blocked": 1, "inconclusive": 0}}],
                "connections": [
                  {{"bucket": "{start}", "cc": "PK", "asn": 17557, "reports": 6, "senders": 6, "normal": 1, "degraded": 0, "offline": 5}},
                  {{"bucket": "{next}", "cc": "PK", "asn": 17557, "reports": 4, "senders": 4, "normal": 1, "degraded": 0, "offline": 3}},
                  {{"bucket": "{start}", "cc": "PK", "asn": 45595, "reports": 5, "senders": 5, "normal": 1, "degraded": 4, "offline": 0}}]}}"#
        ),
        engine: String::new(),
        driver: String::new(),
    }
}

#[track_caller]
fn says(said: &str, words: &[&str]) {
    for w in words {
        assert!(said.contains(w), "it does not say “{w}”:\n{said}");
    }
}

#[track_caller]
fn never(said: &str, words: &[&str]) {
    for w in words {
        assert!(!said.contains(w), "it says “{w}”:\n{said}");
    }
}

#[test]
fn the_card_says_an_outage_of_two_networks_apart_from_the_platform_block_and_counts_right() {
    let addr = collector(pakistan());
    let dom = rendered(&format!("http://{addr}/card.html?cc=PK&lang=en"));
    let said = text(&dom);
    says(
        &said,
        &[
            "Disruption detected in Pakistan in the last 24 hours:",
            "Internet outage on 2 networks since",
            "The network itself was cut off: every site failed, not only platforms.",
            "Internet slowdown on network AS45595 since",
            "X (Twitter): Blocked on network AS17557 since",
            "Overwhelming evidence; reports from 1 sender (counted hour by hour).",
            "Overwhelming evidence; reports from 52 senders (counted hour by hour).",
            "Based on 1 report in 1 of the last 24 hours;",
            "refreshed every 5 minutes.",
        ],
    );
    says(
        &said,
        &["Tests from there: 1.1× the usual number (supporting evidence only)."],
    );
    never(&said, &["1 reports", "1 senders", "Tests from there: 4.2×"]);
    // The outage first, its two networks merged (the merged line claims no volume, one of its
    // events having none), then the slowdown, then the block.
    let outage = said.find("Internet outage").unwrap();
    let slowdown = said.find("Internet slowdown").unwrap();
    let block = said.find("X (Twitter): Blocked").unwrap();
    assert!(outage < slowdown && slowdown < block, "{said}");
    assert_eq!(dom.matches("data-kind=\"network\"").count(), 2, "{dom}");
    assert!(dom.contains("data-state=\"disrupted\""), "{dom}");

    // Arabic: the dual for two networks, "one report" in words.
    let said = text(&rendered(&format!("http://{addr}/card.html?cc=PK&lang=ar")));
    says(
        &said,
        &[
            "انقطاع الإنترنت على شبكتين",
            "استنادًا إلى تقرير واحد",
            "تقارير من مرسل واحد",
        ],
    );
}

#[test]
fn the_dashboard_lists_outages_and_slowdowns_apart_from_platform_blocks() {
    let addr = collector(pakistan());
    let dom = rendered(&format!(
        "http://{addr}/dashboard.html?cc=PK&range=1&bucket=hour&lang=en"
    ));
    let said = text(&dom);
    says(
        &said,
        &[
            "Internet outage on network AS17557 in Pakistan",
            "Internet outage on network AS38193 in Pakistan",
            "Internet slowdown on network AS45595 in Pakistan",
            "X (Twitter) blocked on network AS17557 in Pakistan",
            "Whole network",
            "in 82% of tests not even the reference sites loaded",
            "in 82% of tests the reference sites were far slower than usual here at this hour; from 2 testers",
            "from 40 testers",
            "of conclusive tests failed, from 1 tester (counted once per hour)",
            "Tests: 4.2× the usual number (supporting evidence, never proof on its own).",
            "Tests: 1.1× the usual number",
            "Internet outage or slowdown (hatched)",
            // The connection per network, summed over the period, the busiest first.
            "The connection itself, per network",
            "AS17557 10 2 (20%) 0 8 (80%) AS45595 5 1 (20%) 4 (80%) 0",
        ],
    );
    never(
        &said,
        &["1 testers", "Internet outage and", "blocked and Internet"],
    );
    // Three cards of the network itself, ongoing, before the platform's; an outage's band
    // hatched on X's timeline, the block's shaded.
    assert_eq!(
        dom.matches("data-kind=\"network\"").count(),
        3,
        "three network cards: {dom}"
    );
    assert!(
        said.find("Internet slowdown").unwrap() < said.find("X (Twitter) blocked").unwrap(),
        "{said}"
    );
    assert!(dom.contains("class=\"band-network\""), "{dom}");
    assert!(dom.contains("class=\"band\""), "{dom}");
}

/// The page driven as a visitor would: Start, then (`submit`) Submit once the verdicts are
/// shown; `data-driven` marks the end, with whether the offline note showed before Submit.
fn page(report: &str, answer: &str, submit: bool) -> String {
    let engine = format!(
        "export default async function init() {{}}\n\
         export async function run(campaign, options) {{ return {report}; }}\n\
         export async function submit(report, collector) {{ return {answer}; }}\n"
    );
    let driver = format!(
        r#"<script type="module">
const wait = (ok) => new Promise((done) => {{ const i = setInterval(() => {{ if (ok()) {{ clearInterval(i); done(); }} }}, 20); }});
const $ = (id) => document.getElementById(id);
await wait(() => !$("start").disabled);
$("start").click();
await wait(() => document.body.dataset.state === "done");
document.body.dataset.offlineBefore = String(!$("offline-note").hidden);
if ({submit}) {{ $("submit").click(); await wait(() => document.body.dataset.submitted); }}
document.body.dataset.driven = "yes";
</script>"#
    );
    let addr = collector(Answers {
        engine,
        driver,
        ..pakistan()
    });
    let dom = rendered(&format!("http://{addr}/?lang=en"));
    assert!(
        dom.contains("data-driven=\"yes\""),
        "the page did not finish: {dom}"
    );
    dom
}

/// The part of the DOM from element `id` to the end of its tag and text.
fn element<'a>(dom: &'a str, id: &str) -> &'a str {
    let start = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id}"));
    let rest = &dom[start..];
    &rest[..rest.find("</").unwrap()]
}

const RUN_OK: &str = r#"{"schema": "netreach.report/1", "campaign": "default", "started_at": "2026-12-03T08:00:00.000Z",
  "runtime_ms": 4000, "client": {"browser": "chrome", "version": 126, "os": "linux"},
  "controls": [{"url": "https://c.example/", "kind": "fetch", "attempts": [
    {"outcome": "ok", "ms": 1100, "bytes": 250000, "duration_ms": 1000}, {"outcome": "ok", "ms": 1300}]}],
  "platforms": [{"id": "x", "verdict": "reachable", "reason": "endpoints_loaded", "median_ms": 1200, "endpoints": []}]}"#;

#[test]
fn the_page_says_the_connection_was_far_slower_than_usual_only_when_the_collector_found_it() {
    let degraded = r#"{"id": 7, "connection": "degraded", "typical": {"control_ms": 180, "control_kbps": 9000}}"#;
    let dom = page(RUN_OK, degraded, true);
    let note = element(&dom, "connection-note");
    assert!(!note.contains("hidden"), "{note}");
    says(
        &text(note),
        &[
            "Your connection itself was much slower than is usual on your network at this hour of the day.",
            "The reference sites answered in 1,200 ms; usually about 180 ms.",
            "Downloads from them ran at 2 Mb/s; usually about 9 Mb/s.",
        ],
    );
    assert!(dom.contains("data-offline-before=\"false\""), "{dom}");

    // Normal: the thanks, and nothing about the connection.
    let normal = r#"{"id": 8, "connection": "normal", "typical": {"control_ms": 180, "control_kbps": 9000}}"#;
    let dom = page(RUN_OK, normal, true);
    assert!(element(&dom, "connection-note").contains("hidden"), "{dom}");
    says(&text(&dom), &["Thank you. Your report was stored"]);
    never(&text(&dom), &["much slower than is usual"]);
}

#[test]
fn the_page_says_the_network_seems_down_when_every_control_failed_and_sends_nothing() {
    let down =
        r#"{"id": "x", "verdict": "inconclusive", "reason": "controls_failed", "endpoints": []}"#;
    let offline = format!(
        r#"{{"schema": "netreach.report/1", "campaign": "default", "started_at": "2026-12-03T08:00:00.000Z",
          "runtime_ms": 4000, "client": {{"browser": "chrome", "version": 126, "os": "linux"}},
          "controls": [{{"url": "https://c.example/", "kind": "fetch", "attempts": [{{"outcome": "timeout", "ms": 15000}}]}}],
          "platforms": [{down}, {down}]}}"#
    );
    let dom = page(&offline, "null", false);
    let note = element(&dom, "offline-note");
    assert!(!note.contains("hidden"), "{note}");
    says(
        &text(note),
        &[
            "Your network itself seems to be down",
            "sent once the network is back",
        ],
    );
    // Nothing was sent: no click on Submit, so no status and no waiting report.
    assert!(!dom.contains("data-submitted"), "{dom}");
    assert!(dom.contains("data-offline-before=\"true\""), "{dom}");
    // A run with verdicts is not offline.
    let dom = page(RUN_OK, "null", false);
    assert!(element(&dom, "offline-note").contains("hidden"), "{dom}");
}
