//! What the status card says, from the collector's answers (`www/status.js`, run in Node.js):
//! network events of one platform merged into "on N networks", events under way first and the
//! country's own before global ones (a platform outage), a global event never making the
//! country disrupted, reports counted once per report, and "not enough reports" when no hour
//! was published. The card in a real browser is `collector/tests/card.rs`.
#![cfg(not(target_arch = "wasm32"))]

mod node;

/// Runs `checks` after importing www/status.js as `status`, with `event(scope, asn, start,
/// end, extra)` building a `/v1/disruptions` event in PK (times as hours of 2026-12-02).
fn node(checks: &str) {
    let helpers = r#"
const at = (h) => `2026-12-02T${String(h).padStart(2, "0")}:00:00Z`;
const event = (scope, asn, start, end, extra = {}) => ({
  cc: scope === "global" ? null : "PK", asn, scope, platforms: ["x"], verdict: "blocked",
  start: at(start), end: end === null ? null : at(end), confidence: 0.999, senders: 10,
  share: 0.9, ...extra,
});
const cell = (h, asn, platform, reports) => ({ bucket: at(h), cc: "PK", asn, platform, reports });
"#;
    node::run("status.js", "status", &format!("{helpers}\n{checks}"));
}

#[test]
fn one_platform_blocked_on_three_networks_is_one_line_with_the_earliest_start() {
    node(
        r#"
const events = [
  event("network", 17557, 21, null, { senders: 36, confidence: 1 }),
  event("network", 38193, 20, null, { senders: 12, confidence: 0.95 }),
  event("network", 45595, 22, null, { senders: 8 }),
];
const [line, ...rest] = status.lines(events);
assert.equal(rest.length, 0);
assert.deepEqual(line.networks, [17557, 38193, 45595]);
assert.equal(line.start, Date.parse(at(20)));
assert.equal(line.end, null);
assert.equal(line.senders, 56);
assert.equal(line.confidence, 0.95, "the weakest evidence of the merged events");
// Another verdict, other platforms, or an ended event stay lines of their own.
assert.equal(status.lines([...events, event("network", 1, 21, null, { verdict: "throttled" })]).length, 2);
assert.equal(status.lines([...events, event("network", 1, 21, null, { platforms: ["x", "youtube"] })]).length, 2);
assert.equal(status.lines([...events, event("network", 1, 10, 12)]).length, 2);
"#,
    );
}

#[test]
fn events_under_way_come_first_the_country_s_own_before_global_ones() {
    node(
        r#"
const ended = event("network", 17557, 3, 6);
const network = event("network", 17557, 21, null);
const country = event("country", null, 21, null, { platforms: ["facebook", "x"] });
const global = event("global", null, 22, null, { platforms: ["youtube"] });
const order = status.lines([ended, network, country, global]).map((l) => `${l.scope}:${l.end}`);
assert.deepEqual(order, ["country:null", "network:null", "global:null", `network:${Date.parse(at(6))}`]);
// Country-wide events are not merged across starts: each is its own line.
assert.equal(status.lines([country, event("country", null, 2, 4, { platforms: ["facebook", "x"] })]).length, 2);
"#,
    );
}

#[test]
fn reports_are_counted_once_and_no_published_hour_means_not_enough_to_say() {
    node(
        r#"
// Two platforms tested by the same reports: 12 + 7 reports, not 38.
const cells = [cell(20, 17557, "x", 12), cell(20, 17557, "youtube", 12), cell(22, 38193, "x", 7), cell(22, 38193, "youtube", 7)];
assert.deepEqual(status.basis(cells), { reports: 19, hours: 2, latest: Date.parse(at(22)) });
assert.deepEqual(status.basis([]), { reports: 0, hours: 0, latest: null });

assert.equal(status.summary([], cells).state, "clear");
assert.equal(status.summary([], []).state, "thin");
assert.equal(status.summary([event("network", 17557, 21, null)], cells).state, "disrupted");
// A platform failing in most countries is an outage: the country is not disrupted by it,
// and with reports of its own it is still "no disruption detected" there.
const outage = [event("global", null, 21, null)];
assert.equal(status.summary(outage, cells).state, "clear");
assert.equal(status.summary(outage, []).state, "thin");
assert.equal(status.summary(outage, cells).lines.length, 1);
"#,
    );
}

#[test]
fn confidence_in_words_follows_the_detection_s_nines() {
    node(
        r#"
assert.equal(status.certainty(0.9), "card.sure_strong");
assert.equal(status.certainty(0.989), "card.sure_strong");
assert.equal(status.certainty(0.99), "card.sure_very_strong");
assert.equal(status.certainty(0.999), "card.sure_overwhelming");
assert.equal(status.certainty(1), "card.sure_overwhelming");
"#,
    );
}

#[test]
fn the_window_is_the_last_24_whole_hours_with_the_current_one() {
    node(
        r#"
const now = Date.parse("2026-12-02T21:37:12Z");
const { from, to } = status.window_(now);
assert.equal(new Date(from).toISOString(), "2026-12-01T22:00:00.000Z");
assert.equal(new Date(to).toISOString(), "2026-12-02T22:00:00.000Z");
assert.equal(status.WINDOW_HOURS, 24);
"#,
    );
}

#[test]
fn an_outage_of_two_networks_is_one_line_before_the_platform_blocks_and_makes_the_country_disrupted(
) {
    node(
        r#"
const outage = (asn, start, extra = {}) => event("network", asn, start, null, { platforms: [], verdict: "outage", ...extra });
const events = [
  event("network", 17557, 20, null),
  outage(17557, 21, { volume: 4.2 }),
  outage(38193, 22, { volume: 2.5 }),
  event("network", 38193, 22, null, { platforms: [], verdict: "slowdown", volume: null }),
];
const shown = status.lines(events);
assert.deepEqual(shown.map((l) => l.verdict), ["outage", "slowdown", "blocked"],
  "the network's own outage and slowdown before the platform block they may explain");
const [line] = shown;
assert.equal(status.networkWide(line), true);
assert.equal(status.networkWide(shown[2]), false);
assert.deepEqual(line.networks, [17557, 38193]);
assert.deepEqual(line.platforms, []);
assert.equal(line.start, Date.parse(at(21)));
assert.equal(line.volume, 2.5, "a merged line claims the lower surge of tests");
assert.equal(shown[1].volume, null);
// One network without a figure: the merged line claims no surge for the others.
assert.equal(status.lines([outage(17557, 21, { volume: 4.2 }), outage(38193, 21, { volume: null })])[0].volume, null);
// An outage alone is the country's own disruption; a global one (a fault of the test) is not.
const cells = [cell(20, 17557, "x", 12)];
assert.equal(status.summary([outage(17557, 21)], cells).state, "disrupted");
assert.equal(status.summary([event("global", null, 21, null, { platforms: [], verdict: "outage" })], cells).state, "clear");
// An ended outage stays after every event under way, platform blocks included.
const ended = event("network", 17557, 2, 5, { platforms: [], verdict: "outage" });
assert.deepEqual(status.lines([ended, event("network", 17557, 20, null)]).map((l) => l.verdict), ["blocked", "outage"]);
"#,
    );
}

/// The card's counts through the catalogs' plural forms (www/i18n.js `format`, the function
/// `t` uses): "1 report", "2 reports", and each language's own forms, never "1 reports".
#[test]
fn the_card_s_counts_take_the_plural_form_of_each_language() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/www/i18n");
    node::run(
        "i18n.js",
        "i18n",
        &format!(
            r#"
const fs = await import("node:fs");
const catalog = (code) => JSON.parse(fs.readFileSync(`{dir}/${{code}}.json`, "utf8"));
const en = catalog("en");
const basis = (n, code = "en") => i18n.format(catalog(code)["card.basis"], {{ n, hours: 1, total: 24, time: "21:00" }}, code);
assert.match(basis(1), /^Based on 1 report in 1 of the last 24 hours;/);
assert.match(basis(2), /^Based on 2 reports in 1 of the last 24 hours;/);
assert.match(basis(1234), /^Based on 1,234 reports/);
assert.equal(i18n.format(en["card.on_networks"], {{ n: 1 }}, "en"), "on 1 network");
assert.equal(i18n.format(en["card.on_networks"], {{ n: 2 }}, "en"), "on 2 networks");
assert.equal(i18n.format(en["card.detail"], {{ sure: "Strong evidence", n: 1 }}, "en"), "Strong evidence; reports from 1 sender (counted hour by hour).");
// Arabic: its dual for 2, its own words for 1, "few" for 3 to 10 and "many" for 11 to 99.
const ar = catalog("ar");
assert.equal(i18n.format(ar["card.on_networks"], {{ n: 2 }}, "ar"), "على شبكتين");
assert.equal(i18n.format(ar["card.on_networks"], {{ n: 1 }}, "ar"), "على شبكة واحدة");
const digits = (n) => new Intl.NumberFormat("ar").format(n);
assert.equal(i18n.format(ar["card.on_networks"], {{ n: 3 }}, "ar"), `على ${{digits(3)}} شبكات`);
assert.equal(i18n.format(ar["card.on_networks"], {{ n: 11 }}, "ar"), `على ${{digits(11)}} شبكة`);
// Russian: 1 and 21 one way, 2 to 4 another, 5 to 20 a third.
const ru = catalog("ru");
const networks = (n) => i18n.format(ru["card.on_networks"], {{ n }}, "ru");
assert.deepEqual([1, 21, 2, 3, 5, 11].map(networks), ["в 1 сети", "в 21 сети", "в 2 сетях", "в 3 сетях", "в 5 сетях", "в 11 сетях"]);
assert.match(i18n.format(ru["card.basis"], {{ n: 1, hours: 1, total: 24, time: "21:00" }}, "ru"), /^На основе 1 отчёта /);
assert.match(i18n.format(ru["card.basis"], {{ n: 5, hours: 1, total: 24, time: "21:00" }}, "ru"), /^На основе 5 отчётов /);
// Urdu: singular for 1.
const ur = catalog("ur");
assert.equal(i18n.format(ur["card.on_networks"], {{ n: 1 }}, "ur"), "1 نیٹ ورک پر");
assert.equal(i18n.format(ur["card.on_networks"], {{ n: 2 }}, "ur"), "2 نیٹ ورکس پر");
// A plain message is filled as before, a missing placeholder left visible.
assert.equal(i18n.format("{{a}} and {{b}}", {{ a: 1500 }}, "en"), "1,500 and {{b}}");
"#
        ),
    );
}
