//! Fuzzes the two parsers that take input from strangers: a report body as `POST /v1/reports`
//! reads it (`intake::parse` then `intake::check` against the campaigns) and a campaign file
//! (`Campaign` from JSON, then `validate`). Structure-aware: inputs are valid documents with a
//! few JSON nodes replaced, removed, duplicated or swapped (numbers at their limits, long and
//! odd strings, wrong types), half of them with their verdicts re-derived so they reach the
//! deepest checks, and some with their bytes cut or flipped. No coverage guidance (that needs a
//! nightly compiler here): it finds panics and broken invariants, not every path.
//!
//! Each input must give an answer without panicking, every rejection a non-empty message, and
//! an accepted report must be accepted again, unchanged, when what would be stored is sent
//! once more (likewise a valid campaign after a round trip). A failing input is written to
//! `target/fuzz-failures/` and the run exits non-zero.
//!
//! `cargo run --release -p netreach-collector --example fuzz -- [RUNS] [SEED]`
//! (defaults: 1,000,000 runs, a seed from the clock; run from the repository root).

#[path = "../tests/common/rng.rs"]
mod rng;
#[path = "common/sample.rs"]
mod sample;

use netreach::{classify_report, Campaign};
use netreach_collector::campaigns::Campaigns;
use netreach_collector::intake;
use rng::Rng;
use serde_json::{json, Value};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::Instant;

/// Values that break careless code: limits, wrong types, odd text.
fn odd_value(rng: &mut Rng) -> Value {
    match rng.below(16) {
        0 => json!(null),
        1 => json!(true),
        2 => json!(-1),
        3 => json!(0),
        4 => json!(u64::MAX),
        5 => json!(i64::MIN),
        6 => json!(1e308),
        7 => json!(4_294_967_296u64),
        8 => json!(""),
        9 => json!("x".repeat(rng.below(70_000))),
        10 => json!("\u{202e}\u{0}\u{feff}é🙂"),
        11 => json!([]),
        12 => json!({}),
        13 => json!("2026-13-45T99:00:00.000Z"),
        14 => json!(["ok", "timeout", "error", "unusable", "nonsense"][rng.below(5)]),
        _ => json!(rng.next() % 1_000_000),
    }
}

/// Number of nodes of `v`, itself included.
fn size(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(size).sum(),
        Value::Object(o) => o.values().map(size).sum(),
        _ => 0,
    }
}

/// The `n`th node of `v` in pre-order.
fn node(v: &mut Value, mut n: usize) -> &mut Value {
    fn walk<'a>(v: &'a mut Value, n: &mut usize) -> Option<&'a mut Value> {
        if *n == 0 {
            return Some(v);
        }
        *n -= 1;
        match v {
            Value::Array(a) => a.iter_mut().find_map(|c| walk(c, n)),
            Value::Object(o) => o.values_mut().find_map(|c| walk(c, n)),
            _ => None,
        }
    }
    n %= size(v);
    walk(v, &mut n).expect("an index below the size names a node")
}

/// One structural change somewhere in `doc`.
fn mutate(doc: &mut Value, rng: &mut Rng) {
    let at = rng.below(size(doc));
    let copy = node(doc, rng.below(1 << 20)).clone();
    let target = node(doc, at);
    match rng.below(6) {
        0 | 1 => *target = odd_value(rng),
        2 => {
            if let Value::Object(o) = target {
                if let Some(key) = o.keys().nth(rng.below(o.len())).cloned() {
                    o.remove(&key);
                }
            }
        }
        3 => {
            if let Value::Array(a) = target {
                if let Some(first) = a.first().cloned() {
                    let times = [1, 2, 20, 200][rng.below(4)];
                    a.extend(std::iter::repeat_n(first, times));
                }
            }
        }
        4 => *target = copy,
        _ => {
            if let Value::Object(o) = target {
                o.insert("unknown_field".into(), odd_value(rng));
            }
        }
    }
}

/// Cuts, flips or inserts bytes of a serialized document.
fn mangle(bytes: &mut Vec<u8>, rng: &mut Rng) {
    if bytes.is_empty() {
        return;
    }
    let at = rng.below(bytes.len());
    match rng.below(3) {
        0 => bytes.truncate(at),
        1 => bytes[at] ^= 1 << rng.below(8),
        _ => bytes.insert(at, [b'"', b'{', b']', b'\\', 0xff][rng.below(5)]),
    }
}

/// Re-derives the verdicts of a report that parses, so the input gets past the verdict check.
fn rejudge(body: &[u8]) -> Option<Vec<u8>> {
    let mut report = intake::parse(body).ok()?;
    for m in classify_report(&report) {
        let p = &mut report.platforms[m.platform];
        (p.verdict, p.reason) = m.derived;
    }
    serde_json::to_vec(&report).ok()
}

/// Whether the report was accepted, or what went wrong with it.
fn report_outcome(body: &[u8], campaigns: &Campaigns, now: i64) -> Result<bool, String> {
    let checked = intake::parse(body).and_then(|r| intake::check(r, campaigns, now));
    match checked {
        Err(rejection) if rejection.message().is_empty() => Err("an empty rejection".into()),
        Err(_) => Ok(false),
        Ok(accepted) => {
            let stored = serde_json::to_vec(&accepted.report).map_err(|e| e.to_string())?;
            match intake::parse(&stored).and_then(|r| intake::check(r, campaigns, now)) {
                Ok(again) if again.report == accepted.report => Ok(true),
                Ok(_) => Err("accepted twice, stored differently".into()),
                Err(e) => Err(format!("accepted, then refused as stored: {}", e.message())),
            }
        }
    }
}

/// Whether the campaign was valid, or what went wrong with it.
fn campaign_outcome(body: &[u8]) -> Result<bool, String> {
    let Ok(campaign) = serde_json::from_slice::<Campaign>(body) else {
        return Ok(false);
    };
    match campaign.validate() {
        Err(e) if e.to_string().is_empty() => Err("an empty campaign error".into()),
        Err(_) => Ok(false),
        Ok(()) => {
            let text = serde_json::to_vec(&campaign).map_err(|e| e.to_string())?;
            match serde_json::from_slice::<Campaign>(&text) {
                Ok(again) if again == campaign && again.validate().is_ok() => Ok(true),
                _ => Err("valid, then different or invalid after a round trip".into()),
            }
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let runs: u64 = args.next().map_or(1_000_000, |a| a.parse().expect("RUNS"));
    let seed: u64 = args.next().map_or_else(
        || {
            let clock = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            clock ^ u64::from(std::process::id())
        },
        |a| a.parse().expect("SEED"),
    );
    let campaign_path = "www/campaigns/default.json";
    let campaign = sample::campaign_file(campaign_path);
    let campaigns = Campaigns::new("www/campaigns".into());
    let report_seed = serde_json::to_value(sample::sample_report(&campaign)).unwrap();
    let campaign_seed = serde_json::to_value(&campaign).unwrap();
    let now = netreach_collector::time::now();
    let failures_dir = Path::new("target/fuzz-failures");
    // Panics are caught and counted; their default message would flood the output.
    std::panic::set_hook(Box::new(|_| {}));

    let mut rng = Rng(seed | 1);
    let (mut accepted, mut failures) = (0u64, 0u64);
    let started = Instant::now();
    for run in 0..runs {
        let fuzz_campaign = rng.below(4) == 0;
        let mut doc = if fuzz_campaign {
            campaign_seed.clone()
        } else {
            report_seed.clone()
        };
        for _ in 0..1 + rng.below(4) {
            mutate(&mut doc, &mut rng);
        }
        let mut body = serde_json::to_vec(&doc).unwrap();
        if !fuzz_campaign && rng.below(2) == 0 {
            body = rejudge(&body).unwrap_or(body);
        }
        if rng.below(8) == 0 {
            mangle(&mut body, &mut rng);
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            if fuzz_campaign {
                campaign_outcome(&body)
            } else {
                report_outcome(&body, &campaigns, now)
            }
        }));
        let failure = match outcome {
            Ok(Ok(true)) => {
                accepted += 1;
                None
            }
            Ok(Ok(false)) => None,
            Ok(Err(what)) => Some(what),
            Err(_) => Some("a panic".into()),
        };
        if let Some(what) = failure {
            failures += 1;
            std::fs::create_dir_all(failures_dir).unwrap();
            let kind = if fuzz_campaign { "campaign" } else { "report" };
            let file = failures_dir.join(format!("{kind}-{seed}-{run}.json"));
            std::fs::write(&file, &body).unwrap();
            eprintln!("fuzz: {what} ({})", file.display());
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "fuzz: {runs} inputs in {secs:.1} s ({:.0}/s), seed {seed}: {accepted} accepted (reports and campaigns), {failures} failures",
        runs as f64 / secs
    );
    if failures > 0 {
        std::process::exit(1);
    }
}
