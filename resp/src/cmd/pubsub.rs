//! Pub/Sub commands: SUBSCRIBE, PSUBSCRIBE, UNSUBSCRIBE, PUNSUBSCRIBE,
//! PUBLISH, PUBSUB CHANNELS / NUMSUB / NUMPAT / HELP.

use bytes::Bytes;

use super::{subcommand_syntax, CmdError, Command};

/// `args` is arity-checked by the caller against the command table.
pub(super) fn parse(name: &'static str, args: Vec<Bytes>) -> Result<Command, CmdError> {
    // PUBSUB CHANNELS is arity -2 in the table; Redis then accepts at
    // most one pattern, failing with its generic subcommand text.
    if name == "pubsub|channels" && args.len() > 3 {
        return Err(subcommand_syntax(&args));
    }
    let mut it = args.into_iter();
    it.next(); // command name
    if name.contains('|') {
        it.next(); // subcommand name
    }
    Ok(match name {
        "subscribe" => Command::Subscribe(it.collect()),
        "psubscribe" => Command::PSubscribe(it.collect()),
        "unsubscribe" => Command::Unsubscribe(it.collect()),
        "punsubscribe" => Command::PUnsubscribe(it.collect()),
        "publish" => Command::Publish {
            channel: it.next().unwrap_or_default(),
            message: it.next().unwrap_or_default(),
        },
        "pubsub|channels" => Command::PubSubChannels(it.next()),
        "pubsub|numsub" => Command::PubSubNumSub(it.collect()),
        "pubsub|numpat" => Command::PubSubNumPat,
        _ => Command::PubSubHelp,
    })
}
