//! Transaction commands: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//!
//! Only WATCH takes arguments; the table's arity covers the rest. The
//! transaction state machine (nesting, EXECABORT after a rejected queued
//! command) belongs to the executor.

use bytes::Bytes;

use super::{CmdError, Command};

/// `args` is arity-checked by the caller against the command table.
pub(super) fn parse(name: &'static str, args: Vec<Bytes>) -> Result<Command, CmdError> {
    Ok(match name {
        "multi" => Command::Multi,
        "exec" => Command::Exec,
        "discard" => Command::Discard,
        "watch" => Command::Watch(args.into_iter().skip(1).collect()),
        _ => Command::Unwatch,
    })
}
