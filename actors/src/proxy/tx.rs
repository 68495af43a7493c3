//! MULTI/EXEC/DISCARD/WATCH/UNWATCH on a connection.
//!
//! The connection queues a transaction's commands; EXEC sends every keyed one to their
//! shard in one [`TxExec`] message, which the shard runs in one go (nothing else runs on it
//! in between) after checking the connection's WATCHed keys. A transaction's keys and its
//! watched keys must share one hash slot (as in Redis Cluster): a command queued with a key
//! elsewhere gets CROSSSLOT and makes EXEC fail with EXECABORT, like any queue-time error.
//! Commands without keys (PING, INFO, PUBLISH, ...) are answered at EXEC in their place in
//! the reply, right after the shard ran the keyed part.

use bytes::BytesMut;
use resp::{Command, ReplyWriter};

use super::{one_slot, Conn, CROSSSLOT};
use crate::shard::{TxExec, Unwatch, Watch};

/// A transaction being queued (between MULTI and EXEC).
#[derive(Default)]
pub(crate) struct Tx {
    cmds: Vec<Command>,
    /// The slot of its keys, once one was queued.
    slot: Option<u16>,
    /// A queued command was refused: EXEC answers EXECABORT.
    pub(crate) dirty: bool,
}

/// How one queued command is answered at EXEC.
enum Step {
    /// The next reply of the shard's batch, after an array header of that length (MGET).
    Shard(Option<usize>),
    /// Run by the connection.
    Other(Command),
}

/// The slot a keyed command runs on, `Some(None)` if its keys span slots, `None` if it has
/// no keys.
fn slot_of(cmd: &Command) -> Option<Option<u16>> {
    if let Some(k) = cmd.key() {
        return Some(Some(resp::key_slot(k)));
    }
    let keys = cmd.keys();
    if keys.is_empty() || matches!(cmd, Command::Watch(_)) {
        return None;
    }
    Some(one_slot(keys.into_iter().map(|k| &k[..])))
}

impl Conn {
    /// MULTI, EXEC, DISCARD, WATCH, UNWATCH outside a transaction.
    pub(crate) async fn tx_command(&mut self, cmd: Command, out: &mut BytesMut) {
        match cmd {
            Command::Multi => {
                self.tx = Some(Tx::default());
                self.push_local(|w| w.ok());
            }
            Command::Exec => self.push_error("ERR EXEC without MULTI"),
            Command::Discard => self.push_error("ERR DISCARD without MULTI"),
            Command::Unwatch => {
                self.unwatch();
                self.push_local(|w| w.ok());
            }
            Command::Watch(keys) => {
                let Some(slot) = one_slot(keys.iter().map(|k| &k[..])) else {
                    return self.push_error(CROSSSLOT);
                };
                if self.watch_slot.is_some_and(|s| s != slot) {
                    return self.push_error(CROSSSLOT);
                }
                // Earlier commands of the pipeline run first: a write this connection made
                // before WATCH does not count as a change.
                self.flush(out).await;
                let shard = self.shard_of(slot) as usize;
                let msg = Watch {
                    conn: self.id,
                    keys: keys.into_iter().map(|k| (slot, k)).collect(),
                };
                let mut w = ReplyWriter::new(out, self.proto);
                match self.node.inner.shards[shard].send(msg).await {
                    Ok(()) => {
                        self.watch_slot = Some(slot);
                        w.ok();
                    }
                    Err(_) => w.error("ERR shard unavailable"),
                }
            }
            _ => {}
        }
    }

    /// A command arriving while a transaction is open: queued (`+QUEUED`), or run now (EXEC,
    /// DISCARD, QUIT, RESET), or refused.
    pub(crate) async fn queue(&mut self, cmd: Command, out: &mut BytesMut) {
        match cmd {
            Command::Multi => self.push_error("ERR MULTI calls can not be nested"),
            Command::Watch(_) => self.push_error("ERR WATCH inside MULTI is not allowed"),
            Command::Discard => {
                self.tx = None;
                self.unwatch();
                self.push_local(|w| w.ok());
            }
            Command::Exec => self.exec(out).await,
            cmd @ (Command::Quit | Command::Reset) => {
                self.tx = None;
                Box::pin(self.plan(cmd, out)).await;
            }
            cmd => {
                let watch = self.watch_slot;
                let Some(tx) = self.tx.as_mut() else {
                    return;
                };
                let fits = match slot_of(&cmd) {
                    None => true,
                    Some(slot) => {
                        let fits = slot.filter(|s| {
                            tx.slot.is_none_or(|t| t == *s) && watch.is_none_or(|t| t == *s)
                        });
                        tx.slot = tx.slot.or(fits);
                        fits.is_some()
                    }
                };
                if fits {
                    tx.cmds.push(cmd);
                    self.push_local(|w| w.simple("QUEUED"));
                } else {
                    tx.dirty = true;
                    self.push_error(CROSSSLOT);
                }
            }
        }
    }

    /// EXEC: runs the queued commands, or answers EXECABORT (a queue-time error) or a null
    /// array (a watched key changed).
    async fn exec(&mut self, out: &mut BytesMut) {
        self.flush(out).await;
        let Some(tx) = self.tx.take() else {
            return;
        };
        let watch = self.watch_slot;
        if tx.dirty {
            self.unwatch();
            ReplyWriter::new(out, self.proto)
                .error("EXECABORT Transaction discarded because of previous errors.");
            return;
        }
        self.watch_slot = None;
        let mut steps = Vec::with_capacity(tx.cmds.len());
        let mut batch = Vec::new();
        for cmd in tx.cmds {
            match (slot_of(&cmd), tx.slot) {
                (Some(_), Some(slot)) => {
                    let header = match &cmd {
                        Command::MGet(keys) => Some(keys.len()),
                        _ => None,
                    };
                    let cmd = match cmd {
                        Command::Touch(keys) => Command::Exists(keys),
                        c => c,
                    };
                    batch.push((slot, cmd));
                    steps.push(Step::Shard(header));
                }
                _ => steps.push(Step::Other(cmd)),
            }
        }
        let reply = match tx.slot.or(watch) {
            Some(slot) => {
                let shard = self.shard_of(slot) as usize;
                let msg = TxExec {
                    conn: self.id,
                    proto: self.proto,
                    cmds: batch,
                };
                match self.node.inner.shards[shard].send(msg).await {
                    Ok(Some(r)) => Some(r),
                    Ok(None) => {
                        ReplyWriter::new(out, self.proto).null_array();
                        return;
                    }
                    Err(_) => {
                        ReplyWriter::new(out, self.proto).error("ERR shard unavailable");
                        return;
                    }
                }
            }
            None => None,
        };
        ReplyWriter::new(out, self.proto).array(steps.len());
        let mut k = 0;
        for step in steps {
            match step {
                Step::Shard(header) => {
                    if let Some(n) = header {
                        ReplyWriter::new(out, self.proto).array(n);
                    }
                    match reply.as_ref().and_then(|r| r.get(k)) {
                        Some(b) => out.extend_from_slice(b),
                        None => ReplyWriter::new(out, self.proto).error("ERR shard unavailable"),
                    }
                    k += 1;
                }
                Step::Other(cmd) => {
                    Box::pin(self.plan(cmd, out)).await;
                    Box::pin(self.flush(out)).await;
                }
            }
        }
    }

    /// Forgets the connection's watched keys.
    pub(crate) fn unwatch(&mut self) {
        if let Some(slot) = self.watch_slot.take() {
            let shard = self.shard_of(slot) as usize;
            self.node.inner.shards[shard].do_send(Unwatch { conn: self.id });
        }
    }
}
