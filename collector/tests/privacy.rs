//! The sender's address is used for the geo lookup and rate limiting only: it appears nowhere
//! in the database files (main file, WAL, shared memory) or in the logs. `X-Forwarded-For` is
//! used only from a peer in a `--trusted-proxy` range.

mod common;

use common::http::request_from;
use common::{mmdb, report_json, Collector, Store, TempDir};
use netreach::Outcome;
use std::net::IpAddr;

/// The client's own loopback address (Linux routes all of 127.0.0.0/8 to lo).
const CLIENT: &str = "127.0.0.9";
/// What a trusted proxy says the client was.
const FORWARDED: &str = "203.0.113.77";
/// What a client claims in X-Forwarded-For, hoping to be believed.
const SPOOFED: &str = "198.51.100.66";

fn geo_fixtures(dir: &std::path::Path) -> (String, String) {
    let country = dir.join("country.mmdb");
    let asn = dir.join("asn.mmdb");
    std::fs::write(
        &country,
        mmdb::country(&[
            ("127.0.0.9".parse().unwrap(), 32, "DE"),
            ("203.0.113.0".parse().unwrap(), 24, "PK"),
            ("198.51.100.0".parse().unwrap(), 24, "US"),
        ]),
    )
    .unwrap();
    std::fs::write(
        &asn,
        mmdb::asn(&[
            ("127.0.0.9".parse().unwrap(), 32, 64501),
            ("203.0.113.0".parse().unwrap(), 24, 17557),
            ("198.51.100.0".parse().unwrap(), 24, 64502),
        ]),
    )
    .unwrap();
    (
        country.to_str().unwrap().into(),
        asn.to_str().unwrap().into(),
    )
}

/// A collector on `store` in `dir` with the geo fixtures and k = 1, plus `extra` flags.
fn start(store: &Store, dir: &std::path::Path, extra: &[&str], log: &str) -> Collector {
    let (country, asn) = geo_fixtures(dir);
    let geo = ["--geo-country", &country, "--geo-asn", &asn, "--k", "1"];
    Collector::on(store, dir, &[&geo[..], extra].concat(), log)
}

fn post_from(collector: &Collector, marker: u32, forwarded_for: &str) -> u16 {
    post_via(collector, CLIENT, marker, forwarded_for)
}

/// Posts a report from the loopback address `peer`, with `X-Forwarded-For: forwarded_for`.
fn post_via(collector: &Collector, peer: &str, marker: u32, forwarded_for: &str) -> u16 {
    let client: IpAddr = peer.parse().unwrap();
    let body = report_json(marker, Outcome::Timeout, Outcome::Ok);
    request_from(
        Some(client),
        collector.addr,
        "POST",
        "/v1/reports",
        &[
            ("Content-Type", "application/json"),
            ("Origin", &common::own_origin(collector.addr)),
            ("X-Forwarded-For", forwarded_for),
        ],
        body.as_bytes(),
    )
    .unwrap()
    .status
}

fn cells(collector: &Collector) -> Vec<(String, u64, u64)> {
    let agg = collector.get("/v1/aggregates?platform=x").json();
    agg["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["cc"].as_str().unwrap().to_owned(),
                c["asn"].as_u64().unwrap(),
                c["reports"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn the_client_address_reaches_neither_storage_nor_logs() {
    let dir = TempDir::new("privacy");
    let store = Store::sqlite(dir.path());
    let db = match &store {
        Store::Sqlite(path) => path.clone(),
        Store::Postgres(..) => unreachable!(),
    };

    // Without --trusted-proxy, X-Forwarded-For is ignored: the peer address decides.
    let mut direct = start(&store, dir.path(), &[], "direct.log");
    for marker in 1..=3 {
        assert_eq!(
            post_from(&direct, marker, &format!("{SPOOFED}, {FORWARDED}")),
            201
        );
    }
    assert_eq!(cells(&direct), [("DE".to_owned(), 64501, 3)]);
    let warning = "requests carry X-Forwarded-For but no --trusted-proxy is set";
    assert_eq!(direct.log_text().matches(warning).count(), 1, "logged once");
    assert_eq!(direct.terminate().code(), Some(0));

    // Behind a trusted proxy, the last X-Forwarded-For entry (the proxy's) decides. (The
    // range, printed at start, is written so as not to spell the client's address.)
    let proxied = start(
        &store,
        dir.path(),
        &["--trusted-proxy", "127.0.0.8/29"],
        "proxied.log",
    );
    for marker in 4..=5 {
        assert_eq!(
            post_from(&proxied, marker, &format!("{SPOOFED}, {FORWARDED}")),
            201
        );
    }
    assert_eq!(
        cells(&proxied),
        [("DE".to_owned(), 64501, 3), ("PK".to_owned(), 17557, 2)]
    );

    // While the collector runs, the WAL and shared-memory files exist beside the database.
    let mut files = vec![db.clone()];
    for suffix in ["-wal", "-shm"] {
        let f = std::path::PathBuf::from(format!("{}{suffix}", db.display()));
        assert!(f.exists(), "{} missing", f.display());
        files.push(f);
    }
    let mut haystacks: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|f| (f.display().to_string(), std::fs::read(f).unwrap()))
        .collect();
    haystacks.push(("direct.log".into(), direct.log_text().into_bytes()));
    haystacks.push(("proxied.log".into(), proxied.log_text().into_bytes()));
    for (name, bytes) in &haystacks {
        for address in [CLIENT, FORWARDED, SPOOFED] {
            assert!(
                !bytes
                    .windows(address.len())
                    .any(|w| w == address.as_bytes()),
                "{address} found in {name}"
            );
        }
    }
    // What is stored instead: the country and network only.
    let rows = store.query("SELECT cc, asn FROM reports ORDER BY runtime_ms");
    assert_eq!(
        rows,
        [
            "DE\t64501",
            "DE\t64501",
            "DE\t64501",
            "PK\t17557",
            "PK\t17557"
        ]
    );
}

#[test]
fn forwarded_for_counts_only_from_a_peer_in_a_trusted_range() {
    let dir = TempDir::new("proxy-range");
    let store = Store::sqlite(dir.path());
    let collector = start(
        &store,
        dir.path(),
        &[
            "--trusted-proxy",
            "127.0.0.2/32",
            "--trusted-proxy",
            "2001:db8::/32",
        ],
        "collector.log",
    );
    let forwarded = format!("{SPOOFED}, {FORWARDED}");
    // From the proxy (in the range): the entry it appended, PK.
    assert_eq!(post_via(&collector, "127.0.0.2", 1, &forwarded), 201);
    // From 127.0.0.9 (outside every range): the header is the client's claim, ignored; the
    // peer is the client, DE.
    assert_eq!(post_via(&collector, CLIENT, 2, &forwarded), 201);
    assert_eq!(
        cells(&collector),
        [("DE".to_owned(), 64501, 1), ("PK".to_owned(), 17557, 1)]
    );
    assert!(!collector.log_text().contains("warning"));
}
