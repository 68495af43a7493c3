//! Glob-style matching, a faithful port of Redis's `stringmatchlen`.
//!
//! The port keeps Redis's quirks on purpose (reversed ranges, a trailing
//! `\`, an unclosed `[`) because KEYS/SCAN MATCH results must be identical
//! to what clients see from Redis. Like Redis 7 it bounds recursion depth
//! and prunes hopeless backtracking so abusive patterns cannot blow the
//! stack or take exponential time.

/// Maximum `*` nesting depth, same as Redis 7 (deeper → no match).
const MAX_NESTING: u32 = 1000;

/// Returns whether `s` matches the glob `pattern` (`nocase` folds ASCII case).
pub fn glob_match(pattern: &[u8], s: &[u8], nocase: bool) -> bool {
    let mut skip_longer = false;
    match_impl(pattern, s, nocase, &mut skip_longer, 0)
}

/// Byte at `i`, or 0 past the end: Redis reads the sds NUL terminator
/// there, and the algorithm relies on that.
#[inline]
fn at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

#[inline]
fn fold(c: u8, nocase: bool) -> u8 {
    if nocase {
        c.to_ascii_lowercase()
    } else {
        c
    }
}

fn match_impl(pat: &[u8], s: &[u8], nocase: bool, skip_longer: &mut bool, nesting: u32) -> bool {
    if nesting > MAX_NESTING {
        return false;
    }
    // `p`/`i` index the remaining pattern/string; lengths are derived.
    let mut p = 0usize;
    let mut i = 0usize;
    while p < pat.len() && i < s.len() {
        match pat[p] {
            b'*' => {
                while p < pat.len() && at(pat, p + 1) == b'*' {
                    p += 1;
                }
                if pat.len() - p == 1 {
                    return true;
                }
                while i < s.len() {
                    if match_impl(&pat[p + 1..], &s[i..], nocase, skip_longer, nesting + 1) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                    i += 1;
                }
                // The rest of the pattern matches nowhere in the rest of
                // the string, so no earlier '*' can help either.
                *skip_longer = true;
                return false;
            }
            b'?' => {
                i += 1;
            }
            b'[' => {
                p += 1;
                let not = at(pat, p) == b'^';
                if not {
                    p += 1;
                }
                let c = s[i];
                let mut matched = false;
                loop {
                    let remaining = pat.len().saturating_sub(p);
                    if at(pat, p) == b'\\' && remaining >= 2 {
                        p += 1;
                        if pat[p] == c {
                            matched = true;
                        }
                    } else if at(pat, p) == b']' && remaining >= 1 {
                        break;
                    } else if remaining == 0 {
                        // Unclosed class: step back so the increment after
                        // the match lands exactly on the pattern end.
                        p -= 1;
                        break;
                    } else if remaining >= 3 && pat[p + 1] == b'-' {
                        let (mut start, mut end) = (pat[p], pat[p + 2]);
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        let (start, end, cc) =
                            (fold(start, nocase), fold(end, nocase), fold(c, nocase));
                        p += 2;
                        if cc >= start && cc <= end {
                            matched = true;
                        }
                    } else if fold(pat[p], nocase) == fold(c, nocase) {
                        matched = true;
                    }
                    p += 1;
                }
                if not {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                i += 1;
            }
            b => {
                let mut b = b;
                if b == b'\\' && pat.len() - p >= 2 {
                    p += 1;
                    b = pat[p];
                }
                if fold(b, nocase) != fold(s[i], nocase) {
                    return false;
                }
                i += 1;
            }
        }
        p += 1;
        if i == s.len() {
            while at(pat, p) == b'*' {
                p += 1;
            }
            break;
        }
    }
    p >= pat.len() && i == s.len()
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    fn m(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), false)
    }

    #[test]
    fn basics() {
        // Redis quirk: "*" does not match the empty string in
        // stringmatchlen (KEYS/SCAN special-case a lone "*" instead).
        assert!(!m("*", ""));
        assert!(m("*", "anything"));
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(!m("a", ""));
        assert!(m("h?llo", "hello"));
        assert!(!m("h?llo", "hllo"));
        assert!(m("h*llo", "hllo"));
        assert!(m("h*llo", "heeeello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(!m("h[a-b]llo", "hcllo"));
        assert!(m("h[b-a]llo", "hallo"), "reversed range");
        assert!(m("h\\*llo", "h*llo"));
        assert!(!m("h\\*llo", "hello"));
        assert!(m("[\\]]", "]"));
        assert!(m("user:*", "user:1"));
        assert!(!m("user:*", "use"));
        assert!(m("a*", "a"));
        assert!(m("a**", "a"));
        assert!(m("*a*b", "xxaxxb"));
        assert!(!m("*a*b", "xxaxxbc"));
    }

    #[test]
    fn quirks() {
        // Unclosed class: everything up to the end is the class.
        assert!(m("[abc", "a"));
        assert!(!m("[abc", "d"));
        // Trailing backslash matches itself.
        assert!(m("a\\", "a\\"));
        // '[' range where the class is "a-" at pattern end.
        assert!(m("[a-", "a"));
        assert!(m("[a-", "-"));
    }

    #[test]
    fn nocase() {
        assert!(glob_match(b"HeLLo", b"hello", true));
        assert!(glob_match(b"h[A-Z]llo", b"hello", true));
        assert!(!glob_match(b"HeLLo", b"hello", false));
    }

    #[test]
    fn abusive_patterns_are_fast_and_safe() {
        let pat = "*a".repeat(5000) + "b";
        let s = "a".repeat(10000);
        assert!(!m(&pat, &s));
        let pat = "a*".repeat(20) + "b";
        let s = "a".repeat(60);
        assert!(!m(&pat, &s));
        // Deeper than the nesting bound: no match (and no overflow).
        let pat = "*a".repeat(2000);
        let s = "a".repeat(2000);
        assert!(!m(&pat, &s));
        let pat = "*a".repeat(10);
        assert!(m(&pat, &s));
    }
}
