//! What the page says of the visitor's connection itself (issue #13, `www/connection.js`, run
//! in Node.js): a run whose reference sites all failed is the network being down (and Submit
//! will keep the report for later), and after Submit a `degraded` answer of the collector is
//! shown with the visitor's own control figures beside the network's usual ones, while a
//! `normal` answer, an `offline` one and an older collector's answer say nothing new. The
//! page's wiring of these notes is checked in `tests/public_views.rs`.
#![cfg(not(target_arch = "wasm32"))]

mod node;

/// Runs `checks` with www/connection.js as `connection`, `platform(verdict, reason)` and
/// `report(platforms, controls)` (a report as run() resolves it), `attempt(outcome, ms,
/// bytes, duration)`.
fn connection(checks: &str) {
    let helpers = r#"
const platform = (verdict, reason) => ({ id: "x", verdict, reason, endpoints: [] });
const attempt = (outcome, ms, bytes, duration_ms) => ({ outcome, ms, ...(bytes ? { bytes, duration_ms } : {}) });
const report = (platforms, controls = []) => ({ schema: "netreach.report/1", started_at: "2026-12-03T08:00:00.000Z",
  controls: controls.map((attempts, i) => ({ url: `https://c${i}.example/`, kind: "fetch", attempts })), platforms });
"#;
    node::run(
        "connection.js",
        "connection",
        &format!("{helpers}\n{checks}"),
    );
}

#[test]
fn every_platform_inconclusive_because_the_controls_failed_is_the_network_being_down() {
    connection(
        r#"
const down = platform("inconclusive", "controls_failed");
assert.equal(connection.offline(report([down, down, down])), true);
// One verdict, another reason (stopped, hidden page) or nothing tested: not offline.
assert.equal(connection.offline(report([down, platform("reachable", "endpoints_loaded")])), false);
assert.equal(connection.offline(report([down, platform("inconclusive", "cancelled")])), false);
assert.equal(connection.offline(report([platform("inconclusive", "page_hidden")])), false);
assert.equal(connection.offline(report([])), false);
assert.equal(connection.offline(null), false);
"#,
    );
}

#[test]
fn a_degraded_answer_gives_the_visitor_s_figures_beside_the_usual_ones_and_normal_gives_nothing() {
    connection(
        r#"
const ok = platform("reachable", "endpoints_loaded");
// Two controls, figured as the collector figures them: the median time of the attempts that
// loaded (a timeout's time is not a latency), the slower control's throughput (2000 and 500).
const run = report([ok], [
  [attempt("ok", 900), attempt("ok", 1100, 250000, 1000), attempt("timeout", 15000)],
  [attempt("ok", 1300, 250000, 4000), attempt("error", 5)],
]);
assert.deepEqual(connection.ownFigures(run), { ms: 1100, kbps: 500 });
// An attempt made while the page was hidden is no latency either (background tabs throttle).
run.controls[0].attempts.push({ ...attempt("ok", 9000), hidden: true });
run.controls[1].attempts.push({ ...attempt("ok", 9500), hidden: true });
assert.deepEqual(connection.ownFigures(run), { ms: 1100, kbps: 500 });
const answer = (connection_, typical) => ({ id: 7, connection: connection_, typical });
assert.deepEqual(connection.degraded(answer("degraded", { control_ms: 180, control_kbps: 9000 }), run),
  { ms: 1100, kbps: 500, typicalMs: 180, typicalKbps: 9000 });
// No published baseline: the visitor's figures alone.
assert.deepEqual(connection.degraded(answer("degraded", null), run), { ms: 1100, kbps: 500, typicalMs: null, typicalKbps: null });
assert.deepEqual(connection.degraded(answer("degraded", { control_ms: 180, control_kbps: null }), run),
  { ms: 1100, kbps: 500, typicalMs: 180, typicalKbps: null });
// A usual figure is shown only beside the visitor's own.
const noSize = report([ok], [[attempt("ok", 700)]]);
assert.deepEqual(connection.degraded(answer("degraded", { control_ms: 100, control_kbps: 9000 }), noSize),
  { ms: 700, kbps: null, typicalMs: 100, typicalKbps: null });
// Normal, offline (said before Submit), an older collector's answer, garbage: nothing new.
assert.equal(connection.degraded(answer("normal", { control_ms: 180, control_kbps: 9000 }), run), null);
assert.equal(connection.degraded(answer("offline", null), run), null);
assert.equal(connection.degraded({ id: 7 }, run), null);
assert.equal(connection.degraded(null, run), null);
assert.deepEqual(connection.degraded(answer("degraded", { control_ms: "fast", control_kbps: -1 }), run),
  { ms: 1100, kbps: 500, typicalMs: null, typicalKbps: null });
"#,
    );
}
