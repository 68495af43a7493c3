//! SUBSCRIBE/PSUBSCRIBE/UNSUBSCRIBE/PUNSUBSCRIBE/PUBSUB on a connection.
//!
//! A subscribed connection has a queue in the node's [`Hub`](crate::pubsub::Hub); the
//! connection's loop waits on it beside the socket and writes each message as it comes
//! (`message`/`pmessage` arrays in RESP2, push frames in RESP3). In RESP2 a subscribed
//! connection may only (un)subscribe, PING, QUIT and RESET, as in Redis; in RESP3 it may run
//! anything.

use std::collections::BTreeSet;

use bytes::{Bytes, BytesMut};
use resp::{Command, Protocol, ReplyWriter};
use tokio::sync::mpsc;

use super::Conn;
use crate::pubsub::PubMsg;

/// A connection's subscriptions.
#[derive(Default)]
pub(crate) struct Subs {
    /// The hub's queue for this connection, while it has any subscription.
    pub(crate) rx: Option<mpsc::Receiver<PubMsg>>,
    channels: BTreeSet<Bytes>,
    patterns: BTreeSet<Bytes>,
}

impl Subs {
    fn count(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }
}

/// Writes one delivered message.
pub(crate) fn write_message(out: &mut BytesMut, proto: Protocol, m: &PubMsg) {
    let mut w = ReplyWriter::new(out, proto);
    match &m.pattern {
        Some(p) => {
            w.push(4);
            w.bulk(b"pmessage");
            w.bulk(p);
        }
        None => {
            w.push(3);
            w.bulk(b"message");
        }
    }
    w.bulk(&m.channel);
    w.bulk(&m.payload);
}

impl Conn {
    /// Whether the connection is in RESP2's subscribed mode.
    pub(crate) fn subscribed(&self) -> bool {
        self.subs.count() > 0
    }

    /// The RESP2 subscribed-mode refusal, if `cmd` is not allowed there.
    pub(crate) fn refused_while_subscribed(&self, cmd: &Command) -> Option<String> {
        if self.proto != Protocol::Resp2 || !self.subscribed() {
            return None;
        }
        match cmd {
            Command::Subscribe(_)
            | Command::PSubscribe(_)
            | Command::Unsubscribe(_)
            | Command::PUnsubscribe(_)
            | Command::Ping(_)
            | Command::Quit
            | Command::Reset => None,
            other => Some(format!(
                "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
                other.name()
            )),
        }
    }

    /// SUBSCRIBE, PSUBSCRIBE, UNSUBSCRIBE, PUNSUBSCRIBE, PUBSUB, and PING in RESP2's
    /// subscribed mode. Returns the command back if it is none of these.
    pub(crate) fn pubsub_command(&mut self, cmd: Command) -> Option<Command> {
        let hub = self.node.inner.hub.clone();
        match cmd {
            Command::Subscribe(names) => self.subscribe(names, false),
            Command::PSubscribe(names) => self.subscribe(names, true),
            Command::Unsubscribe(names) => self.unsubscribe(names, false),
            Command::PUnsubscribe(names) => self.unsubscribe(names, true),
            Command::Ping(msg) if self.proto == Protocol::Resp2 && self.subscribed() => self
                .push_local(|w| {
                    w.array(2);
                    w.bulk(b"pong");
                    w.bulk(msg.as_deref().unwrap_or(b""));
                }),
            Command::PubSubChannels(pattern) => {
                let chans = hub.channels(pattern.as_deref());
                self.push_local(|w| {
                    w.array(chans.len());
                    for c in &chans {
                        w.bulk(c);
                    }
                });
            }
            Command::PubSubNumSub(names) => self.push_local(|w| {
                w.array(names.len() * 2);
                for n in &names {
                    w.bulk(n);
                    w.int(hub.numsub(n) as i64);
                }
            }),
            Command::PubSubNumPat => self.push_local(|w| w.int(hub.numpat() as i64)),
            Command::PubSubHelp => self.push_local(|w| {
                super::admin::help(
                    w,
                    "PUBSUB",
                    &[
                        "CHANNELS [<pattern>]",
                        "    Return the currently active channels matching a <pattern> (default: '*').",
                        "NUMPAT",
                        "    Return number of subscriptions to patterns.",
                        "NUMSUB [<channel> ...]",
                        "    Return the number of subscribers for the specified channels, excluding",
                        "    pattern subscriptions(default: no channels).",
                        "HELP",
                        "    Prints this help.",
                    ],
                )
            }),
            other => return Some(other),
        }
        None
    }

    /// The `[kind, name, subscription count]` confirmation of one (un)subscribe.
    fn confirm(&mut self, kind: &[u8], name: Option<&[u8]>) {
        let count = self.subs.count() as i64;
        self.push_local(|w| {
            w.push(3);
            w.bulk(kind);
            match name {
                Some(n) => w.bulk(n),
                None => w.null(),
            }
            w.int(count);
        });
    }

    fn subscribe(&mut self, names: Vec<Bytes>, pattern: bool) {
        let hub = self.node.inner.hub.clone();
        if self.subs.rx.is_none() {
            self.subs.rx = Some(hub.register(self.id));
        }
        let kind: &[u8] = if pattern { b"psubscribe" } else { b"subscribe" };
        for name in names {
            let set = if pattern {
                &mut self.subs.patterns
            } else {
                &mut self.subs.channels
            };
            if set.insert(name.clone()) {
                hub.subscribe(self.id, &name, pattern);
            }
            self.confirm(kind, Some(&name));
        }
    }

    fn unsubscribe(&mut self, names: Vec<Bytes>, pattern: bool) {
        let hub = self.node.inner.hub.clone();
        let kind: &[u8] = if pattern {
            b"punsubscribe"
        } else {
            b"unsubscribe"
        };
        let set = if pattern {
            &self.subs.patterns
        } else {
            &self.subs.channels
        };
        let names: Vec<Bytes> = if names.is_empty() {
            set.iter().cloned().collect()
        } else {
            names
        };
        if names.is_empty() {
            self.confirm(kind, None);
        }
        for name in names {
            let set = if pattern {
                &mut self.subs.patterns
            } else {
                &mut self.subs.channels
            };
            if set.remove(&name) {
                hub.unsubscribe(self.id, &name, pattern);
            }
            self.confirm(kind, Some(&name));
        }
        if self.subs.count() == 0 {
            self.leave_pubsub();
        }
    }

    /// Drops every subscription and the connection's queue (RESET, disconnect).
    pub(crate) fn leave_pubsub(&mut self) {
        if self.subs.rx.take().is_some() {
            self.node
                .inner
                .hub
                .unregister(self.id, &self.subs.channels, &self.subs.patterns);
        }
        self.subs.channels.clear();
        self.subs.patterns.clear();
    }
}
