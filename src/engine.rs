//! One run of a campaign: the controls first (their latency sets every later timeout), then
//! every endpoint's trials in shuffled rounds through a small pool, then the verdicts.
//!
//! The policy (timeouts, order, verdict rules) lives in the pure modules; this file only
//! drives the browser layer with it and assembles the anonymized report.
use alloc::{boxed::Box, string::String, vec, vec::Vec};

use crate::browser::{self, first, Cancel, Either, PageWatch, Probe, Sleep};
use crate::campaign::{Campaign, Endpoint};
use crate::classify::{controls_down, judge, Baseline};
use crate::report::{round_time, Attempt, Client, EndpointResult, Report};
use crate::schedule::{self, Task};
use crate::stats::{median, round_u32};
use crate::vocabulary::{Condition, Outcome, ProbeKind, SCHEMA};
use core::future::{poll_fn, Future};
use core::pin::Pin;
use core::task::Poll;

/// Attempts in flight at once. Browsers open about six connections per host; more would make
/// probes queue behind each other and time the queue instead of the network.
const POOL: usize = 6;

/// Resource Timing entries the browser keeps: room for a whole campaign on a busy host page.
const TIMING_BUFFER: u32 = 2_000;

/// One finished attempt, for a progress bar.
pub struct Progress<'a> {
    pub done: u32,
    pub total: u32,
    /// `None` for a control.
    pub platform: Option<&'a str>,
    pub url: &'a str,
    pub outcome: Outcome,
}

/// An endpoint of the run's flat list: the controls first, then each platform's endpoints.
struct Target<'a> {
    endpoint: &'a Endpoint,
    platform: Option<&'a str>,
}

type Running<'a> = Vec<Pin<Box<dyn Future<Output = (usize, Attempt)> + 'a>>>;

/// Runs a validated campaign and returns its report. A cancelled run returns what it has,
/// with the `cancelled` condition (every verdict is then inconclusive).
pub async fn run(
    campaign: &Campaign,
    cancel: &mut Cancel,
    progress: &dyn Fn(&Progress<'_>),
) -> Report {
    let started = round_time(browser::date_now());
    let t0 = browser::now();
    let page = PageWatch::new();
    browser::raise_timing_buffer(TIMING_BUFFER);

    let targets = targets(campaign);
    let controls = campaign.controls.len();
    let mut probes = Probes::new(&targets, &page, campaign.trials);

    // Controls first, with a generous timeout: their latency sets everyone else's.
    let mut finished = probes
        .run(
            first_round(controls),
            schedule::CONTROL_TIMEOUT_MS,
            cancel,
            progress,
        )
        .await;
    if finished {
        let mut rest = later_rounds(targets.len(), campaign.trials, controls);
        if !probes.any_control_loaded(controls) {
            // No control answered: the visitor may be offline. If every control is still down
            // after the offline round, further failures could not be judged
            // (inconclusive/controls_failed), so no more attempts are made: an offline visitor
            // learns it in seconds, not after a minute of timeouts.
            let offline;
            (offline, rest) = offline_round(rest, controls);
            finished = probes
                .run(offline, schedule::attempt_timeout(None), cancel, progress)
                .await;
            if probes.controls_down(controls) {
                rest.clear();
            }
        }
        if finished {
            let timeout = schedule::attempt_timeout(probes.control_ms(controls));
            finished = probes.run(rest, timeout, cancel, progress).await;
        }
    }

    // A violation event is queued as a task after the refused load: let the last ones arrive.
    Sleep::new(0).await;
    report(campaign, probes, finished, started, t0)
}

/// The run's flat list of endpoints: the controls first, then each platform's endpoints.
/// Two loops rather than `chain`/`flat_map`/`collect`: about 270 B gzip less in the package.
fn targets(campaign: &Campaign) -> Vec<Target<'_>> {
    let mut targets = Vec::new();
    for endpoint in &campaign.controls {
        targets.push(Target {
            endpoint,
            platform: None,
        });
    }
    for p in &campaign.platforms {
        for endpoint in &p.endpoints {
            targets.push(Target {
                endpoint,
                platform: Some(p.id.as_str()),
            });
        }
    }
    targets
}

/// The first round: one attempt on each control.
fn first_round(controls: usize) -> Vec<Task> {
    (0..controls)
        .map(|endpoint| Task { endpoint, trial: 0 })
        .collect()
}

/// Every trial after the first round, in shuffled rounds.
fn later_rounds(targets: usize, trials: u32, controls: usize) -> Vec<Task> {
    schedule::plan(targets, trials, browser::random)
        .into_iter()
        .filter(|t| !(t.endpoint < controls && t.trial == 0))
        .collect()
}

/// Splits `rest` for a visitor who may be offline: the controls' other trials and one attempt
/// per platform endpoint (a load proves a platform reachable whatever the controls say) come
/// first; the other trials after, unless every control is then down.
fn offline_round(rest: Vec<Task>, controls: usize) -> (Vec<Task>, Vec<Task>) {
    rest.into_iter()
        .partition(|t| t.endpoint < controls || t.trial == 0)
}

/// The anonymized report of a run: its conditions, and each platform judged against the
/// controls.
fn report(
    campaign: &Campaign,
    probes: Probes<'_>,
    finished: bool,
    started: f64,
    t0: f64,
) -> Report {
    let conditions = probes.conditions(finished);
    let mut results = probes
        .targets
        .iter()
        .zip(probes.attempts)
        .map(|(t, attempts)| EndpointResult {
            url: t.endpoint.url.clone(),
            kind: t.endpoint.kind,
            attempts,
        });
    let controls: Vec<EndpointResult> = results.by_ref().take(campaign.controls.len()).collect();
    let baseline = Baseline::new(&controls);
    let platforms = campaign
        .platforms
        .iter()
        .map(|p| {
            let endpoints = results.by_ref().take(p.endpoints.len()).collect();
            judge(p.id.clone(), endpoints, &baseline, &conditions)
        })
        .collect();

    Report {
        schema: SCHEMA.into(),
        campaign: campaign.id.clone(),
        #[cfg(not(target_arch = "wasm32"))]
        campaign_revision: None,
        started_at: browser::iso_time(started),
        runtime_ms: elapsed_ms(t0),
        client: Client::from_user_agent(&browser::user_agent()),
        conditions,
        controls,
        platforms,
    }
}

/// Whether a CSP `blockedURI` (a full URL, or only its origin for some loads) is one of
/// this endpoint's probes.
fn refuses(blocked: &str, endpoint_url: &str) -> bool {
    let base = crate::text::before_any(endpoint_url, b"?#");
    crate::text::contains(blocked, "://")
        && (blocked.starts_with(base) || endpoint_url.starts_with(blocked))
}

/// The attempts of a run so far, and how to make more.
struct Probes<'a> {
    targets: &'a [Target<'a>],
    page: &'a PageWatch,
    attempts: Vec<Vec<Attempt>>,
    /// Endpoints with `bytes` whose answer once got no Resource Timing entry (`no-store`, or a
    /// body the browser keeps from the page): their later attempts do not wait for one again.
    untimed: Vec<bool>,
    nonce: u64,
    done: u32,
    total: u32,
}

impl<'a> Probes<'a> {
    /// No attempt yet on any of `targets`.
    fn new(targets: &'a [Target<'a>], page: &'a PageWatch, trials: u32) -> Self {
        Probes {
            targets,
            page,
            attempts: core::iter::repeat_with(Vec::new)
                .take(targets.len())
                .collect(),
            untimed: vec![false; targets.len()],
            // A per-run random base keeps probe URLs unique across runs and visitors' caches.
            nonce: (browser::random() * 4_294_967_296.0) as u64 * 1_000,
            done: 0,
            total: (targets.len() as u32).saturating_mul(trials),
        }
    }

    /// Whether any of the first `controls` targets (the controls) loaded at least once.
    fn any_control_loaded(&self, controls: usize) -> bool {
        self.attempts[..controls]
            .iter()
            .flatten()
            .any(|a| a.outcome.answered())
    }

    /// Whether every control is down: no failure can then be judged.
    fn controls_down(&self, controls: usize) -> bool {
        controls_down(self.attempts[..controls].iter().map(Vec::as_slice))
    }

    /// The controls' median latency, from loads in a visible page.
    fn control_ms(&self, controls: usize) -> Option<f64> {
        median(
            self.attempts[..controls]
                .iter()
                .flatten()
                .filter(|a| a.outcome == Outcome::Ok && !a.hidden)
                .map(|a| f64::from(a.ms)),
        )
    }

    /// What made this run's failures unreliable, whatever the network did: a cancelled run
    /// (`finished` false), a hidden page, cross-origin isolation, probes refused by the CSP.
    fn conditions(&self, finished: bool) -> Vec<Condition> {
        let mut conditions = Vec::new();
        if !finished {
            conditions.push(Condition::Cancelled);
        }
        if self.attempts.iter().flatten().any(|a| a.hidden) {
            conditions.push(Condition::PageHidden);
        }
        if browser::cross_origin_isolated() {
            conditions.push(Condition::CrossOriginIsolated);
        }
        let refused = self.page.refused();
        if self
            .targets
            .iter()
            .any(|t| refused.iter().any(|r| refuses(r, &t.endpoint.url)))
        {
            conditions.push(Condition::CspViolation);
        }
        conditions
    }

    /// Makes the attempts of `queue`, at most [`POOL`] at once and never two on one endpoint.
    /// Returns `false` if cancelled (attempts in flight are then aborted and not recorded).
    async fn run(
        &mut self,
        mut queue: Vec<Task>,
        timeout_ms: u32,
        cancel: &mut Cancel,
        progress: &dyn Fn(&Progress<'_>),
    ) -> bool {
        let mut busy = vec![false; self.targets.len()];
        let mut running: Running<'a> = Vec::new();
        loop {
            // Timers are throttled in hidden pages: start nothing new until the page is back.
            while running.len() < POOL && !self.page.hidden() {
                let Some(i) = schedule::next_ready(&queue, &busy) else {
                    break;
                };
                let task = queue.remove(i);
                busy[task.endpoint] = true;
                self.nonce += 1;
                let endpoint = self.targets[task.endpoint].endpoint;
                let url = browser::href(&schedule::probe_url(
                    &endpoint.url,
                    endpoint.bust,
                    self.nonce,
                ));
                // An image's answer detector (a HEAD before a large image's body, and after
                // any failed image) gets its own URL, and so no cache entry.
                let head_url = (endpoint.kind == ProbeKind::Image).then(|| {
                    self.nonce += 1;
                    schedule::probe_url(&endpoint.url, true, self.nonce)
                });
                running.push(Box::pin(attempt(
                    task.endpoint,
                    endpoint,
                    (url, head_url),
                    timeout_ms,
                    self.untimed[task.endpoint],
                    self.page,
                )));
            }
            if running.is_empty() {
                if queue.is_empty() {
                    return true;
                }
                // Nothing in flight and work left: the page is hidden.
                let Some(mut shown) = self.page.next_change() else {
                    continue;
                };
                if let Either::Right(()) = first(&mut shown, cancel).await {
                    return false;
                }
                continue;
            }
            let mut next = next_finished(&mut running);
            let (index, attempt) = match first(&mut next, cancel).await {
                Either::Left(done) => done,
                Either::Right(()) => return false,
            };
            busy[index] = false;
            self.done += 1;
            let target = &self.targets[index];
            progress(&Progress {
                done: self.done,
                total: self.total,
                platform: target.platform,
                url: &target.endpoint.url,
                outcome: attempt.outcome,
            });
            if attempt.outcome == Outcome::Ok && attempt.duration_ms.is_none() {
                self.untimed[index] = true;
            }
            self.attempts[index].push(attempt);
        }
    }
}

/// The first attempt in `running` to finish, removed from it.
fn next_finished<'r, 'a>(
    running: &'r mut Running<'a>,
) -> impl Future<Output = (usize, Attempt)> + Unpin + use<'r, 'a> {
    poll_fn(move |cx| {
        for i in 0..running.len() {
            if let Poll::Ready(done) = running[i].as_mut().poll(cx) {
                drop(running.swap_remove(i));
                return Poll::Ready(done);
            }
        }
        Poll::Pending
    })
}

/// How long to look for the Resource Timing entry of an image after it loaded: the browser
/// adds it together with the load, so it is there at once.
const IMAGE_TIMING_WAIT_MS: u32 = 1_000;
/// Least wait for the entry of a `fetch` with `bytes` after its answer.
const FETCH_TIMING_WAIT_MS: u32 = 250;

/// One timed attempt on `urls.0` (a unique probe URL of `endpoint`). `urls.1`, for an image,
/// is where a `HEAD` request checks that the host answers at all (before a large image's body,
/// and after an image that failed). `untimed`: an
/// earlier answer of this endpoint got no Resource Timing entry, so none is waited for.
async fn attempt(
    index: usize,
    endpoint: &Endpoint,
    (url, head_url): (String, Option<String>),
    timeout_ms: u32,
    untimed: bool,
    page: &PageWatch,
) -> (usize, Attempt) {
    let changes = page.changes();
    let hidden_at_start = page.hidden();
    let started = browser::now();
    let body_ms = schedule::body_timeout(timeout_ms, endpoint.bytes);
    let deadlines = match (endpoint.kind, endpoint.bytes) {
        // An image's load is its whole body; its Resource Timing entry comes with it. The
        // image load says nothing until its last byte, so a dropped host would hold a large
        // image for its whole body time: the HEAD answers as soon as the host does, and only
        // then does the body get more than the ordinary timeout.
        (ProbeKind::Image, _) => Deadlines {
            answer_ms: if head_url.is_some() {
                timeout_ms
            } else {
                body_ms
            },
            body_ms,
            timing_ms: IMAGE_TIMING_WAIT_MS,
            body_after_answer: false,
        },
        // A fetch resolves with the headers; the entry is added once the body is in. Chromium
        // 156 adds it only for bodies Opaque Response Blocking lets through (JavaScript, CSS,
        // images) and never for an answer with `Cache-Control: no-store`: other endpoints
        // give no throughput, and wait their body time for nothing. The probe lives until then.
        (ProbeKind::Fetch, Some(_)) => Deadlines {
            answer_ms: timeout_ms,
            body_ms,
            timing_ms: FETCH_TIMING_WAIT_MS,
            body_after_answer: !untimed,
        },
        (ProbeKind::Fetch, None) => Deadlines {
            answer_ms: timeout_ms,
            body_ms: timeout_ms,
            timing_ms: 0,
            body_after_answer: false,
        },
    };
    let head = head_url
        .as_deref()
        .filter(|_| endpoint.bytes.is_some())
        .and_then(|u| Probe::head(u).ok());
    let (mut outcome, ms, duration_ms) = match Probe::start(endpoint.kind, &url) {
        Ok(probe) => measure(probe, head, &url, started, deadlines).await,
        Err(_) => (Outcome::Error, 0, None),
    };
    // A failed image whose host answers a HEAD of the same object within the timeout: the
    // path works, and only the object is unusable (404, not an image, ORB, CORP). A censor's
    // reset, DNS or interception, or a blocker in the browser, fails the HEAD too.
    if let (Outcome::Error, Some(check)) = (outcome, head_url) {
        if let Ok(head) = Probe::head(&check) {
            let answer = Deadlines {
                answer_ms: timeout_ms,
                body_ms: timeout_ms,
                timing_ms: 0,
                body_after_answer: false,
            };
            if measure(head, None, &check, browser::now(), answer).await.0 == Outcome::Ok {
                outcome = Outcome::Unusable;
            }
        }
    }
    let attempt = Attempt {
        outcome,
        ms,
        duration_ms,
        bytes: endpoint.bytes.filter(|_| duration_ms.is_some()),
        hidden: hidden_at_start || page.hidden() || page.changes() != changes,
    };
    (index, attempt)
}

/// How long an attempt may take, from its start.
struct Deadlines {
    /// Until the answer (for a large image: until its host answers the HEAD).
    answer_ms: u32,
    /// Until the whole body, once the host answered.
    body_ms: u32,
    /// After the answer, this long for the Resource Timing entry…
    timing_ms: u32,
    /// …or longer, up to `body_ms` from the start, for a body still arriving.
    body_after_answer: bool,
}

/// Waits for the answer (or the timeout), then up to `timing_ms` for the Resource Timing
/// entry that gives the whole transfer's duration. The probe lives until then: dropping it
/// aborts the request, and would cut a body still arriving.
async fn measure(
    mut probe: Probe,
    mut head: Option<Probe>,
    url: &str,
    started: f64,
    deadlines: Deadlines,
) -> (Outcome, u32, Option<u32>) {
    let mut timer = Sleep::new(deadlines.answer_ms);
    let outcome = poll_fn(|cx| {
        if let Poll::Ready(loaded) = Pin::new(&mut probe).poll(cx) {
            return Poll::Ready(if loaded { Outcome::Ok } else { Outcome::Error });
        }
        if let Some(Poll::Ready(answered)) = head.as_mut().map(|h| Pin::new(h).poll(cx)) {
            head = None;
            if answered {
                let left = f64::from(deadlines.body_ms) - (browser::now() - started);
                timer = Sleep::new(left.max(0.0) as u32);
            }
        }
        Pin::new(&mut timer).poll(cx).map(|()| Outcome::Timeout)
    })
    .await;
    let ms = elapsed_ms(started);
    drop(timer);
    drop(head);
    if outcome != Outcome::Ok {
        return (outcome, ms, None);
    }
    let wait = if deadlines.body_after_answer {
        deadlines
            .body_ms
            .saturating_sub(ms)
            .max(deadlines.timing_ms)
    } else {
        deadlines.timing_ms
    };
    (outcome, ms, transfer_duration(url, started, wait).await)
}
/// Polls for the Resource Timing entry of `url` for up to `limit_ms`.
async fn transfer_duration(url: &str, started: f64, limit_ms: u32) -> Option<u32> {
    let deadline = browser::now() + f64::from(limit_ms);
    let mut pause = 4;
    loop {
        if let Some(duration) = browser::resource_duration(url, started) {
            return Some(round_u32(duration));
        }
        let left = deadline - browser::now();
        if left <= 0.0 {
            return None;
        }
        Sleep::new(pause.min(left as u32 + 1)).await;
        pause = (pause * 2).min(100);
    }
}

fn elapsed_ms(since: f64) -> u32 {
    round_u32(browser::now() - since)
}
