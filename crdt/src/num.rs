//! Number parsing and printing with Redis's rules, so a value reads the same as in Redis.

/// Parses an integer exactly as Redis's `string2ll`: optional `-`, digits, no leading zeros,
/// no spaces or `+`, within `i64`.
pub fn parse_i64(b: &[u8]) -> Option<i64> {
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    if b == b"0" {
        return Some(0);
    }
    let (neg, digits) = match b[0] {
        b'-' => (true, &b[1..]),
        _ => (false, b),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else {
        i64::try_from(v).ok()
    }
}

/// Parses a float as Redis's `string2ld` does for INCRBYFLOAT: no spaces, no NaN.
pub fn parse_f64(b: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(b).ok()?;
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    let lower = s.to_ascii_lowercase();
    if lower.contains("nan") || lower.starts_with("0x") || lower.starts_with("-0x") {
        return None;
    }
    let v: f64 = s.parse().ok()?;
    if v.is_nan() {
        None
    } else {
        Some(v)
    }
}

/// Prints a float as INCRBYFLOAT does: fixed notation, trailing zeros trimmed. Redis computes
/// in `long double` and prints 17 decimals; with `f64` we first round to 15 significant digits
/// so that sums like `0.1 + 0.2` print `0.3` as they do in Redis.
pub fn format_float_human(v: f64) -> String {
    if v == 0.0 {
        return "0".to_string();
    }
    if !v.is_finite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let rounded: f64 = format!("{v:.14e}").parse().unwrap_or(v);
    let s = format!("{rounded}");
    if s == "-0" {
        "0".into()
    } else {
        s
    }
}

/// Writes a decimal integer into `out`.
pub fn push_i64(out: &mut Vec<u8>, v: i64) {
    let mut digits = [0u8; 20];
    let mut n = v.unsigned_abs();
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_follow_string2ll() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-12"), Some(-12));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        for bad in [&b""[..], b"-0", b"01", b"+1", b" 1", b"1 ", b"1.0", b"-"] {
            assert_eq!(parse_i64(bad), None, "{:?}", std::str::from_utf8(bad));
        }
    }

    #[test]
    fn push_i64_prints_decimal() {
        for v in [0, 7, -7, 10, i64::MAX, i64::MIN, 1234567890] {
            let mut out = Vec::new();
            push_i64(&mut out, v);
            assert_eq!(out, v.to_string().into_bytes());
        }
    }

    #[test]
    fn floats_print_like_incrbyfloat() {
        assert_eq!(format_float_human(0.1 + 0.2), "0.3");
        assert_eq!(format_float_human(10.5), "10.5");
        assert_eq!(format_float_human(3.0), "3");
        assert_eq!(format_float_human(5e3), "5000");
        assert_eq!(format_float_human(-1.25), "-1.25");
        assert_eq!(parse_f64(b"1e3"), Some(1000.0));
        assert_eq!(parse_f64(b" 1"), None);
        assert_eq!(parse_f64(b"nan"), None);
        assert_eq!(parse_f64(b"abc"), None);
    }
}
