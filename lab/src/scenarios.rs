//! The scenario matrix: what each censor does and the verdict each platform must get, on the
//! page and in the report the collector stored. The lab runs each scenario in Chromium and in
//! Firefox ESR; the expected verdicts are the same in both (measured: every scenario passes
//! in both, so no browser needs an expectation of its own).

use crate::browser::{BrowserKind, Waiting};
use crate::censor::{Censor, Targets};
use crate::topology::PLATFORMS;
use netreach::Verdict;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// What a platform's verdict must be.
#[derive(Clone, Copy, Debug)]
pub enum Expect {
    Is(Verdict),
    /// Anything but this one (20% loss may look like anything except a block).
    Not(Verdict),
}

impl Expect {
    fn allows(self, verdict: &str) -> bool {
        match self {
            Expect::Is(v) => v.as_str() == verdict,
            Expect::Not(v) => v.as_str() != verdict,
        }
    }
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expect::Is(v) => f.write_str(v.as_str()),
            Expect::Not(v) => write!(f, "not {}", v.as_str()),
        }
    }
}

/// How the report reaches the collector after the click on Submit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// The collector answers: the report is stored at once.
    Direct,
    /// The collector is cut off at Submit (`censor::cut_collector`): the report must wait in
    /// the browser, listed, then arrive exactly once after the cut ends, sent on `then`; the
    /// other trigger, afterwards, must send nothing more.
    WaitsThenSent { then: Recovery },
    /// Cut off at Submit, the waiting report deleted by the visitor: nothing may arrive after
    /// the cut ends, on `online` or on the next visit.
    WaitsThenDeleted,
}

/// What sends a waiting report once the collector can be reached again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recovery {
    /// The browser's `online` event, in the page that was open at Submit.
    Online,
    /// The visitor opens the page again.
    NextVisit,
}

/// One situation the page must judge correctly.
#[derive(Clone)]
pub struct Scenario {
    pub name: &'static str,
    pub about: &'static str,
    /// Added by every lab server before it answers.
    pub latency: Duration,
    /// Added by the network to every exchange with a lab server, the handshake, a censor's
    /// reset and DNS included (`delay.rs`): what a far-away visitor sees.
    pub round_trip: Duration,
    pub censors: Vec<Censor>,
    /// Platforms with a verdict of their own; every other platform gets `others`.
    pub expect: Vec<(&'static str, Expect)>,
    pub others: Expect,
    /// All verdicts must be on the page within this long after the click.
    pub verdicts_within: Option<Duration>,
    /// Run through `embed.js` on a news article of another origin, not on netreach's page.
    pub embedded: bool,
    /// Paths the servers answer 404 with a page (a catalog that rotted), on every host.
    pub gone: &'static [&'static str],
    /// Hosts a content-blocking extension in the browser refuses (a Manifest V3
    /// declarativeNetRequest `block` rule, as uBlock Origin or tracker lists do).
    pub blocker: &'static [&'static str],
    /// Hosts on Firefox's tracking-protection list, with tracking protection on in every
    /// window (Enhanced Tracking Protection's strict mode, which a visitor may choose; its
    /// real list carries X's and Facebook's hosts). Firefox refuses them in third-party
    /// loads, as the extension does. Firefox only: Chromium has no such list.
    pub tracking_list: &'static [&'static str],
    /// What happens after the click on Submit.
    pub delivery: Delivery,
    /// The page opened with `?lang=` this catalog's code: its text, direction and mirrored
    /// layout are checked against the catalog (`www/i18n/CODE.json`).
    pub language: Option<&'static str>,
    /// After Submit, the live status card of the lab's country (ZZ) is opened in the same
    /// browser: it must settle on what the collector now holds (the stored report).
    pub card: bool,
}

/// No latency, no censor, every platform reachable, no time limit, on the page: each scenario
/// states what differs.
impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            name: "",
            about: "",
            latency: Duration::ZERO,
            round_trip: Duration::ZERO,
            censors: vec![],
            expect: vec![],
            others: HEALTHY,
            verdicts_within: None,
            embedded: false,
            gone: &[],
            blocker: &[],
            tracking_list: &[],
            delivery: Delivery::Direct,
            language: None,
            card: false,
        }
    }
}

impl Scenario {
    /// Whether the scenario means anything in `browser` (Firefox's tracking list does not
    /// exist in Chromium).
    pub fn runs_in(&self, browser: BrowserKind) -> bool {
        self.tracking_list.is_empty() || browser == BrowserKind::Firefox
    }

    /// Whether the visitor's network itself is cut (every host dropped, the controls too).
    pub fn network_down(&self) -> bool {
        self.censors
            .iter()
            .any(|c| matches!(c, Censor::Drop(Targets::Everything)))
    }

    /// The expected verdict of a platform.
    pub fn expected(&self, platform: &str) -> Expect {
        self.expect
            .iter()
            .find(|(id, _)| *id == platform)
            .map_or(self.others, |(_, e)| *e)
    }

    /// The expectation in one short phrase: `x=blocked, others reachable`.
    pub fn expected_summary(&self) -> String {
        let mut parts: Vec<String> = self
            .expect
            .iter()
            .map(|(id, e)| format!("{id}={e}"))
            .collect();
        let others = if parts.is_empty() { "all" } else { "others" };
        parts.push(format!("{others} {}", self.others));
        parts.join(", ")
    }

    /// Everything wrong with an observation; empty when the scenario passed.
    pub fn problems(&self, seen: &Observation) -> Vec<String> {
        let mut problems = Vec::new();
        let arrives = self.delivery != Delivery::WaitsThenDeleted;
        for platform in PLATFORMS {
            let expected = self.expected(platform);
            let on_page = seen.page.iter().find(|j| j.platform == *platform);
            match on_page {
                None => problems.push(format!("{platform}: no verdict on the page")),
                Some(j) if !expected.allows(&j.verdict) => problems.push(format!(
                    "{platform}: expected {expected}, page says {}/{}",
                    j.verdict, j.reason
                )),
                Some(_) => {}
            }
            if !arrives {
                continue;
            }
            let published: Vec<&str> = seen
                .aggregated
                .iter()
                .filter(|(p, _)| p == platform)
                .map(|(_, v)| v.as_str())
                .collect();
            if let Some(j) = on_page {
                if published != [j.verdict.as_str()] {
                    problems.push(format!(
                        "{platform}: the aggregates publish {published:?}, the page showed {}",
                        j.verdict
                    ));
                }
            }
            for (place, list) in [
                ("stored report", &seen.stored),
                ("stored verdict rows", &seen.rows),
            ] {
                let stored = list.iter().find(|j| j.platform == *platform);
                if stored != on_page {
                    problems.push(format!(
                        "{platform}: {place} has {} but the page showed {}",
                        show(stored),
                        show(on_page)
                    ));
                }
            }
        }
        if seen.connections_before_start > 0 {
            problems.push(format!(
                "{} connections to platform or control servers before Start was pressed",
                seen.connections_before_start
            ));
        }
        let some_reachable = self.others.allows(Verdict::Reachable.as_str());
        if some_reachable && seen.connections_after_run == 0 {
            problems.push("no connection reached the lab servers at all during the run".into());
        }
        if seen.reports_before_submit > 0 {
            problems.push(format!(
                "the collector had {} report(s) before Submit was pressed",
                seen.reports_before_submit
            ));
        }
        if !arrives && !seen.aggregated.is_empty() {
            problems.push(format!(
                "the visitor deleted the waiting report, yet the aggregates publish {:?}",
                seen.aggregated
            ));
        }
        problems.extend(self.connection_problems(seen, arrives));
        problems.extend(self.waiting_problems(seen));
        problems.extend(self.language_problems(seen));
        if self.card {
            problems.extend(card_problems(seen.card.as_ref()));
        }
        if seen.page.len() != PLATFORMS.len() {
            problems.push(format!(
                "the page shows {} platforms, the campaign has {}",
                seen.page.len(),
                PLATFORMS.len()
            ));
        }
        if let Some(fastest) = seen.report.as_ref().and_then(fastest_control_ms) {
            let round_trip = self.round_trip.as_millis() as u32;
            if fastest < round_trip {
                problems.push(format!(
                    "a control loaded in {fastest} ms, under the scenario's {round_trip} ms \
                     round trip: the lab's network delay was not applied"
                ));
            }
        }
        if let Some(limit) = self.verdicts_within {
            if seen.verdicts_ms > limit.as_millis() as u64 {
                problems.push(format!(
                    "verdicts took {:.1} s, more than {} s",
                    seen.verdicts_ms as f64 / 1000.0,
                    limit.as_secs()
                ));
            }
        }
        problems
    }
}

impl Scenario {
    /// The page says the network itself seems down exactly when it is, and the collector
    /// stores the report's connection as `offline` then, `normal` otherwise (the lab's
    /// collector holds no baseline a run could be `degraded` against).
    fn connection_problems(&self, seen: &Observation, arrives: bool) -> Vec<String> {
        let down = self.network_down();
        let mut problems = Vec::new();
        if seen.offline_note != down {
            problems.push(if down {
                "the page did not say that the network itself seems down".to_owned()
            } else {
                "the page said that the network itself seems down".to_owned()
            });
        }
        let expected = if down { "offline" } else { "normal" };
        if arrives && seen.connection.as_deref() != Some(expected) {
            problems.push(format!(
                "the collector stored the connection as {:?}, expected {expected}",
                seen.connection
            ));
        }
        problems
    }
}

/// What is wrong with the status card after a stored report: it must have loaded the
/// collector's events and aggregates and drawn a verdict on them, `clear` or `disrupted` with
/// its basis (the lab's collector publishes from one sender, `--k 1`), not `thin` (no
/// report seen) or `error`.
fn card_problems(card: Option<&CardSeen>) -> Vec<String> {
    let Some(card) = card else {
        return vec!["the status card was not read".into()];
    };
    match card.state.as_str() {
        "clear" | "disrupted" if !card.basis.is_empty() => vec![],
        _ => vec![format!(
            "the status card settled on {:?}: {:?} / {:?}",
            card.state, card.headline, card.basis
        )],
    }
}

impl Scenario {
    /// What is wrong with the page's language, text direction and layout, when the scenario
    /// asked for a language.
    fn language_problems(&self, seen: &Observation) -> Vec<String> {
        let Some(code) = self.language else {
            return vec![];
        };
        let Some(l) = &seen.layout else {
            return vec![format!("the page's language ({code}) was not read")];
        };
        let mut problems = Vec::new();
        if l.lang != code {
            problems.push(format!("<html lang> is {:?}, not {code:?}", l.lang));
        }
        if l.dir != l.catalog_dir || l.direction != l.catalog_dir {
            problems.push(format!(
                "the catalog's direction is {}, the page has dir={:?} and lays out {}",
                l.catalog_dir, l.dir, l.direction
            ));
        }
        if l.results_title != l.catalog_results_title {
            problems.push(format!(
                "the results are titled {:?}, the {code} catalog says {:?}",
                l.results_title, l.catalog_results_title
            ));
        }
        // Start sits at the inline start of its row: at the right edge when right-to-left.
        let mirrored = l.start_from_right < l.start_from_left;
        if mirrored != (l.catalog_dir == "rtl") {
            problems.push(format!(
                "Start is {:.0} px from the left and {:.0} px from the right of its row: not \
                 laid out {}",
                l.start_from_left, l.start_from_right, l.catalog_dir
            ));
        }
        problems
    }

    /// What is wrong with how a report waited for the network, when it had to.
    fn waiting_problems(&self, seen: &Observation) -> Vec<String> {
        let mut problems = Vec::new();
        if self.delivery == Delivery::Direct {
            if seen.waiting.is_some() {
                problems.push("the report waited although the collector answered".into());
            }
            return problems;
        }
        let Some(w) = &seen.waiting else {
            return vec!["nothing was seen of the waiting report".into()];
        };
        if w.cut.listed != 1 {
            problems.push(format!(
                "after the failed Submit the page lists {} waiting reports, not 1",
                w.cut.listed
            ));
        }
        if w.cut.keys != [WAITING_KEY] {
            problems.push(format!(
                "the page's storage holds the keys {:?}, not only {WAITING_KEY:?}",
                w.cut.keys
            ));
        }
        let kept_only_the_shown_report = w.cut.kept.as_array().is_some_and(|kept| {
            kept.len() == 1
                && kept[0].as_object().is_some_and(|entry| {
                    entry.len() == 2
                        && entry.get("report") == Some(&w.shown)
                        && entry
                            .get("collector")
                            .and_then(|c| c.as_str())
                            .is_some_and(|c| c.ends_with("/v1/reports"))
                })
        });
        if !kept_only_the_shown_report {
            problems.push(format!(
                "the page's storage does not hold exactly the report shown and its collector: {}",
                w.cut.kept
            ));
        }
        if w.stored_while_cut != 0 {
            problems.push(format!(
                "the collector stored {} reports while it was cut off",
                w.stored_while_cut
            ));
        }
        let arrived = u64::from(self.delivery != Delivery::WaitsThenDeleted);
        if w.stored_at_end != arrived {
            problems.push(format!(
                "the collector stored the report {} times, expected {arrived}",
                w.stored_at_end
            ));
        }
        if w.at_end.listed != 0 || !w.at_end.kept.is_null() {
            let kept = w.at_end.kept.as_array().map_or(
                format!("{} bytes of JSON", w.at_end.kept.to_string().len()),
                |entries| format!("{} entries", entries.len()),
            );
            problems.push(format!(
                "at the end the page still lists {} waiting reports and its storage keeps {kept}",
                w.at_end.listed
            ));
        }
        problems
    }
}

/// The page's localStorage key (www/waiting.js).
const WAITING_KEY: &str = "netreach-waiting";

/// What the lab saw of a report that had to wait for the network.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct WaitingSeen {
    /// The report the page showed before Submit (`#report`).
    pub shown: serde_json::Value,
    /// The page and its storage after Submit failed.
    pub cut: Waiting,
    /// Reports the collector held then.
    pub stored_while_cut: u64,
    /// The page and its storage at the end (after `online` and a second visit).
    pub at_end: Waiting,
    /// Reports the collector held at the end.
    pub stored_at_end: u64,
}

/// The quickest answered load of any control: no load takes less than one round trip.
fn fastest_control_ms(report: &netreach::Report) -> Option<u32> {
    report
        .controls
        .iter()
        .flat_map(|c| &c.attempts)
        .filter(|a| a.outcome == netreach::Outcome::Ok)
        .map(|a| a.ms)
        .min()
}

fn show(j: Option<&Judged>) -> String {
    j.map_or("nothing".into(), |j| format!("{}/{}", j.verdict, j.reason))
}

/// A platform's verdict and reason by their wire names, as the page showed them or as the
/// collector stored them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Judged {
    pub platform: String,
    pub verdict: String,
    pub reason: String,
}

/// What the lab saw in one scenario run (written by the in-namespace half as JSON).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Observation {
    /// Verdicts read from the page's `[data-platform]` rows.
    pub page: Vec<Judged>,
    /// Verdicts in the report the collector stored.
    pub stored: Vec<Judged>,
    /// The collector's rows of verdicts for that report (what aggregates count).
    pub rows: Vec<Judged>,
    /// Connections to the lab's servers with the page loaded, before the click on Start.
    #[serde(default)]
    pub connections_before_start: u64,
    /// Connections to the lab's servers once the verdicts were shown (proof that the count
    /// before Start counts something).
    #[serde(default)]
    pub connections_after_run: u64,
    /// Reports the collector held with the results shown, before the click on Submit.
    #[serde(default)]
    pub reports_before_submit: u64,
    /// What `GET /v1/aggregates` published afterwards: `(platform, verdict)` per report.
    #[serde(default)]
    pub aggregated: Vec<(String, String)>,
    /// From the click on Start to `data-state=done`.
    pub verdicts_ms: u64,
    /// The stored report (or, if storing failed, the page's), for the attempt details.
    pub report: Option<netreach::Report>,
    /// How the report waited for the network, in the scenarios where it had to.
    #[serde(default)]
    pub waiting: Option<WaitingSeen>,
    /// The page's language and layout, in the scenarios that ask for a language.
    #[serde(default)]
    pub layout: Option<LayoutSeen>,
    /// The status card, in the scenarios that open it.
    #[serde(default)]
    pub card: Option<CardSeen>,
    /// Whether the page said, after the run, that the network itself seems down.
    #[serde(default)]
    pub offline_note: bool,
    /// The connection condition the collector stored with the report.
    #[serde(default)]
    pub connection: Option<String>,
    /// Why the run did not get as far as verdicts.
    pub error: Option<String>,
}

/// What the live status card settled on.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CardSeen {
    pub state: String,
    pub headline: String,
    pub basis: String,
}

/// How the page showed itself in the language a scenario asked for, beside what its catalog
/// says it should be.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct LayoutSeen {
    /// `<html lang>` and `<html dir>` as the page set them.
    pub lang: String,
    pub dir: String,
    /// The computed `direction` of the results (what the browser lays out).
    pub direction: String,
    /// Start's distance from each edge of its row of buttons, in CSS pixels.
    pub start_from_left: f64,
    pub start_from_right: f64,
    pub results_title: String,
    /// From the catalog file: its `_meta.dir` and its `results.title`.
    pub catalog_dir: String,
    pub catalog_results_title: String,
}

const HEALTHY: Expect = Expect::Is(Verdict::Reachable);

/// The whole matrix, in the order `all` runs it.
pub fn all() -> Vec<Scenario> {
    use Verdict::*;
    let x = Targets::Platform("x");
    let drop_x = Scenario {
        name: "drop-x",
        about: "every packet to X's hosts dropped; verdicts within 10 s",
        censors: vec![Censor::Drop(x)],
        expect: vec![("x", Expect::Is(Blocked))],
        verdicts_within: Some(Duration::from_secs(10)),
        ..Scenario::default()
    };
    vec![
        Scenario {
            name: "healthy-50ms",
            about: "no censor, every server answers after 50 ms",
            latency: Duration::from_millis(50),
            ..Scenario::default()
        },
        Scenario {
            card: true,
            ..drop_x.clone()
        },
        Scenario {
            name: "urdu-drop-x",
            about: "drop-x on the page in Urdu (?lang=ur): right-to-left, mirrored, the \
                    catalog's text, the same verdicts",
            language: Some("ur"),
            ..drop_x.clone()
        },
        Scenario {
            name: "russian-drop-x",
            about: "drop-x on the page in Russian (?lang=ru): left-to-right, the catalog's \
                    text, the same verdicts",
            language: Some("ru"),
            ..drop_x.clone()
        },
        Scenario {
            name: "embed-drop-x",
            about: "drop-x, measured by a reader of a news article of another origin through \
                    embed.js: its frame loads the engine, runs on Start, submits on Submit",
            embedded: true,
            ..drop_x
        },
        Scenario {
            name: "drop-youtube",
            about: "every packet to YouTube's hosts dropped, its CDN with the larger image \
                    included; verdicts within 10 s (a large image must not wait its body time)",
            censors: vec![Censor::Drop(Targets::Platform("youtube"))],
            expect: vec![("youtube", Expect::Is(Blocked))],
            verdicts_within: Some(Duration::from_secs(10)),
            ..Scenario::default()
        },
        Scenario {
            name: "drop-website",
            about: "every packet to a website target (insaf.pk and www.insaf.pk, as in the \
                    Pakistan campaign) dropped: judged as a platform is, blocked within 10 s",
            censors: vec![Censor::Drop(Targets::Platform("insaf-pk"))],
            expect: vec![("insaf-pk", Expect::Is(Blocked))],
            verdicts_within: Some(Duration::from_secs(10)),
            ..Scenario::default()
        },
        Scenario {
            name: "nxdomain-website",
            about: "the lab's DNS answers NXDOMAIN for the website's two names (DNS blocking, \
                    as Pakistan's PTA orders it) over a 100 ms round trip: blocked, as X is in \
                    nxdomain-x",
            round_trip: Duration::from_millis(100),
            censors: vec![Censor::Nxdomain(Targets::Platform("insaf-pk"))],
            expect: vec![("insaf-pk", Expect::Is(Blocked))],
            ..Scenario::default()
        },
        Scenario {
            name: "reset-x",
            about: "connections to X's hosts reset after the TCP handshake",
            censors: vec![Censor::Reset(x)],
            expect: vec![("x", Expect::Is(Blocked))],
            ..Scenario::default()
        },
        Scenario {
            name: "reset-x-far",
            about: "reset-x over a 100 ms round trip, where failures faster than the network \
                    are the browser's: a censor's reset comes after the handshake, so X stays \
                    blocked",
            round_trip: Duration::from_millis(100),
            censors: vec![Censor::Reset(x)],
            expect: vec![("x", Expect::Is(Blocked))],
            ..Scenario::default()
        },
        Scenario {
            name: "nxdomain-x",
            about: "the lab's DNS server answers NXDOMAIN for X's host names over a 100 ms \
                    round trip like every server: the failures come after a round trip, so \
                    they are the network's, not the browser's",
            round_trip: Duration::from_millis(100),
            censors: vec![Censor::Nxdomain(x)],
            expect: vec![("x", Expect::Is(Blocked))],
            ..Scenario::default()
        },
        Scenario {
            name: "throttle-youtube-cdn",
            about: "YouTube's CDN (i.ytimg.com, with the larger object) capped at 128 kbit/s",
            censors: vec![Censor::Throttle {
                targets: Targets::Hosts(&["i.ytimg.com"]),
                kbit: 128,
            }],
            expect: vec![("youtube", Expect::Is(Throttled))],
            ..Scenario::default()
        },
        Scenario {
            name: "drop-x-cdn",
            about: "only X's CDN (abs.twimg.com) dropped, x.com untouched",
            censors: vec![Censor::Drop(Targets::Hosts(&["abs.twimg.com"]))],
            expect: vec![("x", Expect::Is(Partial))],
            ..Scenario::default()
        },
        Scenario {
            name: "drop-everything",
            about: "every host dropped, the controls included (the visitor is offline)",
            censors: vec![Censor::Drop(Targets::Everything)],
            others: Expect::Is(Inconclusive),
            ..Scenario::default()
        },
        Scenario {
            name: "rotten-images",
            about: "no censor; X's and Facebook's image endpoints are gone (404 with a page)",
            gone: &["/favicons/twitter.3.ico", "/rsrc.php/yD/r/d4ZIVX-5C-b.ico"],
            ..Scenario::default()
        },
        Scenario {
            name: "blocker-x",
            about: "no censor; a content-blocking extension refuses X's hosts; 100 ms round trip",
            round_trip: Duration::from_millis(100),
            blocker: &["x.com", "abs.twimg.com"],
            expect: vec![("x", Expect::Is(Inconclusive))],
            ..Scenario::default()
        },
        Scenario {
            name: "tracking-protection-x",
            about: "no censor; Firefox's tracking protection refuses X's hosts (on its list, \
                    strict mode); 100 ms round trip",
            round_trip: Duration::from_millis(100),
            tracking_list: &["x.com", "abs.twimg.com"],
            expect: vec![("x", Expect::Is(Inconclusive))],
            ..Scenario::default()
        },
        Scenario {
            name: "latency-400ms",
            about: "no censor, every server answers after 400 ms",
            latency: Duration::from_millis(400),
            ..Scenario::default()
        },
        Scenario {
            name: "intercept-x",
            about: "X's hosts answered by a middlebox with an untrusted certificate",
            censors: vec![Censor::Intercept(x)],
            expect: vec![("x", Expect::Is(Blocked))],
            ..Scenario::default()
        },
        Scenario {
            name: "queue-online",
            about: "the collector cut off at Submit (every packet to it reset): the report \
                    waits in the browser, listed; once the cut ends, the browser's `online` \
                    event sends it; it arrives once, a second visit sends nothing more",
            delivery: Delivery::WaitsThenSent {
                then: Recovery::Online,
            },
            ..Scenario::default()
        },
        Scenario {
            name: "queue-next-visit",
            about: "queue-online in the embed of a news article, the report sent when the \
                    reader opens the article again; `online` afterwards sends nothing more",
            embedded: true,
            delivery: Delivery::WaitsThenSent {
                then: Recovery::NextVisit,
            },
            ..Scenario::default()
        },
        Scenario {
            name: "queue-deleted",
            about: "the collector cut off at Submit, the waiting report deleted by the \
                    visitor: nothing arrives after the cut ends, on `online` or on the next visit",
            delivery: Delivery::WaitsThenDeleted,
            ..Scenario::default()
        },
        Scenario {
            name: "loss-20pct",
            about: "20% of packets to every host dropped at random, the controls included",
            censors: vec![Censor::Loss {
                targets: Targets::Everything,
                percent: 20,
            }],
            others: Expect::Not(Blocked),
            ..Scenario::default()
        },
    ]
}

/// The scenario of that name.
pub fn find(name: &str) -> Option<Scenario> {
    all().into_iter().find(|s| s.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// X blocked, every other platform of the lab's campaign reachable: drop-x's verdicts.
    const X_BLOCKED: [(&str, &str); 5] = [
        ("x", "blocked"),
        ("youtube", "reachable"),
        ("facebook", "reachable"),
        ("telegram", "reachable"),
        ("insaf-pk", "reachable"),
    ];

    fn judged(platform: &str, verdict: &str) -> Judged {
        Judged {
            platform: platform.into(),
            verdict: verdict.into(),
            reason: "r".into(),
        }
    }

    fn observation(verdicts: &[(&str, &str)]) -> Observation {
        let list: Vec<Judged> = verdicts.iter().map(|(p, v)| judged(p, v)).collect();
        Observation {
            aggregated: verdicts
                .iter()
                .map(|(p, v)| (p.to_string(), v.to_string()))
                .collect(),
            page: list.clone(),
            stored: list.clone(),
            rows: list,
            verdicts_ms: 5_000,
            connections_after_run: 40,
            card: Some(CardSeen {
                state: "clear".into(),
                headline: "No disruption detected".into(),
                basis: "Based on 1 report in 1 of the last 24 hours".into(),
            }),
            connection: Some("normal".into()),
            ..Observation::default()
        }
    }

    #[test]
    fn a_network_down_unsaid_or_said_wrongly_and_a_wrong_stored_condition_are_problems() {
        let down = find("drop-everything").unwrap();
        assert!(down.network_down());
        let all_inconclusive: Vec<(&str, &str)> =
            PLATFORMS.iter().map(|p| (*p, "inconclusive")).collect();
        let mut seen = observation(&all_inconclusive);
        seen.connections_after_run = 0;
        assert_eq!(
            down.problems(&seen),
            [
                "the page did not say that the network itself seems down",
                "the collector stored the connection as Some(\"normal\"), expected offline"
            ]
        );
        seen.offline_note = true;
        seen.connection = Some("offline".into());
        assert!(
            down.problems(&seen).is_empty(),
            "{:?}",
            down.problems(&seen)
        );

        let drop_x = find("drop-x").unwrap();
        assert!(!drop_x.network_down());
        let mut seen = observation(&X_BLOCKED);
        seen.offline_note = true;
        seen.connection = None;
        assert_eq!(
            drop_x.problems(&seen),
            [
                "the page said that the network itself seems down",
                "the collector stored the connection as None, expected normal"
            ]
        );
        // A report the visitor deleted is never stored: nothing to ask of its condition.
        let deleted = find("queue-deleted").unwrap();
        let mut seen = observation(&X_BLOCKED);
        seen.connection = None;
        assert!(!deleted
            .problems(&seen)
            .iter()
            .any(|p| p.contains("connection")));
    }

    fn laid_out(dir: &str, from_left: f64, from_right: f64) -> LayoutSeen {
        LayoutSeen {
            lang: "ur".into(),
            dir: dir.into(),
            direction: dir.into(),
            start_from_left: from_left,
            start_from_right: from_right,
            results_title: "نتائج".into(),
            catalog_dir: "rtl".into(),
            catalog_results_title: "نتائج".into(),
        }
    }

    #[test]
    fn a_page_not_in_the_asked_language_or_not_mirrored_is_a_problem() {
        let urdu = find("urdu-drop-x").unwrap();
        let good = X_BLOCKED;
        let mut seen = observation(&good);
        assert_eq!(
            urdu.problems(&seen),
            ["the page's language (ur) was not read"]
        );
        seen.layout = Some(laid_out("rtl", 400.0, 0.0));
        assert!(
            urdu.problems(&seen).is_empty(),
            "{:?}",
            urdu.problems(&seen)
        );
        // Left-to-right: the attribute, the layout and Start's place are each a problem.
        seen.layout = Some(laid_out("ltr", 0.0, 400.0));
        let problems = urdu.problems(&seen);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("dir=\"ltr\""), "{problems:?}");
        assert!(problems[1].contains("not laid out rtl"), "{problems:?}");
        // English text left in place.
        let mut english = laid_out("rtl", 400.0, 0.0);
        english.results_title = "Results".into();
        english.lang = "en".into();
        seen.layout = Some(english);
        let problems = urdu.problems(&seen);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[1].contains("\"Results\""), "{problems:?}");
        // No language asked: nothing is checked.
        assert!(find("drop-x").unwrap().problems(&seen).is_empty());
    }

    #[test]
    fn a_status_card_not_read_or_without_the_report_is_a_problem() {
        let drop_x = find("drop-x").unwrap();
        assert!(drop_x.card, "drop-x opens the status card");
        let mut seen = observation(&X_BLOCKED);
        seen.card = None;
        assert_eq!(drop_x.problems(&seen), ["the status card was not read"]);
        let card = |state: &str, basis: &str| CardSeen {
            state: state.into(),
            headline: "h".into(),
            basis: basis.into(),
        };
        for bad in [
            card("thin", "An hour counts only once"),
            card("error", ""),
            card("clear", ""),
        ] {
            seen.card = Some(bad);
            assert_eq!(drop_x.problems(&seen).len(), 1, "{:?}", seen.card);
        }
        seen.card = Some(card("clear", "Based on 1 report in 1 of the last 24 hours"));
        assert!(
            drop_x.problems(&seen).is_empty(),
            "{:?}",
            drop_x.problems(&seen)
        );
        // Scenarios that do not open it ask nothing of it.
        seen.card = None;
        let urdu = find("urdu-drop-x").unwrap().problems(&seen);
        assert!(!urdu.iter().any(|p| p.contains("card")), "{urdu:?}");
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<&str> = all().iter().map(|s| s.name).collect();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n);
    }

    #[test]
    fn a_wrong_verdict_a_stored_mismatch_and_slowness_are_problems() {
        let drop_x = find("drop-x").unwrap();
        let good = X_BLOCKED;
        assert!(drop_x.problems(&observation(&good)).is_empty());

        let mut wrong = good;
        wrong[0].1 = "inconclusive";
        assert_eq!(drop_x.problems(&observation(&wrong)).len(), 1);

        let mut stored_differs = observation(&good);
        stored_differs.stored[1].verdict = "partial".into();
        assert_eq!(drop_x.problems(&stored_differs).len(), 1);

        let mut slow = observation(&good);
        slow.verdicts_ms = 12_000;
        assert_eq!(drop_x.problems(&slow).len(), 1);
    }

    #[test]
    fn probes_before_start_and_reports_before_submit_are_problems() {
        let healthy = find("healthy-50ms").unwrap();
        let all = [
            ("x", "reachable"),
            ("youtube", "reachable"),
            ("facebook", "reachable"),
            ("telegram", "reachable"),
            ("insaf-pk", "reachable"),
        ];
        assert!(healthy.problems(&observation(&all)).is_empty());
        let mut early = observation(&all);
        early.connections_before_start = 1;
        assert_eq!(healthy.problems(&early).len(), 1);
        let mut sent = observation(&all);
        sent.reports_before_submit = 1;
        assert_eq!(healthy.problems(&sent).len(), 1);
        let mut unpublished = observation(&all);
        unpublished.aggregated.pop();
        assert_eq!(healthy.problems(&unpublished).len(), 1);
    }

    #[test]
    fn a_control_faster_than_the_round_trip_means_the_delay_was_missing() {
        let far = find("reset-x-far").unwrap();
        let verdicts = X_BLOCKED;
        let report = |ms: u32| {
            serde_json::from_value::<netreach::Report>(serde_json::json!({
                "schema": netreach::SCHEMA, "campaign": "lab",
                "started_at": "2026-12-03T03:00:00Z", "runtime_ms": 5000,
                "client": {"browser": "chrome", "version": 156, "os": "linux"},
                "conditions": [], "controls": [{"url": "https://c/", "kind": "image",
                "attempts": [{"outcome": "ok", "ms": ms}]}], "platforms": []
            }))
            .expect("a report")
        };
        let mut seen = observation(&verdicts);
        seen.report = Some(report(105));
        assert!(far.problems(&seen).is_empty());
        seen.report = Some(report(12));
        assert_eq!(far.problems(&seen).len(), 1, "{:?}", far.problems(&seen));
    }

    /// A report that waited as it should: kept alone, listed, nothing stored while cut off,
    /// `stored` times at the end, nothing left.
    fn waited(stored: u64) -> WaitingSeen {
        let shown = serde_json::json!({"schema": "netreach.report/1", "campaign": "lab"});
        WaitingSeen {
            cut: Waiting {
                listed: 1,
                keys: vec![WAITING_KEY.into()],
                kept: serde_json::json!([
                    {"collector": "http://10.77.0.1:8080/v1/reports", "report": shown.clone()}
                ]),
            },
            shown,
            stored_while_cut: 0,
            at_end: Waiting::default(),
            stored_at_end: stored,
        }
    }

    const HEALTHY_VERDICTS: [(&str, &str); 5] = [
        ("x", "reachable"),
        ("youtube", "reachable"),
        ("facebook", "reachable"),
        ("telegram", "reachable"),
        ("insaf-pk", "reachable"),
    ];

    #[test]
    fn a_waiting_report_must_arrive_exactly_once_and_leave_nothing_behind() {
        let queue = find("queue-online").unwrap();
        let mut seen = observation(&HEALTHY_VERDICTS);
        seen.waiting = Some(waited(1));
        assert!(
            queue.problems(&seen).is_empty(),
            "{:?}",
            queue.problems(&seen)
        );

        for (broken, what) in [
            (
                WaitingSeen {
                    stored_at_end: 2,
                    ..waited(1)
                },
                "sent twice",
            ),
            (
                WaitingSeen {
                    stored_at_end: 0,
                    ..waited(1)
                },
                "never sent",
            ),
            (
                WaitingSeen {
                    stored_while_cut: 1,
                    ..waited(1)
                },
                "stored while cut off",
            ),
        ] {
            seen.waiting = Some(broken);
            assert_eq!(queue.problems(&seen).len(), 1, "{what}");
        }
        let mut not_listed = waited(1);
        not_listed.cut.listed = 0;
        let mut more_kept = waited(1);
        more_kept.cut.keys.push("visitor-id".into());
        let mut other_report = waited(1);
        other_report.cut.kept[0]["report"]["campaign"] = "other".into();
        let mut extra_field = waited(1);
        extra_field.cut.kept[0]["kept_at"] = "2026-12-03T08:31:07Z".into();
        let mut left_behind = waited(1);
        left_behind.at_end.kept = serde_json::json!([]);
        for (broken, what) in [
            (not_listed, "not listed"),
            (more_kept, "another key"),
            (other_report, "not the shown report"),
            (extra_field, "more than the report and its collector"),
            (left_behind, "left in storage"),
        ] {
            seen.waiting = Some(broken);
            assert_eq!(queue.problems(&seen).len(), 1, "{what}");
        }
        seen.waiting = None;
        assert_eq!(
            queue.problems(&seen).len(),
            1,
            "no observation of the waiting"
        );
    }

    #[test]
    fn a_deleted_waiting_report_must_never_arrive() {
        let deleted = find("queue-deleted").unwrap();
        let mut seen = observation(&HEALTHY_VERDICTS);
        seen.stored.clear();
        seen.rows.clear();
        seen.aggregated.clear();
        seen.waiting = Some(waited(0));
        assert!(
            deleted.problems(&seen).is_empty(),
            "{:?}",
            deleted.problems(&seen)
        );
        seen.waiting = Some(waited(1));
        assert_eq!(deleted.problems(&seen).len(), 1);
        seen.waiting = Some(waited(0));
        seen.aggregated = vec![("x".into(), "reachable".into())];
        assert_eq!(deleted.problems(&seen).len(), 1);
        // A report that waited where the collector answered is a problem too.
        let mut direct = observation(&HEALTHY_VERDICTS);
        direct.waiting = Some(waited(1));
        assert_eq!(find("healthy-50ms").unwrap().problems(&direct).len(), 1);
    }

    #[test]
    fn loss_allows_anything_but_blocked() {
        let loss = find("loss-20pct").unwrap();
        let fine = [
            ("x", "partial"),
            ("youtube", "inconclusive"),
            ("facebook", "throttled"),
            ("telegram", "reachable"),
            ("insaf-pk", "reachable"),
        ];
        assert!(loss.problems(&observation(&fine)).is_empty());
        let bad = X_BLOCKED;
        assert_eq!(loss.problems(&observation(&bad)).len(), 1);
    }
}
