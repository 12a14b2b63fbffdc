//! Disruptions: when a share of failing evidence rises significantly above its own recent
//! baseline, per country × network (ASN), country-wide, and, when it fails in most countries at
//! once, world-wide (`global`: a platform outage, a broken endpoint or broken controls, never
//! a country's disruption). Two kinds of evidence go through the same rules:
//!
//! - **platform events** (`blocked`, `throttled`, `partial`): one platform's failing verdicts
//!   out of its conclusive ones (`platforms.rs`);
//! - **network-wide events** (`outage`, `slowdown`, `"platforms": []`): the reports whose
//!   controls failed (`offline`) out of every report, and the reports whose controls were far
//!   slower than the network's own baseline (`degraded`) out of those not offline
//!   (`network.rs`).
//!
//! Every event also carries a **volume**: how many reports its cells got over its hours
//! against what is typical for them (`volume.rs`), supporting evidence that never makes or
//! changes an event. Pure functions over hourly counts ([`HourlyCounts`]); the route
//! (`routes::disruptions`) reads them.
//!
//! # Method, and what it takes from whom
//!
//! - **Evidence.** In each cell-hour (country, network, signal, hour), the failing evidence
//!   `f` out of the conclusive evidence `n`. For a platform: its failing verdicts out of
//!   `reachable` + failing. `inconclusive` verdicts are left out of both: they are no evidence
//!   either way (the visitor was offline, a blocker refused the probe, the run was
//!   cancelled), as OONI leaves its `failure` measurements out of the
//!   `anomaly`/`confirmed`/`ok` counts of its Measurement Aggregation Toolkit. A failing
//!   verdict is the analogue of an OONI `anomaly`; netreach has no `confirmed` (no block page
//!   fingerprints), so the test below stands in for the confirmation. For an outage: the
//!   `offline` reports out of every report (`normal` + `degraded` + `offline`), counted by the
//!   hour the run started, so reports made during a shutdown and sent once it is over count in
//!   the hours of the shutdown. For a slowdown: the `degraded` reports out of `normal` +
//!   `degraded` (an offline report says nothing about speed). This is the share-based cousin
//!   of Cloudflare Radar's and IODA's outage signals (a fall in traffic or in responsive
//!   addresses against their own history): netreach sees no traffic, only its visitors' own
//!   measurements, so the share of them that could not reach anything is its signal.
//! - **Test.** A one-sided binomial test of `f` against `Binomial(n, p0)`, `p0` the cell's
//!   baseline failing share, as Encore (Burnett and Feamster, SIGCOMM 2015, §6) tests per region
//!   whether a domain's failure rate is significantly above what success would give (Encore
//!   modelled success as p = 0.7 at α = 0.05; here the baseline is each cell's own, and α is
//!   [`ALPHA`] = 10⁻⁴ because many cell-hours are tested every hour).
//! - **Baseline.** The cell's own previous 7 days ([`BASELINE_HOURS`]), pooled (failing and
//!   conclusive evidence summed), leaving out hours that were themselves flagged, so a long
//!   block does not become the norm. With fewer than [`MIN_BASELINE`] conclusive in it (a new
//!   network, or one whose people test only once it is blocked), the baseline is what the
//!   same hour shows elsewhere: the same signal's published cells in every other country,
//!   pooled; without enough of those either, [`PRIOR_FAILING`] (20 % failing). It is never
//!   below [`FLOOR_FAILING`].
//! - **Size of the drop.** A significant rise is not enough: the passing share (reachable;
//!   not offline; normal) must also fall at least [`MIN_DROP`] (20 %) below the baseline's,
//!   `((1 - p0) - (1 - share)) / (1 - p0)`. This is IODA's relative drop,
//!   `(history - current) / history`, against a history value taken over a sliding window,
//!   applied to the passing share. A large country with a steady background (visitors'
//!   blockers, flaky phones: a few percent failing every hour; a few percent of runs made
//!   offline or on a bad line) can then not fire on a 1-point rise that is merely
//!   significant.
//! - **k-anonymity.** Only cells the aggregates publish are read: a network's cell-hour counts
//!   when its hour has at least k senders (and the cell, a platform's verdicts or the
//!   connection conditions, at least k reports, as `/v1/aggregates` requires); country-wide and
//!   global counts are sums of such cells. Every figure of an event can then be recomputed
//!   from published aggregates, and an hour under k is no evidence (it ends an event: events
//!   never span it).
//! - **Scopes.** `network`: the network's cell is flagged. `country`: the country's sum is
//!   flagged and at least two of its networks are (one network's block is that network's
//!   event). `global`: in an hour, at least two countries have data for the signal and at
//!   least two thirds of them are flagged (their country sums against their own baselines);
//!   that signal-hour is then no country's or network's event: a platform failing everywhere
//!   is the platform's outage or a broken endpoint, controls failing everywhere are broken
//!   controls.
//! - **Events.** Consecutive flagged hours of one cell and signal make a run; runs of one
//!   cell starting in the same hour with the same verdict are one event (a platform event
//!   with their platforms; an outage or a slowdown on its own). `end` is the first hour after
//!   the last flagged one, or `None` when the last flagged hour is the latest complete hour or
//!   the current one (still being collected) or the range ends there.
//! - **Confidence** = `1 - p^(1/4)`, `p` the binomial test's p-value over the whole event
//!   (every hour and platform pooled, against the count-weighted mean of their baselines,
//!   which Hoeffding (1956) shows is conservative for a sum of binomials of different `p`):
//!   0.9 at the detection threshold p = 10⁻⁴, 0.99 at 10⁻⁸, 0.999 at 10⁻¹²; each further
//!   factor of 10⁴ in the evidence adds a nine.

mod binomial;
mod network;
mod platforms;
mod volume;

pub use binomial::{baseline_share, binomial_upper_tail, confidence, significant};
pub use volume::{MIN_TYPICAL_DAYS, TYPICAL_DAYS};

use crate::storage::HourlyCounts;
use crate::time::{floor_hour, format_utc, HOUR};
use binomial::round3;
use serde::{Serialize, Serializer};
use std::collections::{BTreeMap, HashMap, VecDeque};
use volume::Volumes;

/// Hours of baseline before each hour tested: 7 days.
pub const BASELINE_HOURS: i64 = 7 * 24;
/// Significance level of the one-sided binomial test.
pub const ALPHA: f64 = 1e-4;
/// Smallest relative fall of the passing share below the baseline's.
pub const MIN_DROP: f64 = 0.2;
/// Conclusive evidence a baseline needs to be used; below it, [`PRIOR_FAILING`].
pub const MIN_BASELINE: u64 = 50;
/// The failing share assumed for a cell without enough baseline.
pub const PRIOR_FAILING: f64 = 0.2;
/// The smallest baseline failing share (no cell is ever perfectly clean).
pub const FLOOR_FAILING: f64 = 0.01;
/// Networks of a country that must be flagged for a country-wide event.
pub const COUNTRY_NETWORKS: usize = 2;

/// Where an event holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// One network (ASN) of one country.
    Network,
    /// Several networks of one country.
    Country,
    /// Most countries with data at once: a platform outage, a broken endpoint, broken controls.
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

/// What an event is: a platform's dominant failing verdict, or a network-wide condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EventVerdict {
    /// Platforms blocked (their failing verdicts mostly `blocked`).
    Blocked,
    /// Platforms throttled.
    Throttled,
    /// Platforms partially reachable.
    Partial,
    /// The network itself cut: runs whose controls all failed (`offline`).
    Outage,
    /// The network itself slowed: controls far slower than its own baseline (`degraded`).
    Slowdown,
}

impl EventVerdict {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventVerdict::Blocked => "blocked",
            EventVerdict::Throttled => "throttled",
            EventVerdict::Partial => "partial",
            EventVerdict::Outage => "outage",
            EventVerdict::Slowdown => "slowdown",
        }
    }

    /// Whether it is about the whole network rather than some platforms (`"platforms": []`).
    pub fn network_wide(self) -> bool {
        matches!(self, EventVerdict::Outage | EventVerdict::Slowdown)
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
    /// Platform ids, sorted; empty for an outage or a slowdown.
    pub platforms: Vec<String>,
    /// The dominant failing verdict, or `outage` / `slowdown`.
    pub verdict: EventVerdict,
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
    /// Failing evidence out of conclusive evidence over the event (failing verdicts out of
    /// conclusive ones; offline reports out of all; degraded out of those not offline),
    /// rounded to 3 decimals.
    pub share: f64,
    /// Reports in the event's cells over its hours, divided by what is typical for them
    /// (see `volume.rs`), rounded to 1 decimal; `None` without a typical to compare with.
    pub volume: Option<f64>,
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

/// What a series of cell-hours counts (a platform's id owned, or borrowed from the counts
/// while they are read).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Signal<S = String> {
    /// One platform's verdicts (its id).
    Platform(S),
    /// Offline reports out of every report.
    Outage,
    /// Degraded reports out of those not offline.
    Slowdown,
}

impl Signal<&str> {
    fn owned(&self) -> Signal {
        match self {
            Signal::Platform(id) => Signal::Platform((*id).to_owned()),
            Signal::Outage => Signal::Outage,
            Signal::Slowdown => Signal::Slowdown,
        }
    }
}

/// The evidence of one cell-hour (network, country or world) for one signal.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Tally {
    /// Conclusive and not failing: `reachable` verdicts; reports not offline (outage);
    /// `normal` reports (slowdown).
    passing: u64,
    /// Failing: for a platform the counts of `platforms::FAILING`, in its order; for a
    /// network-wide signal its failing condition in the first slot.
    failing: [u64; 3],
    senders: u64,
}

impl Tally {
    fn failing(&self) -> u64 {
        self.failing.iter().sum()
    }

    fn conclusive(&self) -> u64 {
        self.passing + self.failing()
    }

    fn add(&mut self, other: &Tally) {
        self.passing += other.passing;
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

/// A series of cell-hours: a signal in a network (`asn` set) or a country.
type Key = (String, Option<u32>, Signal);

/// Network cell-hours as storage counted them: (country, network, signal), hour, evidence,
/// and the reports of the cell (its k check). Names are borrowed from the counts: there are
/// hundreds of thousands of cells but a few hundred series, so names are copied once per
/// series (keys of owned names, copied and compared per row, once took most of detection's
/// time).
type Cells<'a> = Vec<((&'a str, u32, Signal<&'a str>), i64, Tally, u64)>;

/// The disruptions in `counts` (which must start [`BASELINE_HOURS`] before `window.from`)
/// that overlap the window, with k the collector's k; newest first, broadest first.
pub fn detect(counts: &HourlyCounts, k: u32, window: Window) -> Vec<Disruption> {
    let counted_from = window.from - BASELINE_HOURS * HOUR;
    let Published {
        networks,
        countries,
        volumes,
    } = published(counts, k, counted_from);
    // The same hour elsewhere: every country's published cells of a signal, minus one's own
    // country, is the baseline of a cell without enough history of its own.
    let mut world: HashMap<(&Signal, i64), Tally> = HashMap::new();
    for ((_, _, signal), series) in &countries {
        for (&hour, tally) in series {
            world.entry((signal, hour)).or_default().add(tally);
        }
    }
    let test = |(key, series): (&Key, &BTreeMap<i64, Tally>)| {
        let (cc, _, signal) = key;
        let own = countries.get(&(cc.clone(), None, signal.clone()));
        let elsewhere = |hour: i64| {
            let all = world.get(&(signal, hour)).copied().unwrap_or_default();
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
    for e in &mut events {
        e.volume = volumes.of(e);
    }
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

/// What detection reads of the counts: the published network cell-hours, their sums per
/// country, and the reports of each published network-hour (for the volume).
struct Published {
    networks: Series,
    countries: Series,
    volumes: Volumes,
}

/// The network cell-hours the aggregates publish (see "k-anonymity" above), of every
/// platform and of the connection conditions, and their sums per country.
fn published(counts: &HourlyCounts, k: u32, counted_from: i64) -> Published {
    let k = u64::from(k);
    let mut senders: HashMap<(i64, &str, u32), u64> = HashMap::with_capacity(counts.senders.len());
    for s in &counts.senders {
        *senders.entry((s.hour, s.cc.as_str(), s.asn)).or_default() += s.senders;
    }
    let mut cells = platforms::cells(&counts.verdicts);
    cells.extend(network::cells(&counts.connections));

    type Borrowed<'a> = HashMap<(&'a str, Option<u32>, Signal<&'a str>), BTreeMap<i64, Tally>>;
    let mut networks = Borrowed::new();
    let mut countries = Borrowed::new();
    // A network-hour's reports: the most of any of its published cells.
    let mut reports_in_hour: HashMap<(&str, u32, i64), u64> = HashMap::new();
    for ((cc, asn, signal), hour, mut tally, reports) in cells {
        let in_hour = senders.get(&(hour, cc, asn)).copied().unwrap_or(0);
        if in_hour < k || reports < k {
            continue;
        }
        tally.senders = in_hour;
        let most = reports_in_hour.entry((cc, asn, hour)).or_default();
        *most = (*most).max(reports);
        countries
            .entry((cc, None, signal.clone()))
            .or_default()
            .entry(hour)
            .or_default()
            .add(&tally);
        networks
            .entry((cc, Some(asn), signal))
            .or_default()
            .insert(hour, tally);
    }
    let mut volumes = Volumes::new(counted_from);
    for ((cc, asn, hour), reports) in reports_in_hour {
        volumes.add(cc, asn, hour, reports);
    }
    let owned = |series: Borrowed| -> Series {
        series
            .into_iter()
            .map(|((cc, asn, signal), hours)| ((cc.to_owned(), asn, signal.owned()), hours))
            .collect()
    };
    Published {
        networks: owned(networks),
        countries: owned(countries),
        volumes,
    }
}

/// Global signal-hours: at least two countries with data, two thirds of them flagged; the
/// world's tally, tested against the count-weighted mean of their baselines.
fn global_hours(country_tests: &Tests) -> Tests {
    let mut by_signal_hour: BTreeMap<(Signal, i64), Vec<Test>> = BTreeMap::new();
    for ((_, _, signal), tests) in country_tests {
        for (&hour, test) in tests {
            by_signal_hour
                .entry((signal.clone(), hour))
                .or_default()
                .push(*test);
        }
    }
    let mut global = Tests::new();
    for ((signal, hour), tests) in by_signal_hour {
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
            .entry((String::new(), None, signal))
            .or_default()
            .insert(hour, world);
    }
    global
}

/// A global signal-hour is no country's or network's disruption.
fn unflag(global: &Tests, tests: &mut Tests) {
    let is_global = |signal: &Signal, hour: i64| {
        global
            .get(&(String::new(), None, signal.clone()))
            .is_some_and(|hours| hours.contains_key(&hour))
    };
    for ((_, _, signal), tests) in tests.iter_mut() {
        for (&hour, test) in tests.iter_mut() {
            if is_global(signal, hour) {
                test.flagged = false;
            }
        }
    }
}

/// A country-wide hour needs [`COUNTRY_NETWORKS`] of the country's networks flagged too.
fn require_several_networks(network_tests: &Tests, country_tests: &mut Tests) {
    let mut flagged_networks: HashMap<(&str, &Signal, i64), usize> = HashMap::new();
    for ((cc, _, signal), tests) in network_tests {
        for (&hour, test) in tests {
            if test.flagged {
                *flagged_networks.entry((cc, signal, hour)).or_default() += 1;
            }
        }
    }
    for ((cc, _, signal), tests) in country_tests.iter_mut() {
        for (&hour, test) in tests.iter_mut() {
            let several = flagged_networks
                .get(&(cc.as_str(), signal, hour))
                .is_some_and(|&n| n >= COUNTRY_NETWORKS);
            test.flagged &= several;
        }
    }
}

/// Tests every hour of a series against the pooled unflagged hours of the
/// [`BASELINE_HOURS`] before it, or, without enough of them, against `elsewhere(hour)`: the
/// failing and conclusive evidence of the same signal and hour in other countries.
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

/// A run of consecutive flagged hours of one series.
struct Run {
    scope: Scope,
    cc: Option<String>,
    asn: Option<u32>,
    signal: Signal,
    start: i64,
    last: i64,
    end: Option<i64>,
    total: Tally,
    /// Σ baseline × conclusive over the run's hours.
    expected: f64,
}

fn runs_of(scope: Scope, key: &Key, series: &BTreeMap<i64, Test>, ongoing_from: i64) -> Vec<Run> {
    let (cc, asn, signal) = key;
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
                signal: signal.clone(),
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
    fn verdict(&self) -> EventVerdict {
        match self.signal {
            Signal::Platform(_) => platforms::dominant(&self.total.failing),
            Signal::Outage => EventVerdict::Outage,
            Signal::Slowdown => EventVerdict::Slowdown,
        }
    }
}

/// Runs of one cell starting in the same hour with the same verdict, as one event.
fn group(runs: Vec<Run>) -> Vec<Disruption> {
    type EventKey = (Scope, Option<String>, Option<u32>, EventVerdict, i64);
    let mut grouped: BTreeMap<EventKey, Vec<Run>> = BTreeMap::new();
    for run in runs {
        let key = (run.scope, run.cc.clone(), run.asn, run.verdict(), run.start);
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
            let mut platforms: Vec<String> = runs
                .iter()
                .filter_map(|r| match &r.signal {
                    Signal::Platform(id) => Some(id.clone()),
                    Signal::Outage | Signal::Slowdown => None,
                })
                .collect();
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
                volume: None,
                last: runs.iter().map(|r| r.last).max().unwrap_or(first.last),
            }
        })
        .collect()
}

#[cfg(test)]
mod fixtures;

#[cfg(test)]
mod tests {
    use super::fixtures::{Counts, T};
    use super::*;
    use netreach::Verdict;

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
        assert_eq!(
            (e.verdict, e.start, e.end),
            (EventVerdict::Blocked, T, None)
        );
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
            (EventVerdict::Throttled, Some(T + HOUR))
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
