//! Number parsing and formatting with Redis's exact rules.
//!
//! Clients observe these rules directly ("ERR value is not an integer or
//! out of range", how ZSCORE or INCRBYFLOAT print), so they are ports of
//! Redis's `string2ll`, `string2ld` and `%.17g`/`%.17Lf` formatting rather
//! than Rust's more permissive `str::parse`.

/// Parses a signed 64-bit integer exactly like Redis's `string2ll`: no
/// sign other than a leading `-`, no spaces, no leading zeros (except
/// "0"), "-0" rejected, at most 20 characters, overflow rejected.
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
    // First digit must be 1-9: this rejects "", "-", "-0", "01".
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    if digits.len() <= 19 {
        // At most 19 digits cannot overflow u64: skip the checked math
        // (this runs for every bulk header on the request hot path).
        for &c in digits {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                return None;
            }
            v = v * 10 + u64::from(d);
        }
    } else {
        for &c in digits {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
        }
    }
    if neg {
        // Magnitude of i64::MIN is one more than i64::MAX.
        if v > (i64::MAX as u64) + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else {
        i64::try_from(v).ok()
    }
}

/// Parses an unsigned 64-bit integer with `string2ull` rules (used for
/// SCAN cursors): digits only, no sign.
pub fn parse_u64(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 20 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for &c in b {
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    Some(v)
}

/// Parses a float like Redis's `string2ld`/`string2d` (strtold over the
/// whole argument): accepts "1.5", "-3", "1e3", ".5", "inf", "+inf",
/// "-inf", "infinity"; rejects empty input, any whitespace, trailing
/// junk, NaN, and finite literals that overflow (strtold's ERANGE).
pub fn parse_f64(b: &[u8]) -> Option<f64> {
    // Redis caps the textual length (MAX_LONG_DOUBLE_CHARS).
    if b.is_empty() || b.len() > 5 * 1024 {
        return None;
    }
    // strtold would skip leading spaces; Redis rejects them explicitly,
    // and trailing ones fail the end-pointer check. Rust's parser accepts
    // '_'-free decimal syntax close to strtold's, minus hex floats.
    let s = std::str::from_utf8(b).ok()?;
    let v: f64 = match s.parse() {
        Ok(v) => v,
        // strtold also reads C99 hex floats ("0x1p3"); Rust does not.
        Err(_) => parse_hex_float(b)?,
    };
    if v.is_nan() {
        return None;
    }
    if v.is_infinite() {
        // Only spelled-out infinities are allowed; "1e999" overflows.
        let t = s.trim_start_matches(['+', '-']);
        if !t.eq_ignore_ascii_case("inf") && !t.eq_ignore_ascii_case("infinity") {
            return None;
        }
    }
    Some(v)
}

/// Parses a float like Redis's `getDoubleFromObject` (strtod over the
/// whole argument, used for ZADD scores and WEIGHTS): as [`parse_f64`],
/// plus strtod's underflow rule — a non-zero literal that rounds to zero
/// ("1e-400") is refused, while subnormal results ("1e-310") are kept.
pub fn parse_f64_strict(b: &[u8]) -> Option<f64> {
    let v = parse_f64(b)?;
    if v == 0.0 && !is_zero_literal(b) {
        return None;
    }
    Some(v)
}

/// Whether a float literal that parsed as zero was written as zero (its
/// mantissa has no non-zero digit) rather than having underflowed.
fn is_zero_literal(b: &[u8]) -> bool {
    let b = b
        .strip_prefix(b"-")
        .or_else(|| b.strip_prefix(b"+"))
        .unwrap_or(b);
    let (mant, hex) = match b.get(..2) {
        Some(p) if p.eq_ignore_ascii_case(b"0x") => (&b[2..], true),
        _ => (b, false),
    };
    // Everything before the exponent marker is the mantissa; hex digits
    // include 'e', so hex floats use 'p'.
    let end = mant
        .iter()
        .position(|&c| {
            if hex {
                c | 0x20 == b'p'
            } else {
                c | 0x20 == b'e'
            }
        })
        .unwrap_or(mant.len());
    mant[..end].iter().all(|&c| c == b'0' || c == b'.')
}

/// Parses a score range bound the way Redis's `zslParseRange` does (a
/// bare `strtod` whose end pointer must reach the end of the C string):
/// leading whitespace is skipped, overflow gives ±inf and underflow 0,
/// an empty string (or one that is empty up to a NUL) is 0, and only
/// NaN or unparsed trailing bytes are refused.
pub fn parse_f64_bound(b: &[u8]) -> Option<f64> {
    let b = &b[..b.iter().position(|&c| c == 0).unwrap_or(b.len())];
    if b.is_empty() {
        // Nothing converted and the end pointer already at the NUL.
        return Some(0.0);
    }
    // All-whitespace input converts nothing: the end pointer stays at a
    // space, which fails the check.
    let start = b.iter().position(|c| !is_c_space(*c))?;
    let s = &b[start..];
    let v: f64 = match std::str::from_utf8(s).ok().and_then(|t| t.parse().ok()) {
        Some(v) => v,
        None => parse_hex_float(s)?,
    };
    if v.is_nan() {
        return None;
    }
    Some(v)
}

/// C's `isspace` in the "C" locale.
fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Parses a C99 hexadecimal float (`[+-]0x<hex>[.<hex>][p[+-]<dec>]`)
/// over the whole input, as strtold accepts it. Overflow yields
/// infinity, which the caller rejects like strtold's ERANGE.
fn parse_hex_float(b: &[u8]) -> Option<f64> {
    let (neg, rest) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    let rest = rest
        .strip_prefix(b"0x")
        .or_else(|| rest.strip_prefix(b"0X"))?;
    let mut mant: u64 = 0;
    // Binary exponent adjustment from dropped or fractional digits.
    let mut exp: i64 = 0;
    let mut digits = 0usize;
    let mut seen_dot = false;
    let mut i = 0;
    while i < rest.len() {
        let c = rest[i];
        if c == b'.' && !seen_dot {
            seen_dot = true;
        } else if let Some(d) = (c as char).to_digit(16) {
            digits += 1;
            if mant >> 60 == 0 {
                mant = (mant << 4) | u64::from(d);
                if seen_dot {
                    exp -= 4;
                }
            } else if !seen_dot {
                // Too many digits to hold: drop them, scale instead.
                exp += 4;
            }
        } else {
            break;
        }
        i += 1;
    }
    if digits == 0 {
        return None;
    }
    if let Some(&(b'p' | b'P')) = rest.get(i) {
        let e = &rest[i + 1..];
        let (eneg, ed) = match e.first() {
            Some(b'-') => (true, &e[1..]),
            Some(b'+') => (false, &e[1..]),
            _ => (false, e),
        };
        if ed.is_empty() || !ed.iter().all(u8::is_ascii_digit) {
            return None;
        }
        // Clamp: anything this large is already out of range.
        let mut v: i64 = 0;
        for &c in ed {
            v = (v * 10 + i64::from(c - b'0')).min(100_000);
        }
        exp += if eneg { -v } else { v };
    } else if i != rest.len() {
        return None;
    }
    let exp = i32::try_from(exp.clamp(-100_000, 100_000)).ok()?;
    // Scale in two steps so large mantissas with very negative exponents
    // do not underflow to zero prematurely.
    let half = exp / 2;
    let v = (mant as f64) * 2f64.powi(half) * 2f64.powi(exp - half);
    Some(if neg { -v } else { v })
}

/// Splits a finite, non-zero `v` into its decimal digits (rounded to
/// `sig` significant digits, trailing zeros kept) and base-10 exponent of
/// the first digit. Rust's float formatting is exact and correctly
/// rounded, so this matches C's printf rounding of the same precision.
fn decimal_digits(v: f64, sig: usize) -> (bool, Vec<u8>, i32) {
    let s = format!("{:.*e}", sig - 1, v.abs());
    let (mant, exp) = s.split_once('e').unwrap_or((s.as_str(), "0"));
    let digits: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
    (v.is_sign_negative(), digits, exp.parse().unwrap_or(0))
}

/// Formats like C's `printf("%.17g")`, which is what Redis 7.0 uses for
/// RESP double replies and ZSCORE-style bulk scores; infinities print as
/// "inf"/"-inf" as Redis special-cases them.
pub fn format_double(v: f64) -> String {
    format_g(v, 17)
}

fn format_g(v: f64, precision: usize) -> String {
    if v.is_nan() {
        return "nan".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    let (neg, digits, exp) = decimal_digits(v, precision);
    let mut out = String::with_capacity(precision + 8);
    if neg {
        out.push('-');
    }
    if exp < -4 || exp >= precision as i32 {
        // Scientific: d.ddd with trailing zeros stripped, e±XX (2+ digits).
        let mut m: Vec<u8> = digits.clone();
        while m.len() > 1 && m.last() == Some(&b'0') {
            m.pop();
        }
        out.push(m[0] as char);
        if m.len() > 1 {
            out.push('.');
            out.extend(m[1..].iter().map(|&c| c as char));
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let e = exp.unsigned_abs();
        if e < 10 {
            out.push('0');
        }
        out.push_str(&e.to_string());
    } else {
        push_fixed(&mut out, &digits, exp);
    }
    out
}

/// Appends `digits` × 10^(exp+1-len) in plain decimal notation with
/// trailing fractional zeros (and a bare dot) removed.
fn push_fixed(out: &mut String, digits: &[u8], exp: i32) {
    let mut s: Vec<u8> = Vec::with_capacity(digits.len() + 24);
    if exp < 0 {
        s.extend_from_slice(b"0.");
        s.extend(std::iter::repeat_n(b'0', (-exp - 1) as usize));
        s.extend_from_slice(digits);
    } else {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            s.extend_from_slice(digits);
            s.extend(std::iter::repeat_n(b'0', int_len - digits.len()));
        } else {
            s.extend_from_slice(&digits[..int_len]);
            s.push(b'.');
            s.extend_from_slice(&digits[int_len..]);
        }
    }
    if s.contains(&b'.') {
        while s.last() == Some(&b'0') {
            s.pop();
        }
        if s.last() == Some(&b'.') {
            s.pop();
        }
    }
    out.extend(s.iter().map(|&c| c as char));
}

/// Formats like INCRBYFLOAT's reply. Redis prints a long double with
/// "%.17Lf" and trims trailing zeros; long double's extra precision hides
/// binary noise (0.1+0.2 → "0.3"). With f64 we get the same visible result
/// by rounding to 15 significant digits (all an f64 reliably carries) and
/// printing that decimal exactly, never in exponent notation, with at
/// most 17 fractional digits as "%.17Lf" would.
pub fn format_float_human(v: f64) -> String {
    if v.is_nan() {
        return "nan".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if v == 0.0 {
        // "%.17Lf" of -0.0 is "-0.000…", trimmed to "-0"; Redis avoids
        // producing -0 from arithmetic, so print plain "0".
        return "0".to_string();
    }
    let (neg, digits, exp) = decimal_digits(v, 15);
    // Fractional digits this representation would need.
    let frac = digits.len() as i32 - 1 - exp;
    if frac > 17 {
        // Tiny magnitudes: "%.17Lf" rounds at the 17th decimal.
        let s = format!("{:.17}", v);
        let mut out = String::new();
        let (sign, body) = match s.strip_prefix('-') {
            Some(b) => (true, b),
            None => (false, s.as_str()),
        };
        let trimmed = body.trim_end_matches('0').trim_end_matches('.');
        if sign && trimmed != "0" {
            out.push('-');
        }
        out.push_str(trimmed);
        return out;
    }
    let mut out = String::with_capacity(32);
    if neg {
        out.push('-');
    }
    push_fixed(&mut out, &digits, exp);
    out
}

/// Writes the decimal form of `v` into the end of `buf`, returning the
/// start index. Used by the reply encoder to avoid `format!` per reply.
#[inline]
pub fn write_i64(v: i64, buf: &mut [u8; 20]) -> usize {
    let mut n = v.unsigned_abs();
    let mut pos = buf.len();
    loop {
        pos -= 1;
        buf[pos] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        pos -= 1;
        buf[pos] = b'-';
    }
    pos
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_i64_rules() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"1"), Some(1));
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"-9223372036854775809"), None);
        assert_eq!(parse_i64(b"18446744073709551616"), None);
        assert_eq!(parse_i64(b"99999999999999999999"), None);
        assert_eq!(parse_i64(b"-99999999999999999999"), None); // 21 chars
        for bad in [
            &b""[..],
            b"-",
            b"+1",
            b" 1",
            b"1 ",
            b"01",
            b"-0",
            b"00",
            b"1a",
            b"1.0",
            b"0x10",
            b"--1",
        ] {
            assert_eq!(parse_i64(bad), None, "{:?}", bad);
        }
    }

    #[test]
    fn parse_u64_rules() {
        assert_eq!(parse_u64(b"0"), Some(0));
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b"-1"), None);
        assert_eq!(parse_u64(b""), None);
    }

    #[test]
    fn parse_f64_rules() {
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b"-3"), Some(-3.0));
        assert_eq!(parse_f64(b"1e3"), Some(1000.0));
        assert_eq!(parse_f64(b".5"), Some(0.5));
        assert_eq!(parse_f64(b"inf"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b"+inf"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"-Infinity"), Some(f64::NEG_INFINITY));
        // Hex floats, as strtold reads them (Redis: INCRBYFLOAT k 0x10 → 16).
        assert_eq!(parse_f64(b"0x10"), Some(16.0));
        assert_eq!(parse_f64(b"0x1p3"), Some(8.0));
        assert_eq!(parse_f64(b"-0x1.8p1"), Some(-3.0));
        assert_eq!(parse_f64(b"0x.8"), Some(0.5));
        assert_eq!(parse_f64(b"0X1P-2"), Some(0.25));
        assert_eq!(parse_f64(b"1."), Some(1.0));
        assert_eq!(parse_f64(b"00.5"), Some(0.5));
        for bad in [
            &b""[..],
            b" 1",
            b"1 ",
            b"nan",
            b"NaN",
            b"1x",
            b"abc",
            b"1e",
            b"1e999",
            b"-1e999",
            b"\xff",
            b"0x",
            b"0x1p",
            b"0x1g",
            b"0x1p99999",
            b".",
            b"1_0",
        ] {
            assert_eq!(parse_f64(bad), None, "{:?}", bad);
        }
    }

    #[test]
    fn parse_f64_strict_rules() {
        assert_eq!(parse_f64_strict(b"1.5"), Some(1.5));
        assert_eq!(parse_f64_strict(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64_strict(b"0"), Some(0.0));
        assert_eq!(parse_f64_strict(b"-0.000e-999"), Some(0.0));
        assert_eq!(parse_f64_strict(b"0x0p-9999"), Some(0.0));
        assert_eq!(parse_f64_strict(b"1e-310"), Some(1e-310));
        for bad in [
            &b"1e-400"[..],
            b"-1e-400",
            b"0x1p-2000",
            b"1e999",
            b"nan",
            b" 1",
        ] {
            assert_eq!(parse_f64_strict(bad), None, "{:?}", bad);
        }
    }

    #[test]
    fn parse_f64_bound_rules() {
        assert_eq!(parse_f64_bound(b""), Some(0.0));
        assert_eq!(parse_f64_bound(b" 1"), Some(1.0));
        assert_eq!(parse_f64_bound(b"\t-2"), Some(-2.0));
        assert_eq!(parse_f64_bound(b"1\0junk"), Some(1.0));
        assert_eq!(parse_f64_bound(b"1e999"), Some(f64::INFINITY));
        assert_eq!(parse_f64_bound(b"1e-400"), Some(0.0));
        assert_eq!(parse_f64_bound(b"+inf"), Some(f64::INFINITY));
        assert_eq!(parse_f64_bound(b"0x10"), Some(16.0));
        assert_eq!(parse_f64_bound(b"1."), Some(1.0));
        for bad in [
            &b" "[..],
            b"1 ",
            b"x",
            b"nan",
            b"nan(1)",
            b"0x",
            b"1e",
            b"-",
            b".e1",
        ] {
            assert_eq!(parse_f64_bound(bad), None, "{:?}", bad);
        }
    }

    #[test]
    fn format_double_is_percent_17g() {
        assert_eq!(format_double(2.0), "2");
        assert_eq!(format_double(-2.0), "-2");
        assert_eq!(format_double(1.5), "1.5");
        assert_eq!(format_double(0.1), "0.10000000000000001");
        assert_eq!(format_double(0.0), "0");
        assert_eq!(format_double(f64::INFINITY), "inf");
        assert_eq!(format_double(f64::NEG_INFINITY), "-inf");
        assert_eq!(format_double(1e17), "1e+17");
        assert_eq!(format_double(1e16), "10000000000000000");
        assert_eq!(format_double(123456789.0), "123456789");
        assert_eq!(format_double(0.0001), "0.0001");
        assert_eq!(format_double(0.00001), "1.0000000000000001e-05");
        assert_eq!(format_double(1e-300), "1e-300");
        assert_eq!(format_double(3.25e100), "3.25e+100");
        // Reference values from C's printf("%.17g") on doubles.
        assert_eq!(format_double(5e-324), "4.9406564584124654e-324");
        assert_eq!(format_double(-1.5e-7), "-1.4999999999999999e-07");
        assert_eq!(format_double(1.0 / 3.0), "0.33333333333333331");
        assert_eq!(
            format_double(9223372036854775808.0),
            "9.2233720368547758e+18"
        );
        assert_eq!(format_double(123.456), "123.456");
        assert_eq!(format_double(f64::MAX), "1.7976931348623157e+308");
    }

    #[test]
    fn format_float_human_like_incrbyfloat() {
        assert_eq!(format_float_human(0.1 + 0.2), "0.3");
        assert_eq!(format_float_human(10.5), "10.5");
        assert_eq!(format_float_human(3.0), "3");
        assert_eq!(format_float_human(5e3), "5000");
        assert_eq!(format_float_human(-5e3), "-5000");
        assert_eq!(format_float_human(1e20), "100000000000000000000");
        assert_eq!(format_float_human(2.75), "2.75");
        assert_eq!(format_float_human(-0.5), "-0.5");
        assert_eq!(format_float_human(1e-5), "0.00001");
        assert_eq!(format_float_human(1e-20), "0");
        assert_eq!(format_float_human(0.0), "0");
        assert_eq!(format_float_human(10.6 + 0.1), "10.7");
    }

    #[test]
    fn write_i64_digits() {
        for v in [0i64, 1, -1, 42, i64::MAX, i64::MIN, 1000] {
            let mut b = [0u8; 20];
            let p = write_i64(v, &mut b);
            assert_eq!(&b[p..], v.to_string().as_bytes());
        }
    }
}
