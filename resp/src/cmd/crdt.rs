//! Meridian's admin commands for the replication layer (CRDT.*).
//!
//! All but `CRDT.GROUP` take no arguments; the table's arity is already enforced, so
//! parsing is a name → variant mapping (`CRDT.GROUP` keeps its arguments for the node).

use bytes::Bytes;

use super::{CmdError, Command};

pub(super) fn parse(name: &'static str, args: Vec<Bytes>) -> Result<Command, CmdError> {
    Ok(match name {
        "crdt.group" => Command::CrdtGroup(args.into_iter().skip(1).collect()),
        "crdt.links" => Command::CrdtLinks,
        "crdt.pause" => Command::CrdtPause,
        "crdt.resume" => Command::CrdtResume,
        _ => Command::CrdtDigest,
    })
}
