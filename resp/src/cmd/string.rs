//! String commands: GET, SET, MGET, MSET, SETNX, GETSET, GETDEL, APPEND,
//! STRLEN, INCR/DECR/INCRBY/DECRBY, INCRBYFLOAT, SETEX, PSETEX.

use bytes::Bytes;

use super::{int_arg, is_kw, CmdError, Command, SetCond, SetExpiry};
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
        "mset" => {
            let rest: Vec<Bytes> = it.collect();
            if rest.len() & 1 != 0 {
                return Err(CmdError::arity("mset"));
            }
            let mut pairs = Vec::with_capacity(rest.len() / 2);
            let mut r = rest.into_iter();
            while let (Some(k), Some(v)) = (r.next(), r.next()) {
                pairs.push((k, v));
            }
            Command::MSet(pairs)
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
