//! What each kind of bad input gets (status and error text), that none of it writes anything,
//! and that a stream of garbage never gets a 5xx or stops the collector.

mod common;

use common::rng::Rng;
use common::{
    campaigns_in, own_origin, report, report_json, request, submit, Collector, Store, TempDir,
};
use netreach::{Outcome, Verdict};
use serde_json::{json, Value};

fn start(dir: &TempDir, extra: &[&str]) -> (Collector, Store) {
    let store = Store::sqlite(dir.path());
    let args = [
        &["--max-body", "65536", "--admin-listen", "127.0.0.1:0"],
        extra,
    ]
    .concat();
    let collector = Collector::on(&store, dir.path(), &args, "collector.log");
    (collector, store)
}

fn valid() -> Value {
    serde_json::to_value(report(1, Outcome::Timeout, Outcome::Ok)).unwrap()
}

fn with(edit: impl FnOnce(&mut Value)) -> String {
    let mut v = valid();
    edit(&mut v);
    v.to_string()
}

#[test]
fn each_bad_input_gets_its_status_and_a_message_naming_the_problem() {
    let dir = TempDir::new("bad-input");
    let (collector, store) = start(&dir, &[]);
    let big = "x".repeat(70_000);
    let many_attempts = with(|v| {
        let a = v["platforms"][0]["endpoints"][0]["attempts"][0].clone();
        v["platforms"][0]["endpoints"][0]["attempts"] = Value::Array(vec![a; 21]);
    });
    // (what, content type, body, status, start of the error message)
    let cases: Vec<(&str, Option<&str>, String, u16, &str)> = vec![
        ("no content type", None, valid().to_string(), 415, "Content-Type must be application/json or text/plain"),
        ("form body", Some("application/x-www-form-urlencoded"), "a=1".into(), 415, "Content-Type must be"),
        ("body over the limit", Some("application/json"), big, 413, "report larger than 65536 bytes"),
        ("empty body", Some("application/json"), String::new(), 400, "malformed JSON: EOF while parsing a value"),
        ("truncated JSON", Some("text/plain"), valid().to_string()[..200].to_owned(), 400, "malformed JSON: EOF while parsing"),
        ("not UTF-8 / not JSON", Some("application/json"), "\u{1}\u{2}garbage".into(), 400, "malformed JSON: expected value"),
        ("trailing garbage", Some("application/json"), format!("{} x", valid()), 400, "malformed JSON: trailing characters"),
        ("an array", Some("application/json"), "[]".into(), 422, "report: must be a JSON object"),
        ("missing field", Some("application/json"), with(|v| { v.as_object_mut().unwrap().remove("schema"); }), 422, "report: missing field `schema`"),
        ("wrong type", Some("application/json"), with(|v| v["runtime_ms"] = json!("slow")), 422, "runtime_ms: invalid type: string \"slow\", expected u32"),
        ("negative number", Some("application/json"), with(|v| v["platforms"][1]["endpoints"][0]["attempts"][2]["ms"] = json!(-5)), 422, "platforms[1].endpoints[0].attempts[2].ms: invalid value: integer `-5`, expected u32"),
        ("unknown outcome", Some("application/json"), with(|v| v["controls"][0]["attempts"][0]["outcome"] = json!("maybe")), 422, "controls[0].attempts[0].outcome: unknown variant `maybe`"),
        ("unknown verdict", Some("application/json"), with(|v| v["platforms"][0]["verdict"] = json!("censored")), 422, "platforms[0].verdict: unknown variant `censored`"),
        ("other schema", Some("application/json"), with(|v| v["schema"] = json!("netreach.report/2")), 422, "schema: must be \"netreach.report/1\""),
        ("unknown campaign", Some("application/json"), with(|v| v["campaign"] = json!("nope")), 422, "campaign: no campaign \"nope\" on this collector"),
        ("path in campaign", Some("application/json"), with(|v| v["campaign"] = json!("../../etc/passwd")), 422, "campaign: must be a campaign id"),
        ("precise time", Some("application/json"), with(|v| v["started_at"] = json!("2026-11-22T21:17:03.512Z")), 422, "started_at: must be rounded down to the hour"),
        ("not a time", Some("application/json"), with(|v| v["started_at"] = json!("yesterday")), 422, "started_at: must be a UTC date-time"),
        ("future time", Some("application/json"), with(|v| v["started_at"] = json!("2099-01-01T00:00:00.000Z")), 422, "started_at: is in the future"),
        ("old time", Some("application/json"), with(|v| v["started_at"] = json!("2020-01-01T00:00:00.000Z")), 422, "started_at: is more than 30 days ago"),
        ("full user agent", Some("application/json"), with(|v| v["client"]["browser"] = json!("Mozilla/5.0 (X11; Linux x86_64)")), 422, "client.browser: unknown variant `Mozilla/5.0 (X11; Linux x86_64)`, expected one of `chrome`, `firefox`"),
        ("unknown platform", Some("application/json"), with(|v| v["platforms"][0]["id"] = json!("tiktok")), 422, "platforms[0].id: no platform \"tiktok\" in campaign \"t\""),
        ("duplicate platform", Some("application/json"), with(|v| { let p = v["platforms"][1].clone(); v["platforms"][0] = p; }), 422, "platforms[1].id: duplicate platform"),
        ("foreign endpoint", Some("application/json"), with(|v| v["platforms"][0]["endpoints"][0]["url"] = json!("https://tracker.example/?id=42")), 422, "platforms[0].endpoints[0].url: not an endpoint of platform \"x\" in campaign \"t\""),
        ("wrong kind", Some("application/json"), with(|v| v["controls"][1]["kind"] = json!("fetch")), 422, "controls[1].kind: does not match the campaign's kind"),
        ("too many attempts", Some("application/json"), many_attempts, 422, "platforms[0].endpoints[0].attempts: too many attempts (at most 20)"),
        ("no platforms", Some("application/json"), with(|v| v["platforms"] = json!([])), 422, "platforms: at least one platform is needed"),
        ("blocked claimed while everything loaded", Some("application/json"), with(|v| { v["platforms"][1]["verdict"] = json!("blocked"); v["platforms"][1]["reason"] = json!("endpoints_timeout"); }), 422, "platforms[1].verdict: blocked/endpoints_timeout does not follow from its attempts (the classifier gives reachable/endpoints_loaded)"),
        ("reachable claimed while timing out", Some("application/json"), with(|v| { v["platforms"][0]["verdict"] = json!("reachable"); v["platforms"][0]["reason"] = json!("endpoints_loaded"); }), 422, "platforms[0].verdict: reachable/endpoints_loaded does not follow from its attempts (the classifier gives blocked/endpoints_timeout)"),
        ("every trial made after every control failed", Some("application/json"), with(|v| { for c in v["controls"].as_array_mut().unwrap() { for a in c["attempts"].as_array_mut().unwrap() { a["outcome"] = json!("error"); } } }), 422, "platforms[0].endpoints[0].attempts: 3 attempts; after every control failed the engine makes exactly one per platform endpoint"),
        ("blocked in a cancelled run", Some("application/json"), with(|v| v["conditions"] = json!(["cancelled"])), 422, "platforms[0].verdict: blocked/endpoints_timeout does not follow from its attempts (the classifier gives inconclusive/cancelled)"),
    ];
    let mut failures = Vec::new();
    let origin = own_origin(collector.addr);
    for (what, content_type, body, status, message) in &cases {
        let mut headers: Vec<(&str, &str)> =
            content_type.iter().map(|t| ("Content-Type", *t)).collect();
        headers.push(("Origin", &origin));
        let r = submit(collector.addr, &headers, body.as_bytes());
        let error = r.error();
        if r.status != *status || !error.starts_with(message) {
            failures.push(format!(
                "{what}: got {} {error:?}, want {status} {message:?}",
                r.status
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        store.query("SELECT COUNT(*) FROM reports"),
        ["0"],
        "a rejected report was written"
    );
    assert_eq!(store.query("SELECT COUNT(*) FROM verdicts"), ["0"]);

    // The same report, valid, is stored; as text/plain too (sendBeacon).
    let r = collector.post(&valid().to_string());
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(r.json()["id"].as_i64().unwrap() > 0);
    let r = common::post(
        collector.addr,
        "text/plain;charset=UTF-8",
        report_json(2, Outcome::Ok, Outcome::Ok).as_bytes(),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(store.query("SELECT COUNT(*) FROM reports"), ["2"]);
}

#[test]
fn only_the_collectors_own_pages_and_its_embedding_origins_may_submit() {
    let dir = TempDir::new("origin");
    let (collector, store) = start(
        &dir,
        &[
            "--public-origin",
            "https://netreach.example",
            "--embed-origin",
            "https://news.example",
        ],
    );
    let body = valid().to_string();
    let address = own_origin(collector.addr);
    let refused =
        "reports are accepted only from this collector's pages and its embedding origins; ";
    // (what, Origin, content type, body, end of the error message): each gets 403
    let cases: Vec<(&str, Option<&str>, &str, &str, String)> = vec![
        (
            "no Origin",
            None,
            "application/json",
            &body,
            "the request has no Origin header".into(),
        ),
        (
            "opaque origin",
            Some("null"),
            "application/json",
            &body,
            "Origin null (a sandboxed frame or local file) is not one".into(),
        ),
        (
            "cross-site form post",
            Some("https://evil.example"),
            "text/plain",
            &body,
            "https://evil.example is not one".into(),
        ),
        (
            "cross-site fetch",
            Some("https://evil.example"),
            "application/json",
            &body,
            "https://evil.example is not one".into(),
        ),
        (
            "cross-site garbage is not even read",
            Some("https://evil.example"),
            "application/json",
            "{",
            "https://evil.example is not one".into(),
        ),
        (
            "public origin over http",
            Some("http://netreach.example"),
            "application/json",
            &body,
            "http://netreach.example is not one".into(),
        ),
        (
            "a look-alike host",
            Some("https://netreach.example.evil.example"),
            "application/json",
            &body,
            "https://netreach.example.evil.example is not one".into(),
        ),
        (
            "the listening address, with a public origin set",
            Some(&address),
            "application/json",
            &body,
            format!("{address} is not one"),
        ),
        (
            "not an origin",
            Some("https://news.example/article"),
            "application/json",
            &body,
            "https://news.example/article is not one".into(),
        ),
    ];
    let mut failures = Vec::new();
    for (what, origin, content_type, body, message) in &cases {
        let mut headers = vec![("Content-Type", *content_type)];
        headers.extend(origin.map(|o| ("Origin", o)));
        let r = submit(collector.addr, &headers, body.as_bytes());
        let want = format!("{refused}{message}");
        if r.status != 403 || r.error() != want {
            failures.push(format!(
                "{what}: got {} {:?}, want 403 {want:?}",
                r.status,
                r.error()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(store.query("SELECT COUNT(*) FROM reports"), ["0"]);

    for origin in ["https://netreach.example", "https://NEWS.example:443"] {
        let headers = [
            ("Content-Type", "text/plain;charset=UTF-8"),
            ("Origin", origin),
        ];
        let r = submit(collector.addr, &headers, body.as_bytes());
        assert_eq!(r.status, 201, "{origin}: {}", r.body);
    }
    assert_eq!(store.query("SELECT COUNT(*) FROM reports"), ["2"]);
    collector.admin_get("/metrics").assert_lines(&[&format!(
        "netreach_reports_total{{status=\"403\"}} {}",
        cases.len()
    )]);
}

#[test]
fn an_origin_that_is_not_an_origin_stops_the_collector_at_start() {
    let dir = TempDir::new("origin-flag");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_netreach-collector"))
        .args(["--embed-origin", "https://news.example/article"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--embed-origin") && stderr.contains("must be scheme://host[:port] only"),
        "{stderr}"
    );
}

#[test]
fn a_chunked_body_over_the_limit_is_refused_without_a_length_header() {
    let dir = TempDir::new("chunked");
    let (collector, store) = start(&dir, &[]);
    let mut body = Vec::new();
    for _ in 0..20 {
        body.extend_from_slice(b"1000\r\n");
        body.extend_from_slice(&[b' '; 0x1000]);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"0\r\n\r\n");
    let r = request(
        collector.addr,
        "POST",
        "/v1/reports",
        &[
            ("Content-Type", "application/json"),
            ("Transfer-Encoding", "chunked"),
            ("Origin", &own_origin(collector.addr)),
        ],
        &body,
    );
    assert_eq!(r.status, 413, "{}", r.body);
    assert_eq!(r.error(), "report larger than 65536 bytes");
    assert_eq!(store.query("SELECT COUNT(*) FROM reports"), ["0"]);
}

#[test]
fn extra_fields_are_dropped_and_probe_urls_refused_before_storage() {
    let dir = TempDir::new("extra");
    let (collector, store) = start(&dir, &[]);
    // The engine names each endpoint by its campaign URL; a probe URL with its cache-busting
    // query is not an endpoint of the campaign (and could carry anything in its query).
    let r = collector.post(&with(|v| {
        v["platforms"][0]["endpoints"][0]["url"] =
            json!("https://x.example/favicon.ico?nr=987654321");
    }));
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r
        .error()
        .starts_with("platforms[0].endpoints[0].url: not an endpoint of"));
    let body = with(|v| {
        v["ip"] = json!("198.51.100.23");
        v["client"]["user_agent"] = json!("Mozilla/5.0 secret-build-1234");
        v["platforms"][0]["median_ms"] = json!(1);
    });
    let r = collector.post(&body);
    assert_eq!(r.status, 201, "{}", r.body);
    let stored = store.query("SELECT report FROM reports").join("\n");
    for secret in ["198.51.100.23", "secret-build", "user_agent", "\"ip\""] {
        assert!(!stored.contains(secret), "{secret} stored: {stored}");
    }
    let stored: Value = serde_json::from_str(&stored).unwrap();
    assert_eq!(
        stored["platforms"][0]["endpoints"][0]["url"],
        "https://x.example/favicon.ico"
    );
    assert!(
        stored["platforms"][0].get("median_ms").is_none(),
        "figures are recomputed"
    );
    assert_eq!(stored["platforms"][0]["verdict"], json!(Verdict::Blocked));
}

#[test]
fn too_many_reports_from_one_client_get_429_with_retry_after() {
    let dir = TempDir::new("rate");
    let store = Store::sqlite(dir.path());
    let campaigns = campaigns_in(dir.path());
    let url = store.url();
    let collector = Collector::start(
        &[
            "--database",
            &url,
            "--campaigns",
            campaigns.to_str().unwrap(),
            "--rate-limit",
            "2",
            "--admin-listen",
            "127.0.0.1:0",
        ],
        &dir.path().join("collector.log"),
    );
    let body = report_json(1, Outcome::Ok, Outcome::Ok);
    assert_eq!(collector.post(&body).status, 201);
    assert_eq!(collector.post(&body).status, 201);
    let r = collector.post(&body);
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(r.header("retry-after"), Some("30"));
    assert_eq!(
        r.error(),
        "too many reports from this network; try again in 30 s"
    );
    // Garbage counts too: the limit is on requests, checked before any parsing.
    assert_eq!(
        common::post(collector.addr, "application/json", b"{").status,
        429
    );
    assert_eq!(store.query("SELECT COUNT(*) FROM reports"), ["2"]);
    collector.admin_get("/metrics").assert_lines(&[
        "netreach_reports_total{status=\"429\"} 2",
        "netreach_reports_total{status=\"201\"} 2",
    ]);
}

#[test]
fn a_stream_of_garbage_gets_4xx_and_never_5xx_and_the_collector_keeps_working() {
    let dir = TempDir::new("garbage");
    let (collector, store) = start(&dir, &[]);
    let valid_body = report_json(7, Outcome::Timeout, Outcome::Ok);
    let origin = own_origin(collector.addr);
    let wrong_types = [
        json!(null),
        json!(true),
        json!(-1),
        json!(1e300),
        json!("x"),
        json!([]),
        json!({}),
        json!(u64::MAX),
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut counts = std::collections::BTreeMap::new();
    let mut stored_by_mutation = 0;
    for i in 0..600 {
        let (content_type, body): (&str, Vec<u8>) = match i % 6 {
            0 => {
                let n = rng.below(4096);
                (
                    "application/json",
                    (0..n).map(|_| rng.next() as u8).collect(),
                )
            }
            1 => {
                let cut = rng.below(valid_body.len());
                ("text/plain", valid_body.as_bytes()[..cut].to_vec())
            }
            2 => {
                // Replace one value somewhere in the report by a value of another type.
                let mut v: Value = serde_json::from_str(&valid_body).unwrap();
                let mut pointer = String::new();
                let mut node = &v;
                loop {
                    let child = match node {
                        Value::Object(map) if !map.is_empty() => {
                            let key = map.keys().nth(rng.below(map.len())).unwrap();
                            pointer += &format!("/{key}");
                            &map[key]
                        }
                        Value::Array(items) if !items.is_empty() => {
                            let i = rng.below(items.len());
                            pointer += &format!("/{i}");
                            &items[i]
                        }
                        _ => break,
                    };
                    node = child;
                    if rng.below(3) == 0 {
                        break;
                    }
                }
                *v.pointer_mut(&pointer).unwrap() =
                    wrong_types[rng.below(wrong_types.len())].clone();
                ("application/json", v.to_string().into_bytes())
            }
            3 => ("application/json", vec![b'['; 1000 + rng.below(60_000)]),
            4 => ("application/json", vec![b'a'; 65_537 + rng.below(200_000)]),
            _ => {
                let types = ["application/xml", "multipart/form-data", "", "image/png"];
                (
                    types[rng.below(types.len())],
                    valid_body.as_bytes().to_vec(),
                )
            }
        };
        let mut headers: Vec<(&str, &str)> = if content_type.is_empty() {
            vec![]
        } else {
            vec![("Content-Type", content_type)]
        };
        headers.push(("Origin", &origin));
        let r = common::http::request_from(
            None,
            collector.addr,
            "POST",
            "/v1/reports",
            &headers,
            &body,
        )
        .unwrap_or_else(|e| {
            panic!(
                "request {i}: no answer ({e}); log:\n{}",
                collector.log_text()
            )
        });
        assert!(
            (400..500).contains(&r.status) || (r.status == 201 && i % 6 == 2),
            "request {i} ({content_type}, {} bytes) got {} {}",
            body.len(),
            r.status,
            r.body
        );
        if r.status == 201 {
            stored_by_mutation += 1;
        } else {
            assert!(
                !r.error().is_empty(),
                "request {i}: error without a message"
            );
        }
        *counts.entry(r.status).or_insert(0) += 1;
    }
    eprintln!("garbage answers by status: {counts:?}");
    assert!(
        counts.contains_key(&400)
            && counts.contains_key(&413)
            && counts.contains_key(&415)
            && counts.contains_key(&422)
    );
    assert_eq!(collector.get("/healthz").status, 200);
    assert_eq!(collector.post(&valid_body).status, 201);
    assert_eq!(
        store.query("SELECT COUNT(*) FROM reports"),
        [(stored_by_mutation + 1).to_string()]
    );
    collector.admin_get("/metrics").assert_lines(&[
        "netreach_reports_total{status=\"500\"} 0",
        "netreach_reports_total{status=\"503\"} 0",
    ]);
}
