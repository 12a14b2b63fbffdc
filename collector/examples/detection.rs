//! Detection quality on generated data with known events (`cargo xtask bench detection`): how
//! late `disruptions::detect` (the function `GET /v1/disruptions` runs) flags planted events,
//! how many it misses, and how often it flags a cell-hour outside every planted event.
//!
//! Two data sets, both counted as storage counts stored reports ([`demo::Counter`]):
//!
//! - **demo**: the weeks of `netreach-collector demo` (real reports, verdicts from the
//!   engine's classifier) for many seeds and hours of the day; its four events are known from
//!   [`demo::event`] and [`demo::link`]. The week has 168 hours, so the window tested is its
//!   second half (the first half is the baseline), as the demo's own test does.
//! - **varied**: two weeks of verdicts and connection conditions (the first the baseline) on
//!   16 networks in 4 countries, background failing shares of 0.5 % to 10 % per network, a few
//!   % of runs offline or degraded, and events planted in the second week: platform events of
//!   every size (share of runs hit 10 % to 90 %), duration (1 to 24 h), failing verdict and
//!   number of networks (one to all of a country); outages (a share of runs offline, counted
//!   by their start hour however late they are sent, with fewer runs than usual: those kept
//!   by their pages) and slowdowns (a share of runs degraded).
//!
//! Scoring is per network cell-hour (country, network, signal, hour; the signal a platform,
//! `outage` or `slowdown`), and apart for platform events, outages and slowdowns. `detect`
//! runs once per platform and once on the connection conditions alone, which gives the same
//! flags as one run over all of them (every rule is per signal) and lets each event's hours
//! be read back exactly. A planted event is found when
//! any of its cell-hours is flagged; its delay is its first flagged hour minus its start.
//! A false alarm is a flagged network cell-hour outside every planted event, counted per
//! 1,000 cell-hours with reports in the window tested; country-wide flags outside every
//! planted event of the country are counted apart.
//!
//! Last, detection's own time at the scale of the PostgreSQL benchmark
//! (`collector/benches/detection.sh`): `detect` over the counts one request reads there, the
//! 14 days (7 reported, 7 of baseline) of 40 networks in 10 countries and 12 platforms at a
//! million reports a month, without the database ([`scale`]).
//!
//! `cargo run --release -p netreach-collector --example detection -- [SEEDS]` (default 40)

use netreach::{Campaign, Verdict};
use netreach_collector::connection::Connection;
use netreach_collector::demo::{self, Counter, Network, Rng};
use netreach_collector::disruptions::{detect, EventVerdict, Scope, Window, BASELINE_HOURS};
use netreach_collector::storage::{ConnectionRow, CountRow, HourlyCounts, SenderRow};
use netreach_collector::time::{floor_hour, HOUR};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::Instant;

/// The k of the collector's default.
const K: u32 = 5;

/// A network cell-hour: country, network, signal (a platform, `outage` or `slowdown`), hour.
type Cell = (String, u32, String, i64);

/// The signals of network-wide events, as cells name them.
const OUTAGE: &str = "outage";
const SLOWDOWN: &str = "slowdown";

/// Flagged cell-hours of every signal, and how long detection took.
struct Flags {
    network: HashSet<Cell>,
    /// Country-wide: country, signal, hour.
    country: HashSet<(String, String, i64)>,
    seconds: f64,
}

/// Runs detection once per platform and once on the connection conditions alone.
fn flags(counts: &HourlyCounts, window: Window) -> Flags {
    let started = Instant::now();
    let platforms: BTreeSet<&str> = counts
        .verdicts
        .iter()
        .map(|r| r.platform.as_str())
        .collect();
    let mut flags = Flags {
        network: HashSet::new(),
        country: HashSet::new(),
        seconds: 0.0,
    };
    let mut runs: Vec<HourlyCounts> = platforms
        .into_iter()
        .map(|platform| HourlyCounts {
            verdicts: counts
                .verdicts
                .iter()
                .filter(|r| r.platform == platform)
                .cloned()
                .collect(),
            senders: counts.senders.clone(),
            connections: Vec::new(),
        })
        .collect();
    runs.push(HourlyCounts {
        verdicts: Vec::new(),
        senders: counts.senders.clone(),
        connections: counts.connections.clone(),
    });
    for one in runs {
        for e in detect(&one, K, window) {
            let signal = match e.verdict {
                EventVerdict::Outage => OUTAGE.to_owned(),
                EventVerdict::Slowdown => SLOWDOWN.to_owned(),
                _ => one.verdicts[0].platform.clone(),
            };
            let cc = e.cc.clone().unwrap_or_default();
            let mut hour = e.start.max(window.from);
            while hour <= e.last && hour < window.to {
                match (e.scope, e.asn) {
                    (Scope::Network, Some(asn)) => {
                        flags
                            .network
                            .insert((cc.clone(), asn, signal.clone(), hour));
                    }
                    (Scope::Country, _) => {
                        flags.country.insert((cc.clone(), signal.clone(), hour));
                    }
                    _ => {}
                }
                hour += HOUR;
            }
        }
    }
    flags.seconds = started.elapsed().as_secs_f64();
    flags
}

/// Network cell-hours with reports in the window: each platform's, and each network-hour's
/// outage and slowdown cells.
fn with_reports(counts: &HourlyCounts, window: Window) -> HashSet<Cell> {
    let within = |hour: i64| (window.from..window.to).contains(&hour);
    let mut cells: HashSet<Cell> = counts
        .verdicts
        .iter()
        .filter(|r| within(r.bucket))
        .map(|r| (r.cc.clone(), r.asn, r.platform.clone(), r.bucket))
        .collect();
    for r in counts.connections.iter().filter(|r| within(r.hour)) {
        for signal in [OUTAGE, SLOWDOWN] {
            cells.insert((r.cc.clone(), r.asn, signal.to_owned(), r.hour));
        }
    }
    cells
}

/// Which events a score counts.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Platform,
    Outage,
    Slowdown,
}

impl Kind {
    fn counts(self, signal: &str) -> bool {
        match self {
            Kind::Platform => signal != OUTAGE && signal != SLOWDOWN,
            Kind::Outage => signal == OUTAGE,
            Kind::Slowdown => signal == SLOWDOWN,
        }
    }
}

/// A planted event and the cell-hours it covers.
struct Planted {
    /// What it is, one field per way of grouping events (see [`Score::by`]).
    label: Vec<String>,
    start: i64,
    cells: HashSet<Cell>,
    /// Country-wide cell-hours (country, platform, hour) when it hits two networks or more.
    country: HashSet<(String, String, i64)>,
}

/// What detection made of one data set.
#[derive(Default)]
struct Score {
    events: usize,
    /// Label and delay in hours (`None`: missed) of each planted event.
    outcomes: Vec<(Vec<String>, Option<i64>)>,
    /// Planted cell-hours with reports, and of them flagged.
    planted_cell_hours: u64,
    planted_flagged: u64,
    cell_hours: u64,
    false_alarms: u64,
    country_false_alarms: u64,
    seconds: f64,
}

impl Score {
    /// Scores the flags of `kind` against its planted events.
    fn add(&mut self, kind: Kind, flags: &Flags, cells: &HashSet<Cell>, planted: &[Planted]) {
        self.seconds += flags.seconds;
        let in_planted: HashSet<&Cell> = planted.iter().flat_map(|p| &p.cells).collect();
        let country_planted: HashSet<&(String, String, i64)> =
            planted.iter().flat_map(|p| &p.country).collect();
        self.cell_hours += cells.iter().filter(|c| kind.counts(&c.2)).count() as u64;
        self.false_alarms += flags
            .network
            .iter()
            .filter(|c| kind.counts(&c.2) && !in_planted.contains(c))
            .count() as u64;
        self.country_false_alarms += flags
            .country
            .iter()
            .filter(|c| kind.counts(&c.1) && !country_planted.contains(c))
            .count() as u64;
        for p in planted {
            self.events += 1;
            let first = p
                .cells
                .iter()
                .filter(|c| flags.network.contains(*c))
                .map(|c| c.3)
                .min();
            let delay = first.map(|first| (first - p.start) / HOUR);
            self.outcomes.push((p.label.clone(), delay));
            let reported = p.cells.iter().filter(|c| cells.contains(*c));
            self.planted_cell_hours += reported.clone().count() as u64;
            self.planted_flagged += reported.filter(|c| flags.network.contains(*c)).count() as u64;
        }
    }

    fn print(&self, name: &str) {
        let mut delays: Vec<i64> = self.outcomes.iter().filter_map(|o| o.1).collect();
        delays.sort();
        let pct = |q: f64| {
            delays
                .get(((delays.len() as f64 - 1.0) * q).round() as usize)
                .copied()
        };
        let show = |d: Option<i64>| d.map_or("-".into(), |d| d.to_string());
        println!(
            "{name}: {} events planted, {} found, {} missed; delay h: median {}, p90 {}, max {}; \
             planted cell-hours flagged {} of {} ({:.1} %); \
             false alarms {} in {} network cell-hours = {:.3} per 1,000; country-wide false alarms {}; \
             detection {:.2} s",
            self.events,
            delays.len(),
            self.events - delays.len(),
            show(pct(0.5)),
            show(pct(0.9)),
            show(delays.last().copied()),
            self.planted_flagged,
            self.planted_cell_hours,
            self.planted_flagged as f64 * 100.0 / self.planted_cell_hours.max(1) as f64,
            self.false_alarms,
            self.cell_hours,
            self.false_alarms as f64 * 1000.0 / self.cell_hours.max(1) as f64,
            self.country_false_alarms,
            self.seconds,
        );
    }

    /// Found / planted and median delay per group of events.
    fn by(&self, heading: &str, field: usize) {
        let mut rows: BTreeMap<&str, (usize, usize, Vec<i64>)> = BTreeMap::new();
        for (label, delay) in &self.outcomes {
            let row = rows.entry(label[field].as_str()).or_default();
            row.1 += 1;
            if let Some(delay) = *delay {
                row.0 += 1;
                row.2.push(delay);
            }
        }
        println!(
            "  {heading:<44} {:>6} {:>7} {:>12}",
            "found", "of", "median delay"
        );
        for (label, (found, all, mut delays)) in rows {
            delays.sort();
            let median = delays
                .get(delays.len() / 2)
                .map_or("-".into(), |d| format!("{d} h"));
            println!("  {label:<44} {found:>6} {all:>7} {median:>12}");
        }
    }
}

/// The scores of one data set: platform events, outages, slowdowns.
#[derive(Default)]
struct Scores {
    platform: Score,
    outage: Score,
    slowdown: Score,
}

impl Scores {
    /// Scores one generated data set, each kind against its planted events.
    fn add(&mut self, counts: &HourlyCounts, window: Window, planted: [&[Planted]; 3]) {
        let flags = flags(counts, window);
        let cells = with_reports(counts, window);
        let [platform, outage, slowdown] = planted;
        self.platform.add(Kind::Platform, &flags, &cells, platform);
        // Detection ran once for all: its time is counted once, with the platforms.
        let untimed = Flags {
            seconds: 0.0,
            ..flags
        };
        self.outage.add(Kind::Outage, &untimed, &cells, outage);
        self.slowdown
            .add(Kind::Slowdown, &untimed, &cells, slowdown);
    }
}

fn campaign() -> Result<Campaign, String> {
    let path = "www/campaigns/default.json";
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{path}: {e} (run from the repository)"))?;
    serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))
}

/// The demo's weeks: `seeds` seeds, each generated at a different hour of the day.
fn demo_weeks(seeds: u64) -> Result<Scores, String> {
    let campaign = campaign()?;
    let mut scores = Scores::default();
    // 2026-12-02T00:00Z.
    let day = 1_796_169_600;
    for seed in 0..seeds {
        let now = day + (seed as i64 % 24) * HOUR + 1500;
        let now_hour = floor_hour(now);
        let lines = demo::week(&campaign, seed, now);
        let window = Window {
            from: now_hour - (demo::HOURS - 1) * HOUR + BASELINE_HOURS * HOUR / 2,
            to: now_hour + HOUR,
            now,
        };
        let planted = |label: &str, start: i64| Planted {
            label: vec![label.into()],
            start,
            cells: HashSet::new(),
            country: HashSet::new(),
        };
        let mut nation = planted(
            "nation-scale, 4 networks, 7 h",
            demo::nation_scale(now_hour),
        );
        let mut one = planted(
            "one-network X block, 5 h, ongoing",
            now_hour - demo::ONE_NETWORK_HOURS * HOUR,
        );
        let mut outage = planted(
            "outage, 1 network, 4 h, runs sent after it",
            now_hour - demo::OUTAGE_AGO * HOUR,
        );
        let mut slowdown = planted(
            "slowdown, 1 network, 6 h",
            now_hour - demo::SLOWDOWN_AGO * HOUR,
        );
        let mut hour = window.from;
        while hour < window.to {
            for (n, net) in demo::NETWORKS.iter().enumerate() {
                for p in &campaign.platforms {
                    if demo::event(n, &p.id, hour, now_hour).is_some() {
                        let cell = (net.cc.to_owned(), net.asn, p.id.clone(), hour);
                        if (net.cc, net.asn) == demo::ONE_NETWORK {
                            one.cells.insert(cell);
                        } else {
                            nation.cells.insert(cell);
                            nation.country.insert((net.cc.into(), p.id.clone(), hour));
                        }
                    }
                }
                let (event, signal) = match demo::link(n, hour, now_hour) {
                    demo::Link::Up => continue,
                    demo::Link::Down => (&mut outage, OUTAGE),
                    demo::Link::Slow => (&mut slowdown, SLOWDOWN),
                };
                event
                    .cells
                    .insert((net.cc.to_owned(), net.asn, signal.to_owned(), hour));
            }
            hour += HOUR;
        }
        scores.add(
            &demo::hourly_counts(&lines),
            window,
            [&[nation, one], &[outage], &[slowdown]],
        );
    }
    Ok(scores)
}

const PLATFORMS: [&str; 6] = [
    "facebook",
    "instagram",
    "telegram",
    "whatsapp",
    "x",
    "youtube",
];
const COUNTRIES: [(&str, i64); 4] = [("PK", 5), ("IR", 3), ("TR", 3), ("BR", -3)];
const FAILING: [Verdict; 3] = [Verdict::Blocked, Verdict::Throttled, Verdict::Partial];

/// A planted event of the varied set: which networks of which country, platforms, verdict,
/// share of runs hit, hours.
struct Plan {
    country: usize,
    networks: Vec<usize>,
    platforms: Vec<usize>,
    verdict: Verdict,
    share: f64,
    start: i64,
    hours: i64,
}

/// A planted network-wide event of the varied set: which networks of which country, the
/// share of runs offline (outage) or degraded (slowdown), hours, and for an outage the share
/// of the usual runs made and sent (later) at all.
struct Wide {
    kind: Kind,
    country: usize,
    networks: Vec<usize>,
    share: f64,
    kept: f64,
    start: i64,
    hours: i64,
}

/// A network of the varied set and its background: failing verdicts, runs offline, runs
/// degraded.
struct Simulated {
    network: Network,
    failing: f64,
    offline: f64,
    degraded: f64,
}

/// Two weeks of the varied set for one seed; the second week holds the planted events:
/// platform events, outages, slowdowns.
fn varied_fortnight(seed: u64, start: i64) -> (HourlyCounts, Window, [Vec<Planted>; 3]) {
    let mut rng = Rng::new(seed.wrapping_mul(0x9e37_79b9) ^ 0x5eed);
    // Four networks a country: peak reports an hour from 6 to 60, failing background from
    // 0.5 % to 10 %, offline runs from 0.5 % to 3 %, degraded ones from 1 % to 6 %.
    let mut networks = Vec::new();
    for (c, &(cc, offset)) in COUNTRIES.iter().enumerate() {
        for i in 0..4u32 {
            let network = Network {
                cc,
                asn: 1000 * (c as u32 + 1) + i,
                peak: rng.between(6, 60),
                utc_offset: offset,
                rtt_ms: 100,
            };
            let mut pick = |values: [f64; 4]| values[rng.between(0, 3) as usize];
            networks.push(Simulated {
                network,
                failing: pick([0.005, 0.02, 0.05, 0.1]),
                offline: pick([0.005, 0.01, 0.02, 0.03]),
                degraded: pick([0.01, 0.02, 0.04, 0.06]),
            });
        }
    }
    let week2 = start + BASELINE_HOURS * HOUR;
    let end = week2 + BASELINE_HOURS * HOUR;
    // Six events, not overlapping in a cell (a later one that would is dropped).
    let mut plans: Vec<Plan> = Vec::new();
    for _ in 0..6 {
        let country = rng.between(0, 3) as usize;
        let count = [1, 1, 2, 4][rng.between(0, 3) as usize];
        let mut chosen: Vec<usize> = (0..4).collect();
        while chosen.len() > count {
            chosen.remove(rng.between(0, chosen.len() as u32 - 1) as usize);
        }
        let mut platforms: Vec<usize> = vec![rng.between(0, 5) as usize];
        if rng.unit() < 0.5 {
            let other = rng.between(0, 5) as usize;
            if !platforms.contains(&other) {
                platforms.push(other);
            }
        }
        let hours = [1, 2, 3, 6, 12, 24][rng.between(0, 5) as usize];
        let plan = Plan {
            country,
            networks: chosen.iter().map(|n| country * 4 + n).collect(),
            platforms,
            verdict: FAILING[rng.between(0, 2) as usize],
            share: [0.1, 0.2, 0.3, 0.5, 0.7, 0.9][rng.between(0, 5) as usize],
            start: week2 + i64::from(rng.between(0, (BASELINE_HOURS - hours) as u32)) * HOUR,
            hours,
        };
        let clash = plans.iter().any(|p| {
            p.networks.iter().any(|n| plan.networks.contains(n))
                && p.platforms.iter().any(|x| plan.platforms.contains(x))
                && p.start < plan.start + plan.hours * HOUR
                && plan.start < p.start + p.hours * HOUR
        });
        if !clash {
            plans.push(plan);
        }
    }
    // Four network-wide events, outages or slowdowns, not overlapping a network of the same
    // kind (a later one that would is dropped).
    let mut wides: Vec<Wide> = Vec::new();
    for _ in 0..4 {
        let country = rng.between(0, 3) as usize;
        let count = [1, 1, 2, 4][rng.between(0, 3) as usize];
        let mut chosen: Vec<usize> = (0..4).collect();
        while chosen.len() > count {
            chosen.remove(rng.between(0, chosen.len() as u32 - 1) as usize);
        }
        let hours = [1, 2, 3, 6, 12][rng.between(0, 4) as usize];
        let wide = Wide {
            kind: if rng.unit() < 0.5 {
                Kind::Outage
            } else {
                Kind::Slowdown
            },
            country,
            networks: chosen.iter().map(|n| country * 4 + n).collect(),
            share: [0.1, 0.2, 0.3, 0.5, 0.7, 0.9][rng.between(0, 5) as usize],
            kept: [0.3, 0.6, 1.0][rng.between(0, 2) as usize],
            start: week2 + i64::from(rng.between(0, (BASELINE_HOURS - hours) as u32)) * HOUR,
            hours,
        };
        let clash = wides.iter().any(|w| {
            w.kind == wide.kind
                && w.networks.iter().any(|n| wide.networks.contains(n))
                && w.start < wide.start + wide.hours * HOUR
                && wide.start < w.start + w.hours * HOUR
        });
        if !clash {
            wides.push(wide);
        }
    }
    let wide = |kind: Kind, n: usize, hour: i64| {
        wides.iter().find(|w| {
            w.kind == kind
                && w.networks.contains(&n)
                && (w.start..w.start + w.hours * HOUR).contains(&hour)
        })
    };
    let hit = |n: usize, platform: usize, hour: i64| {
        plans.iter().find(|p| {
            p.networks.contains(&n)
                && p.platforms.contains(&platform)
                && (p.start..p.start + p.hours * HOUR).contains(&hour)
        })
    };
    let mut counter = Counter::default();
    let mut hour = start;
    while hour < end {
        for (n, sim) in networks.iter().enumerate() {
            let network = &sim.network;
            let outage = wide(Kind::Outage, n, hour);
            let slowdown = wide(Kind::Slowdown, n, hour);
            let disrupted =
                slowdown.is_some() || (0..PLATFORMS.len()).any(|p| hit(n, p, hour).is_some());
            let mut runs = demo::volume(network, hour, disrupted, &mut rng);
            if let Some(outage) = outage {
                // Only the runs whose pages kept them, sent once the network is back (they
                // count by their start hour however late they arrive).
                runs = (f64::from(runs) * outage.kept).round() as u32;
            }
            // What is left of the evening dip once each run is judged against its hour of
            // day: a few more degraded runs in the local evening.
            let local = (hour / HOUR + network.utc_offset).rem_euclid(24);
            let evening = if (18..24).contains(&local) { 1.5 } else { 1.0 };
            for _ in 0..runs {
                let x = rng.unit();
                let connection = match (outage, slowdown) {
                    (Some(o), _) if x < o.share => Connection::Offline,
                    (_, Some(s)) if x < s.share => Connection::Degraded,
                    _ => {
                        let y = rng.unit();
                        if y < sim.offline {
                            Connection::Offline
                        } else if y < sim.offline + sim.degraded * evening {
                            Connection::Degraded
                        } else {
                            Connection::Normal
                        }
                    }
                };
                let verdicts: Vec<(&str, Verdict)> = PLATFORMS
                    .iter()
                    .enumerate()
                    .map(|(p, id)| {
                        let x = rng.unit();
                        let verdict = match hit(n, p, hour) {
                            // Offline, no platform can be judged.
                            _ if connection == Connection::Offline => Verdict::Inconclusive,
                            Some(plan) if x < plan.share => plan.verdict,
                            // A content blocker or a cancelled run: 3 % inconclusive.
                            _ if rng.unit() < 0.03 => Verdict::Inconclusive,
                            _ if rng.unit() < sim.failing => FAILING[rng.between(0, 2) as usize],
                            _ => Verdict::Reachable,
                        };
                        (*id, verdict)
                    })
                    .collect();
                counter.add(hour, network.cc, network.asn, connection, verdicts);
            }
        }
        hour += HOUR;
    }
    let planted = plans
        .iter()
        .map(|plan| {
            let background = plan
                .networks
                .iter()
                .map(|&n| networks[n].failing)
                .fold(0.0, f64::max);
            let mut cells = HashSet::new();
            let mut country = HashSet::new();
            for h in 0..plan.hours {
                let hour = plan.start + h * HOUR;
                for &p in &plan.platforms {
                    for &n in &plan.networks {
                        let net = &networks[n].network;
                        cells.insert((net.cc.to_owned(), net.asn, PLATFORMS[p].to_owned(), hour));
                    }
                    if plan.networks.len() >= 2 {
                        country.insert((
                            COUNTRIES[plan.country].0.to_owned(),
                            PLATFORMS[p].to_owned(),
                            hour,
                        ));
                    }
                }
            }
            Planted {
                label: vec![
                    format!("{:>2.0} %", plan.share * 100.0),
                    plan.verdict.as_str().to_owned(),
                    format!("{}", plan.networks.len()),
                    format!("{:>2} h", plan.hours),
                    format!("{:>4.1} %", background * 100.0),
                ],
                start: plan.start,
                cells,
                country,
            }
        })
        .collect();
    let wide_planted = |kind: Kind| {
        wides
            .iter()
            .filter(|w| w.kind == kind)
            .map(|w| {
                let signal = if kind == Kind::Outage {
                    OUTAGE
                } else {
                    SLOWDOWN
                };
                let mut cells = HashSet::new();
                let mut country = HashSet::new();
                for h in 0..w.hours {
                    let hour = w.start + h * HOUR;
                    for &n in &w.networks {
                        let net = &networks[n].network;
                        cells.insert((net.cc.to_owned(), net.asn, signal.to_owned(), hour));
                    }
                    if w.networks.len() >= 2 {
                        let cc = COUNTRIES[w.country].0.to_owned();
                        country.insert((cc, signal.to_owned(), hour));
                    }
                }
                let background = w
                    .networks
                    .iter()
                    .map(|&n| {
                        let sim = &networks[n];
                        if kind == Kind::Outage {
                            sim.offline
                        } else {
                            sim.degraded
                        }
                    })
                    .fold(0.0, f64::max);
                Planted {
                    label: vec![
                        format!("{:>2.0} %", w.share * 100.0),
                        format!("{}", w.networks.len()),
                        format!("{:>2} h", w.hours),
                        format!("{:>4.1} %", background * 100.0),
                        format!("{:>3.0} %", w.kept * 100.0),
                    ],
                    start: w.start,
                    cells,
                    country,
                }
            })
            .collect()
    };
    let window = Window {
        from: week2,
        to: end,
        now: end,
    };
    let outages = wide_planted(Kind::Outage);
    let slowdowns = wide_planted(Kind::Slowdown);
    (counter.finish(), window, [planted, outages, slowdowns])
}

fn main() -> Result<(), String> {
    let seeds: u64 = match std::env::args().nth(1) {
        Some(arg) => arg
            .parse()
            .map_err(|_| format!("SEEDS must be a number, not {arg:?}"))?,
        None => 40,
    };
    let demo = demo_weeks(seeds)?;
    demo.platform
        .print(&format!("demo generator, {seeds} weeks, platform events"));
    demo.platform.by("event", 0);
    demo.outage
        .print(&format!("demo generator, {seeds} weeks, outages"));
    demo.slowdown
        .print(&format!("demo generator, {seeds} weeks, slowdowns"));
    let mut varied = Scores::default();
    // 2026-11-02T00:00Z.
    let start = 1_793_577_600;
    for seed in 0..seeds {
        let (counts, window, [platform, outage, slowdown]) = varied_fortnight(seed, start);
        varied.add(&counts, window, [&platform, &outage, &slowdown]);
    }
    println!();
    varied
        .platform
        .print(&format!("varied, {seeds} fortnights, platform events"));
    for (field, heading) in [
        "share of runs hit",
        "verdict",
        "networks hit",
        "duration",
        "background failing (its networks' highest)",
    ]
    .into_iter()
    .enumerate()
    {
        varied.platform.by(heading, field);
    }
    for (score, name, background) in [
        (
            &varied.outage,
            "outages",
            "background offline (its networks' highest)",
        ),
        (
            &varied.slowdown,
            "slowdowns",
            "background degraded (its networks' highest)",
        ),
    ] {
        println!();
        score.print(&format!("varied, {seeds} fortnights, {name}"));
        let mut headings = vec![
            if name == "outages" {
                "share of runs offline"
            } else {
                "share of runs degraded"
            },
            "networks hit",
            "duration",
            background,
        ];
        if name == "outages" {
            headings.push("runs made and sent later, of the usual");
        }
        for (field, heading) in headings.into_iter().enumerate() {
            score.by(heading, field);
        }
    }
    println!();
    scale(&campaign()?);
    Ok(())
}

/// Times `detect` (5 times: median and max) on counts shaped as the PostgreSQL benchmark's
/// request reads them: 336 hours × 40 networks × the default campaign's 12 platforms, each cell-hour 35 reports of
/// 35 senders (a million reports in 30 days) with the verdicts the benchmark draws (2 %
/// blocked, 1 % partial, 3 % inconclusive, here 1 or 2, 0 or 1, 1 or 2 reports of 35), and
/// each network-hour's connection conditions.
fn scale(campaign: &Campaign) {
    const COUNTRIES: [&str; 10] = ["PK", "IR", "TR", "RU", "BR", "IN", "EG", "ET", "MM", "US"];
    let now = 1_796_169_600;
    let window = Window {
        from: now - 7 * 24 * HOUR,
        to: now,
        now,
    };
    let mut rng = Rng::new(7);
    let mut counts = HourlyCounts::default();
    let mut hour = window.from - BASELINE_HOURS * HOUR;
    while hour < now {
        for n in 0..40u32 {
            let (cc, asn) = (COUNTRIES[n as usize / 4].to_owned(), 1000 + n);
            counts.senders.push(SenderRow {
                hour,
                cc: cc.clone(),
                asn,
                senders: 35,
            });
            for (connection, count) in [
                (Connection::Normal, 34),
                (Connection::Degraded, rng.between(0, 1)),
                (Connection::Offline, rng.between(0, 1)),
            ] {
                counts.connections.push(ConnectionRow {
                    hour,
                    cc: cc.clone(),
                    asn,
                    connection,
                    count: u64::from(count),
                });
            }
            for platform in campaign.platforms.iter().map(|p| p.id.as_str()) {
                let blocked = rng.between(1, 2);
                let partial = rng.between(0, 1);
                let inconclusive = rng.between(1, 2);
                for (verdict, count) in [
                    (Verdict::Blocked, blocked),
                    (Verdict::Inconclusive, inconclusive),
                    (Verdict::Partial, partial),
                    (Verdict::Reachable, 35 - blocked - partial - inconclusive),
                ] {
                    if count > 0 {
                        counts.verdicts.push(CountRow {
                            bucket: hour,
                            cc: cc.clone(),
                            asn,
                            platform: platform.to_owned(),
                            verdict,
                            count: u64::from(count),
                            senders: u64::from(count),
                        });
                    }
                }
            }
        }
        hour += HOUR;
    }
    // Storage's order: by cell, then verdict by name.
    counts.verdicts.sort_by(|a, b| a.cell().cmp(&b.cell()));
    let mut seconds: Vec<f64> = (0..5)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(detect(&counts, K, window));
            started.elapsed().as_secs_f64()
        })
        .collect();
    seconds.sort_by(f64::total_cmp);
    println!(
        "detect() at the PostgreSQL benchmark's scale: {} verdict rows, {} connection rows \
         (14 days, 40 networks, 12 platforms): median {:.3} s, max {:.3} s of 5",
        counts.verdicts.len(),
        counts.connections.len(),
        seconds[2],
        seconds[4]
    );
}
