//! UTC times as the collector stores them: Unix seconds, rounded down to the hour.
//!
//! Reports carry ISO 8601 strings (`2026-11-22T21:00:00.000Z`); parsing them by hand keeps the
//! accepted format strict and avoids a date-time dependency for two small functions.

/// Seconds in one hour, the precision of every stored time.
pub const HOUR: i64 = 3600;
/// Seconds in one day.
pub const DAY: i64 = 86_400;

/// Current Unix time in seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Rounds a Unix time down to the hour.
pub fn floor_hour(secs: i64) -> i64 {
    secs.div_euclid(HOUR) * HOUR
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn number(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `s` split at the first `separator`: the part before, and the part after if there is one.
fn split_optional(s: &str, separator: char) -> (&str, Option<&str>) {
    match s.split_once(separator) {
        Some((before, after)) => (before, Some(after)),
        None => (s, None),
    }
}

/// Exactly three numbers of the given widths in digits, joined by `separator`
/// (`2026-11-22`, `21:00:00`).
fn three_numbers(s: &str, separator: char, widths: [usize; 3]) -> Option<[i64; 3]> {
    let mut parts = s.split(separator);
    let mut numbers = [0; 3];
    for (n, width) in numbers.iter_mut().zip(widths) {
        let part = parts.next().filter(|part| part.len() == width)?;
        *n = number(part)?;
    }
    parts.next().is_none().then_some(numbers)
}

/// Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM:SSZ` or `YYYY-MM-DDTHH:MM:SS.fffZ` (UTC only).
/// Returns Unix seconds and whether a fraction of a second was non-zero.
fn parse(s: &str) -> Option<(i64, bool)> {
    let (date, rest) = split_optional(s, 'T');
    let [y, m, d] = three_numbers(date, '-', [4, 2, 2])?;
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    let mut secs = days_from_civil(y, m, d) * DAY;
    let mut fraction = false;
    if let Some(rest) = rest {
        let (hms, frac) = split_optional(rest.strip_suffix('Z')?, '.');
        let [h, mi, se] = three_numbers(hms, ':', [2, 2, 2])?;
        if h > 23 || mi > 59 || se > 59 {
            return None;
        }
        if let Some(frac) = frac {
            if frac.len() > 9 {
                return None;
            }
            fraction = number(frac)? != 0;
        }
        secs += h * HOUR + mi * 60 + se;
    }
    Some((secs, fraction))
}

/// Parses a UTC date or date-time (see the accepted forms above) into Unix seconds.
pub fn parse_utc(s: &str) -> Option<i64> {
    parse(s).map(|(secs, _)| secs)
}

/// Parses a UTC day, `YYYY-MM-DD` and nothing else, into the Unix time of its midnight.
pub fn parse_date(s: &str) -> Option<i64> {
    if s.contains('T') {
        return None;
    }
    parse_utc(s)
}

/// Parses a report's `started_at`, which must be a UTC date-time rounded down to the hour.
///
/// # Errors
/// A message saying what is wrong with the string.
pub fn parse_hour(s: &str) -> Result<i64, &'static str> {
    if !s.contains('T') {
        return Err("must be a UTC date-time like 2026-11-22T21:00:00.000Z");
    }
    match parse(s) {
        None => Err("must be a UTC date-time like 2026-11-22T21:00:00.000Z"),
        Some((secs, fraction)) if fraction || secs % HOUR != 0 => {
            Err("must be rounded down to the hour (minutes and seconds zero)")
        }
        Some((secs, _)) => Ok(secs),
    }
}

/// Formats Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_utc(secs: i64) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(DAY));
    let t = secs.rem_euclid(DAY);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        t / HOUR,
        t % HOUR / 60,
        t % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_a_report_time() {
        let t = parse_hour("2026-11-22T21:00:00.000Z").unwrap();
        assert_eq!(t, 1_795_381_200);
        assert_eq!(format_utc(t), "2026-11-22T21:00:00Z");
        assert_eq!(parse_utc("2026-11-22T21:00:00Z"), Some(t));
    }

    #[test]
    fn dates_parse_to_midnight_and_calendar_is_right() {
        assert_eq!(parse_utc("1970-01-01"), Some(0));
        assert_eq!(parse_utc("2024-02-29"), Some(1_709_164_800));
        assert_eq!(parse_utc("2023-02-29"), None);
        assert_eq!(format_utc(1_709_164_800 + 86_399), "2024-02-29T23:59:59Z");
        assert_eq!(format_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(parse_date("2024-02-29"), Some(1_709_164_800));
        assert_eq!(parse_date("2024-02-29T00:00:00Z"), None);
        assert_eq!(parse_date("2024-2-29"), None);
    }

    #[test]
    fn unrounded_or_loose_times_are_refused() {
        assert!(parse_hour("2026-11-22T21:30:00.000Z").is_err());
        assert!(parse_hour("2026-11-22T21:00:00.001Z").is_err());
        assert!(parse_hour("2026-11-22T21:00:00+01:00").is_err());
        assert!(parse_hour("2026-11-22").is_err());
        assert!(parse_hour("2026-11-22T24:00:00Z").is_err());
        assert!(parse_hour("+026-11-22T21:00:00Z").is_err());
        assert!(parse_hour("").is_err());
    }

    #[test]
    fn floor_hour_rounds_down() {
        assert_eq!(floor_hour(7199), 3600);
        assert_eq!(floor_hour(7200), 7200);
    }
}
