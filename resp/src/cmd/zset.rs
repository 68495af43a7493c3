//! Sorted-set commands: ZADD, ZINCRBY, ZREM, ZSCORE, ZMSCORE, ZCARD,
//! ZCOUNT, ZLEXCOUNT, the ZRANGE family (ZRANGE, ZRANGESTORE,
//! ZRANGEBYSCORE, ZREVRANGE, ZREVRANGEBYSCORE, ZRANGEBYLEX,
//! ZREVRANGEBYLEX), ZRANK, ZREVRANK, ZPOPMIN, ZPOPMAX, ZREMRANGEBYSCORE,
//! ZREMRANGEBYRANK, ZREMRANGEBYLEX, ZSCAN, ZRANDMEMBER, ZUNIONSTORE,
//! ZINTERSTORE, ZDIFFSTORE.

use bytes::Bytes;

use super::{
    hash, int_arg, is_kw, key_scan_opts, positive_count, server, Aggregate, CmdError, Command,
    LexBound, ScoreBound, ScoreCmp, SetCond, SetOp, ZRangeBy,
};
use crate::num;

/// `args` is arity-checked by the caller against the command table.
pub(super) fn parse(name: &'static str, args: Vec<Bytes>) -> Result<Command, CmdError> {
    let argc = args.len();
    match name {
        "zadd" => return parse_zadd(args),
        "zrangestore" | "zrange" | "zrangebyscore" | "zrevrangebyscore" | "zrevrange"
        | "zrangebylex" | "zrevrangebylex" => return parse_zrange(name, args),
        "zunionstore" | "zinterstore" | "zdiffstore" => return parse_zstore(name, args),
        _ => {}
    }
    let mut it = args.into_iter();
    it.next(); // command name
    let key = it.next().unwrap_or_default();
    let mut next = || it.next().unwrap_or_default();
    Ok(match name {
        "zincrby" => {
            let by = next();
            // ZINCRBY is ZADD's code with INCR forced: a ZADD option word
            // in the score position is taken as an option, which leaves an
            // odd number of arguments.
            if ["nx", "xx", "gt", "lt", "ch", "incr"]
                .iter()
                .any(|o| is_kw(&by, o))
            {
                return Err(CmdError::syntax());
            }
            let by = score_arg(&by)?;
            Command::ZIncrBy {
                key,
                by,
                member: next(),
            }
        }
        "zrem" => Command::ZRem {
            key,
            members: it.collect(),
        },
        "zscore" => Command::ZScore {
            key,
            member: next(),
        },
        "zmscore" => Command::ZMScore {
            key,
            members: it.collect(),
        },
        "zcard" => Command::ZCard(key),
        "zcount" => {
            let (min, max) = score_range(&next(), &next())?;
            Command::ZCount { key, min, max }
        }
        "zlexcount" => {
            let (min, max) = lex_range(&next(), &next())?;
            Command::ZLexCount { key, min, max }
        }
        "zrank" | "zrevrank" => Command::ZRank {
            key,
            member: next(),
            rev: name == "zrevrank",
        },
        "zpopmin" | "zpopmax" => {
            // Redis checks the argument count itself (arity is -2).
            if argc > 3 {
                return Err(CmdError::syntax());
            }
            let count = it.next().map(|c| positive_count(&c)).transpose()?;
            Command::ZPop {
                key,
                max: name == "zpopmax",
                count,
            }
        }
        "zremrangebyrank" => {
            let start = int_arg(&next())?;
            let stop = int_arg(&next())?;
            Command::ZRemRange {
                key,
                by: ZRangeBy::Rank { start, stop },
            }
        }
        "zremrangebyscore" => {
            let (min, max) = score_range(&next(), &next())?;
            Command::ZRemRange {
                key,
                by: ZRangeBy::Score { min, max },
            }
        }
        "zremrangebylex" => {
            let (min, max) = lex_range(&next(), &next())?;
            Command::ZRemRange {
                key,
                by: ZRangeBy::Lex { min, max },
            }
        }
        "zscan" => {
            let cursor =
                server::parse_cursor(&next()).ok_or_else(|| CmdError::new("ERR invalid cursor"))?;
            let rest: Vec<Bytes> = it.collect();
            Command::ZScan {
                key,
                cursor,
                opts: key_scan_opts(&rest),
            }
        }
        _ => {
            let (count, withscores) = hash::parse_rand_count(it.collect(), "withscores")?;
            Command::ZRandMember {
                key,
                count,
                withscores,
            }
        }
    })
}

/// A score as ZADD/ZINCRBY read it (strtod over the whole argument).
fn score_arg(b: &[u8]) -> Result<f64, CmdError> {
    num::parse_f64_strict(b).ok_or_else(|| CmdError::new("ERR value is not a valid float"))
}

impl ScoreBound {
    /// Parses "1.5", "(1.5", "-inf", "+inf" like Redis's `zslParseRange`
    /// (see [`num::parse_f64_bound`] for its lenient number rules).
    pub fn parse(b: &[u8]) -> Option<ScoreBound> {
        let (exclusive, rest) = match b.first() {
            Some(b'(') => (true, &b[1..]),
            _ => (false, b),
        };
        let value = num::parse_f64_bound(rest)?;
        Some(ScoreBound { value, exclusive })
    }
}

impl LexBound {
    /// Parses "-", "+", "[a", "(a" like Redis's `zslParseLexRangeItem`,
    /// which reads C strings: "+" or "-" followed by a NUL still counts.
    pub fn parse(b: &Bytes) -> Option<LexBound> {
        let alone = b.len() == 1 || b.get(1) == Some(&0);
        match b.first()? {
            b'+' if alone => Some(LexBound::Max),
            b'-' if alone => Some(LexBound::Min),
            b'(' => Some(LexBound::Excl(b.slice(1..))),
            b'[' => Some(LexBound::Incl(b.slice(1..))),
            _ => None,
        }
    }
}

fn score_range(min: &[u8], max: &[u8]) -> Result<(ScoreBound, ScoreBound), CmdError> {
    match (ScoreBound::parse(min), ScoreBound::parse(max)) {
        (Some(min), Some(max)) => Ok((min, max)),
        _ => Err(CmdError::new("ERR min or max is not a float")),
    }
}

fn lex_range(min: &Bytes, max: &Bytes) -> Result<(LexBound, LexBound), CmdError> {
    match (LexBound::parse(min), LexBound::parse(max)) {
        (Some(min), Some(max)) => Ok((min, max)),
        _ => Err(CmdError::new("ERR min or max not valid string range item")),
    }
}

/// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member …],
/// with Redis's order of checks: options (any order, until the first
/// non-option), pair count, NX+XX, GT/LT/NX, INCR with one pair, then
/// every score before anything is applied.
fn parse_zadd(args: Vec<Bytes>) -> Result<Command, CmdError> {
    let key = args.get(1).cloned().unwrap_or_default();
    let (mut nx, mut xx, mut gt, mut lt, mut ch, mut incr) =
        (false, false, false, false, false, false);
    let mut i = 2;
    while let Some(o) = args.get(i) {
        let flag = if is_kw(o, "nx") {
            &mut nx
        } else if is_kw(o, "xx") {
            &mut xx
        } else if is_kw(o, "gt") {
            &mut gt
        } else if is_kw(o, "lt") {
            &mut lt
        } else if is_kw(o, "ch") {
            &mut ch
        } else if is_kw(o, "incr") {
            &mut incr
        } else {
            break;
        };
        *flag = true;
        i += 1;
    }
    let rest = args.get(i..).unwrap_or_default();
    if rest.is_empty() || rest.len() & 1 != 0 {
        return Err(CmdError::syntax());
    }
    if nx && xx {
        return Err(CmdError::new(
            "ERR XX and NX options at the same time are not compatible",
        ));
    }
    if (nx && (gt || lt)) || (gt && lt) {
        return Err(CmdError::new(
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if incr && rest.len() > 2 {
        return Err(CmdError::new(
            "ERR INCR option supports a single increment-element pair",
        ));
    }
    let mut members = Vec::with_capacity(rest.len() / 2);
    for pair in rest.chunks_exact(2) {
        members.push((score_arg(&pair[0])?, pair[1].clone()));
    }
    Ok(Command::ZAdd {
        key,
        cond: if nx {
            Some(SetCond::Nx)
        } else if xx {
            Some(SetCond::Xx)
        } else {
            None
        },
        cmp: if gt {
            Some(ScoreCmp::Gt)
        } else if lt {
            Some(ScoreCmp::Lt)
        } else {
            None
        },
        ch,
        incr,
        members,
    })
}

/// What kind of range a ZRANGE-family command reads, before options.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Auto,
    Rank,
    Score,
    Lex,
}

/// The whole ZRANGE family, as Redis's `zrangeGenericCommand`: options
/// first (the legacy commands fix the kind and direction, so BYSCORE /
/// BYLEX / REV are syntax errors there), then LIMIT and WITHSCORES
/// conflicts, then the range itself (given max-first when reversed by
/// score or lex).
fn parse_zrange(name: &'static str, args: Vec<Bytes>) -> Result<Command, CmdError> {
    let store = name == "zrangestore";
    let (mut kind, mut rev): (Kind, Option<bool>) = match name {
        "zrangebyscore" => (Kind::Score, Some(false)),
        "zrevrangebyscore" => (Kind::Score, Some(true)),
        "zrevrange" => (Kind::Rank, Some(true)),
        "zrangebylex" => (Kind::Lex, Some(false)),
        "zrevrangebylex" => (Kind::Lex, Some(true)),
        _ => (Kind::Auto, None),
    };
    let first = if store { 2 } else { 1 };
    let (Some(key), Some(a), Some(b)) = (args.get(first), args.get(first + 1), args.get(first + 2))
    else {
        return Err(CmdError::arity(name));
    };
    let mut withscores = false;
    let mut limit: Option<(i64, i64)> = None;
    let opts = args.get(first + 3..).unwrap_or_default();
    let mut i = 0;
    while let Some(o) = opts.get(i) {
        if !store && is_kw(o, "withscores") {
            withscores = true;
        } else if is_kw(o, "limit") && i + 2 < opts.len() {
            limit = Some((int_arg(&opts[i + 1])?, int_arg(&opts[i + 2])?));
            i += 2;
        } else if rev.is_none() && is_kw(o, "rev") {
            rev = Some(true);
        } else if kind == Kind::Auto && is_kw(o, "bylex") {
            kind = Kind::Lex;
        } else if kind == Kind::Auto && is_kw(o, "byscore") {
            kind = Kind::Score;
        } else {
            return Err(CmdError::syntax());
        }
        i += 1;
    }
    let rev = rev.unwrap_or(false);
    // Redis's "no LIMIT" is a count of -1, so "LIMIT x -1" passes this
    // check for rank ranges, where the offset is then ignored.
    if kind == Kind::Auto || kind == Kind::Rank {
        if limit.is_some_and(|(_, count)| count != -1) {
            return Err(CmdError::new(
                "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
            ));
        }
        limit = None;
    }
    if withscores && kind == Kind::Lex {
        return Err(CmdError::new(
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    let (lo, hi) = if rev && kind != Kind::Auto && kind != Kind::Rank {
        (b, a)
    } else {
        (a, b)
    };
    let by = match kind {
        Kind::Auto | Kind::Rank => ZRangeBy::Rank {
            start: int_arg(lo)?,
            stop: int_arg(hi)?,
        },
        Kind::Score => {
            let (min, max) = score_range(lo, hi)?;
            ZRangeBy::Score { min, max }
        }
        Kind::Lex => {
            let (min, max) = lex_range(lo, hi)?;
            ZRangeBy::Lex { min, max }
        }
    };
    Ok(Command::ZRange {
        name,
        key: key.clone(),
        by,
        rev,
        limit,
        withscores,
        store: store.then(|| args[1].clone()),
    })
}

/// ZUNIONSTORE / ZINTERSTORE / ZDIFFSTORE dest numkeys key … [WEIGHTS w …]
/// [AGGREGATE SUM|MIN|MAX] (ZDIFFSTORE takes no options), as Redis's
/// `zunionInterDiffGenericCommand`.
///
/// Redis looks up the source keys between the numkeys and the option
/// checks, so with a bad option *and* a source key of the wrong type it
/// answers WRONGTYPE where we answer the option error.
fn parse_zstore(name: &'static str, args: Vec<Bytes>) -> Result<Command, CmdError> {
    let dest = args.get(1).cloned().unwrap_or_default();
    let numkeys = int_arg(args.get(2).map(|b| &b[..]).unwrap_or_default())?;
    if numkeys < 1 {
        return Err(CmdError::Err(format!(
            "ERR at least 1 input key is needed for '{name}' command"
        )));
    }
    let after = args.len().saturating_sub(3);
    let n = match usize::try_from(numkeys) {
        Ok(n) if n <= after => n,
        _ => return Err(CmdError::syntax()),
    };
    let keys: Vec<Bytes> = args[3..3 + n].to_vec();
    let op = match name {
        "zunionstore" => SetOp::Union,
        "zinterstore" => SetOp::Inter,
        _ => SetOp::Diff,
    };
    let mut weights = vec![1.0; n];
    let mut aggregate = Aggregate::Sum;
    let opts = &args[3 + n..];
    let mut i = 0;
    while let Some(o) = opts.get(i) {
        let remaining = opts.len() - i;
        if op != SetOp::Diff && remaining > n && is_kw(o, "weights") {
            for (w, arg) in weights.iter_mut().zip(&opts[i + 1..=i + n]) {
                *w = num::parse_f64_strict(arg)
                    .ok_or_else(|| CmdError::new("ERR weight value is not a float"))?;
            }
            i += 1 + n;
        } else if op != SetOp::Diff && remaining >= 2 && is_kw(o, "aggregate") {
            let a = &opts[i + 1];
            aggregate = if is_kw(a, "sum") {
                Aggregate::Sum
            } else if is_kw(a, "min") {
                Aggregate::Min
            } else if is_kw(a, "max") {
                Aggregate::Max
            } else {
                return Err(CmdError::syntax());
            };
            i += 2;
        } else {
            return Err(CmdError::syntax());
        }
    }
    Ok(Command::ZStore {
        op,
        dest,
        keys,
        weights,
        aggregate,
    })
}
