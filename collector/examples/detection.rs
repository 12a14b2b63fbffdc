//! Detection quality on generated data with known events (`cargo xtask bench detection`): how
//! late `disruptions::detect` (the function `GET /v1/disruptions` runs) flags planted events,
//! how many it misses, and how often it flags a cell-hour outside every planted event.
//!
//! Two data sets, both counted as storage counts stored reports ([`demo::Counter`]):
//!
//! - **demo**: the weeks of `netreach-collector demo` (real reports, verdicts from the
//!   engine's classifier) for many seeds and hours of the day; its two events are known from
//!   [`demo::event`]. The week has 168 hours, so the window tested is its second half (the
//!   first half is the baseline), as the demo's own test does.
//! - **varied**: two weeks of verdicts (the first the baseline) on 16 networks in 4 countries,
//!   background failing shares of 0.5 % to 10 % per network, and events planted in the
//!   second week of every size (share of runs hit 10 % to 90 %), duration (1 to 24 h),
//!   failing verdict and number of networks (one to all of a country).
//!
//! Scoring is per network cell-hour (country, network, platform, hour). `detect` runs once
//! per platform, which gives the same flags as one run over all of them (every rule is per
//! platform) and lets each event's hours be read back exactly. A planted event is found when
//! any of its cell-hours is flagged; its delay is its first flagged hour minus its start.
//! A false alarm is a flagged network cell-hour outside every planted event, counted per
//! 1,000 cell-hours with reports in the window tested; country-wide flags outside every
//! planted event of the country are counted apart.
//!
//! `cargo run --release -p netreach-collector --example detection -- [SEEDS]` (default 40)

use netreach::{Campaign, Verdict};
use netreach_collector::demo::{self, Counter, Network, Rng};
use netreach_collector::disruptions::{detect, Scope, Window, BASELINE_HOURS};
use netreach_collector::storage::HourlyCounts;
use netreach_collector::time::{floor_hour, HOUR};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::Instant;

/// The k of the collector's default.
const K: u32 = 5;

/// A network cell-hour: country, network, platform, hour.
type Cell = (String, u32, String, i64);

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
    fn add(&mut self, counts: &HourlyCounts, window: Window, planted: &[Planted]) {
        let started = Instant::now();
        let platforms: BTreeSet<&str> = counts
            .verdicts
            .iter()
            .map(|r| r.platform.as_str())
            .collect();
        let mut flagged: HashSet<Cell> = HashSet::new();
        let mut country_flagged: HashSet<(String, String, i64)> = HashSet::new();
        for platform in platforms {
            let one = HourlyCounts {
                verdicts: counts
                    .verdicts
                    .iter()
                    .filter(|r| r.platform == platform)
                    .cloned()
                    .collect(),
                senders: counts.senders.clone(),
                connections: Vec::new(),
            };
            for e in detect(&one, K, window) {
                let cc = e.cc.clone().unwrap_or_default();
                let mut hour = e.start.max(window.from);
                while hour <= e.last && hour < window.to {
                    match (e.scope, e.asn) {
                        (Scope::Network, Some(asn)) => {
                            flagged.insert((cc.clone(), asn, platform.into(), hour));
                        }
                        (Scope::Country, _) => {
                            country_flagged.insert((cc.clone(), platform.into(), hour));
                        }
                        _ => {}
                    }
                    hour += HOUR;
                }
            }
        }
        self.seconds += started.elapsed().as_secs_f64();
        let in_planted: HashSet<&Cell> = planted.iter().flat_map(|p| &p.cells).collect();
        let country_planted: HashSet<&(String, String, i64)> =
            planted.iter().flat_map(|p| &p.country).collect();
        let with_reports: HashSet<Cell> = counts
            .verdicts
            .iter()
            .filter(|r| (window.from..window.to).contains(&r.bucket))
            .map(|r| (r.cc.clone(), r.asn, r.platform.clone(), r.bucket))
            .collect();
        self.cell_hours += with_reports.len() as u64;
        self.false_alarms += flagged.iter().filter(|c| !in_planted.contains(c)).count() as u64;
        self.country_false_alarms += country_flagged
            .iter()
            .filter(|c| !country_planted.contains(c))
            .count() as u64;
        for p in planted {
            self.events += 1;
            let first = p
                .cells
                .iter()
                .filter(|c| flagged.contains(*c))
                .map(|c| c.3)
                .min();
            let delay = first.map(|first| (first - p.start) / HOUR);
            self.outcomes.push((p.label.clone(), delay));
            let reported = p.cells.iter().filter(|c| with_reports.contains(*c));
            self.planted_cell_hours += reported.clone().count() as u64;
            self.planted_flagged += reported.filter(|c| flagged.contains(*c)).count() as u64;
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

fn campaign() -> Result<Campaign, String> {
    let path = "www/campaigns/default.json";
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{path}: {e} (run from the repository)"))?;
    serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))
}

/// The demo's weeks: `seeds` seeds, each generated at a different hour of the day.
fn demo_weeks(seeds: u64) -> Result<Score, String> {
    let campaign = campaign()?;
    let mut score = Score::default();
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
        let mut nation = Planted {
            label: vec!["nation-scale, 4 networks, 7 h".into()],
            start: demo::nation_scale(now_hour),
            cells: HashSet::new(),
            country: HashSet::new(),
        };
        let mut one = Planted {
            label: vec!["one-network X block, 5 h, ongoing".into()],
            start: now_hour - demo::ONE_NETWORK_HOURS * HOUR,
            cells: HashSet::new(),
            country: HashSet::new(),
        };
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
            }
            hour += HOUR;
        }
        score.add(&demo::hourly_counts(&lines), window, &[nation, one]);
    }
    Ok(score)
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

/// Two weeks of the varied set for one seed; the second week holds the planted events.
fn varied_fortnight(seed: u64, start: i64) -> (HourlyCounts, Window, Vec<Planted>) {
    let mut rng = Rng::new(seed.wrapping_mul(0x9e37_79b9) ^ 0x5eed);
    // Four networks a country: peak reports an hour from 6 to 60, failing background from
    // 0.5 % to 10 %.
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
            let background = [0.005, 0.02, 0.05, 0.1][rng.between(0, 3) as usize];
            networks.push((network, background));
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
        for (n, (network, background)) in networks.iter().enumerate() {
            let disrupted = (0..PLATFORMS.len()).any(|p| hit(n, p, hour).is_some());
            for _ in 0..demo::volume(network, hour, disrupted, &mut rng) {
                let verdicts: Vec<(&str, Verdict)> = PLATFORMS
                    .iter()
                    .enumerate()
                    .map(|(p, id)| {
                        let x = rng.unit();
                        let verdict = match hit(n, p, hour) {
                            Some(plan) if x < plan.share => plan.verdict,
                            // A content blocker or a cancelled run: 3 % inconclusive.
                            _ if rng.unit() < 0.03 => Verdict::Inconclusive,
                            _ if rng.unit() < *background => FAILING[rng.between(0, 2) as usize],
                            _ => Verdict::Reachable,
                        };
                        (*id, verdict)
                    })
                    .collect();
                counter.add(hour, network.cc, network.asn, verdicts);
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
                .map(|&n| networks[n].1)
                .fold(0.0, f64::max);
            let mut cells = HashSet::new();
            let mut country = HashSet::new();
            for h in 0..plan.hours {
                let hour = plan.start + h * HOUR;
                for &p in &plan.platforms {
                    for &n in &plan.networks {
                        let net = &networks[n].0;
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
    let window = Window {
        from: week2,
        to: end,
        now: end,
    };
    (counter.finish(), window, planted)
}

fn main() -> Result<(), String> {
    let seeds: u64 = match std::env::args().nth(1) {
        Some(arg) => arg
            .parse()
            .map_err(|_| format!("SEEDS must be a number, not {arg:?}"))?,
        None => 40,
    };
    let demo = demo_weeks(seeds)?;
    demo.print(&format!("demo generator, {seeds} weeks"));
    demo.by("event", 0);
    let mut varied = Score::default();
    // 2026-11-02T00:00Z.
    let start = 1_793_577_600;
    for seed in 0..seeds {
        let (counts, window, planted) = varied_fortnight(seed, start);
        varied.add(&counts, window, &planted);
    }
    println!();
    varied.print(&format!("varied, {seeds} fortnights"));
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
        varied.by(heading, field);
    }
    Ok(())
}
