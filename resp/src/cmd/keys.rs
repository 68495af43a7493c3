//! Keyspace commands: DEL, UNLINK, EXISTS, TOUCH, TYPE, EXPIRE, PEXPIRE,
//! EXPIREAT, PEXPIREAT, TTL, PTTL, EXPIRETIME, PEXPIRETIME, PERSIST,
//! RENAME, RENAMENX, COPY, RANDOMKEY, OBJECT subcommands.

use bytes::Bytes;

use super::{int_arg, is_kw, CmdError, Command, ExpireAt, ExpireCond};

/// `args` is arity-checked by the caller against the command table.
pub(super) fn parse(name: &'static str, args: Vec<Bytes>) -> Result<Command, CmdError> {
    let mut it = args.into_iter();
    it.next(); // command name
    Ok(match name {
        "del" => Command::Del(it.collect()),
        "unlink" => Command::Unlink(it.collect()),
        "exists" => Command::Exists(it.collect()),
        "type" => Command::Type(it.next().unwrap_or_default()),
        "ttl" | "pttl" => Command::Ttl {
            key: it.next().unwrap_or_default(),
            ms: name == "pttl",
        },
        "persist" => Command::Persist(it.next().unwrap_or_default()),
        "touch" => Command::Touch(it.collect()),
        "expiretime" | "pexpiretime" => Command::ExpireTime {
            key: it.next().unwrap_or_default(),
            ms: name == "pexpiretime",
        },
        "rename" | "renamenx" => Command::Rename {
            src: it.next().unwrap_or_default(),
            dst: it.next().unwrap_or_default(),
            nx: name == "renamenx",
        },
        "copy" => {
            let src = it.next().unwrap_or_default();
            let dst = it.next().unwrap_or_default();
            parse_copy(src, dst, it.collect())?
        }
        "randomkey" => Command::RandomKey,
        "object|help" => Command::ObjectHelp,
        "object|encoding" | "object|freq" | "object|idletime" | "object|refcount" => {
            it.next(); // subcommand name
            let key = it.next().unwrap_or_default();
            match name {
                "object|encoding" => Command::ObjectEncoding(key),
                "object|freq" => Command::ObjectFreq(key),
                "object|idletime" => Command::ObjectIdleTime(key),
                _ => Command::ObjectRefCount(key),
            }
        }
        _ => {
            let key = it.next().unwrap_or_default();
            let when = it.next().unwrap_or_default();
            let opts: Vec<Bytes> = it.collect();
            parse_expire(name, key, &when, &opts)?
        }
    })
}

/// EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT as Redis 7's expireGenericCommand:
/// options are validated before the time argument; the time may be <= 0
/// (or in the past), which deletes the key. Seconds must not overflow
/// when scaled; a relative time that overflows once the clock is added
/// is the executor's to refuse ("invalid expire time in '{name}' …").
fn parse_expire(
    name: &'static str,
    key: Bytes,
    when: &[u8],
    opts: &[Bytes],
) -> Result<Command, CmdError> {
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for o in opts {
        if is_kw(o, "nx") {
            nx = true;
        } else if is_kw(o, "xx") {
            xx = true;
        } else if is_kw(o, "gt") {
            gt = true;
        } else if is_kw(o, "lt") {
            lt = true;
        } else {
            return Err(CmdError::Err(format!(
                "ERR Unsupported option {}",
                super::error_text(o)
            )));
        }
    }
    if nx && (xx || gt || lt) {
        return Err(CmdError::new(
            "ERR NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if gt && lt {
        return Err(CmdError::new(
            "ERR GT and LT options at the same time are not compatible",
        ));
    }
    // XX+GT is exactly GT (a key without TTL counts as infinite, so GT
    // never applies to it). XX+LT cannot be expressed with one condition;
    // it maps to LT, which additionally sets a TTL on persistent keys.
    let cond = if nx {
        Some(ExpireCond::Nx)
    } else if gt {
        Some(ExpireCond::Gt)
    } else if lt {
        Some(ExpireCond::Lt)
    } else if xx {
        Some(ExpireCond::Xx)
    } else {
        None
    };
    let t = int_arg(when)?;
    let ms = if name == "expire" || name == "expireat" {
        t.checked_mul(1000)
    } else {
        Some(t)
    };
    let ms =
        ms.ok_or_else(|| CmdError::Err(format!("ERR invalid expire time in '{name}' command")))?;
    let at = if name.ends_with("at") {
        ExpireAt::AtMs(ms)
    } else {
        ExpireAt::RelMs(ms)
    };
    Ok(Command::Expire {
        name,
        key,
        at,
        cond,
    })
}

/// COPY source destination [DB destination-db] [REPLACE], as Redis's
/// `copyCommand`: options left to right (repeats allowed), then the
/// same-key check, which applies when copying within the database.
///
/// Any DB number is kept for the executor to refuse ("ERR DB index is
/// out of range"); Redis checks it as soon as it reads it, so with a bad
/// DB *and* a later syntax error Redis reports the DB and we the syntax.
fn parse_copy(src: Bytes, dst: Bytes, opts: Vec<Bytes>) -> Result<Command, CmdError> {
    let mut db = None;
    let mut replace = false;
    let mut i = 0;
    while let Some(o) = opts.get(i) {
        if is_kw(o, "replace") {
            replace = true;
        } else if let (true, Some(n)) = (is_kw(o, "db"), opts.get(i + 1)) {
            let n = int_arg(n)?;
            db = Some(i32::try_from(n).map_err(|_| {
                CmdError::new(
                    "ERR value is out of range, value must between -2147483648 and 2147483647",
                )
            })?);
            i += 1;
        } else {
            return Err(CmdError::syntax());
        }
        i += 1;
    }
    if db.is_none_or(|d| d == 0) && src == dst {
        return Err(CmdError::new(
            "ERR source and destination objects are the same",
        ));
    }
    Ok(Command::Copy {
        src,
        dst,
        db,
        replace,
    })
}
