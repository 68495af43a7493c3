//! Meridian's admin commands for the replication layer (CRDT.*).
//!
//! They take no arguments; the table's arity (1) is already enforced, so
//! parsing is only a name → variant mapping.

use bytes::Bytes;

use super::{CmdError, Command};

pub(super) fn parse(name: &'static str, _args: Vec<Bytes>) -> Result<Command, CmdError> {
    Ok(match name {
        "crdt.links" => Command::CrdtLinks,
        "crdt.pause" => Command::CrdtPause,
        "crdt.resume" => Command::CrdtResume,
        _ => Command::CrdtDigest,
    })
}
