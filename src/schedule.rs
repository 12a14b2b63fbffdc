//! When each attempt runs and how long it may take: adaptive timeouts and a shuffled,
//! round-by-round order. Pure, so the policy is tested natively.
//!
//! Attempts go in rounds (trial 1 of every endpoint, then trial 2, …) so that an endpoint's
//! trials are spread in time: a two-second Wi-Fi hiccup cannot fail all three at once. Within
//! a round the order is shuffled so connection reuse and CDN coalescing favour no platform,
//! and an endpoint never has two attempts in flight (its throughput would be halved).
use alloc::{borrow::ToOwned, string::String, vec::Vec};

/// Timeout of the first control attempts, before any latency is known.
pub const CONTROL_TIMEOUT_MS: u32 = 8_000;
/// No attempt times out sooner than this: a cold TLS connection on a slow mobile network.
pub const TIMEOUT_FLOOR_MS: u32 = 2_500;
/// No attempt waits longer than this for an answer: a drop must not cost half a minute.
pub const TIMEOUT_CEILING_MS: u32 = 10_000;
/// Timeout used when no control answered (the verdicts will be inconclusive anyway).
pub const TIMEOUT_WITHOUT_CONTROLS_MS: u32 = 5_000;
/// Slowest transfer rate still waited for when an endpoint declares `bytes` (32 kbit/s),
/// so that a throttled object is measured rather than timed out.
pub const MIN_RATE_BYTES_PER_MS: u64 = 4;
/// Longest wait for a large object's whole body.
pub const BODY_CEILING_MS: u32 = 60_000;
/// Hard ceiling of a whole run, whatever the endpoints or the host page do: a run still going
/// then ends as a cancelled one (every verdict inconclusive). The default campaign's worst cases
/// stay well inside it (`cargo xtask bench worst-case`).
pub const RUN_CEILING_MS: u32 = 120_000;

/// Answer timeout from the controls' median latency: four times it plus a second, clamped.
pub fn attempt_timeout(control_median_ms: Option<f64>) -> u32 {
    match control_median_ms {
        Some(ms) => {
            let t = (ms.max(0.0) * 4.0 + 1_000.0).min(f64::from(TIMEOUT_CEILING_MS));
            (t as u32).clamp(TIMEOUT_FLOOR_MS, TIMEOUT_CEILING_MS)
        }
        None => TIMEOUT_WITHOUT_CONTROLS_MS,
    }
}

/// Time allowed for the whole transfer of an object of `bytes` after its answer arrived.
pub fn body_timeout(timeout_ms: u32, bytes: Option<u64>) -> u32 {
    let transfer = bytes.unwrap_or(0) / MIN_RATE_BYTES_PER_MS;
    (u64::from(timeout_ms) + transfer).min(u64::from(BODY_CEILING_MS)) as u32
}

/// One attempt to make: which endpoint (an index into the run's flat list) and which trial.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Task {
    pub endpoint: usize,
    pub trial: u32,
}

/// The attempts of `trials` rounds over `endpoints` endpoints, each round shuffled with
/// `random` (values in `[0, 1)`, e.g. `Math.random`).
pub fn plan(endpoints: usize, trials: u32, mut random: impl FnMut() -> f64) -> Vec<Task> {
    let mut tasks = Vec::with_capacity(endpoints * trials as usize);
    for trial in 0..trials {
        let start = tasks.len();
        tasks.extend((0..endpoints).map(|endpoint| Task { endpoint, trial }));
        let round = &mut tasks[start..];
        for i in (1..round.len()).rev() {
            let j = ((random() * (i + 1) as f64) as usize).min(i);
            round.swap(i, j);
        }
    }
    tasks
}

/// Position in `queue` of the first task whose endpoint is not busy.
pub fn next_ready(queue: &[Task], busy: &[bool]) -> Option<usize> {
    queue.iter().position(|t| !busy[t.endpoint])
}

/// The URL of one attempt: a unique query parameter defeats every cache on the way.
pub fn probe_url(url: &str, bust: bool, nonce: u64) -> String {
    if !bust {
        return url.to_owned();
    }
    let (base, fragment) = url.split_at(crate::text::before_any(url, b"#").len());
    let sep = if crate::text::find_any(base, b"?").is_some() {
        '&'
    } else {
        '?'
    };
    let mut s = String::with_capacity(url.len() + 24);
    s.push_str(base);
    s.push(sep);
    s.push_str("nr=");
    crate::text::push_number(&mut s, nonce);
    s.push_str(fragment);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_adapts_to_control_latency_within_bounds() {
        assert_eq!(attempt_timeout(Some(5.0)), TIMEOUT_FLOOR_MS);
        assert_eq!(attempt_timeout(Some(600.0)), 3_400);
        assert_eq!(attempt_timeout(Some(5_000.0)), TIMEOUT_CEILING_MS);
        assert_eq!(attempt_timeout(None), TIMEOUT_WITHOUT_CONTROLS_MS);
    }

    #[test]
    fn large_objects_get_time_to_transfer_at_the_minimum_rate() {
        assert_eq!(body_timeout(2_500, None), 2_500);
        assert_eq!(body_timeout(2_500, Some(100_000)), 27_500);
        assert_eq!(body_timeout(2_500, Some(10_000_000)), BODY_CEILING_MS);
    }

    #[test]
    fn plan_has_every_attempt_once_in_rounds() {
        let mut seed = 7u64;
        let mut rnd = move || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let tasks = plan(5, 3, &mut rnd);
        assert_eq!(tasks.len(), 15);
        for (round, chunk) in tasks.chunks(5).enumerate() {
            let mut eps: Vec<usize> = chunk.iter().map(|t| t.endpoint).collect();
            eps.sort_unstable();
            assert_eq!(eps, vec![0, 1, 2, 3, 4]);
            assert!(chunk.iter().all(|t| t.trial == round as u32));
        }
        // Shuffled: with this seed no round is in index order.
        assert!(tasks
            .chunks(5)
            .any(|c| c.windows(2).any(|w| w[0].endpoint > w[1].endpoint)));
    }

    #[test]
    fn busy_endpoints_are_skipped() {
        let q = [
            Task {
                endpoint: 1,
                trial: 1,
            },
            Task {
                endpoint: 0,
                trial: 1,
            },
        ];
        assert_eq!(next_ready(&q, &[false, true]), Some(1));
        assert_eq!(next_ready(&q, &[true, true]), None);
    }

    #[test]
    fn probe_urls_are_unique_and_keep_query_and_fragment() {
        assert_eq!(
            probe_url("https://x.com/a", true, 5),
            "https://x.com/a?nr=5"
        );
        assert_eq!(
            probe_url("https://x.com/a?b=1#f", true, 6),
            "https://x.com/a?b=1&nr=6#f"
        );
        assert_eq!(probe_url("https://x.com/a", false, 7), "https://x.com/a");
    }
}
