//! `netreach-catalog check` as an operator runs it: bad input gives exit status 2 before any
//! browser starts; a campaign of the fixture server's endpoints, one deliberately bad of each
//! kind, gives each its status and reason per browser, and exit status 1; one of the good
//! ones alone gives exit status 0.
//!
//! The browser tests need the fixture server and a built package: `cargo xtask test browser`
//! (Chromium) and `browser-firefox` run them (`--ignored chromium` / `firefox`), with
//! `NETREACH_FIXTURES` set to the server's address.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Output};

fn check(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netreach-catalog"))
        .arg("check")
        .args(args)
        .output()
        .expect("netreach-catalog runs")
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "netreach-catalog-{}-{name}.json",
        std::process::id()
    ));
    std::fs::write(&path, text).expect("temp file written");
    path
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn an_unknown_campaign_id_is_bad_input() {
    let output = check(&["no-such-campaign"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("unknown campaign `no-such-campaign`"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn an_unreadable_campaign_file_is_bad_input() {
    let output = check(&["/nonexistent/campaign.json"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("cannot read /nonexistent/campaign.json"));
}

#[test]
fn an_invalid_campaign_is_bad_input_naming_its_field() {
    let no_controls = temp_file(
        "invalid",
        r#"{"id": "x", "controls": [], "platforms": [{"id": "p", "name": "P",
            "endpoints": [{"url": "https://p.example/", "kind": "fetch"}]}]}"#,
    );
    let output = check(&[no_controls.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("invalid campaign") && stderr(&output).contains("controls"),
        "{}",
        stderr(&output)
    );
    let not_json = temp_file("not-json", "{ not json");
    let output = check(&[not_json.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
}

/// One endpoint of the fixture campaign: path on the fixture server (or a full URL), kind,
/// declared bytes, and the status and a part of the reason expected in Chromium and Firefox.
struct Expected {
    path: &'static str,
    kind: &'static str,
    bytes: Option<u64>,
    chromium: (&'static str, &'static str),
    firefox: (&'static str, &'static str),
}

impl Expected {
    fn in_browser(&self, browser: &str) -> (&'static str, &'static str) {
        if browser == "chromium" {
            self.chromium
        } else {
            self.firefox
        }
    }
}

const fn same(
    path: &'static str,
    kind: &'static str,
    bytes: Option<u64>,
    both: (&'static str, &'static str),
) -> Expected {
    Expected {
        path,
        kind,
        bytes,
        chromium: both,
        firefox: both,
    }
}

/// What each endpoint gives, as measured in Chromium 156 and Firefox ESR 153.
const EXPECTED: &[Expected] = &[
    same("/image.png", "image", None, ("ok", "")),
    same("/text", "fetch", None, ("ok", "")),
    same(
        "/script.js?n=40000",
        "fetch",
        Some(40_000),
        ("ok", "size 40000 B"),
    ),
    same("/missing.png", "image", None, ("unusable", "HTTP 404")),
    same(
        "/not-image.png",
        "image",
        None,
        ("unusable", "content type text/html, not an image"),
    ),
    same("/corp", "fetch", None, ("unusable", "CORP same-origin")),
    // Neither browser turns an ORB-blocked body into a failure: the opaque answer proves the
    // path, as the engine counts it.
    same("/data.json?n=100", "fetch", None, ("ok", "")),
    same("/page", "fetch", None, ("ok", "")),
    same(
        "/moved.png",
        "image",
        None,
        ("unusable", "redirect to http://"),
    ),
    Expected {
        path: "/script.js?n=40000&store=no",
        kind: "fetch",
        bytes: Some(40_000),
        chromium: (
            "unusable",
            "no Resource Timing entry (Cache-Control: no-store)",
        ),
        firefox: ("ok", "size 40000 B"),
    },
    same(
        "/script.js?n=10000",
        "fetch",
        Some(40_000),
        ("unusable", "declared 40000 B (-75 %)"),
    ),
    same(
        "closed-port",
        "image",
        None,
        ("unreachable", "Connection refused"),
    ),
];

/// The fixture server's `/info`: a loopback port nothing listens on.
fn closed_port(fixtures: &str) -> u16 {
    let address = fixtures.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).expect("the fixture server answers");
    write!(
        stream,
        "GET /info HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let digits: String = answer
        .split("\"closed_port\":")
        .nth(1)
        .expect("/info names a closed port")
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().unwrap()
}

fn url(fixtures: &str, closed: u16, path: &str) -> String {
    if path == "closed-port" {
        format!("http://127.0.0.1:{closed}/favicon.ico")
    } else {
        format!("{fixtures}{path}")
    }
}

fn classifies_each_bad_endpoint(browser: &str) {
    let fixtures = std::env::var("NETREACH_FIXTURES")
        .expect("NETREACH_FIXTURES: run through cargo xtask test browser / browser-firefox");
    let closed = closed_port(&fixtures);
    let all: Vec<&Expected> = EXPECTED.iter().collect();
    let stdout = run_fixture_campaign(browser, &fixtures, closed, &all, 1);
    for expected in EXPECTED {
        let url = url(&fixtures, closed, expected.path);
        let row = stdout
            .lines()
            .find(|line| line.split_whitespace().nth(1) == Some(url.as_str()))
            .unwrap_or_else(|| panic!("no row for {url}:\n{stdout}"));
        let (status, reason) = expected.in_browser(browser);
        let mut words = row.split_whitespace().skip(2);
        assert_eq!(words.next(), Some(browser), "{row}");
        assert_eq!(words.next(), Some(status), "{row}");
        assert!(row.contains(reason), "{row}: wanted reason `{reason}`");
    }
    assert!(
        stdout.contains("catalog check: 14 loads"),
        "the summary counts the controls too:\n{stdout}"
    );

    // Only what is ok in this browser: exit status 0.
    let good: Vec<&Expected> = EXPECTED
        .iter()
        .filter(|e| e.in_browser(browser).0 == "ok")
        .collect();
    let stdout = run_fixture_campaign(browser, &fixtures, closed, &good, 0);
    assert!(stdout.contains(" 0 unusable, 0 unreachable"), "{stdout}");
}

/// Runs the check in `browser` on the fixture controls and `endpoints`, expecting exit
/// status `code`; its output.
fn run_fixture_campaign(
    browser: &str,
    fixtures: &str,
    closed: u16,
    endpoints: &[&Expected],
    code: i32,
) -> String {
    let endpoints: Vec<String> = endpoints
        .iter()
        .map(|e| {
            let bytes = e
                .bytes
                .map_or(String::new(), |b| format!(", \"bytes\": {b}"));
            format!(
                r#"{{"url": "{}", "kind": "{}"{bytes}}}"#,
                url(fixtures, closed, e.path),
                e.kind
            )
        })
        .collect();
    let campaign = format!(
        r#"{{"id": "fixtures", "controls": [{{"url": "{fixtures}/image.gif", "kind": "image"}},
            {{"url": "{fixtures}/script.js?n=1000", "kind": "fetch"}}],
            "platforms": [{{"id": "fixture", "name": "Fixture", "endpoints": [{}]}}]}}"#,
        endpoints.join(", ")
    );
    let file = temp_file(&format!("fixtures-{browser}-{code}"), &campaign);
    let output = check(&["--browser", browser, file.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(
        output.status.code(),
        Some(code),
        "{stdout}\n{}",
        stderr(&output)
    );
    stdout
}

#[test]
#[ignore = "needs the fixture server and Chromium: cargo xtask test browser"]
fn chromium_classifies_each_bad_endpoint() {
    classifies_each_bad_endpoint("chromium");
}

#[test]
#[ignore = "needs the fixture server and Firefox ESR: cargo xtask test browser-firefox"]
fn firefox_classifies_each_bad_endpoint() {
    classifies_each_bad_endpoint("firefox");
}
