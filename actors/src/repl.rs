//! The replication log of one shard: a bounded in-memory backlog of encoded deltas.
//!
//! Every write a shard makes is encoded once (`[slot: u16 BE][rmp-serde ReplOp]`) and appended
//! here (a PUBLISH is `[slot | 0x8000: u16 BE][rmp-serde (channel, message)]`, the slot being
//! the channel's, so one channel's messages from one region keep their order; a *report* of
//! what the shard has received from every origin stream is `[0xFFFF][rmp-serde list]`, which
//! is what group-wide garbage collection is computed from) with a stream offset (1, 2, 3, …)
//! and its HLC. Geo-links read from it at their own
//! pace and resume from the offset their peer acknowledged; the log only trims ops that every
//! peer acknowledged, unless the byte budget forces it, in which case a peer that still needed
//! them must be re-synced in full (it learns that from `read` returning `Trimmed`).
//!
//! The shard appends under a short mutex (once per batch, not per op); readers copy out cheap
//! `Bytes` handles. A `watch` channel carries the head offset so readers wake on new ops.

use std::collections::VecDeque;
use std::sync::Mutex;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

/// One replicated write: the key and the CRDT delta the write produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReplOp {
    /// The key, as raw bytes.
    #[serde(with = "serde_bytes")]
    pub key: Vec<u8>,
    /// The delta: a small CRDT state merged into the key's entry at every other region.
    pub delta: crdt::Entry,
}

/// Encodes a replicated op with its slot prefix, so a receiver routes it without decoding it.
pub fn encode_op(slot: u16, key: &[u8], delta: &crdt::Entry) -> Bytes {
    let mut out = Vec::with_capacity(32 + key.len());
    out.extend_from_slice(&slot.to_be_bytes());
    // Encoding our own in-memory types into a Vec cannot fail: every field is serialisable.
    let op = ReplOpRef { key, delta };
    if rmp_serde::encode::write(&mut out, &op).is_err() {
        tracing::error!("encoding a replication op failed; this is a bug");
    }
    Bytes::from(out)
}

/// Encodes a PUBLISH for the other regions' subscribers (slot of the channel, flagged).
pub fn encode_publish(slot: u16, channel: &[u8], message: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(16 + channel.len() + message.len());
    out.extend_from_slice(&(slot | PUBLISH_FLAG).to_be_bytes());
    let msg = (
        serde_bytes::Bytes::new(channel),
        serde_bytes::Bytes::new(message),
    );
    if rmp_serde::encode::write(&mut out, &msg).is_err() {
        tracing::error!("encoding a published message failed; this is a bug");
    }
    Bytes::from(out)
}

/// Set in the slot prefix of a PUBLISH op.
const PUBLISH_FLAG: u16 = 0x8000;

/// The prefix of a report op (no slot: every shard of the receiver takes it).
const REPORT_PREFIX: u16 = 0xFFFF;

/// What a shard has received: per origin stream `(region, origin shard)`, the stamp of the
/// last op merged.
pub type Received = Vec<(u8, u16, u64)>;

/// Encodes a report of what this shard has received. Sent in the shard's own stream, so a
/// peer that reads it has every op the shard sent before it (what makes the group-wide
/// stable vector causally stable).
pub fn encode_report(received: &Received) -> Bytes {
    let mut out = Vec::with_capacity(4 + 12 * received.len());
    out.extend_from_slice(&REPORT_PREFIX.to_be_bytes());
    if rmp_serde::encode::write(&mut out, received).is_err() {
        tracing::error!("encoding a received report failed; this is a bug");
    }
    Bytes::from(out)
}

/// Whether an encoded op is a report (which every shard of the receiver applies).
pub fn is_report(op: &[u8]) -> bool {
    op.get(..2) == Some(&REPORT_PREFIX.to_be_bytes()[..])
}

/// A decoded op.
#[derive(Debug, Clone)]
pub enum Op {
    /// A write's delta.
    Write(ReplOp),
    /// A message published in the origin region.
    Publish {
        /// The channel.
        channel: Bytes,
        /// The message.
        message: Bytes,
    },
    /// What the origin shard had received when it sent this.
    Report(Received),
}

#[derive(Serialize)]
struct ReplOpRef<'a> {
    #[serde(with = "serde_bytes")]
    key: &'a [u8],
    delta: &'a crdt::Entry,
}

/// Why an encoded op could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Shorter than the slot prefix.
    #[error("replicated op is truncated")]
    Truncated,
    /// The slot prefix is outside 0..16384.
    #[error("replicated op names slot {0}, outside 0..16384")]
    BadSlot(u16),
    /// The payload is not a valid op.
    #[error("replicated op does not decode: {0}")]
    Payload(String),
}

/// Reads the slot prefix of an encoded op.
pub fn op_slot(op: &[u8]) -> Result<u16, DecodeError> {
    let prefix: [u8; 2] = op
        .get(..2)
        .and_then(|p| p.try_into().ok())
        .ok_or(DecodeError::Truncated)?;
    let slot = u16::from_be_bytes(prefix) & !PUBLISH_FLAG;
    if slot >= 16384 {
        return Err(DecodeError::BadSlot(slot));
    }
    Ok(slot)
}

/// Decodes an encoded op (slot prefix and payload).
pub fn decode_op(op: &[u8]) -> Result<(u16, Op), DecodeError> {
    let bad = |e: rmp_serde::decode::Error| DecodeError::Payload(e.to_string());
    if is_report(op) {
        let received: Received = rmp_serde::from_slice(&op[2..]).map_err(bad)?;
        return Ok((0, Op::Report(received)));
    }
    let slot = op_slot(op)?;
    let publish = op[0] & 0x80 != 0;
    let payload = op.get(2..).ok_or(DecodeError::Truncated)?;
    if publish {
        let (channel, message): (serde_bytes::ByteBuf, serde_bytes::ByteBuf) =
            rmp_serde::from_slice(payload).map_err(bad)?;
        return Ok((
            slot,
            Op::Publish {
                channel: Bytes::from(channel.into_vec()),
                message: Bytes::from(message.into_vec()),
            },
        ));
    }
    let op: ReplOp = rmp_serde::from_slice(payload).map_err(bad)?;
    Ok((slot, Op::Write(op)))
}

/// What a reader gets from the log.
#[derive(Debug)]
pub enum ReadResult {
    /// Ops starting at offset `first`, each with its HLC.
    Ops {
        /// Offset of the first op returned.
        first: u64,
        /// The ops, in order.
        ops: Vec<(u64, Bytes)>,
    },
    /// Nothing at or after `next` yet.
    UpToDate {
        /// The offset the next op will get.
        next: u64,
    },
    /// The requested offset was trimmed; the oldest retained op is at `first_available`.
    Trimmed {
        /// Oldest offset still held.
        first_available: u64,
    },
}

struct Inner {
    /// Offset of `ops[0]`; ops before it were trimmed.
    first: u64,
    ops: VecDeque<(u64, Bytes)>,
    bytes: usize,
    /// Bytes ever appended before each held op (`starts[i]` for `ops[i]`), so the bytes a
    /// peer has not acknowledged are one subtraction.
    starts: VecDeque<u64>,
    /// Bytes ever appended.
    appended: u64,
    /// Stamp of the newest op trimmed (0: none yet).
    trimmed_hlc: u64,
    /// Stamp of the newest op appended (0: none yet).
    last_hlc: u64,
    /// Trimming unacknowledged ops was logged (until the peers catch up again).
    warned: bool,
}

/// One shard's replication backlog.
pub struct ReplLog {
    inner: Mutex<Inner>,
    budget: usize,
    head_tx: watch::Sender<u64>,
    /// Per peer region: the offset it acknowledged everything below (1 until it acks).
    acked: Mutex<std::collections::BTreeMap<u8, u64>>,
}

impl ReplLog {
    /// An empty log that keeps at most `budget` bytes of ops for `peers` (the other regions).
    pub fn new(budget: usize, peers: impl IntoIterator<Item = u8>) -> ReplLog {
        let (head_tx, _) = watch::channel(1);
        ReplLog {
            acked: Mutex::new(peers.into_iter().map(|p| (p, 1)).collect()),
            inner: Mutex::new(Inner {
                first: 1,
                ops: VecDeque::new(),
                bytes: 0,
                starts: VecDeque::new(),
                appended: 0,
                trimmed_hlc: 0,
                last_hlc: 0,
                warned: false,
            }),
            budget,
            head_tx,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A poisoned lock means a reader panicked mid-copy; the data itself is still
        // consistent (every mutation is a single push/pop), so keep serving it.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records that `peer` has everything below `offset` (its geo-link's acknowledgement).
    pub fn acked(&self, peer: u8, offset: u64) {
        let mut a = self.acked.lock().unwrap_or_else(|p| p.into_inner());
        let e = a.entry(peer).or_insert(1);
        *e = (*e).max(offset);
    }

    /// The lowest offset some peer still needs.
    fn keep_from(&self) -> u64 {
        let a = self.acked.lock().unwrap_or_else(|p| p.into_inner());
        a.values().copied().min().unwrap_or(u64::MAX)
    }

    /// Appends ops (already encoded, with their HLCs) and wakes readers. Over the byte
    /// budget the oldest ops go; if some of them were not acknowledged by every peer yet,
    /// that peer will need a full sync, which is logged (once per append, not per op).
    pub fn append(&self, ops: impl IntoIterator<Item = (u64, Bytes)>) {
        let keep_from = self.keep_from();
        let head = {
            let mut g = self.lock();
            for (hlc, op) in ops {
                g.bytes += op.len();
                let start = g.appended;
                g.starts.push_back(start);
                g.appended += op.len() as u64;
                g.last_hlc = g.last_hlc.max(hlc);
                g.ops.push_back((hlc, op));
            }
            // Trim acknowledged ops eagerly only when over budget: keeping them costs nothing
            // extra below the budget and lets a restarted peer resume without a full sync.
            let before = g.first;
            // The newest op stays whatever its size (one value bigger than the budget is
            // still sent, not trimmed as it is written).
            while g.bytes > self.budget && g.ops.len() > 1 {
                let Some((hlc, op)) = g.ops.pop_front() else {
                    break;
                };
                g.trimmed_hlc = g.trimmed_hlc.max(hlc);
                g.starts.pop_front();
                g.bytes -= op.len();
                g.first += 1;
            }
            if g.first <= keep_from {
                g.warned = false;
            } else if before < g.first && !g.warned {
                // Once until the peers are caught up again: a long outage trims on every
                // append.
                g.warned = true;
                tracing::warn!(
                    trimmed_upto = g.first,
                    lowest_acked = keep_from,
                    dropped_unacked = g.first - before.max(keep_from),
                    "replication backlog over budget: dropping ops a peer has not acknowledged; it will need a full sync (logged once until the peers catch up)"
                );
            }
            g.first + g.ops.len() as u64
        };
        self.head_tx.send_replace(head);
    }

    /// Reads up to `max_bytes` of ops from offset `from` (at least one op if any is there).
    pub fn read(&self, from: u64, max_bytes: usize) -> ReadResult {
        let g = self.lock();
        let head = g.first + g.ops.len() as u64;
        if from < g.first {
            return ReadResult::Trimmed {
                first_available: g.first,
            };
        }
        if from >= head {
            return ReadResult::UpToDate { next: head };
        }
        let mut out = Vec::new();
        let mut size = 0;
        for op in g.ops.iter().skip((from - g.first) as usize) {
            if !out.is_empty() && size + op.1.len() > max_bytes {
                break;
            }
            size += op.1.len();
            out.push(op.clone());
        }
        ReadResult::Ops {
            first: from,
            ops: out,
        }
    }

    /// The offset the next op will get.
    pub fn head(&self) -> u64 {
        *self.head_tx.borrow()
    }

    /// The stamp of the op at `offset`, if still held.
    pub fn hlc_at(&self, offset: u64) -> Option<u64> {
        let g = self.lock();
        let i = offset.checked_sub(g.first)?;
        g.ops.get(i as usize).map(|o| o.0)
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }

    /// Bytes of the held ops at or after `offset` (what a peer that acknowledged everything
    /// below `offset` still needs from this log; all of it if `offset` was trimmed).
    pub fn bytes_from(&self, offset: u64) -> u64 {
        let g = self.lock();
        match offset.checked_sub(g.first) {
            None => g.bytes as u64,
            Some(i) => match g.starts.get(i as usize) {
                Some(&start) => g.appended - start,
                None => 0,
            },
        }
    }

    /// Stamp of the newest op appended (0 if none): a snapshot of the shard taken now holds
    /// its stream up to this stamp.
    pub fn last_hlc(&self) -> u64 {
        self.lock().last_hlc
    }

    /// The offset of the first op stamped above `stamp` (the head if none), or
    /// `Err(first_available)` if ops stamped above it were trimmed.
    pub fn offset_after(&self, stamp: u64) -> Result<u64, u64> {
        let g = self.lock();
        if g.trimmed_hlc > stamp {
            return Err(g.first);
        }
        // Stamps increase along the log.
        let i = g.ops.partition_point(|(h, _)| *h <= stamp);
        Ok(g.first + i as u64)
    }

    /// The held ops stamped above `stamp`, in order, and whether some were trimmed.
    pub fn ops_after(&self, stamp: u64) -> (Vec<(u64, Bytes)>, bool) {
        let g = self.lock();
        let i = g.ops.partition_point(|(h, _)| *h <= stamp);
        (g.ops.range(i..).cloned().collect(), g.trimmed_hlc > stamp)
    }

    /// A receiver that changes whenever ops are appended.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.head_tx.subscribe()
    }

    /// The peers whose acknowledgements count are now `peers` (a member joined or left).
    pub fn set_peers(&self, peers: impl IntoIterator<Item = u8>) {
        let peers: Vec<u8> = peers.into_iter().collect();
        let mut a = self.acked.lock().unwrap_or_else(|p| p.into_inner());
        a.retain(|p, _| peers.contains(p));
        for p in peers {
            a.entry(p).or_insert(1);
        }
    }

    /// Drops every op and starts the stream again at offset 1 (a purged or joining region,
    /// whose streams take a new incarnation). Stamps keep increasing.
    pub fn reset(&self) {
        {
            let mut g = self.lock();
            g.first = 1;
            g.ops.clear();
            g.starts.clear();
            g.bytes = 0;
            g.trimmed_hlc = 0;
            g.warned = false;
        }
        let mut a = self.acked.lock().unwrap_or_else(|p| p.into_inner());
        a.values_mut().for_each(|v| *v = 1);
        drop(a);
        self.head_tx.send_replace(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(n: u8) -> (u64, Bytes) {
        (n as u64, Bytes::from(vec![n; 10]))
    }

    #[test]
    fn reads_resume_from_any_retained_offset() {
        let log = ReplLog::new(1000, [2]);
        log.append((1..=5).map(op));
        assert_eq!(log.head(), 6);
        match log.read(3, 1000) {
            ReadResult::Ops { first, ops } => {
                assert_eq!(first, 3);
                assert_eq!(ops.len(), 3);
                assert_eq!(ops[0].1[0], 3);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            log.read(6, 1000),
            ReadResult::UpToDate { next: 6 }
        ));
    }

    #[test]
    fn reset_restarts_offsets_and_peers_follow_membership() {
        let log = ReplLog::new(1000, [2, 3]);
        log.append((1..=5).map(op));
        log.acked(2, 6);
        log.acked(3, 6);
        log.set_peers([2, 4]);
        assert_eq!(log.keep_from(), 1, "a new peer needs everything");
        log.acked(4, 6);
        assert_eq!(log.keep_from(), 6, "the peer that left no longer counts");
        log.reset();
        assert_eq!(log.head(), 1);
        assert_eq!(log.bytes(), 0);
        assert!(matches!(log.read(1, 100), ReadResult::UpToDate { next: 1 }));
        log.append([op(9)]);
        assert_eq!(log.head(), 2);
        assert_eq!(log.last_hlc(), 9);
        assert_eq!(log.offset_after(5), Ok(1));
    }

    #[test]
    fn the_slowest_peers_acknowledgement_is_what_must_be_kept() {
        let log = ReplLog::new(1000, [2, 3]);
        assert_eq!(log.keep_from(), 1, "peers that never acked need everything");
        log.acked(2, 7);
        assert_eq!(log.keep_from(), 1);
        log.acked(3, 5);
        assert_eq!(log.keep_from(), 5);
        log.acked(3, 4);
        assert_eq!(log.keep_from(), 5, "acks only move forward");
        assert_eq!(ReplLog::new(10, []).keep_from(), u64::MAX);
    }

    #[test]
    fn over_budget_trims_oldest_and_reports_it() {
        let log = ReplLog::new(25, [2]);
        log.append((1..=5).map(op));
        assert!(log.bytes() <= 25);
        assert!(matches!(
            log.read(1, 1000),
            ReadResult::Trimmed { first_available: 4 }
        ));
    }

    #[test]
    fn an_op_bigger_than_the_budget_stays_until_the_next_append() {
        let log = ReplLog::new(25, [2]);
        log.append([op(1), (2, Bytes::from(vec![2; 100]))]);
        // The older op goes; the big one is still there to send.
        match log.read(2, 1000) {
            ReadResult::Ops { first: 2, ops } => assert_eq!(ops[0].1.len(), 100),
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(log.bytes(), 100);
        log.append([op(3)]);
        assert_eq!(log.bytes(), 10);
        assert!(matches!(
            log.read(2, 1000),
            ReadResult::Trimmed { first_available: 3 }
        ));
    }

    #[test]
    fn bytes_from_counts_what_a_peer_still_needs() {
        let log = ReplLog::new(35, [2]);
        log.append((1..=3).map(op));
        assert_eq!(log.bytes_from(1), 30);
        assert_eq!(log.bytes_from(3), 10);
        assert_eq!(log.bytes_from(4), 0);
        // Over budget: op 1 goes; a peer still at offset 1 needs everything held.
        log.append([op(4)]);
        assert_eq!(log.bytes_from(1), 30);
        assert_eq!(log.bytes_from(2), 30);
        assert_eq!(log.bytes_from(4), 10);
    }

    #[test]
    fn offsets_and_ops_after_a_stamp_know_what_was_trimmed() {
        let log = ReplLog::new(35, [2]);
        assert_eq!(log.offset_after(0), Ok(1));
        log.append((1..=3).map(op));
        assert_eq!(log.last_hlc(), 3);
        assert_eq!(log.offset_after(0), Ok(1));
        assert_eq!(log.offset_after(2), Ok(3));
        assert_eq!(log.offset_after(9), Ok(4));
        let (ops, lost) = log.ops_after(1);
        assert_eq!((ops.len(), lost), (2, false));
        // Op 1 is trimmed: everything after stamp 1 is still there, not after stamp 0.
        log.append([op(4)]);
        assert_eq!(log.offset_after(1), Ok(2));
        assert_eq!(log.offset_after(0), Err(2));
        let (ops, lost) = log.ops_after(0);
        assert_eq!((ops.len(), lost), (3, true));
    }

    #[test]
    fn max_bytes_still_returns_one_op() {
        let log = ReplLog::new(1000, [2]);
        log.append((1..=3).map(op));
        match log.read(1, 1) {
            ReadResult::Ops { ops, .. } => assert_eq!(ops.len(), 1),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn op_slot_refuses_garbage() {
        assert!(op_slot(&[]).is_err());
        assert!(op_slot(&[0xff, 0xff, 1]).is_err());
        assert!(decode_op(&[0, 1, 0xc1]).is_err());
        assert!(decode_op(&[0x80, 1, 0xc1]).is_err());
    }

    #[test]
    fn publish_ops_round_trip_and_route_by_the_channel_slot() {
        let raw = encode_publish(5000, b"news", b"hello");
        assert_eq!(op_slot(&raw).unwrap(), 5000);
        match decode_op(&raw).unwrap() {
            (5000, Op::Publish { channel, message }) => {
                assert_eq!(&channel[..], b"news");
                assert_eq!(&message[..], b"hello");
            }
            other => panic!("unexpected {other:?}"),
        }
        let w = encode_op(5000, b"k", &crdt::Entry::default());
        assert!(matches!(decode_op(&w).unwrap(), (5000, Op::Write(_))));
    }
}
