//! Small robust statistics: medians resist the single slow outlier that a shared Wi-Fi adds.

/// Median of the values (mean of the two middle ones for an even count); `None` when empty.
pub fn median(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
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

#[cfg(test)]
mod tests {
    use super::median;

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
