//! The test every series of cell-hours goes through (see the parent module's *Method*): the
//! baseline share to test against, the one-sided binomial test with its effect-size rule, and
//! the confidence published with an event.

use super::{ALPHA, FLOOR_FAILING, MIN_BASELINE, MIN_DROP, PRIOR_FAILING};

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

pub(super) fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

pub(super) fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
