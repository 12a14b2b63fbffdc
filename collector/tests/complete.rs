//! A report must carry the whole campaign: every control, platform and endpoint with the
//! campaign's trials (3 for the test campaign `t`), unless it shows that the run ended early
//! (cancelled, or stopped after every control failed); such a run is stored, but never with
//! `blocked`, `throttled` or `partial` for a platform it did not measure in full.

mod common;

use common::{report, Collector, Store, TempDir};
use netreach::classify::{classify, Baseline};
use netreach::{Condition, EndpointResult, Outcome, Reason, Report, Verdict};

fn start(dir: &TempDir) -> (Collector, Store) {
    let store = Store::sqlite(dir.path());
    let collector = Collector::on(&store, dir.path(), &[], "collector.log");
    (collector, store)
}

/// Gives every platform the verdict the engine would, so that only completeness is wrong.
fn rejudge(mut r: Report) -> Report {
    let baseline = Baseline::new(&r.controls);
    for p in &mut r.platforms {
        (p.verdict, p.reason) = classify(&baseline, &r.conditions, &p.endpoints);
    }
    r
}

/// Keeps the first `n` attempts of an endpoint.
fn keep(endpoint: &mut EndpointResult, n: usize) {
    endpoint.attempts.truncate(n);
}

/// Every control failed each of its trials: the engine's offline early stop.
fn offline(r: &mut Report) {
    for control in &mut r.controls {
        for a in &mut control.attempts {
            a.outcome = Outcome::Error;
        }
    }
}

fn claim(r: &mut Report, platform: usize, verdict: Verdict, reason: Reason) {
    (r.platforms[platform].verdict, r.platforms[platform].reason) = (verdict, reason);
}

#[test]
fn incomplete_reports_are_refused_naming_what_is_missing() {
    let dir = TempDir::new("incomplete");
    let (collector, store) = start(&dir);
    // x times out on every trial: blocked when measured in full.
    let full = || report(1, Outcome::Timeout, Outcome::Ok);
    let trials_asked = "the campaign asks for 3 trials";
    let ended_early = "(a run that ended early says so: cancelled, or every control failed)";
    let cases: Vec<(&str, Report, String)> = vec![
        (
            "the issue's report: one control, one platform failing twice per endpoint, blocked",
            rejudge({
                let mut r = full();
                r.controls.truncate(1);
                r.platforms.truncate(1);
                r.platforms[0].endpoints.iter_mut().for_each(|e| keep(e, 2));
                r
            }),
            "controls: missing control https://control-b.example/b.png of campaign \"t\"".into(),
        ),
        (
            "a platform left out",
            rejudge({
                let mut r = full();
                r.platforms.truncate(1);
                r
            }),
            "platforms: missing platform \"yt\" of campaign \"t\"".into(),
        ),
        (
            "an endpoint left out",
            rejudge({
                let mut r = full();
                r.platforms[0].endpoints.truncate(1);
                r
            }),
            "platforms[0].endpoints: missing endpoint https://cdn.x.example/i.png of platform \"x\""
                .into(),
        ),
        (
            "two of three trials, blocked",
            rejudge({
                let mut r = full();
                r.platforms[0].endpoints.iter_mut().for_each(|e| keep(e, 2));
                r
            }),
            format!("platforms[0].endpoints[0].attempts: 2 attempts, {trials_asked} {ended_early}"),
        ),
        (
            "a control with two trials",
            rejudge({
                let mut r = full();
                keep(&mut r.controls[1], 2);
                r
            }),
            format!("controls[1].attempts: 2 attempts, {trials_asked} {ended_early}"),
        ),
        (
            "a fourth trial",
            rejudge({
                let mut r = full();
                let extra = r.platforms[1].endpoints[1].attempts[0].clone();
                r.platforms[1].endpoints[1].attempts.push(extra);
                r
            }),
            format!("platforms[1].endpoints[1].attempts: 4 attempts, {trials_asked}"),
        ),
        (
            "an endpoint the campaign does not have, besides all it has",
            rejudge({
                let mut r = full();
                let mut extra = r.platforms[0].endpoints[0].clone();
                extra.url = "https://x.example/other".into();
                r.platforms[0].endpoints.push(extra);
                r
            }),
            "platforms[0].endpoints[2].url: not an endpoint of platform \"x\" in campaign \"t\""
                .into(),
        ),
        (
            "cancelled, blocked on two of three trials",
            {
                let mut r = full();
                r.conditions = vec![Condition::Cancelled];
                r.platforms[0].endpoints.iter_mut().for_each(|e| keep(e, 2));
                claim(&mut r, 0, Verdict::Blocked, Reason::EndpointsTimeout);
                r
            },
            "platforms[0].verdict: blocked needs all 3 trials of every endpoint; this run was \
             cancelled and made 2 on https://x.example/favicon.ico"
                .into(),
        ),
        (
            "stopped offline, partial on one attempt per endpoint",
            {
                let mut r = full();
                offline(&mut r);
                for p in &mut r.platforms {
                    p.endpoints.iter_mut().for_each(|e| keep(e, 1));
                }
                r.platforms[0].endpoints[0].attempts[0].outcome = Outcome::Ok;
                claim(&mut r, 0, Verdict::Partial, Reason::SomeEndpointsFailed);
                claim(&mut r, 1, Verdict::Inconclusive, Reason::ControlsFailed);
                r
            },
            "platforms[0].verdict: partial needs all 3 trials of every endpoint; this run was \
             stopped after every control failed and made 1 on https://x.example/favicon.ico"
                .into(),
        ),
        (
            "stopped offline, with two attempts per endpoint",
            rejudge({
                let mut r = full();
                offline(&mut r);
                for p in &mut r.platforms {
                    p.endpoints.iter_mut().for_each(|e| keep(e, 2));
                }
                r
            }),
            "platforms[0].endpoints[0].attempts: 2 attempts; after every control failed the \
             engine makes exactly one per platform endpoint"
                .into(),
        ),
    ];
    let mut failures = Vec::new();
    for (what, r, message) in &cases {
        let answer = collector.post(&serde_json::to_string(r).unwrap());
        if answer.status != 422 || answer.error() != *message {
            failures.push(format!(
                "{what}: got {} {:?}, want 422 {message:?}",
                answer.status,
                answer.error()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(store.query("SELECT COUNT(*) FROM reports"), ["0"]);

    // The same platform measured in full is blocked, and stored.
    let answer = collector.post(&serde_json::to_string(&full()).unwrap());
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(
        store.query("SELECT verdict FROM verdicts WHERE platform = 'x'"),
        ["blocked"]
    );
}

#[test]
fn runs_that_say_they_ended_early_are_stored_without_a_blocking_verdict() {
    let dir = TempDir::new("ended-early");
    let (collector, store) = start(&dir);

    // Cancelled after one attempt on x's first endpoint and none on its second.
    let mut cancelled = report(11, Outcome::Timeout, Outcome::Ok);
    cancelled.conditions = vec![Condition::Cancelled];
    keep(&mut cancelled.platforms[0].endpoints[0], 1);
    keep(&mut cancelled.platforms[0].endpoints[1], 0);
    let cancelled = rejudge(cancelled);

    // The offline early stop: every control failed its 3 trials; then one attempt per
    // platform endpoint, x's loading, yt's failing.
    let mut stopped = report(12, Outcome::Ok, Outcome::Timeout);
    offline(&mut stopped);
    for p in &mut stopped.platforms {
        p.endpoints.iter_mut().for_each(|e| keep(e, 1));
    }
    let stopped = rejudge(stopped);
    assert_eq!(stopped.controls[0].attempts.len(), 3);

    // Issue #13: the stopped run is offline; the cancelled one, whose controls loaded, is not
    // found degraded (no baseline on a fresh database: no typical figures either).
    for (r, connection) in [(&cancelled, "normal"), (&stopped, "offline")] {
        let answer = collector.post(&serde_json::to_string(r).unwrap());
        assert_eq!(answer.status, 201, "{}", answer.body);
        let answer = answer.json();
        assert_eq!(answer["connection"], connection, "{answer}");
        assert_eq!(answer["typical"], serde_json::Value::Null, "{answer}");
    }
    assert_eq!(
        store.query("SELECT runtime_ms, connection, control_ms FROM reports ORDER BY runtime_ms"),
        ["11\tnormal\t40", "12\toffline\t"]
    );
    let stored = store.query(
        "SELECT r.runtime_ms, v.platform, v.verdict, v.reason FROM verdicts v \
         JOIN reports r ON r.id = v.report_id ORDER BY r.runtime_ms, v.platform",
    );
    assert_eq!(
        stored,
        [
            "11\tx\tinconclusive\tcancelled",
            "11\tyt\tinconclusive\tcancelled",
            "12\tx\treachable\tendpoints_loaded",
            "12\tyt\tinconclusive\tcontrols_failed",
        ]
    );
}
