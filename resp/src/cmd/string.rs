//! String commands: GET, SET, MGET, MSET, MSETNX, SETNX, GETSET, GETDEL,
//! GETEX, APPEND, STRLEN, INCR/DECR/INCRBY/DECRBY, INCRBYFLOAT, SETEX,
//! PSETEX, GETRANGE, SETRANGE, SETBIT, GETBIT, BITCOUNT.

use bytes::Bytes;

use super::{int_arg, is_kw, BitRange, CmdError, Command, GetExTtl, SetCond, SetExpiry};
use crate::num;

/// `args` is arity-checked by the caller against the command table.
pub(super) fn parse(name: &'static str, args: Vec<Bytes>) -> Result<Command, CmdError> {
    let mut it = args.into_iter();
    it.next(); // command name
    let mut next = || it.next().unwrap_or_default();
    Ok(match name {
        "get" => Command::Get(next()),
        "getdel" => Command::GetDel(next()),
        "strlen" => Command::Strlen(next()),
        "setnx" => Command::SetNx {
            key: next(),
            value: next(),
        },
        "getset" => Command::GetSet {
            key: next(),
            value: next(),
        },
        "append" => Command::Append {
            key: next(),
            value: next(),
        },
        "incr" => Command::IncrBy { key: next(), by: 1 },
        "decr" => Command::IncrBy {
            key: next(),
            by: -1,
        },
        "incrby" => {
            let key = next();
            let by = int_arg(&next())?;
            Command::IncrBy { key, by }
        }
        "decrby" => {
            let key = next();
            let by = int_arg(&next())?;
            // Negating i64::MIN overflows; Redis rejects it up front.
            let by = by
                .checked_neg()
                .ok_or_else(|| CmdError::new("ERR decrement would overflow"))?;
            Command::IncrBy { key, by }
        }
        "incrbyfloat" => {
            let key = next();
            let by = num::parse_f64(&next())
                .ok_or_else(|| CmdError::new("ERR value is not a valid float"))?;
            // Redis accepts "inf" here but then always fails with this text,
            // since any value plus ±inf is ±inf or NaN; failing early gives
            // the same reply and guarantees a finite increment.
            if !by.is_finite() {
                return Err(CmdError::new("ERR increment would produce NaN or Infinity"));
            }
            Command::IncrByFloat { key, by }
        }
        "setex" | "psetex" => {
            let key = next();
            let t = int_arg(&next())?;
            let ms = expire_ms(t, name == "setex", name)?;
            Command::SetEx {
                key,
                value: next(),
                ms,
            }
        }
        "mget" => Command::MGet(it.collect()),
        "mset" | "msetnx" => {
            let rest: Vec<Bytes> = it.collect();
            if rest.len() & 1 != 0 {
                return Err(CmdError::arity(name));
            }
            let mut pairs = Vec::with_capacity(rest.len() / 2);
            let mut r = rest.into_iter();
            while let (Some(k), Some(v)) = (r.next(), r.next()) {
                pairs.push((k, v));
            }
            if name == "mset" {
                Command::MSet(pairs)
            } else {
                Command::MSetNx(pairs)
            }
        }
        "getrange" => {
            let key = next();
            let start = int_arg(&next())?;
            let end = int_arg(&next())?;
            Command::GetRange { key, start, end }
        }
        "setrange" => {
            let key = next();
            let offset = int_arg(&next())?;
            // Only the sign is checked before the key is read; the
            // resulting length (offset + value length, at most
            // proto-max-bulk-len: "ERR string exceeds maximum allowed size
            // (proto-max-bulk-len)") is checked at execution, after the
            // type check, and not at all for an empty value.
            let offset =
                u64::try_from(offset).map_err(|_| CmdError::new("ERR offset is out of range"))?;
            Command::SetRange {
                key,
                offset,
                value: next(),
            }
        }
        "setbit" => {
            let key = next();
            let offset = bit_offset(&next())?;
            let bit = match num::parse_i64(&next()) {
                Some(0) => false,
                Some(1) => true,
                _ => return Err(CmdError::new("ERR bit is not an integer or out of range")),
            };
            Command::SetBit { key, offset, bit }
        }
        "getbit" => {
            let key = next();
            let offset = bit_offset(&next())?;
            Command::GetBit { key, offset }
        }
        "bitcount" => {
            let key = next();
            let rest: Vec<Bytes> = it.collect();
            Command::BitCount {
                key,
                range: bitcount_range(&rest),
            }
        }
        "getex" => {
            let key = next();
            let ttl = parse_getex(it.collect())?;
            Command::GetEx { key, ttl }
        }
        _ => {
            let key = next();
            let value = next();
            parse_set(key, value, it.collect())?
        }
    })
}

/// Converts a SET/SETEX expire argument to milliseconds with Redis's
/// checks (`getExpireMillisecondsOrReply`): must be > 0 and must not
/// overflow when scaled from seconds.
fn expire_ms(t: i64, seconds: bool, cmd: &str) -> Result<i64, CmdError> {
    let ms = if seconds {
        t.checked_mul(1000)
    } else {
        Some(t)
    };
    match ms {
        Some(ms) if t > 0 => Ok(ms),
        _ => Err(CmdError::Err(format!(
            "ERR invalid expire time in '{cmd}' command"
        ))),
    }
}

/// A SETBIT/GETBIT offset: 0 ≤ offset < 2^32, i.e. inside a string of
/// Redis's default proto-max-bulk-len (512 MB). Redis derives the limit
/// from that setting; an executor configured with a smaller one must
/// re-check with the same text.
fn bit_offset(b: &[u8]) -> Result<u64, CmdError> {
    match num::parse_i64(b) {
        Some(o) if (0..1 << 32).contains(&o) => Ok(o as u64),
        _ => Err(CmdError::new(
            "ERR bit offset is not an integer or out of range",
        )),
    }
}

/// BITCOUNT's `[start end [BYTE|BIT]]`. Redis parses these only after
/// finding a string under the key (a missing key counts 0 whatever the
/// arguments), so the result is carried for the executor.
fn bitcount_range(rest: &[Bytes]) -> Result<Option<BitRange>, CmdError> {
    match rest {
        [] => Ok(None),
        [start, end, unit @ ..] if unit.len() <= 1 => {
            let start = int_arg(start)?;
            let end = int_arg(end)?;
            let bit = match unit.first() {
                None => false,
                Some(u) if is_kw(u, "byte") => false,
                Some(u) if is_kw(u, "bit") => true,
                Some(_) => return Err(CmdError::syntax()),
            };
            Ok(Some(BitRange { start, end, bit }))
        }
        _ => Err(CmdError::syntax()),
    }
}

/// GETEX options, as Redis's `parseExtendedStringArgumentsOrReply` for
/// GET: EX/PX/EXAT/PXAT/PERSIST, one kind only (repeating it is fine,
/// the last value wins). Option syntax fails at parse time, but Redis
/// validates the time value only once the key holds a string, so that
/// result is carried for the executor.
fn parse_getex(opts: Vec<Bytes>) -> Result<Result<GetExTtl, CmdError>, CmdError> {
    let mut persist = false;
    let mut expiry: Option<(Unit, Bytes)> = None;
    let mut i = 0;
    while i < opts.len() {
        let o = &opts[i];
        let unit = if is_kw(o, "ex") {
            Some(Unit::Ex)
        } else if is_kw(o, "px") {
            Some(Unit::Px)
        } else if is_kw(o, "exat") {
            Some(Unit::ExAt)
        } else if is_kw(o, "pxat") {
            Some(Unit::PxAt)
        } else {
            None
        };
        if is_kw(o, "persist") && expiry.is_none() {
            persist = true;
        } else if let Some(u) = unit {
            let compatible = !persist && expiry.as_ref().is_none_or(|(prev, _)| *prev == u);
            match opts.get(i + 1) {
                Some(arg) if compatible => expiry = Some((u, arg.clone())),
                _ => return Err(CmdError::syntax()),
            }
            i += 1;
        } else {
            return Err(CmdError::syntax());
        }
        i += 1;
    }
    Ok(match expiry {
        None if persist => Ok(GetExTtl::Persist),
        None => Ok(GetExTtl::Keep),
        Some((u, arg)) => int_arg(&arg).and_then(|t| {
            let ms = expire_ms(t, matches!(u, Unit::Ex | Unit::ExAt), "getex")?;
            Ok(GetExTtl::Set(match u {
                Unit::Ex | Unit::Px => SetExpiry::RelMs(ms),
                Unit::ExAt | Unit::PxAt => SetExpiry::AtMs(ms),
            }))
        }),
    })
}

#[derive(Clone, Copy, PartialEq)]
enum Unit {
    Ex,
    Px,
    ExAt,
    PxAt,
}

/// SET options, as Redis's `parseExtendedStringArgumentsOrReply`:
/// any order; a repeated option is allowed (the last value wins) but
/// conflicting ones (NX+XX, two different expiry kinds, KEEPTTL with an
/// expiry) are a syntax error.
fn parse_set(key: Bytes, value: Bytes, opts: Vec<Bytes>) -> Result<Command, CmdError> {
    let mut cond: Option<SetCond> = None;
    let mut get = false;
    let mut keepttl = false;
    let mut expiry: Option<(Unit, Bytes)> = None;
    let mut i = 0;
    while i < opts.len() {
        let o = &opts[i];
        let has_next = i + 1 < opts.len();
        let unit = if is_kw(o, "ex") {
            Some(Unit::Ex)
        } else if is_kw(o, "px") {
            Some(Unit::Px)
        } else if is_kw(o, "exat") {
            Some(Unit::ExAt)
        } else if is_kw(o, "pxat") {
            Some(Unit::PxAt)
        } else {
            None
        };
        if is_kw(o, "nx") && cond != Some(SetCond::Xx) {
            cond = Some(SetCond::Nx);
        } else if is_kw(o, "xx") && cond != Some(SetCond::Nx) {
            cond = Some(SetCond::Xx);
        } else if is_kw(o, "get") {
            get = true;
        } else if is_kw(o, "keepttl") && expiry.is_none() {
            keepttl = true;
        } else if let Some(u) = unit {
            let compatible = !keepttl && expiry.as_ref().is_none_or(|(prev, _)| *prev == u);
            if !compatible || !has_next {
                return Err(CmdError::syntax());
            }
            expiry = Some((u, opts[i + 1].clone()));
            i += 1;
        } else {
            return Err(CmdError::syntax());
        }
        i += 1;
    }
    let expiry = match expiry {
        None => None,
        Some((u, arg)) => {
            let t = super::int_arg(&arg)?;
            let seconds = matches!(u, Unit::Ex | Unit::ExAt);
            let ms = expire_ms(t, seconds, "set")?;
            Some(match u {
                Unit::Ex | Unit::Px => SetExpiry::RelMs(ms),
                Unit::ExAt | Unit::PxAt => SetExpiry::AtMs(ms),
            })
        }
    };
    Ok(Command::Set {
        key,
        value,
        expiry,
        cond,
        get,
        keepttl,
    })
}
