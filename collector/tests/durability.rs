//! A 2xx means durable: reports acknowledged before a `kill -9` are all there after a restart,
//! none twice; a SIGTERM answers what is in flight and drains the write queue.

mod common;

use common::http::request_from;
use common::{report_json, Collector, Store, TempDir};
use netreach::Outcome;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const POSTERS: u32 = 8;

fn start(store: &Store, dir: &TempDir, log: &str) -> Collector {
    Collector::on(store, dir.path(), &[], log)
}

/// Posts reports with unique markers from several threads until `stop`, and returns
/// marker → id for every 201, and the number of requests that got no answer.
fn load(
    addr: std::net::SocketAddr,
    stop: Arc<AtomicBool>,
    during: impl FnOnce(),
) -> (HashMap<u32, i64>, usize) {
    let acked = Arc::new(Mutex::new(HashMap::new()));
    let unanswered = Arc::new(Mutex::new(0));
    let threads: Vec<_> = (0..POSTERS)
        .map(|t| {
            let (acked, unanswered, stop, addr) =
                (acked.clone(), unanswered.clone(), stop.clone(), addr);
            std::thread::spawn(move || {
                let origin = common::own_origin(addr);
                for i in 0.. {
                    if stop.load(Ordering::SeqCst) || i >= 20_000 {
                        break;
                    }
                    let marker = 1_000_000 + t * 100_000 + i;
                    let body = report_json(marker, Outcome::Timeout, Outcome::Ok);
                    match request_from(
                        None,
                        addr,
                        "POST",
                        "/v1/reports",
                        &[("Content-Type", "application/json"), ("Origin", &origin)],
                        body.as_bytes(),
                    ) {
                        Ok(r) if r.status == 201 => {
                            let id = r.json()["id"].as_i64().unwrap();
                            acked.lock().unwrap().insert(marker, id);
                        }
                        Ok(r) => panic!("unexpected answer {} {}", r.status, r.body),
                        // After the kill: refused or reset connections.
                        Err(_) => {
                            *unanswered.lock().unwrap() += 1;
                            std::thread::sleep(Duration::from_millis(20));
                        }
                    }
                }
            })
        })
        .collect();
    during();
    stop.store(true, Ordering::SeqCst);
    for t in threads {
        t.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let unanswered = *unanswered.lock().unwrap();
    (acked, unanswered)
}

fn check_every_ack_stored_once(store: &Store, acked: &HashMap<u32, i64>) -> usize {
    let rows = store.query("SELECT runtime_ms, public_id FROM reports");
    let mut stored: HashMap<u32, Vec<i64>> = HashMap::new();
    for row in &rows {
        let (marker, id) = row.split_once('\t').unwrap();
        stored
            .entry(marker.parse().unwrap())
            .or_default()
            .push(id.parse().unwrap());
    }
    let twice: Vec<_> = stored.iter().filter(|(_, ids)| ids.len() > 1).collect();
    assert!(twice.is_empty(), "reports stored twice: {twice:?}");
    let lost: Vec<_> = acked
        .iter()
        .filter(|(marker, id)| stored.get(marker) != Some(&vec![**id]))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged reports lost or under another id, e.g. {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
    let verdicts = store.query("SELECT COUNT(*) FROM verdicts");
    assert_eq!(
        verdicts,
        [(rows.len() * 2).to_string()],
        "every report has both its verdict rows"
    );
    rows.len()
}

fn keeps_every_acknowledged_report_through_kill_9(store: Store) {
    let dir = TempDir::new("kill9");
    let mut collector = start(&store, &dir, "before.log");
    let stop = Arc::new(AtomicBool::new(false));
    let (acked, unanswered) = load(collector.addr, stop, || {
        std::thread::sleep(Duration::from_millis(2500));
        collector.kill9();
        std::thread::sleep(Duration::from_millis(200));
    });
    assert!(
        acked.len() > 50,
        "too little load before the kill: {}",
        acked.len()
    );
    let restarted = start(&store, &dir, "after.log");
    assert_eq!(restarted.get("/healthz").status, 200);
    let stored = check_every_ack_stored_once(&store, &acked);
    eprintln!(
        "{}: {} acknowledged before kill -9, {} stored after restart, {} requests unanswered",
        store.name(),
        acked.len(),
        stored,
        unanswered
    );
    // The restarted collector takes reports again.
    assert_eq!(
        restarted
            .post(&report_json(1, Outcome::Ok, Outcome::Ok))
            .status,
        201
    );
}

test_on_both_stores!(keeps_every_acknowledged_report_through_kill_9);

fn drains_in_flight_reports_on_sigterm(store: Store) {
    let dir = TempDir::new("sigterm");
    let mut collector = start(&store, &dir, "run.log");
    let stop = Arc::new(AtomicBool::new(false));
    let mut status = None;
    let (acked, _) = load(collector.addr, stop, || {
        std::thread::sleep(Duration::from_millis(1500));
        status = Some(collector.terminate());
    });
    assert_eq!(status.unwrap().code(), Some(0), "{}", collector.log_text());
    assert!(collector
        .log_text()
        .contains("stopped; every acknowledged report is stored"));
    assert!(acked.len() > 20);
    let stored = check_every_ack_stored_once(&store, &acked);
    // Every request the collector accepted before closing its socket was answered: with
    // nothing lost in the queue, stored reports are exactly the acknowledged ones.
    assert_eq!(
        stored,
        acked.len(),
        "{}: stored reports that were never acknowledged",
        store.name()
    );
}

test_on_both_stores!(drains_in_flight_reports_on_sigterm);
