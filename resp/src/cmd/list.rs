//! List commands: LPUSH, RPUSH, LPUSHX, RPUSHX, LPOP, RPOP, LRANGE, LLEN,
//! LINDEX, LSET, LINSERT, LREM, LTRIM, LPOS, LMOVE, RPOPLPUSH, BLPOP,
//! BRPOP, BLMOVE, BRPOPLPUSH.

use bytes::Bytes;

use super::{int_arg, is_kw, positive_count, CmdError, Command, ListEnd};
use crate::num;

/// `args` is arity-checked by the caller against the command table.
pub(super) fn parse(name: &'static str, args: Vec<Bytes>) -> Result<Command, CmdError> {
    let argc = args.len();
    match name {
        "blpop" | "brpop" => return parse_bpop(name, args),
        "lpos" => return parse_lpos(args),
        _ => {}
    }
    let mut it = args.into_iter();
    it.next(); // command name
    let key = it.next().unwrap_or_default();
    let mut next = || it.next().unwrap_or_default();
    Ok(match name {
        "lpush" | "rpush" | "lpushx" | "rpushx" => Command::ListPush {
            key,
            values: it.collect(),
            left: name.starts_with('l'),
            xx: name.ends_with('x'),
        },
        "lpop" | "rpop" => {
            // Redis checks the argument count itself (arity is -2), and
            // reports it as an arity error, unlike SPOP/ZPOPMIN.
            if argc > 3 {
                return Err(CmdError::arity(name));
            }
            let count = it.next().map(|c| positive_count(&c)).transpose()?;
            Command::ListPop {
                key,
                left: name == "lpop",
                count,
            }
        }
        "lrange" | "ltrim" => {
            let start = int_arg(&next())?;
            let stop = int_arg(&next())?;
            if name == "lrange" {
                Command::LRange { key, start, stop }
            } else {
                Command::LTrim { key, start, stop }
            }
        }
        "llen" => Command::LLen(key),
        // Redis reads LINDEX's and LSET's index only after finding a list
        // under the key, so a bad index is carried for the executor.
        "lindex" => Command::LIndex {
            key,
            index: int_arg(&next()),
        },
        "lset" => {
            let index = int_arg(&next());
            Command::LSet {
                key,
                index,
                value: next(),
            }
        }
        "linsert" => {
            let at = next();
            let before = if is_kw(&at, "before") {
                true
            } else if is_kw(&at, "after") {
                false
            } else {
                return Err(CmdError::syntax());
            };
            Command::LInsert {
                key,
                before,
                pivot: next(),
                value: next(),
            }
        }
        "lrem" => {
            let count = int_arg(&next())?;
            Command::LRem {
                key,
                count,
                value: next(),
            }
        }
        "rpoplpush" | "brpoplpush" => {
            let dst = next();
            let timeout_ms = match name {
                "brpoplpush" => Some(timeout_ms(&next())?),
                _ => None,
            };
            lmove(name, key, dst, ListEnd::Right, ListEnd::Left, timeout_ms)
        }
        _ => {
            // LMOVE / BLMOVE: both ends are checked before the timeout.
            let dst = next();
            let from = list_end(&next())?;
            let to = list_end(&next())?;
            let timeout_ms = match name {
                "blmove" => Some(timeout_ms(&next())?),
                _ => None,
            };
            lmove(name, key, dst, from, to, timeout_ms)
        }
    })
}

/// LMOVE-like commands; `timeout_ms` is `Some` for the blocking forms.
fn lmove(
    name: &'static str,
    src: Bytes,
    dst: Bytes,
    from: ListEnd,
    to: ListEnd,
    timeout_ms: Option<Option<u64>>,
) -> Command {
    match timeout_ms {
        None => Command::LMove {
            name,
            src,
            dst,
            from,
            to,
        },
        Some(timeout_ms) => Command::BLMove {
            name,
            src,
            dst,
            from,
            to,
            timeout_ms,
        },
    }
}

fn list_end(b: &[u8]) -> Result<ListEnd, CmdError> {
    if is_kw(b, "left") {
        Ok(ListEnd::Left)
    } else if is_kw(b, "right") {
        Ok(ListEnd::Right)
    } else {
        Err(CmdError::syntax())
    }
}

/// A blocking command's timeout in seconds, as Redis 7.0's
/// `getTimeoutFromObjectOrReply`: a long double, times 1000, rounded up,
/// converted to a 64-bit integer. `None` (from 0, or from a small
/// negative value that rounds up to 0) blocks forever.
///
/// Infinities and values past i64 milliseconds hit C's out-of-range
/// conversion, which yields i64::MIN on the platforms Redis runs on, so
/// Redis calls them negative. A literal beyond f64 ("1e999") is finite
/// for a long double and ends the same way. The executor adds the clock
/// to a huge timeout and must saturate.
pub(super) fn timeout_ms(b: &[u8]) -> Result<Option<u64>, CmdError> {
    let negative = || CmdError::new("ERR timeout is negative");
    // Plain decimals are converted exactly, as a long double holds
    // every 19-digit millisecond count that f64 would round.
    if let Some(ms) = decimal_ms_ceil(b) {
        return match ms {
            Some(0) => Ok(None),
            Some(ms) => Ok(Some(ms)),
            None => Err(negative()),
        };
    }
    let secs = match num::parse_f64(b) {
        Some(s) => s,
        // Only finite literals that overflow f64 are left to accept.
        None if overflows_f64(b) => return Err(negative()),
        None => return Err(CmdError::new("ERR timeout is not a float or out of range")),
    };
    let ms = (secs * 1000.0).ceil();
    // Negative, or at/past 2^63 (`i64::MAX as f64` is exactly 2^63)
    // including infinity: all end as "negative". -0.0 counts as 0.
    if !(0.0..i64::MAX as f64).contains(&ms) {
        return Err(negative());
    }
    // In range, non-negative and integral: the conversion is exact.
    Ok(Some(ms as u64).filter(|&ms| ms > 0))
}

/// `[+-]digits[.digits]` seconds as milliseconds rounded up: `None` if
/// `b` is not such a literal, `Some(None)` if the result is negative or
/// past i64.
fn decimal_ms_ceil(b: &[u8]) -> Option<Option<u64>> {
    let (neg, body) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    let (int, frac) = match body.iter().position(|&c| c == b'.') {
        Some(dot) => (&body[..dot], &body[dot + 1..]),
        None => (body, &b""[..]),
    };
    let digits = |d: &[u8]| d.iter().all(u8::is_ascii_digit);
    if int.len() + frac.len() == 0 || !digits(int) || !digits(frac) {
        return None;
    }
    // Whole milliseconds, and whether a fraction of one is left over.
    let mut ms: u128 = 0;
    for &c in int.iter().chain(frac.iter().chain(b"000").take(3)) {
        ms = ms.saturating_mul(10).saturating_add(u128::from(c - b'0'));
    }
    let rest = frac.iter().skip(3).any(|&c| c != b'0');
    Some(if neg {
        // Rounding up a negative amount goes towards zero.
        (ms == 0).then_some(0)
    } else {
        u64::try_from(ms + u128::from(rest))
            .ok()
            .filter(|&ms| ms <= i64::MAX as u64)
    })
}

/// Whether `b` is a plain decimal literal that only fails [`num::parse_f64`]
/// because it overflows f64.
fn overflows_f64(b: &[u8]) -> bool {
    let Ok(s) = std::str::from_utf8(b) else {
        return false;
    };
    let t = s.trim_start_matches(['+', '-']);
    let spelled_inf = t.eq_ignore_ascii_case("inf") || t.eq_ignore_ascii_case("infinity");
    !spelled_inf && s.parse::<f64>().is_ok_and(f64::is_infinite)
}

/// BLPOP / BRPOP key [key …] timeout.
fn parse_bpop(name: &'static str, mut args: Vec<Bytes>) -> Result<Command, CmdError> {
    let timeout = args.pop().unwrap_or_default();
    let timeout_ms = timeout_ms(&timeout)?;
    Ok(Command::BPop {
        keys: args.into_iter().skip(1).collect(),
        left: name == "blpop",
        timeout_ms,
    })
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len], as
/// Redis's `lposCommand`: options left to right, each value checked as
/// it is read (repeats allowed, last wins).
fn parse_lpos(args: Vec<Bytes>) -> Result<Command, CmdError> {
    let mut it = args.into_iter().skip(1);
    let key = it.next().unwrap_or_default();
    let element = it.next().unwrap_or_default();
    let mut rank = 1;
    let mut count = None;
    let mut maxlen = 0;
    while let Some(o) = it.next() {
        let non_negative = |v: &[u8], what: &str| match num::parse_i64(v) {
            Some(n) if n >= 0 => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
            _ => Err(CmdError::Err(format!("ERR {what} can't be negative"))),
        };
        match it.next() {
            Some(v) if is_kw(&o, "rank") => {
                rank = int_arg(&v)?;
                if rank == 0 {
                    return Err(CmdError::new(
                        "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
                    ));
                }
            }
            Some(v) if is_kw(&o, "count") => count = Some(non_negative(&v, "COUNT")?),
            Some(v) if is_kw(&o, "maxlen") => maxlen = non_negative(&v, "MAXLEN")?,
            _ => return Err(CmdError::syntax()),
        }
    }
    Ok(Command::LPos {
        key,
        element,
        rank,
        count,
        maxlen,
    })
}
