//! The sender's address is used for the geo lookup and rate limiting only: it appears nowhere
//! in the database files (main file, WAL, shared memory) or in the logs. `X-Forwarded-For` is
//! used only with `--trusted-proxy`.

mod common;

use common::http::request_from;
use common::{campaigns_in, mmdb, report_json, Collector, Store, TempDir};
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

fn post_from(collector: &Collector, marker: u32, forwarded_for: &str) -> u16 {
    let client: IpAddr = CLIENT.parse().unwrap();
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
    let (country, asn) = geo_fixtures(dir.path());
    let store = Store::sqlite(dir.path());
    let db = match &store {
        Store::Sqlite(path) => path.clone(),
        Store::Postgres(..) => unreachable!(),
    };
    let campaigns = campaigns_in(dir.path());
    let url = store.url();
    let common_args = [
        "--database",
        &url,
        "--campaigns",
        campaigns.to_str().unwrap(),
        "--geo-country",
        &country,
        "--geo-asn",
        &asn,
        "--k",
        "1",
    ];

    // Without --trusted-proxy, X-Forwarded-For is ignored: the peer address decides.
    let mut direct = Collector::start(&common_args, &dir.path().join("direct.log"));
    for marker in 1..=3 {
        assert_eq!(
            post_from(&direct, marker, &format!("{SPOOFED}, {FORWARDED}")),
            201
        );
    }
    assert_eq!(cells(&direct), [("DE".to_owned(), 64501, 3)]);
    assert_eq!(direct.terminate().code(), Some(0));

    // Behind a trusted proxy, the last X-Forwarded-For entry (the proxy's) decides.
    let mut args = common_args.to_vec();
    args.push("--trusted-proxy");
    let proxied = Collector::start(&args, &dir.path().join("proxied.log"));
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
