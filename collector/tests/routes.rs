//! The non-report routes: static files with the right types, campaigns (and no way out of
//! their folder), CORS for embedding news sites (the API, and `embed.js` and `pkg/` with their
//! pinned copies), health and metrics.

mod common;

use common::{campaigns_in, request, Collector, Store, TempDir};

fn start(dir: &TempDir, www: &std::path::Path, campaigns: &std::path::Path) -> Collector {
    start_with(dir, www, campaigns, &[])
}

fn start_with(
    dir: &TempDir,
    www: &std::path::Path,
    campaigns: &std::path::Path,
    extra: &[&str],
) -> Collector {
    Collector::serving(dir.path(), www, campaigns, extra)
}

#[test]
fn static_files_are_served_with_their_types_including_wasm() {
    let dir = TempDir::new("static");
    let www = dir.path().join("www");
    std::fs::create_dir_all(www.join("pkg")).unwrap();
    std::fs::write(
        www.join("index.html"),
        "<!doctype html><title>netreach</title>",
    )
    .unwrap();
    std::fs::write(
        www.join("dashboard.html"),
        "<!doctype html><title>dashboard</title>",
    )
    .unwrap();
    std::fs::write(www.join("pkg/netreach.js"), "export default 1;").unwrap();
    std::fs::write(www.join("pkg/netreach_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    let campaigns = campaigns_in(dir.path());
    let c = start(&dir, &www, &campaigns);

    let index = c.get("/");
    assert_eq!(index.status, 200);
    assert!(index
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert!(index.body.contains("<title>netreach</title>"));
    let wasm = c.get("/pkg/netreach_bg.wasm");
    assert_eq!(
        (wasm.status, wasm.header("content-type")),
        (200, Some("application/wasm"))
    );
    let js = c.get("/pkg/netreach.js");
    assert!(
        js.header("content-type").unwrap().contains("javascript"),
        "{:?}",
        js.headers
    );
    let dash = c.get("/dashboard");
    assert_eq!(dash.status, 200);
    assert!(dash.body.contains("<title>dashboard</title>"));
    assert_eq!(c.get("/nope.html").status, 404);
    assert_ne!(c.get("/../Cargo.toml").status, 200);
    assert_ne!(c.get("/pkg/netreach.js.gz/").status, 200);
    assert_ne!(c.get("/%2e%2e/campaigns/t.json").status, 200);
}

#[test]
fn gzip_goes_only_to_clients_that_accept_it_twins_first() {
    let dir = TempDir::new("gzip");
    let www = dir.path().join("www");
    std::fs::create_dir_all(www.join("pkg")).unwrap();
    std::fs::write(www.join("pkg/netreach.js"), "export default 1;").unwrap();
    // The collector does not look inside: a marker stands in for gzip bytes.
    std::fs::write(www.join("pkg/netreach.js.gz"), "gzipped twin").unwrap();
    // Above the 32 bytes below which compression is not worth a header.
    let script = "console.log('no twin');\n".repeat(8);
    std::fs::write(www.join("app.js"), &script).unwrap();
    let campaigns = campaigns_in(dir.path());
    let c = start(&dir, &www, &campaigns);
    let gzip = [("Accept-Encoding", "gzip, deflate, br")];

    let zipped = request(c.addr, "GET", "/pkg/netreach.js", &gzip, b"");
    assert_eq!(zipped.status, 200);
    assert_eq!(zipped.body, "gzipped twin");
    assert_eq!(zipped.header("content-encoding"), Some("gzip"));
    assert!(zipped
        .header("content-type")
        .unwrap()
        .contains("javascript"));
    assert_eq!(zipped.header("vary"), Some("accept-encoding"));

    let plain = c.get("/pkg/netreach.js");
    assert_eq!(plain.body, "export default 1;");
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(plain.header("vary"), Some("accept-encoding"));
    // A client that refuses gzip explicitly gets the plain file.
    let refused = [("Accept-Encoding", "gzip;q=0, identity")];
    let plain = request(c.addr, "GET", "/pkg/netreach.js", &refused, b"");
    assert_eq!(plain.body, "export default 1;");

    // A twin older than its file (rebuilt without `cargo xtask build`) is not sent: the file
    // is, gzipped on the way.
    let rebuilt = "export const rebuilt = 'by wasm-pack alone, after the twin';\n";
    std::fs::write(www.join("pkg/netreach.js"), rebuilt).unwrap();
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
    std::fs::File::options()
        .append(true)
        .open(www.join("pkg/netreach.js"))
        .unwrap()
        .set_modified(later)
        .unwrap();
    let fresh = request(c.addr, "GET", "/pkg/netreach.js", &gzip, b"");
    assert_eq!(fresh.header("content-encoding"), Some("gzip"));
    assert_eq!(gunzip(&fresh.raw_body), rebuilt.as_bytes());

    // Without a twin, the file itself, gzipped on the way when the client accepts it.
    let file = c.get("/app.js");
    assert_eq!((file.status, file.body.as_str()), (200, script.as_str()));
    assert_eq!(file.header("content-encoding"), None);
    let file = request(c.addr, "GET", "/app.js", &gzip, b"");
    assert_eq!(file.header("content-encoding"), Some("gzip"));
    assert_eq!(file.header("vary"), Some("accept-encoding"));
    assert_eq!(gunzip(&file.raw_body), script.as_bytes());
}

/// The system's gzip, to read a compressed body back.
fn gunzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("gzip")
        .args(["-d", "-c"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "not gzip: {bytes:?}");
    out.stdout
}

#[test]
fn campaigns_come_from_their_folder_validated_and_nothing_else_does() {
    let dir = TempDir::new("campaigns");
    let campaigns = campaigns_in(dir.path());
    std::fs::write(
        campaigns.join("broken.json"),
        r#"{"id":"broken","controls":[],"platforms":[]}"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("secret.json"), r#"{"secret":true}"#).unwrap();
    // A campaign aiming a probe at the visitor's own network (a router's page) is refused
    // here, since the engine in the page leaves that check to the collector.
    let lan = common::CAMPAIGN
        .replace("\"id\": \"t\"", "\"id\": \"lan\"")
        .replace(
            "https://cdn.x.example/i.png",
            "https://192.168.1.1/favicon.ico",
        );
    std::fs::write(campaigns.join("lan.json"), lan).unwrap();
    let c = start(&dir, &common::www(), &campaigns);

    let t = c.get("/v1/campaigns/t");
    assert_eq!(t.status, 200, "{}", t.body);
    assert_eq!(t.json()["id"], "t");
    assert_eq!(t.json()["platforms"][1]["id"], "yt");
    assert_eq!(c.get("/v1/campaigns/t.json").json()["id"], "t");

    let missing = c.get("/v1/campaigns/nope");
    assert_eq!(
        (missing.status, missing.error().as_str()),
        (404, "no campaign \"nope\"")
    );
    for path in [
        "/v1/campaigns/..%2Fsecret",
        "/v1/campaigns/%2e%2e%2fsecret",
        "/v1/campaigns/..",
        "/v1/campaigns/a%00b",
    ] {
        let r = c.get(path);
        assert_eq!(r.status, 404, "{path}: {}", r.body);
        assert!(!r.body.contains("secret\":true"));
    }
    let lan = c.get("/v1/campaigns/lan");
    assert_eq!(
        (lan.status, lan.error().as_str()),
        (500, "campaign \"lan\" is misconfigured on this server")
    );
    assert!(
        c.log_text()
            .contains("must not point at a private or local address"),
        "{}",
        c.log_text()
    );
    let broken = c.get("/v1/campaigns/broken");
    assert_eq!(broken.status, 500);
    assert_eq!(
        broken.error(),
        "campaign \"broken\" is misconfigured on this server"
    );
    assert!(
        c.log_text()
            .contains("invalid campaign: controls: at least one control is needed"),
        "{}",
        c.log_text()
    );
}

#[test]
fn the_repository_default_campaign_is_served() {
    let dir = TempDir::new("default-campaign");
    let www = common::www();
    let c = start(&dir, &www, &www.join("campaigns"));
    let r = c.get("/v1/campaigns/default");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["id"], "default");
    assert!(r.json()["platforms"].as_array().unwrap().len() >= 8);
}

#[test]
fn an_embedding_origin_may_submit_and_any_origin_may_read_aggregates() {
    let dir = TempDir::new("cors");
    let campaigns = campaigns_in(dir.path());
    let c = start_with(
        &dir,
        &common::www(),
        &campaigns,
        &["--embed-origin", "https://news.example"],
    );
    let preflight = request(
        c.addr,
        "OPTIONS",
        "/v1/reports",
        &[
            ("Origin", "https://news.example"),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type"),
        ],
        b"",
    );
    assert!(
        preflight.status == 200 || preflight.status == 204,
        "{preflight:?}"
    );
    assert_eq!(preflight.header("access-control-allow-origin"), Some("*"));
    assert!(preflight
        .header("access-control-allow-methods")
        .unwrap()
        .contains("POST"));
    assert!(preflight
        .header("access-control-allow-headers")
        .unwrap()
        .contains("content-type"));
    let post = request(
        c.addr,
        "POST",
        "/v1/reports",
        &[
            ("Origin", "https://news.example"),
            ("Content-Type", "text/plain"),
        ],
        common::report_json(1, netreach::Outcome::Ok, netreach::Outcome::Ok).as_bytes(),
    );
    assert_eq!(post.status, 201);
    assert_eq!(post.header("access-control-allow-origin"), Some("*"));
    let agg = request(
        c.addr,
        "GET",
        "/v1/aggregates",
        &[("Origin", "https://other.example")],
        b"",
    );
    assert_eq!(agg.status, 200);
    assert_eq!(agg.header("access-control-allow-origin"), Some("*"));
    assert!(agg
        .header("access-control-expose-headers")
        .unwrap()
        .contains("x-netreach-k"));
}

/// What other sites load (`embed.js`, `pkg/`) may be read from any origin, so that a news site
/// can pin it with Subresource Integrity (`crossorigin` makes the browser insist on CORS) and
/// import the engine; the pinned copies are cached for a year; the pages get no CORS.
#[test]
fn embed_and_package_files_allow_any_origin_and_pinned_copies_are_immutable() {
    let dir = TempDir::new("cross-origin");
    let www = dir.path().join("www");
    std::fs::create_dir_all(www.join("pkg")).unwrap();
    for (file, body) in [
        ("index.html", "<!doctype html><title>netreach</title>"),
        ("dashboard.html", "<!doctype html><title>dashboard</title>"),
        ("embed.html", "<!doctype html><title>embed</title>"),
        ("card.html", "<!doctype html><title>card</title>"),
        ("app.js", "export {};"),
        ("card.js", "export {};"),
        ("embed.js", "(() => {})();"),
        ("pkg/embed.0123456789abcdef.js", "(() => {})();"),
        ("pkg/netreach.js", "export default 1;"),
        ("pkg/netreach.fedcba9876543210.js", "export default 2;"),
        ("pkg/netreach.fedcba9876543210.js.gz", "gzipped twin"),
        ("pkg/netreach_bg.wasm", "\0asm\x01\0\0\0"),
        ("pkg/netreach_bg.00112233445566ff.wasm", "\0asm\x01\0\0\0"),
        ("pkg/integrity.json", "{}"),
    ] {
        std::fs::write(www.join(file), body).unwrap();
    }
    let c = start(&dir, &www, &campaigns_in(dir.path()));
    let news = ("Origin", "https://news.example");
    let get = |path: &str, headers: &[(&str, &str)]| request(c.addr, "GET", path, headers, b"");
    const IMMUTABLE: Option<&str> = Some("public, max-age=31536000, immutable");

    let pinned = [
        "/pkg/embed.0123456789abcdef.js",
        "/pkg/netreach.fedcba9876543210.js",
        "/pkg/netreach_bg.00112233445566ff.wasm",
    ];
    let unversioned = [
        "/embed.js",
        "/pkg/netreach.js",
        "/pkg/netreach_bg.wasm",
        "/pkg/integrity.json",
    ];
    for path in pinned.iter().chain(&unversioned) {
        let r = get(path, &[news]);
        let cache = pinned.contains(path).then_some(IMMUTABLE).flatten();
        assert_eq!(
            (
                r.status,
                r.header("access-control-allow-origin"),
                r.header("cross-origin-resource-policy"),
                r.header("cache-control"),
                r.header("x-content-type-options"),
            ),
            (200, Some("*"), Some("cross-origin"), cache, Some("nosniff")),
            "{path}"
        );
    }
    // A pinned copy's gzipped twin leaves with the same headers.
    let zipped = get(
        "/pkg/netreach.fedcba9876543210.js",
        &[news, ("Accept-Encoding", "gzip")],
    );
    assert_eq!(
        (
            zipped.body.as_str(),
            zipped.header("content-encoding"),
            zipped.header("access-control-allow-origin"),
            zipped.header("cache-control"),
        ),
        ("gzipped twin", Some("gzip"), Some("*"), IMMUTABLE)
    );
    // A pinned name that is not there yet (a build still being deployed) is not cached.
    let missing = get("/pkg/netreach.0000000000000000.js", &[news]);
    assert_eq!(
        (missing.status, missing.header("cache-control")),
        (404, None)
    );

    // The pages are opened or framed, never read by another site: the status card and its
    // script included (embed.js, which frames it, is what other sites load).
    for path in [
        "/",
        "/index.html",
        "/dashboard",
        "/embed.html",
        "/app.js",
        "/card.html?cc=PK",
        "/card.js",
    ] {
        let r = get(path, &[news]);
        assert_eq!(
            (
                r.status,
                r.header("access-control-allow-origin"),
                r.header("cross-origin-resource-policy"),
                r.header("cache-control"),
            ),
            (200, None, None, None),
            "{path}"
        );
    }
}

#[test]
fn health_is_terse_in_public_and_metrics_are_only_on_the_admin_listener() {
    let dir = TempDir::new("health");
    let store = Store::sqlite(dir.path());
    let c = Collector::on(
        &store,
        dir.path(),
        &["--admin-listen", "127.0.0.1:0"],
        "collector.log",
    );
    let h = c.get("/healthz");
    assert_eq!((h.status, h.body.as_str()), (200, "ok\n"));
    assert_eq!(
        c.post(&common::report_json(
            1,
            netreach::Outcome::Ok,
            netreach::Outcome::Ok
        ))
        .status,
        201
    );
    assert_eq!(c.post("{").status, 400);
    // The report counter would time each report to the second: not on the public port.
    assert_eq!(c.get("/metrics").status, 404);
    let admin = c.admin.unwrap();
    assert!(admin.ip().is_loopback() && admin != c.addr);
    let m = c.admin_get("/metrics");
    assert!(m
        .header("content-type")
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    m.assert_lines(&[
        "netreach_reports_total{status=\"201\"} 1",
        "netreach_reports_total{status=\"400\"} 1",
        "netreach_write_seconds_count 1",
        "netreach_reports_stored_total{storage=\"sqlite\"} 1",
        "netreach_write_batch_reports_bucket{le=\"1\"} 1",
    ]);
    assert_eq!(c.admin_get("/healthz").body, "ok\n");
    // The admin listener serves nothing else.
    assert_eq!(c.admin_get("/v1/aggregates").status, 404);

    // Without --admin-listen, no metrics anywhere.
    let other = TempDir::new("health-plain");
    let plain = Collector::on(
        &Store::sqlite(other.path()),
        other.path(),
        &[],
        "collector.log",
    );
    assert_eq!(plain.get("/metrics").status, 404);
    assert!(plain.admin.is_none());
}

#[test]
fn help_lists_every_flag() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_netreach-collector"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--listen",
        "--database",
        "--www",
        "--campaigns",
        "--k",
        "--geo-country",
        "--geo-asn",
        "--trusted-proxy",
        "--public-origin",
        "--embed-origin",
        "--trusted-hops",
        "--rate-limit",
        "--rate-limit-clients",
        "--aggregate-rate-limit",
        "--max-concurrent-aggregates",
        "--aggregate-cache-seconds",
        "--max-aggregate-rows",
        "--max-body",
        "--write-queue",
        "--db-timeout-ms",
        "--body-timeout-ms",
        "--request-timeout-ms",
        "--max-connections",
        "--admin-listen",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
}

#[test]
fn the_start_line_says_where_reports_may_come_from_and_warns_without_a_public_origin() {
    let dir = TempDir::new("origin-warning");
    let campaigns = campaigns_in(dir.path());
    let open = start_with(
        &dir,
        &common::www(),
        &campaigns,
        &[
            "--listen",
            "0.0.0.0:0",
            "--embed-origin",
            "https://news.example",
        ],
    );
    let log = open.log_text();
    assert!(
        log.contains("warning: no --public-origin; reports are accepted only from pages opened at an IP address")
            && log.contains("reports from the Host header when it is an IP address or localhost, embedding https://news.example)"),
        "{log}"
    );
    drop(open);
    let dir = TempDir::new("origin-public");
    let public = start_with(
        &dir,
        &common::www(),
        &campaigns_in(dir.path()),
        &[
            "--listen",
            "0.0.0.0:0",
            "--public-origin",
            "https://netreach.example",
        ],
    );
    let log = public.log_text();
    assert!(
        !log.contains("warning") && log.contains("reports from https://netreach.example)"),
        "{log}"
    );
}
