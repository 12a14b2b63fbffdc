//! Browser benchmarks, ignored by the test run: `cargo xtask bench timing` and
//! `cargo xtask bench verdicts` run them in headless Chromium against the fixture server and
//! show the `bench:` lines they print (figures in BENCHMARKS.md). They measure; they assert
//! only that the runs worked, never a speed.
#![cfg(target_arch = "wasm32")]

mod support;

use serde_json::{json, Value};
use support::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Trials per engine run (the campaign maximum) and engine runs per delay.
const TRIALS: u32 = 10;
const RUNS: usize = 3;

/// One plain fetch timed with `performance.now()` around it, as a page would without netreach.
async fn plain_fetch_ms(url: &str) -> f64 {
    let code = format!(
        "(async () => {{ const t0 = performance.now(); \
           await fetch({url:?}, {{ mode: 'no-cors', cache: 'no-store', credentials: 'omit' }}); \
           return performance.now() - t0; }})()"
    );
    eval_promise(&code).await.as_f64().expect("a duration")
}

/// The median, by the engine's own statistics.
fn median(v: Vec<f64>) -> f64 {
    netreach::stats::median(v).expect("samples")
}

fn attempts_ms(report: &Value, platform: usize) -> Vec<f64> {
    report["platforms"][platform]["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["attempts"].as_array().unwrap().clone())
        .map(|a| {
            assert_eq!(a["outcome"], "ok", "{a}");
            a["ms"].as_f64().unwrap()
        })
        .collect()
}

#[wasm_bindgen_test]
#[ignore = "benchmark: cargo xtask bench timing"]
async fn timing_accuracy() {
    for delay in [100u32, 300] {
        let url = at(&format!("/delay?ms={delay}"));
        let (mut engine, mut plain) = (Vec::new(), Vec::new());
        // Interleaved, so that both see the same machine load.
        for _ in 0..RUNS {
            let c = json!({
                "id": "bench-timing",
                "trials": TRIALS,
                "controls": [fetch_at("/text?control")],
                "platforms": [{ "id": "p", "name": "Delayed", "endpoints": [fetch_endpoint(&url)] }],
            });
            let (report, _) = run(&c).await;
            engine.extend(attempts_ms(&report, 0));
            for nonce in 0..TRIALS {
                plain.push(plain_fetch_ms(&format!("{url}&plain={nonce}")).await);
            }
        }
        let error = |v: &[f64]| median(v.iter().map(|ms| ms - f64::from(delay)).collect());
        console_log!(
            "bench: timing delay {delay} ms: engine median error {:+.1} ms (n={}), \
             plain JS performance.now() median error {:+.1} ms (n={})",
            error(&engine),
            engine.len(),
            error(&plain),
            plain.len()
        );
    }
}

/// 10 platforms of 2 endpoints and 2 controls, each answering after `delay_ms`, as servers
/// a few countries away would.
fn ten_platforms(delay_ms: u32) -> Value {
    let endpoint = |tag: String| fetch_at(&format!("/delay?ms={delay_ms}&{tag}"));
    let platforms: Vec<Value> = (0..10)
        .map(|p| {
            json!({
                "id": format!("p{p}"),
                "name": format!("Platform {p}"),
                "endpoints": [endpoint(format!("p={p}&main")), endpoint(format!("p={p}&cdn"))],
            })
        })
        .collect();
    json!({
        "id": "bench-verdicts",
        "trials": 3,
        "controls": [endpoint("c=1".into()), endpoint("c=2".into())],
        "platforms": platforms,
    })
}

#[wasm_bindgen_test]
#[ignore = "benchmark: cargo xtask bench verdicts"]
async fn time_to_verdicts() {
    const DELAY_MS: u32 = 100;
    let c = ten_platforms(DELAY_MS);
    let urls: Vec<String> = c["controls"]
        .as_array()
        .unwrap()
        .iter()
        .chain(
            c["platforms"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|p| p["endpoints"].as_array().unwrap()),
        )
        .map(|e| e["url"].as_str().unwrap().to_owned())
        .collect();
    let trials = c["trials"].as_u64().unwrap() as usize;
    let (mut engine, mut same_work, mut one_each) = (Vec::new(), Vec::new(), Vec::new());
    for run_index in 0..RUNS {
        let t0 = js_sys::Date::now();
        let (report, _) = run(&c).await;
        engine.push(js_sys::Date::now() - t0);
        for p in report["platforms"].as_array().unwrap() {
            assert_eq!(p["verdict"], "reachable", "{p}");
        }

        // The baseline: one fetch after another, as OONI Probe Web does it. First the same
        // attempts as the engine (every endpoint, every trial), then one attempt per URL.
        let t0 = js_sys::Date::now();
        for trial in 0..trials {
            for url in &urls {
                plain_fetch_ms(&format!("{url}&seq={run_index}-{trial}")).await;
            }
        }
        same_work.push(js_sys::Date::now() - t0);
        let t0 = js_sys::Date::now();
        for url in &urls {
            plain_fetch_ms(&format!("{url}&once={run_index}")).await;
        }
        one_each.push(js_sys::Date::now() - t0);
    }
    let (engine, same_work, one_each) = (median(engine), median(same_work), median(one_each));
    console_log!(
        "bench: verdicts 10 platforms x 2 endpoints + 2 controls, {trials} trials, servers \
         answering after {DELAY_MS} ms: engine {engine:.0} ms to all verdicts (median of {RUNS})"
    );
    console_log!(
        "bench: verdicts sequential baseline, same {} attempts: {same_work:.0} ms \
         ({:.1}x the engine's time)",
        urls.len() * trials,
        same_work / engine
    );
    console_log!(
        "bench: verdicts sequential baseline, one attempt per URL ({}): {one_each:.0} ms \
         ({:.1}x the engine's time, for a third of the evidence)",
        urls.len(),
        one_each / engine
    );
}

/// The default campaign's shape (controls, platforms, endpoints, kinds, sizes, trials) with
/// every endpoint on the fixture server, answered as `fixture` says for (kind, bytes).
fn default_campaign_on(fixture: &dyn Fn(&str, Option<u64>, usize) -> String) -> Value {
    let mut c: Value = serde_json::from_str(include_str!("../www/campaigns/default.json")).unwrap();
    let mut n = 0;
    let mut rewrite = |e: &mut Value| {
        n += 1;
        let kind = e["kind"].as_str().unwrap().to_owned();
        e["url"] = json!(at(&fixture(&kind, e["bytes"].as_u64(), n)));
    };
    c["controls"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .for_each(&mut rewrite);
    for p in c["platforms"].as_array_mut().unwrap() {
        p["endpoints"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .for_each(&mut rewrite);
    }
    c
}

#[wasm_bindgen_test]
#[ignore = "benchmark: cargo xtask bench worst-case"]
async fn worst_case_time_to_verdicts() {
    // A healthy network where no large object ever gets a Resource Timing entry (answered
    // `Cache-Control: no-store`, as a CDN changing its headers would), the rest answering at
    // once; then one where every host answers headers and stalls the body.
    let no_timing = default_campaign_on(&|kind, bytes, n| match (kind, bytes) {
        ("fetch", Some(b)) => format!("/bytes?n={b}&e={n}"),
        ("image", Some(b)) => format!("/image.png?n={b}&e={n}"),
        ("image", None) => format!("/image.png?e={n}"),
        _ => format!("/text?e={n}"),
    });
    let stalled = default_campaign_on(&|kind, bytes, n| {
        let b = bytes.unwrap_or(1000);
        let t = if kind == "image" { "png" } else { "script" };
        format!("/stall?n={b}&type={t}&e={n}")
    });
    // One run each: before the bounds, one took over a minute, and the test binary has three
    // minutes in all (WASM_BINDGEN_TEST_TIMEOUT).
    for (name, c) in [
        ("no timing entries", no_timing),
        ("stalled bodies", stalled),
    ] {
        let t0 = js_sys::Date::now();
        let (report, _) = run(&c).await;
        let seconds = (js_sys::Date::now() - t0) / 1000.0;
        let verdicts: Vec<&str> = report["platforms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["verdict"].as_str().unwrap())
            .collect();
        console_log!(
            "bench: worst-case default campaign, {name}: {seconds:.1} s to all verdicts; \
             verdicts {}",
            verdicts.join(",")
        );
        if name == "no timing entries" {
            assert!(!verdicts.contains(&"blocked"), "{verdicts:?}");
        }
    }
}
