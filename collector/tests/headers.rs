//! The security headers on every class of answer (pages, the embed frame, the status card,
//! scripts, the API, errors, health), and pages that need nothing the Content-Security-Policy
//! refuses.

mod common;

use common::{campaigns_in, own_origin, report_json, request, submit, Collector, Response};
use common::{www, TempDir};
use netreach::Outcome;
use netreach_collector::routes::security::CONTENT_SECURITY_POLICY;

fn start(dir: &TempDir, extra: &[&str]) -> Collector {
    Collector::serving(dir.path(), &www(), &campaigns_in(dir.path()), extra)
}

/// One answer of each class the collector gives: (what, answer).
fn answers(c: &Collector) -> Vec<(&'static str, Response)> {
    let report = report_json(1, Outcome::Ok, Outcome::Ok);
    let origin = own_origin(c.addr);
    let json = [("Content-Type", "application/json"), ("Origin", &origin)];
    vec![
        ("the page", c.get("/")),
        ("the page by name", c.get("/index.html")),
        ("a script", c.get("/app.js")),
        ("the card's script", c.get("/card.js")),
        ("the embed script", c.get("/embed.js")),
        ("the dashboard", c.get("/dashboard")),
        ("a campaign", c.get("/v1/campaigns/t")),
        ("aggregates", c.get("/v1/aggregates")),
        ("aggregates as CSV", c.get("/v1/aggregates?format=csv")),
        ("the OONI export", c.get("/v1/export/ooni")),
        ("a bad query", c.get("/v1/aggregates?bucket=week")),
        ("a stored report", submit(c.addr, &json, report.as_bytes())),
        (
            "a refused report",
            submit(c.addr, &json[..1], report.as_bytes()),
        ),
        (
            "a preflight",
            request(
                c.addr,
                "OPTIONS",
                "/v1/reports",
                &[
                    ("Origin", "https://news.example"),
                    ("Access-Control-Request-Method", "POST"),
                ],
                b"",
            ),
        ),
        ("health", c.get("/healthz")),
        ("metrics, only on the admin listener", c.get("/metrics")),
        ("a missing file", c.get("/nope.html")),
        ("a missing campaign", c.get("/v1/campaigns/nope")),
    ]
}

/// What every answer but the embed frame's must carry.
fn check_common(what: &str, r: &Response, ancestors: &str, failures: &mut Vec<String>) {
    let policy = format!("{CONTENT_SECURITY_POLICY}; frame-ancestors {ancestors}");
    for (name, want) in [
        ("x-content-type-options", Some("nosniff")),
        ("referrer-policy", Some("no-referrer")),
        ("content-security-policy", Some(policy.as_str())),
    ] {
        if r.header(name) != want {
            failures.push(format!(
                "{what} ({}): {name} {:?}",
                r.status,
                r.header(name)
            ));
        }
    }
}

#[test]
fn every_answer_carries_the_security_headers_and_only_the_embed_frame_and_card_may_be_framed() {
    let dir = TempDir::new("headers");
    let c = start(&dir, &[]);
    let mut failures = Vec::new();
    let answers = answers(&c);
    for (what, r) in &answers {
        check_common(what, r, "'none'", &mut failures);
        if r.header("x-frame-options") != Some("DENY") {
            failures.push(format!(
                "{what}: x-frame-options {:?}",
                r.header("x-frame-options")
            ));
        }
        // Served over plain http here: HSTS would be ignored, and wrong behind no TLS.
        if let Some(hsts) = r.header("strict-transport-security") {
            failures.push(format!(
                "{what}: strict-transport-security {hsts} over http"
            ));
        }
    }
    let statuses: Vec<u16> = answers.iter().map(|(_, r)| r.status).collect();
    assert_eq!(
        statuses,
        [
            200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 400, 201, 403, 200, 200, 404, 404,
            404
        ]
    );
    // The embed frame, with or without its campaign, and the status card: any site may frame
    // them. Its script is a script like any other (in `answers`).
    for path in [
        "/embed.html",
        "/embed.html?campaign=/v1/campaigns/t",
        "/card.html",
        "/card.html?cc=PK&platform=x&lang=ur",
    ] {
        let r = c.get(path);
        assert_eq!(r.status, 200);
        check_common(path, &r, "*", &mut failures);
        if let Some(xfo) = r.header("x-frame-options") {
            failures.push(format!("{path}: x-frame-options {xfo}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn hsts_is_sent_when_the_public_origin_is_https() {
    let dir = TempDir::new("hsts");
    let c = start(&dir, &["--public-origin", "https://netreach.example"]);
    let mut answers = answers(&c);
    answers.push(("the embed frame", c.get("/embed.html")));
    answers.push(("the status card", c.get("/card.html?cc=PK")));
    for (what, r) in &answers {
        assert_eq!(
            r.header("strict-transport-security"),
            Some("max-age=31536000"),
            "{what}"
        );
    }
    let dir = TempDir::new("no-hsts");
    let c = start(&dir, &["--public-origin", "http://10.0.0.1:8080"]);
    assert_eq!(c.get("/").header("strict-transport-security"), None);
}

/// The policy allows no inline script or style and no event-handler attribute: the pages must
/// not need them, or the browser would silently refuse part of them.
#[test]
fn the_pages_need_nothing_the_policy_refuses() {
    let mut failures = Vec::new();
    for entry in std::fs::read_dir(www()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "html") {
            continue;
        }
        let html = std::fs::read_to_string(&path).unwrap().to_ascii_lowercase();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        for tag in html.split('<').skip(1) {
            let tag = tag.split('>').next().unwrap_or("");
            let inline_script = tag.starts_with("script") && !tag.contains(" src=");
            let handler = tag
                .split_whitespace()
                .any(|attr| attr.starts_with("on") && attr.contains('='));
            if inline_script
                || tag.starts_with("style")
                || tag.contains(" style=")
                || handler
                || tag.contains("javascript:")
            {
                failures.push(format!("{name}: <{tag}>"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
