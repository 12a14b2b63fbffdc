//! Byte-level string helpers. `str::contains(&str)` and `u64::to_string` pull the generic
//! substring searcher and the formatting machinery into the Wasm package (several KiB for a
//! few calls on short strings); these do the same on bytes.
use alloc::string::String;

/// Position of the first `needle` in `hay`.
pub fn find(hay: &str, needle: &str) -> Option<usize> {
    let n = needle.len();
    (0..=hay.len().checked_sub(n)?)
        .find(|&i| hay.as_bytes().get(i..i + n) == Some(needle.as_bytes()))
}

/// Whether `needle` occurs in `hay`.
pub fn contains(hay: &str, needle: &str) -> bool {
    find(hay, needle).is_some()
}

/// Position of the first of `bytes` in `s` (ASCII bytes only, so the position is a char
/// boundary). `str::find(char)` pulls in core's word-at-a-time memchr.
#[allow(clippy::manual_contains)] // `bytes.contains(&b)` is memchr again: 0.3 KB gzip.
pub fn find_any(s: &str, bytes: &[u8]) -> Option<usize> {
    s.bytes().position(|b| bytes.iter().any(|&x| x == b))
}

/// `s` up to the first of `bytes`, or all of it.
pub fn before_any<'a>(s: &'a str, bytes: &[u8]) -> &'a str {
    &s[..find_any(s, bytes).unwrap_or(s.len())]
}

/// Appends the decimal digits of `n`.
pub fn push_number(s: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        s.push(char::from(d));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_bytes_like_str_find() {
        for (s, bytes) in [
            ("a/b?c#d", &b"?#"[..]),
            ("abc", b"/"),
            ("", b":"),
            ("[::1]:9", b"]"),
        ] {
            let by_str = s.find(|c: char| c.is_ascii() && bytes.contains(&(c as u8)));
            assert_eq!(find_any(s, bytes), by_str, "{s:?}");
            assert_eq!(before_any(s, bytes), &s[..by_str.unwrap_or(s.len())]);
        }
    }

    #[test]
    fn finds_like_str_find() {
        for (hay, needle) in [
            ("abcabc", "ca"),
            ("abc", ""),
            ("", "a"),
            ("ab", "abc"),
            ("aab", "ab"),
        ] {
            assert_eq!(find(hay, needle), hay.find(needle), "{hay:?} {needle:?}");
        }
        assert!(contains("Mozilla/5.0 (Linux; Android 14)", "Android"));
        assert!(!contains("Windows", "Linux"));
    }

    #[test]
    fn numbers_in_decimal() {
        for n in [0, 7, 10, 4_294_967_296, u64::MAX] {
            let mut s = String::from("n=");
            push_number(&mut s, n);
            assert_eq!(s, format!("n={n}"));
        }
    }
}
