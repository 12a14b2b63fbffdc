//! Soak test of the collector (`cargo xtask bench soak [MINUTES]`, default 30): mixed load on a
//! release collector with SQLite, killed with SIGKILL halfway and started again on the same
//! database, then three figures:
//!
//! - acknowledged reports lost: every `201` carries a distinct `runtime_ms` marker, and each
//!   must be in the database at the end (must be 0);
//! - memory over time: the collector's resident set every 10 s, per life (should be flat);
//! - latency of valid reports under load: p50, p99, max.
//!
//! The load, on its own threads: 4 clients posting valid reports (`SOAK_RATE` a second in all,
//! default 40); 1 posting invalid ones
//! (malformed, wrong type, another origin, an incomplete report); 1 oversized bodies; 1 a slow
//! client whose body stalls past the body timeout; 1 aggregate queries. Every answer's status is
//! counted; a status outside what each client may get is a failure.
//!
//! `cargo run --release -p netreach-collector --example soak -- MINUTES COLLECTOR_BINARY`

#[path = "common/sample.rs"]
mod sample;

use std::collections::{BTreeMap, HashSet};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// What every client thread shares.
struct Shared {
    addr: Mutex<SocketAddr>,
    stop: AtomicBool,
    marker: AtomicU32,
    acknowledged: Mutex<Vec<u32>>,
    latencies_ms: Mutex<Vec<f64>>,
    /// (client, status) → answers.
    statuses: Mutex<BTreeMap<(&'static str, u16), u64>>,
    unexpected: Mutex<Vec<String>>,
}

fn request(addr: SocketAddr, head: &str, body: &[u8]) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status line"))?;
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_owned();
    Ok((status, body))
}

fn post_head(addr: SocketAddr, origin: &str, content_type: &str, len: usize) -> String {
    format!(
        "POST /v1/reports HTTP/1.1\r\nHost: {addr}\r\nOrigin: {origin}\r\nConnection: close\r\n\
         Content-Type: {content_type}\r\nContent-Length: {len}\r\n\r\n"
    )
}

impl Shared {
    fn addr(&self) -> SocketAddr {
        *self.addr.lock().unwrap()
    }

    fn count(&self, client: &'static str, status: u16, allowed: &[u16]) {
        *self
            .statuses
            .lock()
            .unwrap()
            .entry((client, status))
            .or_default() += 1;
        if !allowed.contains(&status) {
            self.unexpected
                .lock()
                .unwrap()
                .push(format!("{client}: {status}"));
        }
    }
}

/// Valid reports at `every` intervals, each with its own marker; connection failures (the
/// collector restarting) are retried with a new marker, never counted as acknowledged.
fn valid_client(shared: &Shared, template: &serde_json::Value, every: Duration) {
    let mut next = Instant::now();
    while !shared.stop.load(Ordering::Relaxed) {
        next += every;
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            thread::sleep(wait);
        }
        let marker = shared.marker.fetch_add(1, Ordering::Relaxed);
        let mut report = template.clone();
        report["runtime_ms"] = marker.into();
        let body = serde_json::to_vec(&report).unwrap();
        let addr = shared.addr();
        let head = post_head(addr, &format!("http://{addr}"), "text/plain", body.len());
        let started = Instant::now();
        match request(addr, &head, &body) {
            Ok((status, _)) => {
                shared.count("valid", status, &[201, 503]);
                if status == 201 {
                    shared.acknowledged.lock().unwrap().push(marker);
                    let ms = started.elapsed().as_secs_f64() * 1e3;
                    shared.latencies_ms.lock().unwrap().push(ms);
                }
            }
            Err(_) => thread::sleep(Duration::from_millis(50)),
        }
    }
}

fn invalid_client(shared: &Shared, template: &serde_json::Value) {
    let mut incomplete = template.clone();
    incomplete["platforms"].as_array_mut().unwrap().truncate(1);
    let incomplete = serde_json::to_vec(&incomplete).unwrap();
    let valid = serde_json::to_vec(template).unwrap();
    let mut n = 0usize;
    while !shared.stop.load(Ordering::Relaxed) {
        n += 1;
        let addr = shared.addr();
        let own = format!("http://{addr}");
        let (origin, content_type, body): (&str, &str, &[u8]) = match n % 4 {
            0 => (
                &own,
                "application/json",
                b"{\"schema\": \"netreach.report/1\", ",
            ),
            1 => (&own, "application/xml", b"<report/>"),
            2 => ("https://evil.example", "text/plain", &valid),
            _ => (&own, "application/json", &incomplete),
        };
        if let Ok((status, _)) = request(
            addr,
            &post_head(addr, origin, content_type, body.len()),
            body,
        ) {
            shared.count("invalid", status, &[400, 403, 415, 422]);
        }
        thread::sleep(Duration::from_millis(5));
    }
}

fn oversized_client(shared: &Shared) {
    let body = vec![b' '; 300_000];
    while !shared.stop.load(Ordering::Relaxed) {
        let addr = shared.addr();
        let head = post_head(
            addr,
            &format!("http://{addr}"),
            "application/json",
            body.len(),
        );
        match request(addr, &head, &body) {
            Ok((status, _)) => shared.count("oversized", status, &[413]),
            // The collector may close the connection before reading all of it.
            Err(_) => shared.count("oversized", 0, &[0]),
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Sends the head and a few bytes of body, then nothing: the collector must answer 408.
fn slow_client(shared: &Shared) {
    while !shared.stop.load(Ordering::Relaxed) {
        let addr = shared.addr();
        let head = post_head(addr, &format!("http://{addr}"), "application/json", 5000);
        if let Ok((status, _)) = request(addr, &head, b"{\"schema\"") {
            shared.count("slow", status, &[408]);
        }
    }
}

fn aggregate_client(shared: &Shared) {
    while !shared.stop.load(Ordering::Relaxed) {
        let addr = shared.addr();
        let head = format!(
            "GET /v1/aggregates?bucket=hour HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        );
        if let Ok((status, _)) = request(addr, &head, b"") {
            shared.count("aggregates", status, &[200, 503]);
        }
        thread::sleep(Duration::from_millis(200));
    }
}

fn start(binary: &Path, dir: &Path) -> (Child, SocketAddr) {
    let log = dir.join("collector.log");
    let mut child = Command::new(binary)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--rate-limit",
            "0",
            "--aggregate-rate-limit",
            "0",
        ])
        .arg("--database")
        .arg(format!("sqlite://{}", dir.join("soak.db").display()))
        .arg("--campaigns")
        .arg(dir.join("campaigns"))
        .args(["--body-timeout-ms", "2000"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("starting the collector");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let line = text
            .split("listening on http://")
            .nth(1)
            .filter(|rest| rest.contains('\n'));
        if let Some(rest) = line {
            let addr = rest.split_whitespace().next().unwrap().parse().unwrap();
            return (child, addr);
        }
        if child.try_wait().unwrap().is_some() || Instant::now() > deadline {
            panic!("the collector did not start:\n{text}");
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// Resident set of `pid` in MiB.
fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let minutes: f64 = args.next().map_or(30.0, |m| m.parse().expect("MINUTES"));
    let binary = PathBuf::from(
        args.next()
            .unwrap_or("target/release/netreach-collector".into()),
    );
    let dir = std::env::temp_dir().join(format!("netreach-soak-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("campaigns")).unwrap();
    std::fs::copy(
        "www/campaigns/default.json",
        dir.join("campaigns/default.json"),
    )
    .expect("run from the repository root");
    let campaign = sample::campaign_file("www/campaigns/default.json");
    let template = serde_json::to_value(sample::sample_report(&campaign)).unwrap();

    let (mut child, addr) = start(&binary, &dir);
    let shared = Arc::new(Shared {
        addr: Mutex::new(addr),
        stop: AtomicBool::new(false),
        marker: AtomicU32::new(1),
        acknowledged: Mutex::new(Vec::new()),
        latencies_ms: Mutex::new(Vec::new()),
        statuses: Mutex::new(BTreeMap::new()),
        unexpected: Mutex::new(Vec::new()),
    });
    let mut threads = Vec::new();
    // A steady rate, not the most the collector takes (that is `bench ingest`): at full speed
    // for 30 minutes the database outgrows the disk (13 GB and a 25 GB WAL after 15 minutes
    // on the 2-core machine).
    let rate: f64 = std::env::var("SOAK_RATE").map_or(40.0, |r| r.parse().expect("SOAK_RATE"));
    let every = Duration::from_secs_f64(4.0 / rate);
    for _ in 0..4 {
        let (s, t) = (shared.clone(), template.clone());
        threads.push(thread::spawn(move || valid_client(&s, &t, every)));
    }
    let (s, t) = (shared.clone(), template.clone());
    threads.push(thread::spawn(move || invalid_client(&s, &t)));
    let s = shared.clone();
    threads.push(thread::spawn(move || oversized_client(&s)));
    let s = shared.clone();
    threads.push(thread::spawn(move || slow_client(&s)));
    let s = shared.clone();
    threads.push(thread::spawn(move || aggregate_client(&s)));

    let total = Duration::from_secs_f64(minutes * 60.0);
    let started = Instant::now();
    let mut killed = false;
    let mut samples: Vec<(u32, f64, f64)> = Vec::new(); // (life, minute, MiB)
    let size_mib =
        |name: &str| std::fs::metadata(dir.join(name)).map_or(0.0, |m| m.len() as f64 / 1048576.0);
    let mut wal_largest: f64 = 0.0;
    while started.elapsed() < total {
        thread::sleep(Duration::from_secs(10).min(total / 6));
        wal_largest = wal_largest.max(size_mib("soak.db-wal"));
        let life = if killed { 2 } else { 1 };
        samples.push((
            life,
            started.elapsed().as_secs_f64() / 60.0,
            rss_mib(child.id()),
        ));
        if !killed && started.elapsed() >= total / 2 {
            child.kill().unwrap(); // SIGKILL: no drain, no flush beyond what was acknowledged
            child.wait().unwrap();
            let (next, addr) = start(&binary, &dir);
            child = next;
            *shared.addr.lock().unwrap() = addr;
            killed = true;
            println!(
                "soak: killed with SIGKILL at {:.1} min, started again",
                started.elapsed().as_secs_f64() / 60.0
            );
        }
    }
    shared.stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    let _ = child.kill();
    let _ = child.wait();

    println!(
        "soak: database {:.0} MiB, WAL {:.0} MiB at the end, {wal_largest:.0} MiB at most (sampled every 10 s)",
        size_mib("soak.db"),
        size_mib("soak.db-wal")
    );
    let db = rusqlite::Connection::open(dir.join("soak.db")).unwrap();
    let stored: HashSet<u32> = db
        .prepare("SELECT runtime_ms FROM reports")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let acknowledged = shared.acknowledged.lock().unwrap();
    let lost = acknowledged.iter().filter(|m| !stored.contains(m)).count();
    let mut latencies = shared.latencies_ms.lock().unwrap().clone();
    latencies.sort_by(f64::total_cmp);

    println!(
        "soak: {minutes} min; {} reports acknowledged, {} stored, {lost} acknowledged reports lost",
        acknowledged.len(),
        stored.len()
    );
    println!(
        "soak: valid report latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} reports/s)",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or(0.0),
        (acknowledged.len() as f64 / total.as_secs_f64()).round()
    );
    for life in [1, 2] {
        let rss: Vec<String> = samples
            .iter()
            .filter(|(l, _, _)| *l == life)
            .map(|(_, minute, mib)| format!("{minute:.1} min {mib:.1}"))
            .collect();
        println!("soak: resident MiB, life {life}: {}", rss.join(", "));
    }
    for ((client, status), n) in shared.statuses.lock().unwrap().iter() {
        println!("soak: {client:<10} {status}: {n}");
    }
    let unexpected = shared.unexpected.lock().unwrap();
    if !unexpected.is_empty() {
        println!(
            "soak: {} unexpected answers, first: {}",
            unexpected.len(),
            unexpected[0]
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    if lost > 0 || !unexpected.is_empty() {
        std::process::exit(1);
    }
}
