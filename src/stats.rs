//! Small robust statistics: medians resist the single slow outlier that a shared Wi-Fi adds.
use alloc::vec::Vec;

/// Median of the values (mean of the two middle ones for an even count); `None` when empty.
pub fn median(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    sorted_median(values.into_iter().filter(|x| x.is_finite()).collect())
}

/// The generic part of [`median`] is only the collecting: one copy of the sort in the package,
/// not one per caller.
#[inline(never)]
fn sorted_median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    // Insertion sort: a handful of values, and the standard sort costs KiBs of Wasm.
    for i in 1..v.len() {
        let mut j = i;
        while j > 0 && v[j - 1].total_cmp(&v[j]).is_gt() {
            v.swap(j - 1, j);
            j -= 1;
        }
    }
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    })
}

/// `x` to the nearest whole number as a `u32`: negative and NaN give 0, too large gives
/// `u32::MAX`. (`f64::round` and `floor` live in std, which the Wasm package does without.)
pub fn round_u32(x: f64) -> u32 {
    (x + 0.5) as u32
}

/// The largest whole number not above `x` (for |x| < 2^63).
pub fn floor(x: f64) -> f64 {
    let t = x as i64 as f64;
    if t > x {
        t - 1.0
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::{floor, median, round_u32};

    #[test]
    fn rounding_without_std() {
        assert_eq!(round_u32(2.4), 2);
        assert_eq!(round_u32(2.5), 3);
        assert_eq!(round_u32(-3.0), 0);
        assert_eq!(round_u32(f64::NAN), 0);
        assert_eq!(round_u32(1e12), u32::MAX);
        assert_eq!(floor(3.7), 3.0);
        assert_eq!(floor(-3.2), -4.0);
        assert_eq!(floor(-3.0), -3.0);
        assert_eq!(floor(1_763_925_000_123.0 / 3_600_000.0), 489_979.0);
    }

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median([3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median([4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median([]), None);
    }

    #[test]
    fn median_ignores_non_finite_values() {
        assert_eq!(median([f64::NAN, 5.0, f64::INFINITY]), Some(5.0));
    }
}
