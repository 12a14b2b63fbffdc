//! Demo data: a simulated week of reports, SYNTHETIC, for `cargo xtask serve --demo` and
//! `netreach-collector demo`, so that a newcomer sees what the dashboard, the API and the feed
//! do with an empty database.
//!
//! Every report is a real, complete report of the campaign it names: its attempts are made up,
//! its verdicts are the engine's classifier's ([`netreach::classify::judge`]), so it passes
//! `import` exactly as `POST /v1/reports` would take it. What the week holds (hours relative
//! to the hour of `now`, so the events are recent or under way whenever it is generated):
//!
//! - **Background**: eight networks in four countries ([`NETWORKS`]), every hour, more in the
//!   evening than at night (local time), with realistic noise per platform: a content blocker
//!   refusing it in the browser (`inconclusive`), a few cancelled runs, and rarely a partial
//!   load, a failed or a slow one. Detection must stay silent on it.
//! - **A nation-scale social-media disruption in Pakistan** ([`nation_scale`]): from 21:00 PKT
//!   (16:00 UTC) on the last such evening at least [`NATION_SCALE_AGO`] hours back, for
//!   [`NATION_SCALE_HOURS`] hours, X, Facebook and Instagram blocked and YouTube throttled on
//!   four of Pakistan's five networks, with more people testing than usual.
//! - **A one-network X block** ([`ONE_NETWORK`]): X reset after the TLS ClientHello on one
//!   more network (AS9541) for the last [`ONE_NETWORK_HOURS`] hours, still under way.
//! - **An internet outage** ([`OUTAGE_NETWORK`]): for [`OUTAGE_HOURS`] hours from
//!   [`OUTAGE_AGO`] hours back, nine runs in ten on AS59257 find every control endpoint failing
//!   (the engine's offline early stop: every control fails all its trials, one attempt per
//!   platform endpoint, every verdict `inconclusive`). Fewer runs than usual are made (the
//!   pages that keep theirs, [`OUTAGE_KEPT`], still over k), and they are sent once the network is back:
//!   their lines come after those of the hour the outage ends, each with its own start hour.
//! - **An internet slowdown** ([`SLOWDOWN_NETWORK`]): for [`SLOWDOWN_HOURS`] hours from
//!   [`SLOWDOWN_AGO`] hours back, nine runs in ten on AS3320 load everything, controls
//!   included, [`SLOW_FACTOR`] times slower than that network's other days at that hour; the
//!   platforms' verdicts, judged against the controls, stay what they were.
//!
//! The same seed and the same hour give the same reports, byte for byte.

use crate::connection::Connection;
use crate::storage::{ConnectionRow, CountRow, HourlyCounts, SenderRow};
use crate::time::{floor_hour, format_utc, HOUR};
use netreach::classify::{controls_down, judge, Baseline};
use netreach::{
    Attempt, Browser, Campaign, Client, Condition, Endpoint, EndpointResult, Os, Outcome, Report,
    Verdict,
};
use serde::Serialize;
use std::collections::BTreeMap;

/// Hours of reports generated, the current one included: a week.
pub const HOURS: i64 = 7 * 24;
/// The nation-scale disruption lasts this many hours from 21:00 PKT.
pub const NATION_SCALE_HOURS: i64 = 7;
/// It starts at least this many hours before the current hour (so it has ended).
pub const NATION_SCALE_AGO: i64 = 10;
/// The one-network X block started this many hours before the current hour.
pub const ONE_NETWORK_HOURS: i64 = 5;
/// Platforms blocked in the nation-scale disruption.
pub const NATION_SCALE_BLOCKED: [&str; 3] = ["facebook", "instagram", "x"];
/// Platform throttled in it.
pub const NATION_SCALE_THROTTLED: &str = "youtube";
/// The network of the one-network X block.
pub const ONE_NETWORK: (&str, u32) = ("PK", 9541);
/// The network of the internet outage.
pub const OUTAGE_NETWORK: (&str, u32) = ("PK", 59257);
/// The outage starts this many hours before the current hour…
pub const OUTAGE_AGO: i64 = 50;
/// …and lasts this many hours.
pub const OUTAGE_HOURS: i64 = 4;
/// The share of the usual runs made during the outage and sent after it.
pub const OUTAGE_KEPT: f64 = 0.7;
/// The network of the internet slowdown.
pub const SLOWDOWN_NETWORK: (&str, u32) = ("DE", 3320);
/// The slowdown starts this many hours before the current hour…
pub const SLOWDOWN_AGO: i64 = 28;
/// …and lasts this many hours.
pub const SLOWDOWN_HOURS: i64 = 6;
/// How many times slower everything loads in the slowdown.
pub const SLOW_FACTOR: u32 = 10;

/// A simulated network: where, how busy at its busiest hour, its local time and round trip.
#[derive(Clone, Copy, Debug)]
pub struct Network {
    pub cc: &'static str,
    pub asn: u32,
    /// Reports an hour at the evening peak.
    pub peak: u32,
    /// Hours from UTC to local time.
    pub utc_offset: i64,
    /// Typical round trip to the controls, ms (at least 45: a content blocker's refusal must be
    /// told from the network's, see `netreach::classify`).
    pub rtt_ms: u32,
}

/// The networks of the simulation. The first four of Pakistan are hit by the nation-scale
/// disruption; the fifth has the one-network X block.
pub const NETWORKS: [Network; 8] = [
    Network {
        cc: "PK",
        asn: 17557,
        peak: 12,
        utc_offset: 5,
        rtt_ms: 90,
    },
    Network {
        cc: "PK",
        asn: 45669,
        peak: 14,
        utc_offset: 5,
        rtt_ms: 140,
    },
    Network {
        cc: "PK",
        asn: 24499,
        peak: 10,
        utc_offset: 5,
        rtt_ms: 150,
    },
    Network {
        cc: "PK",
        asn: 59257,
        peak: 10,
        utc_offset: 5,
        rtt_ms: 130,
    },
    Network {
        cc: "PK",
        asn: 9541,
        peak: 9,
        utc_offset: 5,
        rtt_ms: 80,
    },
    Network {
        cc: "DE",
        asn: 3320,
        peak: 8,
        utc_offset: 1,
        rtt_ms: 45,
    },
    Network {
        cc: "US",
        asn: 7922,
        peak: 8,
        utc_offset: -5,
        rtt_ms: 50,
    },
    Network {
        cc: "BR",
        asn: 28573,
        peak: 7,
        utc_offset: -3,
        rtt_ms: 70,
    },
];

/// Networks of Pakistan in the nation-scale disruption ("most networks").
const NATION_SCALE_NETWORKS: usize = 4;

/// The fewest reports of a network's hour: above k = 5, so every whole hour is published.
const MIN_PER_HOUR: u32 = 6;

/// One line of the JSON lines `import` reads.
#[derive(Serialize)]
pub struct Line {
    pub cc: &'static str,
    pub asn: u32,
    pub report: Report,
    /// What the generator meant the run's connection to be, for [`hourly_counts`]: `offline`
    /// is what the report's controls show by the engine's rule, `degraded` is what the
    /// collector judges against the network's stored baseline for that hour of day, which the
    /// generator cannot run, so it says what it made (controls [`SLOW_FACTOR`] times slower).
    #[serde(skip)]
    pub link: Link,
}

/// How the visitor's connection itself fared in a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// As usual for the network.
    Up,
    /// Far slower than the network's usual at that hour: everything [`SLOW_FACTOR`] times
    /// slower.
    Slow,
    /// Down: every control attempt fails.
    Down,
}

/// What happened to one platform in one simulated run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Every endpoint loads.
    Loads,
    /// Every attempt times out: a censor dropping the packets.
    Dropped,
    /// Every attempt fails after a round trip: a censor's reset.
    Reset,
    /// Everything loads, far slower than the controls: throttled.
    Slowed,
    /// The first endpoint times out, the others load: partial.
    OneEndpointFails,
    /// The browser refuses every attempt in a few milliseconds (a content blocker):
    /// inconclusive.
    RefusedByBrowser,
}

/// A small deterministic generator (SplitMix64): demo data must not change between runs.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[low, high]`.
    pub fn between(&mut self, low: u32, high: u32) -> u32 {
        low + (self.next_u64() % u64::from(high - low + 1)) as u32
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

/// The attempts of one endpoint under `fate`, on a connection whose round trip is `rtt`.
fn attempts(endpoint: &Endpoint, trials: u32, fate: Fate, rtt: u32, rng: &mut Rng) -> Vec<Attempt> {
    (0..trials)
        .map(|_| {
            let (outcome, ms) = match fate {
                Fate::Loads => (Outcome::Ok, rtt + rng.between(10, rtt)),
                Fate::Slowed => (Outcome::Ok, rtt * 15 + 3000 + rng.between(0, 2000)),
                Fate::Dropped => (Outcome::Timeout, 8000 + rng.between(0, 400)),
                Fate::Reset => (Outcome::Error, rtt + rng.between(5, 40)),
                Fate::RefusedByBrowser => (Outcome::Error, rng.between(2, 15)),
                Fate::OneEndpointFails => unreachable!("decided per endpoint"),
            };
            let loaded = outcome == Outcome::Ok;
            Attempt {
                outcome,
                ms,
                // A sized object's transfer takes a few round trips more than its headers.
                duration_ms: (loaded && endpoint.bytes.is_some()).then(|| ms * 3),
                bytes: endpoint.bytes.filter(|_| loaded),
                hidden: false,
            }
        })
        .collect()
}

/// One endpoint's result: `trials` attempts under `fate`.
fn result(endpoint: &Endpoint, trials: u32, fate: Fate, rtt: u32, rng: &mut Rng) -> EndpointResult {
    EndpointResult {
        url: endpoint.url.clone(),
        kind: endpoint.kind,
        attempts: attempts(endpoint, trials, fate, rtt, rng),
    }
}

/// A report of `campaign` started at `started_at` (a whole hour), each platform's attempts
/// made as its fate says, its verdicts the classifier's.
pub fn report(
    campaign: &Campaign,
    started_at: i64,
    client: Client,
    rtt: u32,
    cancelled: bool,
    fate: impl Fn(&str) -> Fate,
    rng: &mut Rng,
) -> Report {
    let controls: Vec<EndpointResult> = campaign
        .controls
        .iter()
        .map(|e| result(e, campaign.trials, Fate::Loads, rtt, rng))
        .collect();
    let baseline = Baseline::new(&controls);
    let conditions = if cancelled {
        vec![Condition::Cancelled]
    } else {
        vec![]
    };
    let platforms = campaign
        .platforms
        .iter()
        .map(|p| {
            let fate = match fate(&p.id) {
                Fate::OneEndpointFails if p.endpoints.len() < 2 => Fate::Loads,
                other => other,
            };
            let endpoints = p
                .endpoints
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let fate = match fate {
                        Fate::OneEndpointFails if i == 0 => Fate::Dropped,
                        Fate::OneEndpointFails => Fate::Loads,
                        other => other,
                    };
                    result(e, campaign.trials, fate, rtt, rng)
                })
                .collect();
            judge(p.id.clone(), endpoints, &baseline, &conditions)
        })
        .collect();
    assemble(
        campaign, started_at, client, conditions, controls, platforms, rng,
    )
}

/// A report of a run made offline, as the engine makes it: every control times out on all
/// its trials (`netreach::classify::controls_down`), then one attempt per platform endpoint
/// times out too and the run stops; every verdict is `inconclusive` (controls failed).
pub fn offline_report(
    campaign: &Campaign,
    started_at: i64,
    client: Client,
    rng: &mut Rng,
) -> Report {
    let controls: Vec<EndpointResult> = campaign
        .controls
        .iter()
        .map(|e| result(e, campaign.trials, Fate::Dropped, 0, rng))
        .collect();
    let baseline = Baseline::new(&controls);
    let platforms = campaign
        .platforms
        .iter()
        .map(|p| {
            let endpoints = p
                .endpoints
                .iter()
                .map(|e| result(e, 1, Fate::Dropped, 0, rng))
                .collect();
            judge(p.id.clone(), endpoints, &baseline, &[])
        })
        .collect();
    assemble(
        campaign,
        started_at,
        client,
        vec![],
        controls,
        platforms,
        rng,
    )
}

fn assemble(
    campaign: &Campaign,
    started_at: i64,
    client: Client,
    conditions: Vec<Condition>,
    controls: Vec<EndpointResult>,
    platforms: Vec<netreach::PlatformResult>,
    rng: &mut Rng,
) -> Report {
    Report {
        schema: netreach::SCHEMA.into(),
        campaign: campaign.id.clone(),
        campaign_revision: None,
        started_at: format_utc(started_at).replace('Z', ".000Z"),
        runtime_ms: rng.between(6_000, 40_000),
        client,
        conditions,
        controls,
        platforms,
    }
}

/// The start of the nation-scale disruption: 21:00 PKT (16:00 UTC) on the last evening at
/// least [`NATION_SCALE_AGO`] hours before `hour`.
pub fn nation_scale(hour: i64) -> i64 {
    let latest = hour - NATION_SCALE_AGO * HOUR;
    let day = latest.div_euclid(24 * HOUR) * 24 * HOUR;
    let evening = day + 16 * HOUR;
    if evening <= latest {
        evening
    } else {
        evening - 24 * HOUR
    }
}

/// What a platform suffers on `network` in `hour`, besides the background's noise.
pub fn event(network: usize, platform: &str, hour: i64, now_hour: i64) -> Option<Fate> {
    let start = nation_scale(now_hour);
    let in_nation_scale = network < NATION_SCALE_NETWORKS
        && (start..start + NATION_SCALE_HOURS * HOUR).contains(&hour);
    if in_nation_scale {
        if NATION_SCALE_BLOCKED.contains(&platform) {
            return Some(Fate::Dropped);
        }
        if platform == NATION_SCALE_THROTTLED {
            return Some(Fate::Slowed);
        }
    }
    let net = NETWORKS[network];
    if (net.cc, net.asn) == ONE_NETWORK
        && platform == "x"
        && hour >= now_hour - ONE_NETWORK_HOURS * HOUR
    {
        return Some(Fate::Reset);
    }
    None
}

/// How the connection of `network` itself fares in `hour` (for nine runs in ten: the outage
/// and the slowdown spare some, a second SIM, a fixed line).
pub fn link(network: usize, hour: i64, now_hour: i64) -> Link {
    let net = NETWORKS[network];
    let within = |ago: i64, hours: i64| {
        let start = now_hour - ago * HOUR;
        (start..start + hours * HOUR).contains(&hour)
    };
    if (net.cc, net.asn) == OUTAGE_NETWORK && within(OUTAGE_AGO, OUTAGE_HOURS) {
        Link::Down
    } else if (net.cc, net.asn) == SLOWDOWN_NETWORK && within(SLOWDOWN_AGO, SLOWDOWN_HOURS) {
        Link::Slow
    } else {
        Link::Up
    }
}

/// Reports a network makes in an hour: more in the local evening than at night, more during a
/// disruption (people test when things fail), a fraction of it in the current hour.
pub fn volume(network: &Network, hour: i64, disrupted: bool, rng: &mut Rng) -> u32 {
    let local = (hour / HOUR + network.utc_offset).rem_euclid(24) as f64;
    // 1 at 20:00 local, 0.45 at 08:00.
    let daily = 0.725 + 0.275 * ((local - 20.0) / 24.0 * std::f64::consts::TAU).cos();
    let busy = if disrupted { 1.6 } else { 1.0 };
    let expected = f64::from(network.peak) * daily * busy;
    (expected.round() as u32 + rng.between(0, 2)).max(MIN_PER_HOUR)
}

const CLIENTS: [(Browser, u32, Os); 6] = [
    (Browser::Chrome, 156, Os::Android),
    (Browser::Chrome, 155, Os::Windows),
    (Browser::Safari, 26, Os::Ios),
    (Browser::Samsung, 29, Os::Android),
    (Browser::Firefox, 153, Os::Windows),
    (Browser::Edge, 156, Os::Windows),
];

/// The background's noise for one platform of one run (no censor involved).
fn noise(rng: &mut Rng) -> Fate {
    let x = rng.unit();
    if x < 0.025 {
        Fate::RefusedByBrowser
    } else if x < 0.028 {
        Fate::OneEndpointFails
    } else if x < 0.0295 {
        Fate::Dropped
    } else if x < 0.0305 {
        Fate::Slowed
    } else {
        Fate::Loads
    }
}

/// The week of reports ending with the hour of `now` (Unix seconds), for `campaign`, in the
/// order they are sent: by hour, except the outage's, sent after the hour it ends. The current
/// hour holds only the part of its reports already made by `now`.
pub fn week(campaign: &Campaign, seed: u64, now: i64) -> Vec<Line> {
    let now_hour = floor_hour(now);
    let mut lines = Vec::new();
    // Runs made offline, kept by their pages until the network is back.
    let mut held: Vec<Line> = Vec::new();
    for step in (0..HOURS).rev() {
        let hour = now_hour - step * HOUR;
        for (n, network) in NETWORKS.iter().enumerate() {
            // One stream per network and hour (counted back from now), so one cell's draws do
            // not shift when another cell makes more or fewer reports. The seed is mixed
            // before the network and hour join it: XORed in raw, seed s of network n and seed
            // s ^ n ^ m of network m drew the same stream, and the detection benchmark counted
            // one background fluke five times over its 40 seeds.
            let cell = ((step as u64) << 16) ^ n as u64;
            let mut rng = Rng::new(Rng::new(Rng::new(seed).next_u64() ^ cell).next_u64());
            let link = link(n, hour, now_hour);
            let disrupted = link == Link::Slow
                || campaign
                    .platforms
                    .iter()
                    .any(|p| event(n, &p.id, hour, now_hour).is_some());
            let mut count = volume(network, hour, disrupted, &mut rng);
            if link == Link::Down {
                // Still published (above k), so that the demo shows the outage at any hour.
                count = ((f64::from(count) * OUTAGE_KEPT).round() as u32).max(MIN_PER_HOUR);
            }
            if hour == now_hour {
                count = (u64::from(count) * (now - now_hour) as u64 / HOUR as u64) as u32;
            }
            for _ in 0..count {
                let (browser, version, os) =
                    CLIENTS[rng.between(0, CLIENTS.len() as u32 - 1) as usize];
                let client = Client {
                    browser,
                    version,
                    os,
                };
                let rtt = network.rtt_ms + rng.between(0, network.rtt_ms / 2);
                let cancelled = rng.chance(0.015);
                let fates: Vec<Fate> = campaign
                    .platforms
                    .iter()
                    .map(|p| {
                        let background = noise(&mut rng);
                        match event(n, &p.id, hour, now_hour) {
                            // A few get through (a cached route, a VPN on the whole device),
                            // and blockers still refuse some.
                            Some(fate) if rng.chance(0.9) => fate,
                            _ => background,
                        }
                    })
                    .collect();
                let fate = |id: &str| {
                    let i = campaign.platforms.iter().position(|p| p.id == id);
                    i.map_or(Fate::Loads, |i| fates[i])
                };
                let link = match link {
                    Link::Up => Link::Up,
                    hit if rng.chance(0.9) => hit,
                    _ => Link::Up,
                };
                let report = match link {
                    Link::Down => offline_report(campaign, hour, client, &mut rng),
                    Link::Slow => report(
                        campaign,
                        hour,
                        client,
                        rtt * SLOW_FACTOR,
                        cancelled,
                        fate,
                        &mut rng,
                    ),
                    Link::Up => report(campaign, hour, client, rtt, cancelled, fate, &mut rng),
                };
                let line = Line {
                    cc: network.cc,
                    asn: network.asn,
                    report,
                    link,
                };
                if link == Link::Down {
                    held.push(line);
                } else {
                    lines.push(line);
                }
            }
        }
        let back = (0..NETWORKS.len()).all(|n| link(n, hour, now_hour) != Link::Down);
        if back {
            lines.append(&mut held);
        }
    }
    lines.append(&mut held);
    lines
}

/// Hour, country, network, platform, verdict: the order storage gives counts in.
type CountKey = (i64, String, u32, String, &'static str);

/// What storage gives detection ([`crate::storage::Storage::hourly_counts`]) once generated
/// reports are stored: per hour (a report's `started_at` is a whole hour), country, network,
/// platform and verdict the reports, per hour, country and network the senders and the
/// reports of each connection condition. An imported report is its own sender
/// (`new_sender` = 1), so a cell's senders are its reports.
#[derive(Debug, Default)]
pub struct Counter {
    verdicts: BTreeMap<CountKey, (Verdict, u64)>,
    senders: BTreeMap<(i64, String, u32), u64>,
    connections: BTreeMap<(i64, String, u32, Connection), u64>,
}

impl Counter {
    /// Counts one report of `hour` in `cc`/`asn` with its connection condition and these
    /// platforms' verdicts.
    pub fn add<'a>(
        &mut self,
        hour: i64,
        cc: &str,
        asn: u32,
        connection: Connection,
        verdicts: impl IntoIterator<Item = (&'a str, Verdict)>,
    ) {
        *self.senders.entry((hour, cc.into(), asn)).or_default() += 1;
        *self
            .connections
            .entry((hour, cc.into(), asn, connection))
            .or_default() += 1;
        for (platform, verdict) in verdicts {
            let key = (hour, cc.into(), asn, platform.into(), verdict.as_str());
            self.verdicts.entry(key).or_insert((verdict, 0)).1 += 1;
        }
    }

    /// The counts, in storage's order (hour, country, network, platform, verdict).
    pub fn finish(self) -> HourlyCounts {
        HourlyCounts {
            verdicts: self
                .verdicts
                .into_iter()
                .map(
                    |((bucket, cc, asn, platform, _), (verdict, count))| CountRow {
                        bucket,
                        cc,
                        asn,
                        platform,
                        verdict,
                        count,
                        senders: count,
                    },
                )
                .collect(),
            senders: self
                .senders
                .into_iter()
                .map(|((hour, cc, asn), senders)| SenderRow {
                    hour,
                    cc,
                    asn,
                    senders,
                })
                .collect(),
            connections: self
                .connections
                .into_iter()
                .map(|((hour, cc, asn, connection), count)| ConnectionRow {
                    hour,
                    cc,
                    asn,
                    connection,
                    count,
                })
                .collect(),
        }
    }
}

/// What storage gives detection for these lines (see [`Counter`]): `offline` where the
/// report's controls are down by the engine's rule ([`controls_down`]), `degraded` where the
/// generator made the run slow ([`Line::link`]; the collector judges it against the network's
/// stored baseline for that hour of day), `normal` otherwise.
///
/// # Panics
/// A line whose `started_at` is not a UTC date-time (never one of [`week`]'s).
pub fn hourly_counts(lines: &[Line]) -> HourlyCounts {
    let mut counter = Counter::default();
    for line in lines {
        let hour = crate::time::parse_utc(&line.report.started_at)
            .expect("generated reports start at a UTC date-time");
        let verdicts = line
            .report
            .platforms
            .iter()
            .map(|p| (p.id.as_str(), p.verdict));
        let controls = line.report.controls.iter().map(|c| c.attempts.as_slice());
        let connection = if controls_down(controls) {
            Connection::Offline
        } else if line.link == Link::Slow {
            Connection::Degraded
        } else {
            Connection::Normal
        };
        counter.add(hour, line.cc, line.asn, connection, verdicts);
    }
    counter.finish()
}

/// Runs `netreach-collector demo`: the week's lines on stdout, a summary on stderr.
///
/// # Errors
/// The campaigns folder has no valid `default` campaign, or stdout fails (other than a closed
/// pipe).
pub fn run(args: crate::cli::DemoArgs) -> Result<(), String> {
    use std::io::Write;
    let campaigns = crate::campaigns::Campaigns::new(args.campaigns.clone());
    let campaign = campaigns.get("default").map_err(|e| {
        format!(
            "{}: no valid default campaign ({e:?})",
            args.campaigns.display()
        )
    })?;
    let now = args.now.unwrap_or_else(crate::time::now);
    let lines = week(&campaign.campaign, args.seed, now);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = lines.iter().try_for_each(|line| {
        serde_json::to_writer(&mut out, line).map_err(std::io::Error::from)?;
        out.write_all(b"\n")
    });
    match written.and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(format!("stdout: {e}")),
        _ => {}
    }
    let start = nation_scale(floor_hour(now));
    eprintln!(
        "netreach-collector: wrote {} SYNTHETIC reports, {} to {}; nation-scale disruption in PK from {} to {}, X blocked on AS{} since {}; \
         internet outage on AS{} from {} (its runs sent after it), internet slowdown on AS{} from {}",
        lines.len(),
        format_utc(floor_hour(now) - (HOURS - 1) * HOUR),
        format_utc(floor_hour(now)),
        format_utc(start),
        format_utc(start + NATION_SCALE_HOURS * HOUR),
        ONE_NETWORK.1,
        format_utc(floor_hour(now) - ONE_NETWORK_HOURS * HOUR),
        OUTAGE_NETWORK.1,
        format_utc(floor_hour(now) - OUTAGE_AGO * HOUR),
        SLOWDOWN_NETWORK.1,
        format_utc(floor_hour(now) - SLOWDOWN_AGO * HOUR),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disruptions::{detect, EventVerdict, Scope, Window, BASELINE_HOURS};

    fn campaign() -> Campaign {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../www/campaigns/default.json");
        let campaign: Campaign =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        campaign.validate_served().unwrap();
        campaign
    }

    #[test]
    fn each_fate_gives_the_verdict_it_stands_for() {
        let campaign = campaign();
        let client = Client {
            browser: Browser::Chrome,
            version: 156,
            os: Os::Android,
        };
        for (fate, verdict) in [
            (Fate::Loads, Verdict::Reachable),
            (Fate::Dropped, Verdict::Blocked),
            (Fate::Reset, Verdict::Blocked),
            (Fate::Slowed, Verdict::Throttled),
            (Fate::OneEndpointFails, Verdict::Partial),
            (Fate::RefusedByBrowser, Verdict::Inconclusive),
        ] {
            for rtt in [45, 150, 225] {
                let mut rng = Rng::new(u64::from(rtt));
                let r = report(&campaign, 0, client.clone(), rtt, false, |_| fate, &mut rng);
                for p in &r.platforms {
                    assert_eq!(p.verdict, verdict, "{fate:?} at {rtt} ms: {}", p.id);
                }
                assert!(netreach::classify::classify_report(&r).is_empty());
            }
        }
        let mut rng = Rng::new(1);
        let cancelled = report(&campaign, 0, client, 90, true, |_| Fate::Dropped, &mut rng);
        assert!(cancelled
            .platforms
            .iter()
            .all(|p| p.verdict == Verdict::Inconclusive));
    }

    #[test]
    fn the_same_seed_and_hour_give_the_same_week() {
        let campaign = campaign();
        let now = 1_796_245_200 + 1800; // 2026-12-02T21:30Z
        let json = |seed, now| serde_json::to_string(&week(&campaign, seed, now)).unwrap();
        let a = json(1, now);
        assert_eq!(a, json(1, now));
        assert_ne!(a, json(2, now));
    }

    #[test]
    fn the_nation_scale_disruption_starts_at_21_pkt_and_has_ended() {
        for hour in 0..24 {
            let now = 1_796_245_200 + hour * HOUR;
            let start = nation_scale(now);
            assert_eq!(start.rem_euclid(24 * HOUR), 16 * HOUR);
            assert!(start + NATION_SCALE_HOURS * HOUR < now, "{hour}");
            assert!(start <= now - NATION_SCALE_AGO * HOUR);
            assert!(start > now - NATION_SCALE_AGO * HOUR - 24 * HOUR);
        }
    }

    #[test]
    fn the_outage_s_and_the_slowdown_s_reports_pass_intake_and_are_counted_as_meant() {
        let campaign = campaign();
        let campaigns = crate::campaigns::Campaigns::new(
            concat!(env!("CARGO_MANIFEST_DIR"), "/../www/campaigns").into(),
        );
        let now = 1_796_245_200 + 1800;
        let now_hour = floor_hour(now);
        let lines = week(&campaign, 5, now);
        let outage = now_hour - OUTAGE_AGO * HOUR;
        let (mut offline, mut slow) = (0, 0);
        let mut past_its_end = false;
        for line in &lines {
            let hour = crate::time::parse_utc(&line.report.started_at).unwrap();
            past_its_end |= hour >= outage + OUTAGE_HOURS * HOUR;
            match line.link {
                Link::Up => continue,
                Link::Down => {
                    offline += 1;
                    assert!((outage..outage + OUTAGE_HOURS * HOUR).contains(&hour));
                    assert!(line
                        .report
                        .platforms
                        .iter()
                        .all(|p| p.verdict == Verdict::Inconclusive));
                    // Sent once the network is back: after lines of the hour the outage ends.
                    assert!(past_its_end, "{hour}");
                }
                Link::Slow => slow += 1,
            }
            let accepted = crate::intake::check(line.report.clone(), &campaigns, now);
            assert!(accepted.is_ok(), "{:?}: {:?}", line.link, accepted.err());
        }
        assert!(offline > 20 && slow > 20, "{offline} offline, {slow} slow");
        let counts = hourly_counts(&lines);
        let total = |c: Connection| {
            counts
                .connections
                .iter()
                .filter(|r| r.connection == c)
                .map(|r| r.count)
                .sum::<u64>()
        };
        assert_eq!(
            (total(Connection::Offline), total(Connection::Degraded)),
            (offline, slow)
        );
        assert_eq!(
            total(Connection::Normal) + offline + slow,
            lines.len() as u64
        );
    }

    /// Whatever the hour of the day it is generated at, detection finds the four events and
    /// nothing in the background (the end-to-end test through `import` is tests/demo.rs).
    #[test]
    fn detection_finds_the_four_events_and_nothing_else_at_any_hour() {
        let campaign = campaign();
        for (seed, hour_of_day) in [(2026, 3), (2026, 11), (7, 19)] {
            let now = 1_796_245_200 - 21 * HOUR + hour_of_day * HOUR + 1500;
            let now_hour = floor_hour(now);
            let lines = week(&campaign, seed, now);
            let window = Window {
                from: now_hour - (HOURS - 1) * HOUR + BASELINE_HOURS * HOUR / 2,
                to: now_hour + HOUR,
                now,
            };
            let events = detect(&hourly_counts(&lines), 5, window);
            let start = nation_scale(now_hour);
            let mut found: Vec<_> = events
                .iter()
                .map(|e| {
                    (
                        e.scope,
                        e.asn,
                        e.verdict,
                        e.platforms.join(","),
                        e.start,
                        e.end,
                    )
                })
                .collect();
            found.sort();
            let mut expected = vec![(
                Scope::Network,
                Some(ONE_NETWORK.1),
                EventVerdict::Blocked,
                "x".to_owned(),
                now_hour - ONE_NETWORK_HOURS * HOUR,
                None,
            )];
            for (asn, verdict, ago, hours) in [
                (
                    OUTAGE_NETWORK.1,
                    EventVerdict::Outage,
                    OUTAGE_AGO,
                    OUTAGE_HOURS,
                ),
                (
                    SLOWDOWN_NETWORK.1,
                    EventVerdict::Slowdown,
                    SLOWDOWN_AGO,
                    SLOWDOWN_HOURS,
                ),
            ] {
                let start = now_hour - ago * HOUR;
                let end = Some(start + hours * HOUR);
                expected.push((
                    Scope::Network,
                    Some(asn),
                    verdict,
                    String::new(),
                    start,
                    end,
                ));
            }
            let end = Some(start + NATION_SCALE_HOURS * HOUR);
            for asn in NETWORKS[..NATION_SCALE_NETWORKS]
                .iter()
                .map(|n| Some(n.asn))
                .chain([None])
            {
                let scope = if asn.is_some() {
                    Scope::Network
                } else {
                    Scope::Country
                };
                let blocked = "facebook,instagram,x".to_owned();
                expected.push((scope, asn, EventVerdict::Blocked, blocked, start, end));
                let throttled = "youtube".to_owned();
                expected.push((scope, asn, EventVerdict::Throttled, throttled, start, end));
            }
            expected.sort();
            assert_eq!(found, expected, "seed {seed} at {hour_of_day}:25 UTC");
            let places: Vec<_> = events.iter().map(|e| (e.cc.as_deref(), e.asn)).collect();
            assert!(
                places
                    .iter()
                    .all(|&(cc, asn)| cc == Some("PK") || asn == Some(SLOWDOWN_NETWORK.1)),
                "{places:?}"
            );
        }
    }
}
