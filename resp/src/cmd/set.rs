//! Set commands: SADD, SREM, SMEMBERS, SISMEMBER, SCARD.

use bytes::Bytes;

use super::{CmdError, Command};

/// `args` is arity-checked by the caller against the command table.
pub(super) fn parse(name: &'static str, args: Vec<Bytes>) -> Result<Command, CmdError> {
    let mut it = args.into_iter().skip(1);
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
        _ => Command::SCard(key),
    })
}
