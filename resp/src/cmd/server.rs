//! Server commands: COMMAND and CONFIG subcommands, INFO, DBSIZE,
//! FLUSHALL, FLUSHDB, TIME, KEYS, SCAN.

use bytes::Bytes;

use super::{is_kw, CmdError, Command};
use crate::num;

/// `args` is arity-checked by the caller against the command table.
pub(super) fn parse(name: &'static str, args: Vec<Bytes>) -> Result<Command, CmdError> {
    let argc = args.len();
    let mut it = args.into_iter();
    it.next(); // command name
    if name.contains('|') {
        it.next(); // subcommand name
    }
    Ok(match name {
        "command" => Command::Command,
        "command|count" => Command::CommandCount,
        "command|docs" => Command::CommandDocs(it.collect()),
        "command|info" => Command::CommandInfo(it.collect()),
        "command|list" => {
            // FILTERBY is not supported; Redis answers a malformed filter
            // with a syntax error, and so do we for any filter.
            if argc != 2 {
                return Err(CmdError::syntax());
            }
            Command::CommandList
        }
        "command|help" => Command::CommandHelp,
        "config|get" => Command::ConfigGet(it.collect()),
        "config|set" => {
            // Redis: pairs only, otherwise an arity error.
            if argc & 1 != 0 {
                return Err(CmdError::arity("config|set"));
            }
            let mut pairs = Vec::with_capacity((argc - 2) / 2);
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                pairs.push((k, v));
            }
            Command::ConfigSet(pairs)
        }
        "config|resetstat" => Command::ConfigResetStat,
        "config|help" => Command::ConfigHelp,
        "info" => Command::Info(it.collect()),
        "dbsize" => Command::Dbsize,
        "flushall" | "flushdb" => {
            // [ASYNC|SYNC] is accepted and ignored: flushing is local and
            // immediate here. Anything else is a syntax error, as in Redis.
            let rest: Vec<Bytes> = it.collect();
            let ok = match rest.as_slice() {
                [] => true,
                [m] => is_kw(m, "async") || is_kw(m, "sync"),
                _ => false,
            };
            if !ok {
                return Err(CmdError::syntax());
            }
            if name == "flushall" {
                Command::FlushAll
            } else {
                Command::FlushDb
            }
        }
        "time" => Command::Time,
        "keys" => Command::Keys(it.next().unwrap_or_default()),
        _ => {
            let cursor = it.next().unwrap_or_default();
            parse_scan(&cursor, it.collect())?
        }
    })
}

/// SCAN's cursor as Redis parses it (`strtoul` over the whole argument):
/// optional sign, digits, overflow rejected; a negative value wraps like
/// C's strtoul, and an empty string is cursor 0.
pub(super) fn parse_cursor(b: &[u8]) -> Option<u64> {
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    if b.is_empty() {
        return Some(0);
    }
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]: the cursor is
/// checked first, then options left to right (repeats: last wins).
fn parse_scan(cursor: &[u8], opts: Vec<Bytes>) -> Result<Command, CmdError> {
    let cursor = parse_cursor(cursor).ok_or_else(|| CmdError::new("ERR invalid cursor"))?;
    let mut pattern = None;
    let mut count = 10usize;
    let mut kind = None;
    let mut i = 0;
    while i < opts.len() {
        let more = i + 1 < opts.len();
        let o = &opts[i];
        if is_kw(o, "count") && more {
            let n = num::parse_i64(&opts[i + 1]).ok_or_else(CmdError::not_int)?;
            if n < 1 {
                return Err(CmdError::syntax());
            }
            count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if is_kw(o, "match") && more {
            pattern = Some(opts[i + 1].clone());
        } else if is_kw(o, "type") && more {
            kind = Some(opts[i + 1].clone());
        } else {
            return Err(CmdError::syntax());
        }
        i += 2;
    }
    Ok(Command::Scan {
        cursor,
        pattern,
        count,
        kind,
    })
}
