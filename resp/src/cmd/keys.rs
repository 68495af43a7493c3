//! Keyspace commands: DEL, UNLINK, EXISTS, TYPE, EXPIRE, PEXPIRE, TTL,
//! PTTL, PERSIST.

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
        _ => {
            let key = it.next().unwrap_or_default();
            let when = it.next().unwrap_or_default();
            let opts: Vec<Bytes> = it.collect();
            parse_expire(name, key, &when, &opts)?
        }
    })
}

/// EXPIRE/PEXPIRE as Redis 7's expireGenericCommand: options are
/// validated before the time argument; the time may be <= 0.
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
    let ms = if name == "expire" {
        t.checked_mul(1000)
    } else {
        Some(t)
    };
    let ms =
        ms.ok_or_else(|| CmdError::Err(format!("ERR invalid expire time in '{name}' command")))?;
    Ok(Command::Expire {
        key,
        at: ExpireAt::RelMs(ms),
        cond,
    })
}
