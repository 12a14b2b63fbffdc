//! Reports that wait for the network (issue #12): a report the visitor submitted while the
//! collector could not be reached is kept in the browser (only it and its collector's
//! address), sent once when the network is back, dropped with the collector's message when the
//! collector refuses it, dropped without sending when it is older than the collector takes,
//! and never sent twice by two open pages. `www/waiting.js` runs in Node.js against a fake
//! localStorage and a fake `submit` that fails as the engine's does (an Error with `status`,
//! 0 when no answer came). The lab's `queue-*` scenarios run it in the browsers.
#![cfg(not(target_arch = "wasm32"))]

mod node;

/// Runs `checks` with www/waiting.js as `waiting`, a fake storage (`memory()`: a Map behind
/// localStorage's methods), `report(hoursAgo)` (a report as run() resolves it) and
/// `failing(status, message)` (the engine's rejection).
fn waiting(checks: &str) {
    let helpers = r#"
const NOW = Date.parse('2026-12-03T08:30:00Z');
function memory() {
  const items = new Map();
  return {
    items,
    getItem: (k) => (items.has(k) ? items.get(k) : null),
    setItem: (k, v) => items.set(k, String(v)),
    removeItem: (k) => items.delete(k),
  };
}
function report(hoursAgo, campaign = 'default') {
  const started = new Date(NOW - hoursAgo * 3_600_000);
  started.setUTCMinutes(0, 0, 0);
  return { schema: 'netreach.report/1', campaign, started_at: started.toISOString(), runtime_ms: 4200,
           platforms: [{ id: 'x', verdict: 'blocked', reason: 'all_failed' }] };
}
function failing(status, message) {
  const error = new Error(message);
  if (status !== undefined) error.status = status;
  return error;
}
const COLLECTOR = 'https://netreach.example/v1/reports';
/** A fresh storage and the waiting reports on it, holding `reports` for COLLECTOR. */
function kept(...reports) {
  const store = memory();
  const box = new waiting.WaitingReports(() => store);
  for (const r of reports) box.keep(COLLECTOR, r);
  return { store, box };
}
"#;
    node::run("waiting.js", "waiting", &format!("{helpers}\n{checks}"));
}

#[test]
fn no_answer_busy_and_rate_limited_wait_while_a_refusal_does_not() {
    waiting(
        "for (const status of [0, 500, 502, 503, 504, 408, 429, 200]) {\n\
           assert.equal(waiting.mayRetry(failing(status, 'x')), true, `HTTP ${status} waits`);\n\
         }\n\
         for (const status of [400, 403, 404, 410, 413, 415, 422]) {\n\
           assert.equal(waiting.mayRetry(failing(status, 'x')), false, `HTTP ${status} is a refusal`);\n\
         }\n\
         // Not a sending failure (a bad argument): nothing to keep.\n\
         assert.equal(waiting.mayRetry(failing(undefined, 'the report must be the object run() resolved with')), false);\n\
         assert.equal(waiting.mayRetry(null), false);",
    );
}

#[test]
fn a_kept_report_is_stored_alone_with_its_collector_and_once() {
    waiting(
        "const store = memory();\n\
         const box = new waiting.WaitingReports(() => store);\n\
         const r = report(1);\n\
         assert.equal(box.keep(COLLECTOR, r), true);\n\
         assert.equal(box.keep(COLLECTOR, JSON.parse(JSON.stringify(r))), true);\n\
         // One key, holding the report exactly as shown and where it was to go: nothing else.\n\
         assert.deepEqual([...store.items.keys()], ['netreach-waiting']);\n\
         assert.deepEqual(JSON.parse(store.items.get('netreach-waiting')), [{ collector: COLLECTOR, report: r }]);\n\
         assert.deepEqual(box.list(), [{ collector: COLLECTOR, report: r }]);\n\
         box.remove(box.list()[0]);\n\
         assert.equal(store.items.size, 0, 'the last one out removes the key');",
    );
}

#[test]
fn waiting_reports_are_sent_once_and_leave_the_browser() {
    waiting(
        "const { store, box } = kept(report(2), report(1));\n\
         const sent = [];\n\
         const submit = async (r, c) => { sent.push([r.started_at, c]); return { id: 1000 + sent.length }; };\n\
         const outcomes = await waiting.sendWaiting(box, submit, NOW);\n\
         assert.deepEqual(outcomes.map((o) => [o.outcome, o.id]), [['sent', '1001'], ['sent', '1002']]);\n\
         assert.deepEqual(sent.map(([s]) => s), [report(2).started_at, report(1).started_at], 'oldest first');\n\
         assert.ok(sent.every(([, c]) => c === COLLECTOR));\n\
         assert.equal(store.items.size, 0);\n\
         assert.deepEqual(await waiting.sendWaiting(box, submit, NOW), []);\n\
         assert.equal(sent.length, 2, 'nothing is sent twice');",
    );
}

#[test]
fn without_the_network_they_keep_waiting_and_the_rest_are_not_tried() {
    waiting(
        "const { store, box } = kept(report(2), report(1));\n\
         let tries = 0;\n\
         for (const status of [0, 503, 429]) {\n\
           const submit = async () => { tries += 1; throw failing(status, `down (${status})`); };\n\
           const outcomes = await waiting.sendWaiting(box, submit, NOW);\n\
           assert.deepEqual(outcomes.map((o) => [o.outcome, o.detail]), [['waiting', `down (${status})`]]);\n\
           assert.equal(box.list().length, 2);\n\
         }\n\
         assert.equal(tries, 3, 'one try per round: the same network would fail the next');",
    );
}

#[test]
fn a_refused_report_is_dropped_with_the_collectors_message() {
    waiting(
        "const { store, box } = kept(report(3, 'expired-campaign'), report(1));\n\
         const message = 'the collector refused the report (HTTP 410): campaign \"expired-campaign\" has expired';\n\
         const submit = async (r) => {\n\
           if (r.campaign === 'expired-campaign') throw failing(410, message);\n\
           return { id: 7 };\n\
         };\n\
         const outcomes = await waiting.sendWaiting(box, submit, NOW);\n\
         assert.deepEqual(outcomes.map((o) => [o.outcome, o.detail ?? o.id]), [['refused', message], ['sent', '7']]);\n\
         assert.equal(store.items.size, 0, 'a refusal is not retried');",
    );
}

#[test]
fn a_report_older_than_the_collector_takes_is_dropped_unsent() {
    waiting(
        "assert.equal(waiting.MAX_AGE_MS, 30 * 24 * 3_600_000);\n\
         const old = report(30 * 24 + 2);\n\
         const young = report(30 * 24 - 2);\n\
         const { store, box } = kept(old, young);\n\
         const sent = [];\n\
         const outcomes = await waiting.sendWaiting(box, async (r) => { sent.push(r); return { id: 1 }; }, NOW);\n\
         assert.deepEqual(outcomes.map((o) => o.outcome), ['expired', 'sent']);\n\
         assert.deepEqual(sent, [young], 'the old one never left');\n\
         assert.equal(store.items.size, 0);",
    );
}

#[test]
fn where_storage_is_denied_nothing_is_kept_and_the_page_is_told() {
    waiting(
        "const denied = () => { throw new DOMException('The operation is insecure.', 'SecurityError'); };\n\
         const box = new waiting.WaitingReports(denied);\n\
         assert.equal(box.keep(COLLECTOR, report(1)), false);\n\
         assert.deepEqual(box.list(), []);\n\
         const full = memory();\n\
         full.setItem = () => { throw new DOMException('full', 'QuotaExceededError'); };\n\
         assert.equal(new waiting.WaitingReports(() => full).keep(COLLECTOR, report(1)), false);\n\
         const junk = memory();\n\
         junk.setItem('netreach-waiting', '{not json');\n\
         assert.deepEqual(new waiting.WaitingReports(() => junk).list(), []);",
    );
}

#[test]
fn two_pages_open_at_once_send_a_report_once() {
    // Web Locks as the browsers have them: one holder of a name at a time, the rest queued.
    waiting(
        "let queue = Promise.resolve();\n\
         const requested = [];\n\
         globalThis.navigator = { locks: { request(name, task) {\n\
           requested.push(name);\n\
           const run = queue.then(() => task());\n\
           queue = run.catch(() => {});\n\
           return run;\n\
         } } };\n\
         const store = memory();\n\
         const tab = () => new waiting.WaitingReports(() => store);\n\
         tab().keep(COLLECTOR, report(1));\n\
         let sent = 0;\n\
         const slow = async () => { sent += 1; await new Promise((r) => setTimeout(r, 50)); return { id: sent }; };\n\
         const [a, b] = await Promise.all([waiting.sendWaiting(tab(), slow, NOW), waiting.sendWaiting(tab(), slow, NOW)]);\n\
         assert.equal(sent, 1);\n\
         assert.deepEqual([a.length, b.length], [1, 0]);\n\
         assert.deepEqual(requested, ['netreach-waiting', 'netreach-waiting']);",
    );
}

#[test]
fn the_pages_and_the_readme_say_what_the_browser_keeps() {
    // What the page does: localStorage under one key, nothing in a cookie.
    let module = node::read("www/waiting.js");
    assert!(module.contains("const KEY = \"netreach-waiting\";"));
    assert!(module.contains("getItem(KEY)") && module.contains("setItem(KEY"));
    assert!(!module.contains("cookie"));
    assert!(node::read("www/app.js").contains("new WaitingReports(() => window.localStorage)"));
    // What the page, the embed and the README say about it.
    let say = |path: &str| {
        node::read(path)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    for page in ["www/index.html", "www/embed.html"] {
        let claim =
            "this browser keeps that report, and nothing else, in its local storage (not a \
                     cookie) until it is sent or you delete it";
        assert!(say(page).contains(claim), "{page} does not say: {claim}");
    }
    let claim = "the page keeps that report in the browser's localStorage under one key, \
                 `netreach-waiting`";
    assert!(
        say("README.md").contains(claim),
        "README does not say: {claim}"
    );
}
