//! PostgreSQL over TLS (rustls): a real server started with `ssl=on` that refuses plain TCP
//! connections (`hostssl` only), with a certificate made here by a CA of the test's own.
//! `sslmode=require` encrypts, `verify-full` also checks chain and name against `--db-ca`,
//! `verify-ca` the chain only; a server without TLS stops a collector that requires it at
//! start, with the reason (issue #10: "PostgreSQL connections have no TLS option").

mod common;

use base64::Engine as _;
use common::pg::Cluster;
use common::{campaigns_in, report_json, Collector, TempDir};
use netreach::Outcome;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// A CA: its certificate (PEM) and what it needs to sign.
struct Authority {
    params: CertificateParams,
    key: KeyPair,
    pem: String,
}

impl Authority {
    fn new(name: &str) -> Authority {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = params.self_signed(&key).unwrap();
        let pem = pem("CERTIFICATE", cert.der());
        Authority { params, key, pem }
    }

    /// A server certificate for `names` and its key, both PEM.
    fn issue(&self, names: &[&str]) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        let cert = params
            .signed_by(&key, &Issuer::from_params(&self.params, &self.key))
            .unwrap();
        (
            pem("CERTIFICATE", cert.der()),
            pem("PRIVATE KEY", &key.serialize_der()),
        )
    }

    fn write(&self, dir: &Path, name: &str) -> PathBuf {
        let file = dir.join(name);
        std::fs::write(&file, &self.pem).unwrap();
        file
    }
}

/// A TLS-only cluster whose certificate, from `ca`, names 127.0.0.1 only, with a database.
fn tls_cluster(ca: &Authority) -> (Arc<Cluster>, String) {
    let (cert, key) = ca.issue(&["127.0.0.1"]);
    let cluster = Arc::new(Cluster::start_tls(&cert, &key));
    let db = cluster.create_database();
    (cluster, db)
}

/// The collector's exit status and what it printed, when it does not start.
fn start_fails(dir: &Path, url: &str, extra: &[&str]) -> (Option<i32>, String) {
    let campaigns = campaigns_in(dir);
    let out = Command::new(env!("CARGO_BIN_EXE_netreach-collector"))
        .args(["--listen", "127.0.0.1:0", "--database", url, "--campaigns"])
        .arg(&campaigns)
        .args(["--db-timeout-ms", "2000"])
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn stores_a_report(url: &str, dir: &Path, extra: &[&str], log: &str) {
    let campaigns = campaigns_in(dir);
    let mut args = vec![
        "--database",
        url,
        "--campaigns",
        campaigns.to_str().unwrap(),
        "--rate-limit",
        "0",
    ];
    args.extend_from_slice(extra);
    let mut collector = Collector::start(&args, &dir.join(log));
    let r = collector.post(&report_json(1, Outcome::Ok, Outcome::Ok));
    assert_eq!(r.status, 201, "{url}: {}", r.body);
    assert_eq!(collector.terminate().code(), Some(0));
}

#[test]
fn require_and_verify_full_connect_over_tls_and_check_what_they_say() {
    let dir = TempDir::new("pg-tls");
    let ca = Authority::new("netreach test CA");
    let ca_file = ca.write(dir.path(), "ca.pem");
    let other_ca = Authority::new("someone else's CA").write(dir.path(), "other.pem");
    let (cluster, db) = tls_cluster(&ca);
    let url = cluster.url(&db);
    let with_ca = ["--db-ca", ca_file.to_str().unwrap()];
    let with_other_ca = ["--db-ca", other_ca.to_str().unwrap()];

    // The server takes no plain connection: what works below went over TLS.
    let (code, err) = start_fails(dir.path(), &format!("{url}?sslmode=disable"), &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("no pg_hba.conf entry"), "{err}");

    stores_a_report(
        &format!("{url}?sslmode=require"),
        dir.path(),
        &[],
        "require.log",
    );
    // The default (prefer) takes TLS when the server offers it.
    stores_a_report(&url, dir.path(), &[], "prefer.log");
    stores_a_report(
        &format!("{url}?sslmode=verify-full"),
        dir.path(),
        &with_ca,
        "verify-full.log",
    );
    assert_eq!(cluster.query(&db, "SELECT COUNT(*) FROM reports"), ["3"]);

    // A certificate from another CA: refused, under verify-full and verify-ca.
    for mode in ["verify-full", "verify-ca"] {
        let (code, err) = start_fails(dir.path(), &format!("{url}?sslmode={mode}"), &with_other_ca);
        assert_eq!(code, Some(1), "{mode}: {err}");
        assert!(err.contains("UnknownIssuer"), "{mode}: {err}");
    }
    // The certificate names 127.0.0.1, not localhost: verify-full refuses, verify-ca does
    // not look at the name.
    let by_name = url.replace("127.0.0.1", "localhost");
    let (code, err) = start_fails(
        dir.path(),
        &format!("{by_name}?sslmode=verify-full"),
        &with_ca,
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("certificate not valid for name \"localhost\""),
        "{err}"
    );
    stores_a_report(
        &format!("{by_name}?sslmode=verify-ca"),
        dir.path(),
        &with_ca,
        "verify-ca.log",
    );

    // verify-full without a CA to check against: refused before connecting.
    let (code, err) = start_fails(dir.path(), &format!("{url}?sslmode=verify-full"), &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("sslmode=verify-full needs"), "{err}");
}

#[test]
fn require_against_a_server_without_tls_stops_the_collector_at_start() {
    let dir = TempDir::new("pg-no-tls");
    let cluster = Cluster::shared();
    let db = cluster.create_database();
    let (code, err) = start_fails(
        dir.path(),
        &format!("{}?sslmode=require", cluster.url(&db)),
        &[],
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("netreach-collector: database: postgres:")
            && err.contains("server does not support TLS"),
        "{err}"
    );
}
