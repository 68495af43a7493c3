//! Hash commands: HSET, HMSET, HSETNX, HGET, HMGET, HGETALL, HDEL,
//! HEXISTS, HLEN, HKEYS, HVALS, HSTRLEN, HINCRBY, HINCRBYFLOAT, HSCAN,
//! HRANDFIELD.

use bytes::Bytes;

use super::{int_arg, is_kw, key_scan_opts, server, CmdError, Command};
use crate::num;

/// `args` is arity-checked by the caller against the command table.
pub(super) fn parse(name: &'static str, args: Vec<Bytes>) -> Result<Command, CmdError> {
    let argc = args.len();
    let mut it = args.into_iter();
    it.next(); // command name
    let key = it.next().unwrap_or_default();
    let mut next = || it.next().unwrap_or_default();
    Ok(match name {
        "hset" | "hmset" => {
            // Field/value pairs only; Redis reports an odd count as an
            // arity error of the command actually typed.
            if argc & 1 != 0 {
                return Err(CmdError::arity(name));
            }
            let mut pairs = Vec::with_capacity((argc - 2) / 2);
            while let (Some(f), Some(v)) = (it.next(), it.next()) {
                pairs.push((f, v));
            }
            Command::HSet {
                key,
                pairs,
                hmset: name == "hmset",
            }
        }
        "hsetnx" => Command::HSetNx {
            key,
            field: next(),
            value: next(),
        },
        "hget" => Command::HGet { key, field: next() },
        "hmget" => Command::HMGet {
            key,
            fields: it.collect(),
        },
        "hdel" => Command::HDel {
            key,
            fields: it.collect(),
        },
        "hexists" => Command::HExists { key, field: next() },
        "hstrlen" => Command::HStrlen { key, field: next() },
        "hgetall" => Command::HGetAll(key),
        "hlen" => Command::HLen(key),
        "hkeys" => Command::HKeys(key),
        "hvals" => Command::HVals(key),
        "hincrby" => {
            let field = next();
            let by = int_arg(&next())?;
            Command::HIncrBy { key, field, by }
        }
        "hincrbyfloat" => {
            let field = next();
            let by = num::parse_f64(&next())
                .ok_or_else(|| CmdError::new("ERR value is not a valid float"))?;
            // Unlike INCRBYFLOAT, HINCRBYFLOAT refuses an infinite
            // increment up front, with its own text.
            if !by.is_finite() {
                return Err(CmdError::new("ERR value is NaN or Infinity"));
            }
            Command::HIncrByFloat { key, field, by }
        }
        "hscan" => {
            let cursor =
                server::parse_cursor(&next()).ok_or_else(|| CmdError::new("ERR invalid cursor"))?;
            let rest: Vec<Bytes> = it.collect();
            Command::HScan {
                key,
                cursor,
                opts: key_scan_opts(&rest),
            }
        }
        _ => {
            let (count, withvalues) = parse_rand_count(it.collect(), "withvalues")?;
            Command::HRandField {
                key,
                count,
                withvalues,
            }
        }
    })
}

/// HRANDFIELD / ZRANDMEMBER `[count [WITHVALUES|WITHSCORES]]`, in Redis's
/// order: the count (range ±LONG_MAX) first, then the keyword, then the
/// tighter ±LONG_MAX/2 range that keeps the doubled reply length from
/// overflowing when values are included.
pub(super) fn parse_rand_count(
    rest: Vec<Bytes>,
    with: &str,
) -> Result<(Option<i64>, bool), CmdError> {
    let Some(count) = rest.first() else {
        return Ok((None, false));
    };
    let count = int_arg(count)?;
    if count == i64::MIN {
        return Err(CmdError::new(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        ));
    }
    let with_values = match &rest[1..] {
        [] => false,
        [w] if is_kw(w, with) => true,
        _ => return Err(CmdError::syntax()),
    };
    if with_values && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(CmdError::new("ERR value is out of range"));
    }
    Ok((Some(count), with_values))
}
