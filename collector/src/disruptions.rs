//! Disruptions: when the share of failing verdicts (`blocked`, `throttled`, `partial`) of a
//! platform rises significantly above its own recent baseline, per country × network (ASN),
//! country-wide, and, when a platform fails in most countries at once, world-wide (`global`:
//! a platform outage or a broken endpoint, never a country's disruption). Pure functions over
//! hourly counts ([`HourlyCounts`]); the route (`routes::disruptions`) reads them.
//!
//! # Method, and what it takes from whom
//!
//! - **Evidence.** In each cell-hour (country, network, platform, hour), the failing verdicts
//!   `f` out of the conclusive ones `n` (`reachable` + failing). `inconclusive` verdicts are
//!   left out of both: they are no evidence either way (the visitor was offline, a blocker
//!   refused the probe, the run was cancelled), as OONI leaves its `failure` measurements out
//!   of the `anomaly`/`confirmed`/`ok` counts of its Measurement Aggregation Toolkit. A failing
//!   verdict is the analogue of an OONI `anomaly`; netreach has no `confirmed` (no block page
//!   fingerprints), so the test below stands in for the confirmation.
//! - **Test.** A one-sided binomial test of `f` against `Binomial(n, p0)`, `p0` the cell's
//!   baseline failing share, as Encore (Burnett and Feamster, SIGCOMM 2015, §6) tests per region
//!   whether a domain's failure rate is significantly above what success would give (Encore
//!   modelled success as p = 0.7 at α = 0.05; here the baseline is each cell's own, and α is
//!   [`ALPHA`] = 10⁻⁴ because many cell-hours are tested every hour).
//! - **Baseline.** The cell's own previous 7 days ([`BASELINE_HOURS`]), pooled (failing and
//!   conclusive verdicts summed), leaving out hours that were themselves flagged, so a long
//!   block does not become the norm. With fewer than [`MIN_BASELINE`] conclusive verdicts in
//!   it (a new network, or one whose people test only once it is blocked), the baseline is
//!   what the same hour shows elsewhere: the platform's published cells in every other
//!   country, pooled; without enough of those either, [`PRIOR_FAILING`] (20 % failing). It is
//!   never below [`FLOOR_FAILING`].
//! - **Size of the drop.** A significant rise is not enough: the reachable share must also fall
//!   at least [`MIN_DROP`] (20 %) below the baseline's, `((1 - p0) - (1 - share)) / (1 - p0)`.
//!   This is IODA's relative drop, `(history - current) / history`, against a history value
//!   taken over a sliding window, applied to the reachable share. A large country with a
//!   steady background (visitors' blockers, flaky phones: a few percent failing every hour)
//!   can then neither fire on a 1-point rise that is merely significant.
//! - **k-anonymity.** Only cells the aggregates publish are read: a network's cell-hour counts
//!   when its hour has at least k senders (and the platform's cell at least k reports, as
//!   `/v1/aggregates` requires); country-wide and global counts are sums of such cells. Every
//!   figure of an event can then be recomputed from published aggregates, and an hour under k
//!   is no evidence (it ends an event: events never span it).
//! - **Scopes.** `network`: the network's cell is flagged. `country`: the country's sum is
//!   flagged and at least two of its networks are (one network's block is that network's
//!   event). `global`: in an hour, at least two countries have data for the platform and at
//!   least two thirds of them are flagged (their country sums against their own baselines);
//!   that platform-hour is then no country's or network's event.
//! - **Events.** Consecutive flagged hours of one cell and platform make a run; runs of one
//!   cell starting in the same hour with the same dominant failing verdict are one event with
//!   their platforms. `end` is the first hour after the last flagged one, or `None` when the
//!   last flagged hour is the latest complete hour or the current one (still being collected)
//!   or the range ends there.
//! - **Confidence** = `1 - p^(1/4)`, `p` the binomial test's p-value over the whole event
//!   (every hour and platform pooled, against the count-weighted mean of their baselines,
//!   which Hoeffding (1956) shows is conservative for a sum of binomials of different `p`):
//!   0.9 at the detection threshold p = 10⁻⁴, 0.99 at 10⁻⁸, 0.999 at 10⁻¹²; each further
//!   factor of 10⁴ in the evidence adds a nine.

use crate::storage::{CountRow, HourlyCounts};
use crate::time::{floor_hour, format_utc, HOUR};
use netreach::Verdict;
use serde::{Serialize, Serializer};
use std::collections::{BTreeMap, HashMap, VecDeque};

/// Hours of baseline before each hour tested: 7 days.
pub const BASELINE_HOURS: i64 = 7 * 24;
/// Significance level of the one-sided binomial test.
pub const ALPHA: f64 = 1e-4;
/// Smallest relative fall of the reachable share below the baseline's.
pub const MIN_DROP: f64 = 0.2;
/// Conclusive verdicts a baseline needs to be used; below it, [`PRIOR_FAILING`].
pub const MIN_BASELINE: u64 = 50;
/// The failing share assumed for a cell without enough baseline.
pub const PRIOR_FAILING: f64 = 0.2;
/// The smallest baseline failing share (no cell is ever perfectly clean).
pub const FLOOR_FAILING: f64 = 0.01;
/// Networks of a country that must be flagged for a country-wide event.
pub const COUNTRY_NETWORKS: usize = 2;

/// The failing verdicts, most severe first (the order that breaks ties for the dominant one).
const FAILING: [Verdict; 3] = [Verdict::Blocked, Verdict::Partial, Verdict::Throttled];

/// Where an event holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// One network (ASN) of one country.
    Network,
    /// Several networks of one country.
    Country,
    /// Most countries with data at once: a platform outage or a broken endpoint.
    Global,
}

impl Scope {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Network => "network",
            Scope::Country => "country",
            Scope::Global => "global",
        }
    }
}

/// A detected disruption, as `GET /v1/disruptions` publishes it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Disruption {
    /// Country; `None` for a global event.
    pub cc: Option<String>,
    /// Network; `None` for a country-wide or global event.
    pub asn: Option<u32>,
    pub scope: Scope,
    /// Platform ids, sorted.
    pub platforms: Vec<String>,
    /// The dominant failing verdict.
    pub verdict: Verdict,
    /// First flagged hour.
    #[serde(serialize_with = "hour")]
    pub start: i64,
    /// The hour after the last flagged one; `None` while under way.
    #[serde(serialize_with = "optional_hour")]
    pub end: Option<i64>,
    /// `1 - p^(1/4)` (see the module's documentation), rounded to 3 decimals.
    pub confidence: f64,
    /// Senders over the event's hours (each hour's senders in its cell, summed: senders are
    /// not linked across hours).
    pub senders: u64,
    /// Failing verdicts out of conclusive ones over the event, rounded to 3 decimals.
    pub share: f64,
    /// Start of the last flagged hour.
    #[serde(skip)]
    pub last: i64,
}

fn hour<S: Serializer>(t: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_utc(*t))
}

fn optional_hour<S: Serializer>(t: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => hour(t, s),
        None => s.serialize_none(),
    }
}

/// The range to report and the moment of the question.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    /// Events that overlap `[from, to)` are reported (both whole hours); the counts must
    /// start [`BASELINE_HOURS`] before `from`.
    pub from: i64,
    pub to: i64,
    /// Now, Unix seconds: the current hour is still being collected.
    pub now: i64,
}

/// The verdicts of one cell-hour (network, country or world).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Tally {
    reachable: u64,
    /// Counts of [`FAILING`], in its order.
    failing: [u64; 3],
    senders: u64,
}

impl Tally {
    fn failing(&self) -> u64 {
        self.failing.iter().sum()
    }

    fn conclusive(&self) -> u64 {
        self.reachable + self.failing()
    }

    fn add(&mut self, other: &Tally) {
        self.reachable += other.reachable;
        for (mine, theirs) in self.failing.iter_mut().zip(other.failing) {
            *mine += theirs;
        }
        self.senders += other.senders;
    }
}

/// The outcome of the test of one cell-hour.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Test {
    tally: Tally,
    /// The baseline failing share the hour was tested against.
    baseline: f64,
    flagged: bool,
}

/// A series of cell-hours: a platform in a network (`asn` set) or a country.
type Key = (String, Option<u32>, String);

/// The disruptions in `counts` (which must start [`BASELINE_HOURS`] before `window.from`)
/// that overlap the window, with k the collector's k; newest first, broadest first.
pub fn detect(counts: &HourlyCounts, k: u32, window: Window) -> Vec<Disruption> {
    let (networks, countries) = published(counts, k);
    // The same hour elsewhere: every country's published cells of a platform, minus one's own
    // country, is the baseline of a cell without enough history of its own.
    let mut world: HashMap<(&str, i64), Tally> = HashMap::new();
    for ((_, _, platform), series) in &countries {
        for (&hour, tally) in series {
            world.entry((platform, hour)).or_default().add(tally);
        }
    }
    let test = |(key, series): (&Key, &BTreeMap<i64, Tally>)| {
        let (cc, _, platform) = key;
        let own = countries.get(&(cc.clone(), None, platform.clone()));
        let elsewhere = |hour: i64| {
            let all = world
                .get(&(platform.as_str(), hour))
                .copied()
                .unwrap_or_default();
            let mine = own.and_then(|s| s.get(&hour)).copied().unwrap_or_default();
            (
                all.failing() - mine.failing(),
                all.conclusive() - mine.conclusive(),
            )
        };
        (key.clone(), test_series(series, elsewhere))
    };
    let mut network_tests: Tests = networks.iter().map(test).collect();
    let mut country_tests: Tests = countries.iter().map(test).collect();

    let global = global_hours(&country_tests);
    unflag(&global, &mut network_tests);
    unflag(&global, &mut country_tests);
    require_several_networks(&network_tests, &mut country_tests);

    let ongoing_from = window.to.min(floor_hour(window.now));
    let mut runs = Vec::new();
    for (scope, tests) in [
        (Scope::Network, &network_tests),
        (Scope::Country, &country_tests),
        (Scope::Global, &global),
    ] {
        for (key, series) in tests {
            runs.extend(runs_of(scope, key, series, ongoing_from));
        }
    }
    let mut events = group(runs);
    events.retain(|e| e.start < window.to && e.end.is_none_or(|end| end > window.from));
    // Newest first; of one start, the broadest scope first.
    events.sort_by(|a, b| {
        (b.start, b.scope, &a.cc, a.asn, a.verdict.as_str()).cmp(&(
            a.start,
            a.scope,
            &b.cc,
            b.asn,
            b.verdict.as_str(),
        ))
    });
    events
}

/// Series of cell-hours by key.
type Series = BTreeMap<Key, BTreeMap<i64, Tally>>;
/// Tested series of cell-hours by key.
type Tests = BTreeMap<Key, BTreeMap<i64, Test>>;

/// The network cell-hours the aggregates publish (see "k-anonymity" above), and their sums
/// per country.
fn published(counts: &HourlyCounts, k: u32) -> (Series, Series) {
    let k = u64::from(k);
    let mut senders: HashMap<(i64, &str, u32), u64> = HashMap::with_capacity(counts.senders.len());
    for s in &counts.senders {
        *senders.entry((s.hour, s.cc.as_str(), s.asn)).or_default() += s.senders;
    }
    // Storage gives the rows ordered by cell, so a cell is a run of rows; hand-made counts
    // may not be, and are put in that order first.
    fn by_cell(r: &CountRow) -> (i64, &str, u32, &str) {
        (r.bucket, r.cc.as_str(), r.asn, r.platform.as_str())
    }
    let mut rows: Vec<&CountRow> = counts.verdicts.iter().collect();
    if !rows.is_sorted_by_key(|r| by_cell(r)) {
        rows.sort_by(|a, b| by_cell(a).cmp(&by_cell(b)));
    }
    // Series keyed by borrowed names: hundreds of thousands of rows but a few hundred series,
    // so names are copied once per series (keys of owned names, copied and compared per row,
    // took most of detection's time).
    type Borrowed<'a> = HashMap<(&'a str, Option<u32>, &'a str), BTreeMap<i64, Tally>>;
    let mut networks = Borrowed::new();
    let mut countries = Borrowed::new();
    for cell in rows.chunk_by(|a, b| by_cell(a) == by_cell(b)) {
        let (hour, cc, asn, platform) = by_cell(cell[0]);
        let (mut tally, mut reports) = (Tally::default(), 0);
        for row in cell {
            reports += row.count;
            match FAILING.iter().position(|&v| v == row.verdict) {
                Some(i) => tally.failing[i] += row.count,
                None if row.verdict == Verdict::Reachable => tally.reachable += row.count,
                None => {}
            }
        }
        let in_hour = senders.get(&(hour, cc, asn)).copied().unwrap_or(0);
        if in_hour < k || reports < k {
            continue;
        }
        tally.senders = in_hour;
        countries
            .entry((cc, None, platform))
            .or_default()
            .entry(hour)
            .or_default()
            .add(&tally);
        networks
            .entry((cc, Some(asn), platform))
            .or_default()
            .insert(hour, tally);
    }
    let owned = |series: Borrowed| -> Series {
        series
            .into_iter()
            .map(|((cc, asn, platform), hours)| ((cc.to_owned(), asn, platform.to_owned()), hours))
            .collect()
    };
    (owned(networks), owned(countries))
}

/// Global platform-hours: at least two countries with data, two thirds of them flagged; the
/// world's tally, tested against the count-weighted mean of their baselines.
fn global_hours(country_tests: &Tests) -> Tests {
    let mut by_platform_hour: BTreeMap<(String, i64), Vec<Test>> = BTreeMap::new();
    for ((_, _, platform), tests) in country_tests {
        for (&hour, test) in tests {
            by_platform_hour
                .entry((platform.clone(), hour))
                .or_default()
                .push(*test);
        }
    }
    let mut global = Tests::new();
    for ((platform, hour), tests) in by_platform_hour {
        let flagged = tests.iter().filter(|t| t.flagged).count();
        if tests.len() < 2 || flagged * 3 < tests.len() * 2 {
            continue;
        }
        let mut world = Test {
            tally: Tally::default(),
            baseline: 0.0,
            flagged: true,
        };
        let mut expected = 0.0;
        for test in &tests {
            world.tally.add(&test.tally);
            expected += test.baseline * test.tally.conclusive() as f64;
        }
        world.baseline = expected / world.tally.conclusive().max(1) as f64;
        global
            .entry((String::new(), None, platform.clone()))
            .or_default()
            .insert(hour, world);
    }
    global
}

/// A global platform-hour is no country's or network's disruption.
fn unflag(global: &Tests, tests: &mut Tests) {
    let is_global = |platform: &str, hour: i64| {
        global
            .get(&(String::new(), None, platform.to_owned()))
            .is_some_and(|hours| hours.contains_key(&hour))
    };
    for ((_, _, platform), tests) in tests.iter_mut() {
        for (&hour, test) in tests.iter_mut() {
            if is_global(platform, hour) {
                test.flagged = false;
            }
        }
    }
}

/// A country-wide hour needs [`COUNTRY_NETWORKS`] of the country's networks flagged too.
fn require_several_networks(network_tests: &Tests, country_tests: &mut Tests) {
    let mut flagged_networks: HashMap<(&str, &str, i64), usize> = HashMap::new();
    for ((cc, _, platform), tests) in network_tests {
        for (&hour, test) in tests {
            if test.flagged {
                *flagged_networks.entry((cc, platform, hour)).or_default() += 1;
            }
        }
    }
    for ((cc, _, platform), tests) in country_tests.iter_mut() {
        for (&hour, test) in tests.iter_mut() {
            let several = flagged_networks
                .get(&(cc.as_str(), platform.as_str(), hour))
                .is_some_and(|&n| n >= COUNTRY_NETWORKS);
            test.flagged &= several;
        }
    }
}

/// Tests every hour of a series against the pooled unflagged hours of the
/// [`BASELINE_HOURS`] before it, or, without enough of them, against `elsewhere(hour)`: the
/// failing and conclusive verdicts of the same platform and hour in other countries.
fn test_series(
    series: &BTreeMap<i64, Tally>,
    elsewhere: impl Fn(i64) -> (u64, u64),
) -> BTreeMap<i64, Test> {
    let mut window: VecDeque<(i64, u64, u64)> = VecDeque::new();
    let (mut failing, mut conclusive) = (0u64, 0u64);
    let mut tests = BTreeMap::new();
    for (&hour, tally) in series {
        while window
            .front()
            .is_some_and(|&(h, _, _)| h < hour - BASELINE_HOURS * HOUR)
        {
            if let Some((_, f, n)) = window.pop_front() {
                failing -= f;
                conclusive -= n;
            }
        }
        // The same hour elsewhere is read only when it is used (a cell with enough baseline
        // of its own, the usual case, never needs it).
        let other = if conclusive >= MIN_BASELINE {
            (0, 0)
        } else {
            elsewhere(hour)
        };
        let baseline = baseline_share((failing, conclusive), other);
        let flagged = significant(tally.failing(), tally.conclusive(), baseline);
        if !flagged {
            window.push_back((hour, tally.failing(), tally.conclusive()));
            failing += tally.failing();
            conclusive += tally.conclusive();
        }
        tests.insert(
            hour,
            Test {
                tally: *tally,
                baseline,
                flagged,
            },
        );
    }
    tests
}

/// The failing share to test against, from the cell's own baseline (failing, conclusive)
/// or, when it has under [`MIN_BASELINE`] conclusive verdicts, the same hour elsewhere, or,
/// when that has too few as well, [`PRIOR_FAILING`]; never under [`FLOOR_FAILING`].
pub fn baseline_share(own: (u64, u64), elsewhere: (u64, u64)) -> f64 {
    let share = |(failing, conclusive): (u64, u64)| failing as f64 / conclusive.max(1) as f64;
    let p0 = if own.1 >= MIN_BASELINE {
        share(own)
    } else if elsewhere.1 >= MIN_BASELINE {
        share(elsewhere)
    } else {
        PRIOR_FAILING.max(share(own))
    };
    p0.max(FLOOR_FAILING)
}

/// Whether `failing` out of `conclusive` is a disruption against a baseline failing share:
/// significant ([`ALPHA`]) and a large enough drop of the reachable share ([`MIN_DROP`]).
pub fn significant(failing: u64, conclusive: u64, baseline: f64) -> bool {
    if conclusive == 0 {
        return false;
    }
    let share = failing as f64 / conclusive as f64;
    let drop = (share - baseline) / (1.0 - baseline);
    drop >= MIN_DROP && binomial_upper_tail(conclusive, failing, baseline) < ALPHA
}

/// `1 - p^(1/4)`, rounded to 3 decimals (see the module's documentation).
pub fn confidence(p: f64) -> f64 {
    round3(1.0 - p.clamp(0.0, 1.0).powf(0.25))
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// ln(n!), exact sums below 256, Stirling's series above (error under 1e-15 relative there).
fn ln_factorial(n: u64) -> f64 {
    if n < 256 {
        return (2..=n).map(|i| (i as f64).ln()).sum();
    }
    let x = n as f64;
    x * x.ln() - x + 0.5 * (std::f64::consts::TAU * x).ln() + 1.0 / (12.0 * x)
        - 1.0 / (360.0 * x.powi(3))
        + 1.0 / (1260.0 * x.powi(5))
}

/// P(X = k) for X ~ Binomial(n, p), 0 < p < 1.
fn binomial_pmf(n: u64, k: u64, p: f64) -> f64 {
    let ln = ln_factorial(n) - ln_factorial(k) - ln_factorial(n - k)
        + k as f64 * p.ln()
        + (n - k) as f64 * (-p).ln_1p();
    ln.exp()
}

/// P(X ≥ f) for X ~ Binomial(n, p): the p-value of the one-sided test. Sums the terms away
/// from the mode (they shrink geometrically), the upper tail directly above the mean and one
/// minus the lower tail below it.
pub fn binomial_upper_tail(n: u64, f: u64, p: f64) -> f64 {
    if f == 0 || p >= 1.0 {
        return 1.0;
    }
    if f > n || p <= 0.0 {
        return 0.0;
    }
    let odds = p / (1.0 - p);
    let sum_away = |start: u64, up: bool| {
        let (mut term, mut sum) = (1.0f64, 0.0f64);
        let mut k = start;
        loop {
            sum += term;
            if term < sum * 1e-17 || (up && k == n) || (!up && k == 0) {
                break;
            }
            term *= if up {
                (n - k) as f64 / (k + 1) as f64 * odds
            } else {
                k as f64 / (n - k + 1) as f64 / odds
            };
            k = if up { k + 1 } else { k - 1 };
        }
        binomial_pmf(n, start, p) * sum
    };
    if f as f64 > n as f64 * p {
        sum_away(f, true).min(1.0)
    } else {
        (1.0 - sum_away(f - 1, false)).max(0.0)
    }
}

/// A run of consecutive flagged hours of one series.
struct Run {
    scope: Scope,
    cc: Option<String>,
    asn: Option<u32>,
    platform: String,
    start: i64,
    last: i64,
    end: Option<i64>,
    total: Tally,
    /// Σ baseline × conclusive over the run's hours.
    expected: f64,
}

fn runs_of(scope: Scope, key: &Key, series: &BTreeMap<i64, Test>, ongoing_from: i64) -> Vec<Run> {
    let (cc, asn, platform) = key;
    let mut runs: Vec<Run> = Vec::new();
    for (&hour, test) in series.iter().filter(|(_, t)| t.flagged) {
        let expected = test.baseline * test.tally.conclusive() as f64;
        match runs.last_mut() {
            Some(run) if run.last + HOUR == hour => {
                run.last = hour;
                run.total.add(&test.tally);
                run.expected += expected;
            }
            _ => runs.push(Run {
                scope,
                cc: (scope != Scope::Global).then(|| cc.clone()),
                asn: *asn,
                platform: platform.clone(),
                start: hour,
                last: hour,
                end: None,
                total: test.tally,
                expected,
            }),
        }
    }
    for run in &mut runs {
        run.end = (run.last + HOUR < ongoing_from).then_some(run.last + HOUR);
    }
    runs
}

impl Run {
    fn verdict(&self) -> Verdict {
        let mut best = 0;
        for i in 1..FAILING.len() {
            if self.total.failing[i] > self.total.failing[best] {
                best = i;
            }
        }
        FAILING[best]
    }
}

/// Runs of one cell starting in the same hour with the same dominant verdict, as one event.
fn group(runs: Vec<Run>) -> Vec<Disruption> {
    type EventKey = (Scope, Option<String>, Option<u32>, &'static str, i64);
    let mut grouped: BTreeMap<EventKey, Vec<Run>> = BTreeMap::new();
    for run in runs {
        let key = (
            run.scope,
            run.cc.clone(),
            run.asn,
            run.verdict().as_str(),
            run.start,
        );
        grouped.entry(key).or_default().push(run);
    }
    grouped
        .into_values()
        .map(|runs| {
            let first = &runs[0];
            let mut total = Tally::default();
            let mut expected = 0.0;
            for run in &runs {
                total.add(&run.total);
                expected += run.expected;
            }
            let conclusive = total.conclusive();
            let baseline = expected / conclusive.max(1) as f64;
            let p = binomial_upper_tail(conclusive, total.failing(), baseline);
            let mut platforms: Vec<String> = runs.iter().map(|r| r.platform.clone()).collect();
            platforms.sort();
            Disruption {
                cc: first.cc.clone(),
                asn: first.asn,
                scope: first.scope,
                platforms,
                verdict: first.verdict(),
                start: first.start,
                end: runs
                    .iter()
                    .map(|r| r.end)
                    .collect::<Option<Vec<_>>>()
                    .and_then(|ends| ends.into_iter().max()),
                confidence: confidence(p),
                senders: runs.iter().map(|r| r.total.senders).max().unwrap_or(0),
                share: round3(total.failing() as f64 / conclusive.max(1) as f64),
                last: runs.iter().map(|r| r.last).max().unwrap_or(first.last),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{CountRow, SenderRow};

    /// A fixed hour: 2026-12-02T21:00Z.
    const T: i64 = 1_796_245_200;
    const K: u32 = 5;

    #[derive(Default)]
    struct Counts(HourlyCounts);

    impl Counts {
        /// One network-hour of one platform: `reachable`, then `failing` of `verdict`, then
        /// `inconclusive`; its senders are the reports of the hour (the largest platform's).
        #[allow(clippy::too_many_arguments)]
        fn add(
            &mut self,
            hour: i64,
            cc: &str,
            asn: u32,
            platform: &str,
            reachable: u64,
            verdict: Verdict,
            failing: u64,
            inconclusive: u64,
        ) {
            for (v, count) in [
                (Verdict::Reachable, reachable),
                (verdict, failing),
                (Verdict::Inconclusive, inconclusive),
            ] {
                if count > 0 {
                    self.0.verdicts.push(CountRow {
                        bucket: hour,
                        cc: cc.into(),
                        asn,
                        platform: platform.into(),
                        verdict: v,
                        count,
                        // Each test report from its own sender.
                        senders: count,
                    });
                }
            }
            let reports = reachable + failing + inconclusive;
            match self
                .0
                .senders
                .iter_mut()
                .find(|s| (s.hour, s.cc.as_str(), s.asn) == (hour, cc, asn))
            {
                Some(s) => s.senders = s.senders.max(reports),
                None => self.0.senders.push(SenderRow {
                    hour,
                    cc: cc.into(),
                    asn,
                    senders: reports,
                }),
            }
        }

        /// A clean week before `T` (and up to `until`, excluded) for a network: `per_hour`
        /// reports of each platform, one in 33 blocked (3 %, a blocker's background).
        fn clean(&mut self, cc: &str, asn: u32, platforms: &[&str], per_hour: u64, until: i64) {
            let mut n = 0u64;
            let mut hour = T - BASELINE_HOURS * HOUR;
            while hour < until {
                for p in platforms {
                    let blocked =
                        (0..per_hour).filter(|i| (n + i).is_multiple_of(33)).count() as u64;
                    self.add(
                        hour,
                        cc,
                        asn,
                        p,
                        per_hour - blocked,
                        Verdict::Blocked,
                        blocked,
                        0,
                    );
                }
                n += per_hour;
                hour += HOUR;
            }
        }

        fn detect(&mut self, to: i64) -> Vec<Disruption> {
            self.0.verdicts.sort_by(|a, b| a.cell().cmp(&b.cell()));
            let window = Window {
                from: T - 24 * HOUR,
                to,
                now: to - HOUR + 60,
            };
            detect(&self.0, K, window)
        }
    }

    #[test]
    fn the_binomial_tail_matches_exact_values() {
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 + 1e-9 * b.abs();
        // 5·0.03⁴·0.97 + 0.03⁵
        assert!(close(binomial_upper_tail(5, 4, 0.03), 3.928_5e-6 + 2.43e-8));
        assert!(close(binomial_upper_tail(10, 8, 0.5), 56.0 / 1024.0));
        // Below the mean, one minus the lower tail.
        assert!(close(binomial_upper_tail(10, 3, 0.5), 1.0 - 56.0 / 1024.0));
        assert_eq!(binomial_upper_tail(10, 0, 0.5), 1.0);
        assert_eq!(binomial_upper_tail(10, 11, 0.5), 0.0);
        assert!(close(
            binomial_upper_tail(1000, 1000, 0.5),
            0.5f64.powi(1000)
        ));
        // Large n (Stirling's series): 3.3 % failing of 100 000 against 3 % is far out.
        let far = binomial_upper_tail(100_000, 3_300, 0.03);
        assert!(far > 0.0 && far < 1e-7, "{far}");
        let near = binomial_upper_tail(100_000, 3_000, 0.03);
        assert!((0.4..0.6).contains(&near), "{near}");
    }

    #[test]
    fn confidence_maps_p_values_to_nines() {
        assert_eq!(confidence(1e-4), 0.9);
        assert_eq!(confidence(1e-8), 0.99);
        assert_eq!(confidence(1e-12), 0.999);
        assert_eq!(confidence(1.0), 0.0);
        assert_eq!(confidence(0.0), 1.0);
    }

    #[test]
    fn a_steady_background_or_a_small_rise_is_not_significant() {
        // 3 of 100 against 3 %: the background itself.
        assert!(!significant(3, 100, 0.03));
        // 30 of 1000 against 1 %: significant, but the reachable share hardly moves.
        assert!(binomial_upper_tail(1000, 30, 0.01) < ALPHA);
        assert!(!significant(30, 1000, 0.01));
        // 9 of 10 against 3 %: a block.
        assert!(significant(9, 10, 0.03));
        // Without a baseline, 5 of 5 is not enough against the 20 % prior; 8 of 8 is.
        let nothing = baseline_share((0, 0), (0, 0));
        assert_eq!(nothing, PRIOR_FAILING);
        assert!(!significant(5, 5, nothing));
        assert!(significant(8, 8, nothing));
        // With the same hour elsewhere instead: 3 of 100 there.
        assert_eq!(baseline_share((0, 10), (3, 100)), 0.03);
        assert_eq!(baseline_share((1, 50), (90, 100)), 0.02);
        assert_eq!(baseline_share((0, 50), (0, 0)), FLOOR_FAILING);
    }

    #[test]
    fn fires_on_a_one_network_block_at_21_after_a_clean_week() {
        let mut c = Counts::default();
        c.clean("PK", 17557, &["x", "yt"], 10, T);
        c.clean("PK", 38193, &["x", "yt"], 10, T + 3 * HOUR);
        for h in 0..3 {
            c.add(T + h * HOUR, "PK", 17557, "x", 1, Verdict::Blocked, 9, 0);
            c.add(T + h * HOUR, "PK", 17557, "yt", 10, Verdict::Blocked, 0, 0);
        }
        let events = c.detect(T + 3 * HOUR);
        assert_eq!(events.len(), 1, "{events:#?}");
        let e = &events[0];
        assert_eq!(
            (e.cc.as_deref(), e.asn, e.scope, &e.platforms[..]),
            (
                Some("PK"),
                Some(17557),
                Scope::Network,
                &["x".to_owned()][..]
            )
        );
        assert_eq!((e.verdict, e.start, e.end), (Verdict::Blocked, T, None));
        assert_eq!((e.senders, e.share), (30, 0.9));
        assert!(e.confidence > 0.99, "{}", e.confidence);
    }

    #[test]
    fn a_network_without_history_is_compared_with_the_same_hour_elsewhere() {
        let mut c = Counts::default();
        for (cc, asn) in [("US", 7922), ("DE", 3320)] {
            c.clean(cc, asn, &["x"], 40, T + HOUR);
        }
        // Its first hour: 6 of 10 blocked. Against the 20 % prior this is not significant
        // (p = 0.006); against 3 % elsewhere it is.
        c.add(T, "PK", 17557, "x", 4, Verdict::Blocked, 6, 0);
        assert!(binomial_upper_tail(10, 6, PRIOR_FAILING) > ALPHA);
        let events = c.detect(T + HOUR);
        assert_eq!(events.len(), 1, "{events:#?}");
        assert_eq!((events[0].asn, events[0].start), (Some(17557), T));
    }

    #[test]
    fn an_event_ends_at_the_first_hour_that_is_not_flagged() {
        let mut c = Counts::default();
        c.clean("PK", 17557, &["x"], 10, T);
        c.add(T, "PK", 17557, "x", 0, Verdict::Throttled, 10, 0);
        c.add(T + HOUR, "PK", 17557, "x", 10, Verdict::Blocked, 0, 0);
        c.add(T + 2 * HOUR, "PK", 17557, "x", 10, Verdict::Blocked, 0, 0);
        let events = c.detect(T + 3 * HOUR);
        assert_eq!(events.len(), 1, "{events:#?}");
        assert_eq!(
            (events[0].verdict, events[0].end),
            (Verdict::Throttled, Some(T + HOUR))
        );
    }

    #[test]
    fn fires_country_wide_on_a_nation_scale_social_media_disruption() {
        let platforms = ["facebook", "instagram", "x", "youtube"];
        let mut c = Counts::default();
        for asn in [17557, 38193, 45595] {
            c.clean("PK", asn, &platforms, 8, T);
            for p in platforms {
                c.add(T, "PK", asn, p, 1, Verdict::Blocked, 7, 0);
            }
        }
        let events = c.detect(T + HOUR);
        let country: Vec<_> = events
            .iter()
            .filter(|e| e.scope == Scope::Country)
            .collect();
        assert_eq!(country.len(), 1, "{events:#?}");
        assert_eq!(
            (country[0].cc.as_deref(), country[0].asn),
            (Some("PK"), None)
        );
        assert_eq!(country[0].platforms, platforms);
        assert_eq!(country[0].senders, 24);
        // Each network's own event too, its platforms grouped.
        let networks: Vec<_> = events
            .iter()
            .filter(|e| e.scope == Scope::Network)
            .collect();
        assert_eq!(networks.len(), 3, "{events:#?}");
        assert!(networks.iter().all(|e| e.platforms == platforms));
    }

    #[test]
    fn does_not_fire_on_a_steady_three_percent_background() {
        let mut c = Counts::default();
        // A pseudo-random 3 % of blocked verdicts in small and large cells, two weeks.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut coin = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % 10_000) < 300
        };
        for (asn, per_hour) in [(1, 5u64), (2, 6), (3, 12), (4, 40), (5, 200)] {
            let mut hour = T - BASELINE_HOURS * HOUR;
            while hour <= T + 23 * HOUR {
                for p in ["x", "yt"] {
                    let blocked = (0..per_hour).filter(|_| coin()).count() as u64;
                    c.add(
                        hour,
                        "PK",
                        asn,
                        p,
                        per_hour - blocked,
                        Verdict::Blocked,
                        blocked,
                        1,
                    );
                }
                hour += HOUR;
            }
        }
        assert_eq!(c.detect(T + 24 * HOUR), []);
    }

    #[test]
    fn a_platform_failing_in_every_country_is_global_not_a_country_disruption() {
        let mut c = Counts::default();
        for (cc, asns) in [("PK", [1, 2]), ("US", [3, 4]), ("DE", [5, 6])] {
            for asn in asns {
                c.clean(cc, asn, &["x", "yt"], 10, T);
                c.add(T, cc, asn, "x", 0, Verdict::Blocked, 10, 0);
                c.add(T, cc, asn, "yt", 10, Verdict::Blocked, 0, 0);
            }
        }
        let events = c.detect(T + HOUR);
        assert_eq!(events.len(), 1, "{events:#?}");
        let e = &events[0];
        assert_eq!(
            (e.scope, e.cc.as_deref(), e.asn, &e.platforms[..]),
            (Scope::Global, None, None, &["x".to_owned()][..])
        );
        assert_eq!(e.senders, 60);
    }

    #[test]
    fn inconclusive_only_hours_do_not_fire() {
        let mut c = Counts::default();
        c.clean("PK", 17557, &["x"], 10, T);
        c.add(T, "PK", 17557, "x", 0, Verdict::Blocked, 0, 10);
        // One conclusive verdict among many inconclusive ones is not enough either.
        c.add(T + HOUR, "PK", 17557, "x", 0, Verdict::Blocked, 1, 9);
        assert_eq!(c.detect(T + 2 * HOUR), []);
    }

    #[test]
    fn hours_under_k_are_no_evidence_and_split_events() {
        let mut c = Counts::default();
        c.clean("PK", 17557, &["x"], 10, T);
        // A small network: every report blocked, but 4 senders an hour (k = 5).
        c.clean("PK", 9541, &["x"], 4, T);
        c.add(T, "PK", 9541, "x", 0, Verdict::Blocked, 4, 0);
        // 21:00 and 23:00 blocked with 10 senders; 22:00 blocked with 3.
        c.add(T, "PK", 17557, "x", 0, Verdict::Blocked, 10, 0);
        c.add(T + HOUR, "PK", 17557, "x", 0, Verdict::Blocked, 3, 0);
        c.add(T + 2 * HOUR, "PK", 17557, "x", 0, Verdict::Blocked, 10, 0);
        let events = c.detect(T + 3 * HOUR);
        let spans: Vec<_> = events.iter().map(|e| (e.asn, e.start, e.end)).collect();
        assert_eq!(
            spans,
            [
                (Some(17557), T + 2 * HOUR, None),
                (Some(17557), T, Some(T + HOUR))
            ]
        );
    }
}
