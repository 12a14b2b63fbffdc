//! The verdict rules: from the controls' and a platform's attempts to one honest verdict.
//!
//! The same code runs in the browser (to show the verdict) and in the collector (to refuse
//! reports whose verdicts do not follow from their own attempts). A false `blocked` is the
//! worst error this tool can make, so every negative verdict needs healthy controls and
//! repeated, consistent failures; anything less is `inconclusive`.
//!
//! Rules, per endpoint (attempts made while the page was hidden and did not load are ignored,
//! because hidden pages have throttled timers):
//! - **up**: at least half of its attempts loaded;
//! - **degraded**: some loaded, but fewer than half;
//! - **down**: none loaded and at least [`MIN_FAILURES`] failed (one failure is no evidence);
//! - **unknown**: otherwise (too few attempts).
//!
//! Controls are **healthy** when every control endpoint is up, **reachable** when at least one
//! loaded at all, and **failed** otherwise (the visitor is offline, or everything is blocked).
//!
//! Per platform, in order:
//! 1. run cancelled → `inconclusive/cancelled`;
//! 2. every known endpoint up → `throttled` if healthy controls show it far slower (below),
//!    else `reachable/endpoints_loaded`;
//! 3. nothing known → `inconclusive/page_hidden`, the host page's cause (as in 4), or
//!    `controls_failed` (every control down: the engine then makes no more platform attempts),
//!    or `too_few_attempts`;
//! 4. some failures, but a local cause is possible → `inconclusive` with that cause, the host
//!    page's first (it makes the controls fail too): `cross_origin_isolated`, `csp_violation`,
//!    then `controls_failed`, `controls_unstable`, then `refused_by_browser` (below);
//! 5. every endpoint down → `blocked/endpoints_timeout | endpoints_error | endpoints_failed`;
//! 6. some down or degraded, some up → `partial/some_endpoints_failed | intermittent_failures`;
//! 7. otherwise (down mixed with unknown) → `inconclusive/too_few_attempts`.
//!
//! Throttling, judged only against healthy controls: the platform's throughput (the lowest
//! per-endpoint median among endpoints with `bytes`) is below [`THROTTLE_RATIO`] of the
//! controls' and below [`THROTTLE_MAX_KBPS`]; without a control throughput, below
//! [`THROTTLE_ABSOLUTE_KBPS`]. Or its median latency is more than [`SLOW_RATIO`] times the
//! controls' and at least [`SLOW_EXTRA_MS`] more.
//!
//! Refused by the browser: a content-blocking extension or tracking protection fails a request
//! inside the browser, in 2-16 ms in Chromium 156 and Firefox 153, with the same error and the
//! same kind of Resource Timing entry as a network failure; a network failure takes at least a
//! round trip (measured in `lab/signals/results.md`). So when every failure of a platform came
//! in under half the fastest control load, most of them under [`INSTANT_FAILURE_MS`], and that
//! load took at least [`ATTRIBUTABLE_CONTROL_MS`], the browser is the cause: `inconclusive`.
//! On faster networks an instant failure cannot be told from a nearby censor's and is judged
//! as now.
use alloc::{string::String, vec::Vec};

use crate::report::{Attempt, EndpointResult, PlatformResult, Report};
use crate::stats::{median, round_u32};
use crate::vocabulary::{Condition, Outcome, Reason, Verdict};

/// Failed attempts an endpoint needs, with none loaded, to count as down.
pub const MIN_FAILURES: usize = 2;
/// Throttled if throughput is below this fraction of the controls' throughput…
pub const THROTTLE_RATIO: f64 = 0.2;
/// …and below this many kbit/s (a fast CDN slower than a faster control is not throttling).
pub const THROTTLE_MAX_KBPS: f64 = 2000.0;
/// Throttled, without a control throughput to compare with, below this many kbit/s.
pub const THROTTLE_ABSOLUTE_KBPS: f64 = 300.0;
/// Throttled if the median latency is more than this many times the controls'…
pub const SLOW_RATIO: f64 = 10.0;
/// …and at least this many milliseconds more.
pub const SLOW_EXTRA_MS: f64 = 2000.0;
/// Failures mostly faster than this (each faster than half the fastest control load) are the
/// browser's own.
pub const INSTANT_FAILURE_MS: u32 = 20;
/// …judged only when the fastest control load took at least this long.
pub const ATTRIBUTABLE_CONTROL_MS: u32 = 40;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Up,
    Degraded,
    Down { timeouts: usize, errors: usize },
    Unknown,
}

fn counted(attempts: &[Attempt]) -> impl Iterator<Item = &Attempt> {
    attempts
        .iter()
        .filter(|a| !a.hidden || a.outcome.answered())
}

fn state(endpoint: &EndpointResult) -> State {
    state_of(&endpoint.attempts)
}

fn state_of(attempts: &[Attempt]) -> State {
    let (mut ok, mut timeouts, mut errors) = (0, 0, 0);
    for a in counted(attempts) {
        match a.outcome {
            Outcome::Ok | Outcome::Unusable => ok += 1,
            Outcome::Timeout => timeouts += 1,
            Outcome::Error => errors += 1,
        }
    }
    let failed = timeouts + errors;
    if ok > 0 && ok >= failed {
        State::Up
    } else if ok > 0 {
        State::Degraded
    } else if failed >= MIN_FAILURES {
        State::Down { timeouts, errors }
    } else {
        State::Unknown
    }
}

/// How the controls fared: the baseline every platform is judged against.
#[derive(Clone, Debug, PartialEq)]
pub struct Baseline {
    healthy: bool,
    any_loaded: bool,
    /// Every control failed repeatedly, none loaded (see [`controls_down`]).
    failed: bool,
    median_ms: Option<f64>,
    /// The fastest control load: what a network answer costs on this connection at least.
    fastest_ms: Option<u32>,
    kbps: Option<f64>,
}

impl Baseline {
    /// Summarizes the control endpoints' attempts.
    pub fn new(controls: &[EndpointResult]) -> Self {
        let states: Vec<State> = controls.iter().map(state).collect();
        Baseline {
            healthy: !states.is_empty() && states.iter().all(|s| *s == State::Up),
            any_loaded: states
                .iter()
                .any(|s| matches!(s, State::Up | State::Degraded)),
            failed: !states.is_empty() && states.iter().all(|s| matches!(s, State::Down { .. })),
            median_ms: median_latency(controls),
            fastest_ms: controls
                .iter()
                .flat_map(|e| e.attempts.iter())
                .filter(|a| a.outcome == Outcome::Ok && !a.hidden)
                .map(|a| a.ms)
                .min(),
            kbps: median(controls.iter().filter_map(endpoint_kbps)),
        }
    }
}

/// Whether every control is down: none of its attempts loaded and at least [`MIN_FAILURES`]
/// failed. The visitor is offline (or everything is blocked), and no platform attempt could be
/// judged: the engine then makes none, and every verdict is `inconclusive/controls_failed`.
pub fn controls_down<'a>(controls: impl IntoIterator<Item = &'a [Attempt]>) -> bool {
    let mut any = false;
    for attempts in controls {
        any = true;
        if !matches!(state_of(attempts), State::Down { .. }) {
            return false;
        }
    }
    any
}

fn median_latency(endpoints: &[EndpointResult]) -> Option<f64> {
    median(
        endpoints
            .iter()
            .flat_map(|e| e.attempts.iter())
            .filter(|a| a.outcome == Outcome::Ok && !a.hidden)
            .map(|a| f64::from(a.ms)),
    )
}

/// Whether every failure among `endpoints` came faster than a network answers here (see the
/// module's rules): the browser refused them.
fn refused_by_browser(baseline: &Baseline, endpoints: &[EndpointResult]) -> bool {
    let Some(fastest) = baseline
        .fastest_ms
        .filter(|ms| *ms >= ATTRIBUTABLE_CONTROL_MS)
    else {
        return false;
    };
    let (mut failures, mut instant) = (0, 0);
    for a in endpoints.iter().flat_map(|e| counted(&e.attempts)) {
        if a.outcome.answered() {
            continue;
        }
        if a.outcome != Outcome::Error || a.ms * 2 >= fastest {
            return false;
        }
        failures += 1;
        instant += usize::from(a.ms < INSTANT_FAILURE_MS);
    }
    // Most of them, not every one: one refusal slowed by a busy device (29 ms, seen in the lab
    // with the machine loaded) must not turn the rest into a block.
    instant * 2 > failures
}

fn endpoint_kbps(endpoint: &EndpointResult) -> Option<f64> {
    median(counted(&endpoint.attempts).filter_map(Attempt::kbps))
}

/// A platform's result: its verdict and reason against `baseline`, and its display figures.
pub fn judge(
    id: String,
    endpoints: Vec<EndpointResult>,
    baseline: &Baseline,
    conditions: &[Condition],
) -> PlatformResult {
    let (verdict, reason) = classify(baseline, conditions, &endpoints);
    let (median_ms, kbps) = figures(&endpoints);
    PlatformResult {
        id,
        verdict,
        reason,
        median_ms,
        kbps,
        endpoints,
    }
}

/// Display figures for a platform: median latency (ms) and lowest throughput (kbit/s).
pub fn figures(endpoints: &[EndpointResult]) -> (Option<u32>, Option<u32>) {
    let kbps = endpoints
        .iter()
        .filter_map(endpoint_kbps)
        .min_by(f64::total_cmp);
    (
        median_latency(endpoints).map(round_u32),
        kbps.map(round_u32),
    )
}

/// The verdict for one platform's endpoints, given the controls and the run's conditions.
pub fn classify(
    baseline: &Baseline,
    conditions: &[Condition],
    endpoints: &[EndpointResult],
) -> (Verdict, Reason) {
    use Verdict::*;
    if conditions.contains(&Condition::Cancelled) {
        return (Inconclusive, Reason::Cancelled);
    }
    let states: Vec<State> = endpoints.iter().map(state).collect();
    let up = states.iter().filter(|s| **s == State::Up).count();
    let degraded = states.iter().filter(|s| **s == State::Degraded).count();
    let unknown = states.iter().filter(|s| **s == State::Unknown).count();
    let down = states.len() - up - degraded - unknown;

    if up > 0 && up + unknown == states.len() {
        return match throttling(baseline, endpoints) {
            Some(reason) => (Throttled, reason),
            None => (Reachable, Reason::EndpointsLoaded),
        };
    }
    // Causes in the host page come before the controls: they make the controls fail too.
    let page_cause = if conditions.contains(&Condition::CrossOriginIsolated) {
        Some(Reason::CrossOriginIsolated)
    } else if conditions.contains(&Condition::CspViolation) {
        Some(Reason::CspViolation)
    } else {
        None
    };
    if unknown == states.len() {
        let reason = if conditions.contains(&Condition::PageHidden) {
            Reason::PageHidden
        } else if let Some(cause) = page_cause {
            cause
        } else if baseline.failed {
            // No platform attempt made, or too few: the controls said why.
            Reason::ControlsFailed
        } else {
            Reason::TooFewAttempts
        };
        return (Inconclusive, reason);
    }
    // Some endpoint failed: rule out every local explanation before blaming the network.
    if let Some(cause) = page_cause {
        return (Inconclusive, cause);
    }
    if !baseline.any_loaded {
        return (Inconclusive, Reason::ControlsFailed);
    }
    if !baseline.healthy {
        return (Inconclusive, Reason::ControlsUnstable);
    }
    if refused_by_browser(baseline, endpoints) {
        return (Inconclusive, Reason::RefusedByBrowser);
    }
    if down == states.len() {
        let (timeouts, errors) = states.iter().fold((0, 0), |(t, e), s| match s {
            State::Down { timeouts, errors } => (t + timeouts, e + errors),
            _ => (t, e),
        });
        let reason = match (timeouts, errors) {
            (_, 0) => Reason::EndpointsTimeout,
            (0, _) => Reason::EndpointsError,
            _ => Reason::EndpointsFailed,
        };
        return (Blocked, reason);
    }
    if up + degraded > 0 {
        let reason = if down > 0 {
            Reason::SomeEndpointsFailed
        } else {
            Reason::IntermittentFailures
        };
        return (Partial, reason);
    }
    (Inconclusive, Reason::TooFewAttempts)
}

fn throttling(baseline: &Baseline, endpoints: &[EndpointResult]) -> Option<Reason> {
    if !baseline.healthy {
        return None;
    }
    let slowest = endpoints
        .iter()
        .filter_map(endpoint_kbps)
        .min_by(f64::total_cmp);
    if let Some(kbps) = slowest {
        let throttled = match baseline.kbps {
            Some(control) => kbps < control * THROTTLE_RATIO && kbps < THROTTLE_MAX_KBPS,
            None => kbps < THROTTLE_ABSOLUTE_KBPS,
        };
        if throttled {
            return Some(Reason::LowThroughput);
        }
    }
    match (median_latency(endpoints), baseline.median_ms) {
        (Some(ms), Some(control)) if ms > control * SLOW_RATIO && ms >= control + SLOW_EXTRA_MS => {
            Some(Reason::HighLatency)
        }
        _ => None,
    }
}

/// A platform whose stated verdict or reason does not follow from its own attempts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// Its index in `report.platforms`.
    pub platform: usize,
    /// What the report says.
    pub stated: (Verdict, Reason),
    /// What the classifier gives for the same attempts.
    pub derived: (Verdict, Reason),
}

/// Re-derives every platform's verdict and reason from the report's own controls, conditions
/// and attempts: the one check behind the engine's tests and the collector's intake.
/// Returns the platforms whose stated verdict or reason differs, in report order.
pub fn classify_report(report: &Report) -> Vec<Mismatch> {
    let baseline = Baseline::new(&report.controls);
    report
        .platforms
        .iter()
        .enumerate()
        .filter_map(|(platform, p)| {
            let derived = classify(&baseline, &report.conditions, &p.endpoints);
            let stated = (p.verdict, p.reason);
            (derived != stated).then_some(Mismatch {
                platform,
                stated,
                derived,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocabulary::ProbeKind;

    fn attempt(outcome: Outcome, ms: u32) -> Attempt {
        Attempt {
            outcome,
            ms,
            duration_ms: None,
            bytes: None,
            hidden: false,
        }
    }

    fn ep(attempts: Vec<Attempt>) -> EndpointResult {
        EndpointResult {
            url: "https://e.example/".into(),
            kind: ProbeKind::Fetch,
            attempts,
        }
    }

    fn ok3(ms: u32) -> EndpointResult {
        ep(vec![attempt(Outcome::Ok, ms); 3])
    }

    fn fail3(outcome: Outcome) -> EndpointResult {
        ep(vec![attempt(outcome, 3000); 3])
    }

    /// An endpoint with `bytes` transferred at `kbps` in each of three attempts.
    fn sized(kbps: u32) -> EndpointResult {
        let bytes = 100_000u64;
        let ms = (bytes * 8 / u64::from(kbps)) as u32;
        let a = Attempt {
            outcome: Outcome::Ok,
            ms: 50,
            duration_ms: Some(ms),
            bytes: Some(bytes),
            hidden: false,
        };
        ep(vec![a; 3])
    }

    fn healthy() -> Baseline {
        Baseline::new(&[ok3(40), ok3(60)])
    }

    fn verdict(baseline: &Baseline, endpoints: &[EndpointResult]) -> (Verdict, Reason) {
        classify(baseline, &[], endpoints)
    }

    #[test]
    fn all_endpoints_loading_is_reachable() {
        assert_eq!(
            verdict(&healthy(), &[ok3(50), ok3(80)]),
            (Verdict::Reachable, Reason::EndpointsLoaded)
        );
    }

    #[test]
    fn consistent_timeouts_with_healthy_controls_are_blocked() {
        let r = verdict(
            &healthy(),
            &[fail3(Outcome::Timeout), fail3(Outcome::Timeout)],
        );
        assert_eq!(r, (Verdict::Blocked, Reason::EndpointsTimeout));
    }

    #[test]
    fn consistent_errors_are_blocked_and_mixed_failures_say_so() {
        let r = verdict(&healthy(), &[fail3(Outcome::Error), fail3(Outcome::Error)]);
        assert_eq!(r, (Verdict::Blocked, Reason::EndpointsError));
        let r = verdict(
            &healthy(),
            &[fail3(Outcome::Error), fail3(Outcome::Timeout)],
        );
        assert_eq!(r, (Verdict::Blocked, Reason::EndpointsFailed));
    }

    #[test]
    fn failures_with_failed_controls_are_never_blocked() {
        let offline = Baseline::new(&[fail3(Outcome::Error), fail3(Outcome::Timeout)]);
        let r = verdict(
            &offline,
            &[fail3(Outcome::Timeout), fail3(Outcome::Timeout)],
        );
        assert_eq!(r, (Verdict::Inconclusive, Reason::ControlsFailed));
    }

    #[test]
    fn no_attempts_after_failed_controls_read_as_controls_failed() {
        let offline = Baseline::new(&[fail3(Outcome::Error), fail3(Outcome::Timeout)]);
        let none = ep(vec![]);
        let r = verdict(&offline, &[none.clone(), none.clone()]);
        assert_eq!(r, (Verdict::Inconclusive, Reason::ControlsFailed));
        let healthy = Baseline::new(&[ok3(40)]);
        let r = verdict(&healthy, &[none]);
        assert_eq!(r, (Verdict::Inconclusive, Reason::TooFewAttempts));
    }

    #[test]
    fn controls_are_down_only_after_repeated_failures_of_each() {
        let a = |o: Outcome, n: usize| vec![attempt(o, 3000); n];
        let down = [a(Outcome::Timeout, 2), a(Outcome::Error, 3)];
        assert!(controls_down(down.iter().map(Vec::as_slice)));
        let one_each = [a(Outcome::Timeout, 1), a(Outcome::Timeout, 1)];
        assert!(!controls_down(one_each.iter().map(Vec::as_slice)));
        let one_loaded = [a(Outcome::Timeout, 2), vec![attempt(Outcome::Ok, 50)]];
        assert!(!controls_down(one_loaded.iter().map(Vec::as_slice)));
        assert!(!controls_down(core::iter::empty::<&[Attempt]>()));
    }

    #[test]
    fn failures_with_unstable_controls_are_inconclusive() {
        let flaky = Baseline::new(&[ok3(40), fail3(Outcome::Timeout)]);
        let r = verdict(&flaky, &[fail3(Outcome::Timeout)]);
        assert_eq!(r, (Verdict::Inconclusive, Reason::ControlsUnstable));
        let r = verdict(&flaky, &[fail3(Outcome::Timeout), ok3(40)]);
        assert_eq!(r, (Verdict::Inconclusive, Reason::ControlsUnstable));
    }

    #[test]
    fn a_platform_that_loads_is_reachable_even_when_controls_fail() {
        let offline = Baseline::new(&[fail3(Outcome::Error)]);
        assert_eq!(verdict(&offline, &[ok3(30)]).0, Verdict::Reachable);
    }

    #[test]
    fn no_controls_means_no_negative_verdict() {
        let none = Baseline::new(&[]);
        let r = verdict(&none, &[fail3(Outcome::Timeout)]);
        assert_eq!(r.0, Verdict::Inconclusive);
    }

    #[test]
    fn a_single_flaky_failure_does_not_flip_a_verdict() {
        let flaky = ep(vec![
            attempt(Outcome::Ok, 50),
            attempt(Outcome::Timeout, 3000),
            attempt(Outcome::Ok, 60),
        ]);
        assert_eq!(verdict(&healthy(), &[flaky, ok3(40)]).0, Verdict::Reachable);
    }

    #[test]
    fn one_failed_attempt_alone_is_too_few_for_blocked() {
        let once = ep(vec![attempt(Outcome::Timeout, 3000)]);
        let r = verdict(&healthy(), &[once.clone(), once]);
        assert_eq!(r, (Verdict::Inconclusive, Reason::TooFewAttempts));
    }

    #[test]
    fn unusable_objects_count_as_answers_never_as_failures() {
        let rotten = ep(vec![attempt(Outcome::Unusable, 30); 3]);
        let r = verdict(&healthy(), &[rotten.clone(), ok3(40)]);
        assert_eq!(r, (Verdict::Reachable, Reason::EndpointsLoaded));
        let r = verdict(&healthy(), &[rotten.clone(), rotten.clone()]);
        assert_eq!(r.0, Verdict::Reachable);
        let r = verdict(&healthy(), &[rotten, fail3(Outcome::Timeout)]);
        assert_eq!(r, (Verdict::Partial, Reason::SomeEndpointsFailed));
        // A control whose host answered is a working path for the baseline too.
        let rotten_control = Baseline::new(&[ep(vec![attempt(Outcome::Unusable, 30); 3])]);
        let r = verdict(&rotten_control, &[fail3(Outcome::Timeout)]);
        assert_eq!(r, (Verdict::Blocked, Reason::EndpointsTimeout));
    }

    /// An endpoint failing with an error three times, after these times.
    fn failing_in(ms: [u32; 3]) -> EndpointResult {
        ep(ms.iter().map(|&ms| attempt(Outcome::Error, ms)).collect())
    }

    /// Controls loading in `ms`, three times each.
    fn controls_at(ms: u32) -> Baseline {
        Baseline::new(&[ok3(ms), ok3(ms + 20)])
    }

    #[test]
    fn instant_failures_against_slower_controls_are_the_browsers_not_a_block() {
        let refused = ep(vec![attempt(Outcome::Error, 3); 3]);
        let r = verdict(&controls_at(60), &[refused.clone(), refused.clone()]);
        assert_eq!(r, (Verdict::Inconclusive, Reason::RefusedByBrowser));
        // One host of the platform refused, the other loading: not partial either.
        let r = verdict(&controls_at(60), &[refused.clone(), ok3(70)]);
        assert_eq!(r, (Verdict::Inconclusive, Reason::RefusedByBrowser));
        // Seen in the lab (blocker-x, 100 ms round trip, a loaded machine): the first refusal
        // slowed to 29 ms; most failures decide, not the slowest.
        let r = verdict(
            &controls_at(105),
            &[failing_in([29, 13, 6]), failing_in([7, 4, 3])],
        );
        assert_eq!(r, (Verdict::Inconclusive, Reason::RefusedByBrowser));
    }

    #[test]
    fn failures_around_a_nearby_resolvers_round_trip_stay_blocked() {
        // A resolver 30 ms away answering NXDOMAIN, the controls 150 ms away: each failure is
        // under half the control load, but a network answers that fast.
        let r = verdict(
            &controls_at(150),
            &[failing_in([31, 29, 33]), failing_in([30, 12, 32])],
        );
        assert_eq!(r, (Verdict::Blocked, Reason::EndpointsError));
    }

    #[test]
    fn failures_taking_a_round_trip_stay_blocked() {
        let reset = ep(vec![attempt(Outcome::Error, 45); 3]);
        let r = verdict(&controls_at(60), &[reset.clone(), reset]);
        assert_eq!(r, (Verdict::Blocked, Reason::EndpointsError));
        // Fast, but not faster than half the fastest control load.
        let fast = ep(vec![attempt(Outcome::Error, 12); 3]);
        assert_eq!(
            verdict(&controls_at(20), core::slice::from_ref(&fast)).0,
            Verdict::Blocked
        );
        // Instant, but on a network too fast to tell a nearby censor from the browser.
        let instant = ep(vec![attempt(Outcome::Error, 3); 3]);
        assert_eq!(
            verdict(&controls_at(30), core::slice::from_ref(&instant)).0,
            Verdict::Blocked
        );
        // One failure that took a round trip is evidence of the network: judged as before.
        let mut mixed = instant;
        mixed.attempts[1].ms = 150;
        assert_eq!(verdict(&controls_at(60), &[mixed]).0, Verdict::Blocked);
        let r = verdict(&controls_at(60), &[fail3(Outcome::Timeout)]);
        assert_eq!(r, (Verdict::Blocked, Reason::EndpointsTimeout));
    }

    #[test]
    fn one_endpoint_down_and_one_up_is_partial() {
        let r = verdict(&healthy(), &[ok3(40), fail3(Outcome::Timeout)]);
        assert_eq!(r, (Verdict::Partial, Reason::SomeEndpointsFailed));
    }

    #[test]
    fn mostly_failing_endpoints_are_intermittent_partial() {
        let mostly_failing = ep(vec![
            attempt(Outcome::Ok, 50),
            attempt(Outcome::Timeout, 3000),
            attempt(Outcome::Error, 20),
        ]);
        let r = verdict(&healthy(), &[mostly_failing.clone(), mostly_failing]);
        assert_eq!(r, (Verdict::Partial, Reason::IntermittentFailures));
    }

    #[test]
    fn low_throughput_against_controls_is_throttled() {
        let baseline = Baseline::new(&[ok3(40), sized(50_000)]);
        let r = verdict(&baseline, &[ok3(60), sized(128)]);
        assert_eq!(r, (Verdict::Throttled, Reason::LowThroughput));
    }

    #[test]
    fn a_fast_cdn_slower_than_a_faster_control_is_not_throttled() {
        let baseline = Baseline::new(&[ok3(40), sized(100_000)]);
        assert_eq!(verdict(&baseline, &[sized(8_000)]).0, Verdict::Reachable);
    }

    #[test]
    fn absolute_throughput_threshold_applies_without_control_throughput() {
        assert_eq!(verdict(&healthy(), &[sized(128)]).1, Reason::LowThroughput);
        assert_eq!(verdict(&healthy(), &[sized(1_000)]).0, Verdict::Reachable);
    }

    #[test]
    fn far_higher_latency_than_controls_is_throttled() {
        let r = verdict(&healthy(), &[ok3(4_000)]);
        assert_eq!(r, (Verdict::Throttled, Reason::HighLatency));
    }

    #[test]
    fn uniform_high_latency_is_reachable() {
        let slow = Baseline::new(&[ok3(400), ok3(420)]);
        assert_eq!(verdict(&slow, &[ok3(450), ok3(800)]).0, Verdict::Reachable);
    }

    #[test]
    fn throttling_is_not_judged_against_unstable_controls() {
        let flaky = Baseline::new(&[ok3(40), fail3(Outcome::Error)]);
        assert_eq!(verdict(&flaky, &[ok3(5_000)]).0, Verdict::Reachable);
    }

    #[test]
    fn cancelled_runs_are_inconclusive() {
        let r = classify(&healthy(), &[Condition::Cancelled], &[ok3(40)]);
        assert_eq!(r, (Verdict::Inconclusive, Reason::Cancelled));
    }

    #[test]
    fn failures_under_cross_origin_isolation_or_csp_are_inconclusive() {
        let down = [fail3(Outcome::Error)];
        let r = classify(&healthy(), &[Condition::CrossOriginIsolated], &down);
        assert_eq!(r, (Verdict::Inconclusive, Reason::CrossOriginIsolated));
        let r = classify(&healthy(), &[Condition::CspViolation], &down);
        assert_eq!(r, (Verdict::Inconclusive, Reason::CspViolation));
        let r = classify(&healthy(), &[Condition::CspViolation], &[ok3(30)]);
        assert_eq!(r.0, Verdict::Reachable);
        // The page refuses the controls' loads too: the page is named, not the connection.
        let refused = Baseline::new(&[fail3(Outcome::Error)]);
        let r = classify(&refused, &[Condition::CrossOriginIsolated], &down);
        assert_eq!(r, (Verdict::Inconclusive, Reason::CrossOriginIsolated));
        let r = classify(&refused, &[Condition::CspViolation], &[ep(vec![])]);
        assert_eq!(r, (Verdict::Inconclusive, Reason::CspViolation));
    }

    #[test]
    fn failures_while_hidden_are_ignored() {
        let mut hidden = fail3(Outcome::Timeout);
        for a in &mut hidden.attempts {
            a.hidden = true;
        }
        let r = classify(
            &healthy(),
            &[Condition::PageHidden],
            &[hidden.clone(), hidden],
        );
        assert_eq!(r, (Verdict::Inconclusive, Reason::PageHidden));
    }

    #[test]
    fn down_mixed_with_unknown_is_too_few_attempts() {
        let once = ep(vec![attempt(Outcome::Timeout, 3000)]);
        let r = verdict(&healthy(), &[fail3(Outcome::Timeout), once]);
        assert_eq!(r, (Verdict::Inconclusive, Reason::TooFewAttempts));
    }

    #[test]
    fn figures_are_median_latency_and_lowest_throughput() {
        let (ms, kbps) = figures(&[ok3(40), ok3(60), sized(128), sized(1000)]);
        assert_eq!(ms, Some(50));
        assert_eq!(kbps, Some(128));
    }

    #[test]
    fn classify_report_finds_verdicts_that_do_not_follow() {
        use crate::report::{Client, PlatformResult};
        use crate::vocabulary::{Browser, Os};
        let mut report = Report {
            schema: crate::vocabulary::SCHEMA.into(),
            campaign: "t".into(),
            #[cfg(not(target_arch = "wasm32"))]
            campaign_revision: None,
            started_at: "2026-11-22T21:00:00.000Z".into(),
            runtime_ms: 1,
            client: Client {
                browser: Browser::Chrome,
                version: 1,
                os: Os::Linux,
            },
            conditions: vec![],
            controls: vec![ok3(40)],
            platforms: vec![PlatformResult {
                id: "x".into(),
                verdict: Verdict::Blocked,
                reason: Reason::EndpointsTimeout,
                median_ms: None,
                kbps: None,
                endpoints: vec![fail3(Outcome::Timeout)],
            }],
        };
        assert!(classify_report(&report).is_empty());
        report.platforms[0].endpoints = vec![ok3(40)];
        assert_eq!(
            classify_report(&report),
            vec![Mismatch {
                platform: 0,
                stated: (Verdict::Blocked, Reason::EndpointsTimeout),
                derived: (Verdict::Reachable, Reason::EndpointsLoaded),
            }]
        );
    }
}
