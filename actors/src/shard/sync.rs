//! Full sync, the shard's part: serialising its keyspace into a snapshot, and replacing it
//! with one received from a peer.
//!
//! A snapshot is taken inside the actor, so it is one point of the shard's own stream (the
//! log's head) and of every origin stream it merged (its received stamps; the links take
//! snapshots while no remote batch is being applied, so every shard holds the same prefix
//! of each origin stream). Installing replaces the keyspace in one step at the end (until
//! then the old data is served), takes the snapshot's received stamps as this shard's, so
//! each origin's stream resumes right after what the snapshot holds, and replays the
//! region's own writes the source did not have yet from the shard's log.

use actix::prelude::*;
use bytes::{BufMut, Bytes, BytesMut};
use crdt::{Dot, Entry, Hlc, RegionId};

use super::{slot_shard, Keyspace, Shard, SLOTS};
use crate::repl::{decode_op, encode_op, Op};

/// Target size of one snapshot chunk (a single bigger entry makes a bigger chunk).
const CHUNK_BYTES: usize = 1 << 20;

/// Splits a snapshot chunk into its entries: `(slot, key, entry)`.
pub fn decode_chunk(mut data: &[u8]) -> Result<Vec<(u16, Vec<u8>, Entry)>, String> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let Some((len, rest)) = data.split_first_chunk::<4>() else {
            return Err("snapshot chunk: truncated length".into());
        };
        let len = u32::from_be_bytes(*len) as usize;
        let Some((rec, rest)) = rest.split_at_checked(len) else {
            return Err("snapshot chunk: truncated entry".into());
        };
        match decode_op(rec) {
            Ok((slot, Op::Write(op))) => out.push((slot, op.key, op.delta)),
            Ok(_) => return Err("snapshot chunk: not an entry".into()),
            Err(e) => return Err(format!("snapshot chunk: {e}")),
        }
        data = rest;
    }
    Ok(out)
}

/// One shard's snapshot.
pub struct ShardSnapshot {
    /// The offset its stream continues at.
    pub offset: u64,
    /// Stamp of the last op of its own stream the snapshot holds (0: none).
    pub own_stamp: u64,
    /// Per origin stream: stamp of the last op merged.
    pub received: Vec<(u8, u16, u64)>,
    /// Shard count of each origin.
    pub origin_shards: Vec<(u8, u16)>,
    /// The entries, as chunks for [`decode_chunk`].
    pub chunks: Vec<Bytes>,
}

/// Takes the shard's snapshot.
#[derive(Message)]
#[rtype(result = "ShardSnapshot")]
pub struct TakeSnapshot;

impl Handler<TakeSnapshot> for Shard {
    type Result = MessageResult<TakeSnapshot>;

    fn handle(&mut self, _: TakeSnapshot, _: &mut Self::Context) -> Self::Result {
        let mut chunks = Vec::new();
        let mut buf = BytesMut::new();
        for (slot, key, e) in self.keys.iter_slots(0..SLOTS) {
            let rec = encode_op(slot, key, e);
            buf.put_u32(rec.len() as u32);
            buf.extend_from_slice(&rec);
            if buf.len() >= CHUNK_BYTES {
                chunks.push(buf.split().freeze());
            }
        }
        if !buf.is_empty() {
            chunks.push(buf.freeze());
        }
        let (offset, own_stamp) = match &self.ctx.log {
            Some(l) => (l.head(), l.last_hlc()),
            None => (1, 0),
        };
        MessageResult(ShardSnapshot {
            offset,
            own_stamp,
            received: self
                .received
                .iter()
                .map(|(&(r, s), &h)| (r, s, h))
                .collect(),
            origin_shards: self.origin_shards.iter().map(|(&r, &n)| (r, n)).collect(),
            chunks,
        })
    }
}

/// What the shard holds of every origin stream: `(region, origin shard, stamp of the last
/// op merged)`.
#[derive(Message)]
#[rtype(result = "Vec<(u8, u16, u64)>")]
pub struct GetReceived;

impl Handler<GetReceived> for Shard {
    type Result = MessageResult<GetReceived>;

    fn handle(&mut self, _: GetReceived, _: &mut Self::Context) -> Self::Result {
        MessageResult(
            self.received
                .iter()
                .map(|(&(r, s), &h)| (r, s, h))
                .collect(),
        )
    }
}

/// A snapshot starts arriving: collect its entries aside.
#[derive(Message)]
#[rtype(result = "()")]
pub struct InstallBegin {
    /// The attempt (entries of another one are ignored).
    pub attempt: u64,
}

impl Handler<InstallBegin> for Shard {
    type Result = ();

    fn handle(&mut self, msg: InstallBegin, _: &mut Self::Context) {
        self.incoming = Some((msg.attempt, Keyspace::new()));
    }
}

/// Entries of the snapshot that belong to this shard's slots.
#[derive(Message)]
#[rtype(result = "()")]
pub struct InstallEntries {
    /// The attempt they belong to.
    pub attempt: u64,
    /// `(slot, key, entry)`.
    pub entries: Vec<(u16, Vec<u8>, Entry)>,
}

impl Handler<InstallEntries> for Shard {
    type Result = ();

    fn handle(&mut self, msg: InstallEntries, _: &mut Self::Context) {
        let Some((attempt, keys)) = &mut self.incoming else {
            return;
        };
        if *attempt != msg.attempt {
            return;
        }
        for (slot, key, e) in msg.entries {
            keys.entry(slot, &key).merge(&e);
        }
    }
}

/// The whole snapshot arrived: make it the shard's state.
#[derive(Message)]
#[rtype(result = "Result<InstallReport, String>")]
pub struct InstallEnd {
    /// The attempt.
    pub attempt: u64,
    /// Per origin stream: the stamp the snapshot holds it up to.
    pub received: Vec<(u8, u16, u64)>,
    /// Shard count of each origin.
    pub origin_shards: Vec<(u8, u16)>,
}

/// What installing did in one shard.
#[derive(Debug, Default, Clone, Copy)]
pub struct InstallReport {
    /// Entries installed.
    pub entries: u64,
    /// Own writes the source did not have, replayed from the log.
    pub replayed: u64,
    /// Some own writes the source did not have were no longer in the log: they are lost.
    pub lost_own_writes: bool,
}

impl Handler<InstallEnd> for Shard {
    type Result = Result<InstallReport, String>;

    fn handle(&mut self, msg: InstallEnd, _: &mut Self::Context) -> Self::Result {
        let keys = match self.incoming.take() {
            Some((a, k)) if a == msg.attempt => k,
            _ => {
                return Err(format!(
                    "snapshot attempt {} is not the one arriving",
                    msg.attempt
                ))
            }
        };
        Ok(self.install(keys, msg))
    }
}

impl Shard {
    fn install(&mut self, keys: Keyspace, msg: InstallEnd) -> InstallReport {
        let me = self.ctx.region.0;
        self.keys = keys;
        self.gc.clear();
        self.watches.touch_all();
        let own_stamp = msg
            .received
            .iter()
            .find(|&&(r, s, _)| r == me && s == self.ctx.index)
            .map(|&(_, _, h)| h)
            .filter(|_| {
                // Our streams as the source knew them: a different shard count is an
                // earlier process of this region, older than anything in our log.
                msg.origin_shards.contains(&(me, self.ctx.shards))
            })
            .unwrap_or(0);
        self.received = msg
            .received
            .iter()
            .filter(|&&(r, _, _)| r != me)
            .map(|&(r, s, h)| ((r, s), h))
            .collect();
        self.origin_shards = msg
            .origin_shards
            .iter()
            .filter(|&&(r, _)| r != me)
            .copied()
            .collect();
        // The HLC receive rule: our next writes come after everything the state holds,
        // our own earlier process's writes included.
        let max = self.received.values().copied().max().unwrap_or(0);
        self.ctx.clock.observe(Hlc(max.max(own_stamp)));
        // Expiry index, and group-wide collection for entries that carry metadata: queued
        // under what the snapshot holds of each region's stream, so the key is settled
        // only once all of that is stable.
        let mut queue = Vec::new();
        let mut entries = 0;
        for (slot, key, e) in self.keys.iter_slots(0..SLOTS) {
            entries += 1;
            if let Some(x) = e.expiry() {
                queue.push((slot, key.to_vec(), Some(x.deadline_ms), false));
            }
            if matches!(e, Entry::Full(_)) {
                queue.push((slot, key.to_vec(), None, true));
            }
        }
        let lone = self.ctx.log.is_none();
        for (slot, key, deadline, full) in queue {
            if let Some(d) = deadline {
                self.keys.index_expiry(d, &key);
            }
            if full && !lone {
                for &r in &self.ctx.regions {
                    let h = if r.0 == me {
                        own_stamp
                    } else {
                        let n = self.origin_shards.get(&r.0).copied().unwrap_or(1);
                        self.received
                            .get(&(r.0, slot_shard(slot, n)))
                            .copied()
                            .unwrap_or(0)
                    };
                    if h > 0 {
                        self.gc.add_everything(
                            slot,
                            &key,
                            Dot {
                                hlc: Hlc(h),
                                region: r,
                            },
                        );
                    }
                }
            }
        }
        // Our own writes the source had not received yet: they are in our log.
        let (replay, lost_own_writes) = match &self.ctx.log {
            Some(l) => l.ops_after(own_stamp),
            None => (Vec::new(), false),
        };
        let mut replayed = 0;
        for (hlc, raw) in replay {
            if let Ok((slot, Op::Write(op))) = decode_op(&raw) {
                self.keys.entry(slot, &op.key).merge(&op.delta);
                let dot = Dot {
                    hlc: Hlc(hlc),
                    region: RegionId(me),
                };
                self.settle(slot, &op.key, &op.delta, dot);
                replayed += 1;
            }
        }
        self.report_due = true;
        InstallReport {
            entries,
            replayed,
            lost_own_writes,
        }
    }
}
