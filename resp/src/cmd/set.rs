//! Set commands: SADD, SREM, SMEMBERS, SISMEMBER, SMISMEMBER, SCARD,
//! SPOP, SRANDMEMBER, SINTER, SUNION, SDIFF, SINTERSTORE, SUNIONSTORE,
//! SDIFFSTORE, SMOVE, SSCAN, SINTERCARD.

use bytes::Bytes;

use super::{int_arg, is_kw, key_scan_opts, positive_count, server, CmdError, Command, SetOp};
use crate::num;

/// `args` is arity-checked by the caller against the command table.
pub(super) fn parse(name: &'static str, args: Vec<Bytes>) -> Result<Command, CmdError> {
    let argc = args.len();
    let mut it = args.into_iter();
    it.next(); // command name
    match name {
        "sinter" | "sunion" | "sdiff" => {
            return Ok(Command::SCombine {
                op: set_op(name),
                keys: it.collect(),
                dest: None,
            })
        }
        "sinterstore" | "sunionstore" | "sdiffstore" => {
            let dest = it.next().unwrap_or_default();
            return Ok(Command::SCombine {
                op: set_op(name),
                keys: it.collect(),
                dest: Some(dest),
            });
        }
        "sintercard" => return parse_sintercard(it.collect()),
        _ => {}
    }
    let key = it.next().unwrap_or_default();
    Ok(match name {
        "sadd" => Command::SAdd {
            key,
            members: it.collect(),
        },
        "srem" => Command::SRem {
            key,
            members: it.collect(),
        },
        "smembers" => Command::SMembers(key),
        "sismember" => Command::SIsMember {
            key,
            member: it.next().unwrap_or_default(),
        },
        "smismember" => Command::SMIsMember {
            key,
            members: it.collect(),
        },
        "spop" => {
            // Redis checks the argument count itself (arity is -2).
            if argc > 3 {
                return Err(CmdError::syntax());
            }
            let count = it.next().map(|c| positive_count(&c)).transpose()?;
            Command::SPop { key, count }
        }
        "srandmember" => {
            if argc > 3 {
                return Err(CmdError::syntax());
            }
            let count = it.next().map(|c| rand_count(&c)).transpose()?;
            Command::SRandMember { key, count }
        }
        "smove" => Command::SMove {
            src: key,
            dst: it.next().unwrap_or_default(),
            member: it.next().unwrap_or_default(),
        },
        "sscan" => {
            let cursor = server::parse_cursor(&it.next().unwrap_or_default())
                .ok_or_else(|| CmdError::new("ERR invalid cursor"))?;
            let rest: Vec<Bytes> = it.collect();
            Command::SScan {
                key,
                cursor,
                opts: key_scan_opts(&rest),
            }
        }
        _ => Command::SCard(key),
    })
}

fn set_op(name: &str) -> SetOp {
    match name.as_bytes().get(1) {
        Some(b'i') => SetOp::Inter,
        Some(b'u') => SetOp::Union,
        _ => SetOp::Diff,
    }
}

/// SRANDMEMBER's count: any integer but i64::MIN, whose magnitude does
/// not fit (Redis's range is ±LONG_MAX).
fn rand_count(b: &[u8]) -> Result<i64, CmdError> {
    match int_arg(b)? {
        i64::MIN => Err(CmdError::new(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        )),
        n => Ok(n),
    }
}

/// SINTERCARD numkeys key … [LIMIT limit], as Redis's
/// `sinterCardCommand`: numkeys (one text for every failure), its fit
/// in the arguments, then LIMIT (repeats allowed, last wins).
fn parse_sintercard(rest: Vec<Bytes>) -> Result<Command, CmdError> {
    let numkeys = match rest.first().and_then(|b| num::parse_i64(b)) {
        Some(n) if n >= 1 => n,
        _ => return Err(CmdError::new("ERR numkeys should be greater than 0")),
    };
    let n = match usize::try_from(numkeys) {
        Ok(n) if n < rest.len() => n,
        _ => {
            return Err(CmdError::new(
                "ERR Number of keys can't be greater than number of args",
            ))
        }
    };
    let keys = rest[1..=n].to_vec();
    let mut limit = 0;
    let mut opts = rest[n + 1..].iter();
    while let Some(o) = opts.next() {
        match opts.next() {
            Some(v) if is_kw(o, "limit") => {
                limit = match num::parse_i64(v) {
                    Some(l) if l >= 0 => usize::try_from(l).unwrap_or(usize::MAX),
                    _ => return Err(CmdError::new("ERR LIMIT can't be negative")),
                };
            }
            _ => return Err(CmdError::syntax()),
        }
    }
    Ok(Command::SInterCard { keys, limit })
}
