//! Sans-IO core of a geo-link: the sender and receiver state machines, driven
//! by the QUIC shell with log reads, received messages and the current time.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::{Read, RegionId};

/// A batch the sender wants on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub shard: u16,
    pub first_offset: u64,
    pub ops: Vec<(u64, Bytes)>,
}

/// Protocol violations by the peer; the shell closes the connection on them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtoError {
    #[error("shard {0} out of range")]
    BadShard(u16),
    #[error("resume vector has {got} shards, expected {want}")]
    ResumeLen { got: usize, want: usize },
    #[error("shard {shard}: ack {ack} beyond sent {sent}")]
    AckBeyondSent { shard: u16, ack: u64, sent: u64 },
    #[error("shard {shard}: gap, expected offset {expected}, batch starts at {first}")]
    Gap {
        shard: u16,
        expected: u64,
        first: u64,
    },
    #[error("offset overflow")]
    Overflow,
    #[error("stream superseded (the origin restarted, or this region took a full sync)")]
    Superseded,
}

/// What the sender wants the shell to do for one shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Poll {
    /// Nothing to do until the log head moves or an ack arrives.
    Idle,
    /// Read the log from `from`, about `max_bytes`, and pass the result to `on_read`.
    Read { from: u64, max_bytes: usize },
    /// Ops are pending but the batch is not full; poll again at this time.
    WaitUntil(Instant),
}

/// Outcome of feeding a log read to the sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnRead {
    /// Put this batch on the wire (the sender already counts it in flight).
    Send(Batch),
    /// Not enough for a batch yet; poll again at this time.
    WaitUntil(Instant),
    /// Nothing new in the log.
    UpToDate,
    /// The log no longer holds what the peer needs: stop streaming this shard.
    NeedsFullSync { needed: u64, first_available: u64 },
}

#[derive(Debug, Clone)]
struct ShardSender {
    /// Next offset the peer expects (everything below is acknowledged).
    acked: u64,
    /// Next offset to put on the wire.
    sent: u64,
    /// Unacked batches: (end offset exclusive, bytes).
    inflight: VecDeque<(u64, usize)>,
    inflight_bytes: usize,
    /// When pending ops were first seen unsent, for `batch_max_delay`.
    pending_since: Option<Instant>,
    needs_full_sync: bool,
}

/// Sender side of one connection: per shard offsets, in-flight window, batching.
#[derive(Debug, Clone)]
pub struct Sender {
    shards: Vec<ShardSender>,
    batch_max_bytes: usize,
    batch_max_delay: Duration,
    window_bytes: usize,
}

fn op_bytes(ops: &[(u64, Bytes)]) -> usize {
    // 8 bytes of HLC plus a little framing per op, so empty payloads still count.
    ops.iter().map(|(_, b)| b.len() + 12).sum()
}

impl Sender {
    /// A sender before the handshake; offsets are set by [`Sender::on_hello_ack`].
    pub fn new(shards: u16, batch_max_bytes: usize, batch_max_delay: Duration) -> Sender {
        let batch_max_bytes = batch_max_bytes.max(1);
        Sender {
            shards: (0..shards)
                .map(|_| ShardSender {
                    acked: 1,
                    sent: 1,
                    inflight: VecDeque::new(),
                    inflight_bytes: 0,
                    pending_since: None,
                    needs_full_sync: false,
                })
                .collect(),
            batch_max_bytes,
            batch_max_delay,
            window_bytes: batch_max_bytes.saturating_mul(4),
        }
    }

    pub fn shards(&self) -> u16 {
        self.shards.len() as u16
    }

    /// Resume from the receiver's expected offsets: anything it has not
    /// acknowledged is sent again (at-least-once).
    pub fn on_hello_ack(&mut self, resume: &[u64]) -> Result<(), ProtoError> {
        if resume.len() != self.shards.len() {
            return Err(ProtoError::ResumeLen {
                got: resume.len(),
                want: self.shards.len(),
            });
        }
        for (s, &r) in self.shards.iter_mut().zip(resume) {
            // Offsets start at 1; a 0 from a confused peer means "from the start".
            let r = r.max(1);
            s.acked = r;
            s.sent = r;
            s.inflight.clear();
            s.inflight_bytes = 0;
            s.pending_since = None;
        }
        Ok(())
    }

    fn shard(&self, shard: u16) -> Result<&ShardSender, ProtoError> {
        self.shards
            .get(shard as usize)
            .ok_or(ProtoError::BadShard(shard))
    }

    /// Next offset the receiver expects on `shard`.
    pub fn acked(&self, shard: u16) -> u64 {
        self.shard(shard).map(|s| s.acked).unwrap_or(1)
    }

    /// Next offset to be sent on `shard`.
    pub fn sent(&self, shard: u16) -> u64 {
        self.shard(shard).map(|s| s.sent).unwrap_or(1)
    }

    pub fn needs_full_sync(&self, shard: u16) -> bool {
        self.shard(shard)
            .map(|s| s.needs_full_sync)
            .unwrap_or(false)
    }

    pub fn inflight_bytes(&self, shard: u16) -> usize {
        self.shard(shard).map(|s| s.inflight_bytes).unwrap_or(0)
    }

    /// What to do next on `shard`, given the log's next offset.
    pub fn poll(&mut self, shard: u16, now: Instant, log_next: u64) -> Poll {
        let window = self.window_bytes;
        let batch_max = self.batch_max_bytes;
        let Some(s) = self.shards.get_mut(shard as usize) else {
            return Poll::Idle;
        };
        if s.needs_full_sync || log_next <= s.sent {
            s.pending_since = None;
            return Poll::Idle;
        }
        if s.inflight_bytes >= window {
            // Window full: the next ack makes room.
            return Poll::Idle;
        }
        // The batching delay counts from when ops were first seen pending.
        s.pending_since.get_or_insert(now);
        Poll::Read {
            from: s.sent,
            max_bytes: batch_max.min(window - s.inflight_bytes).max(1),
        }
    }

    /// Feeds the result of the read `poll` asked for.
    pub fn on_read(&mut self, shard: u16, read: Read, now: Instant, log_next: u64) -> OnRead {
        let delay = self.batch_max_delay;
        let batch_max = self.batch_max_bytes;
        let Some(s) = self.shards.get_mut(shard as usize) else {
            return OnRead::UpToDate;
        };
        match read {
            Read::UpToDate { .. } => {
                s.pending_since = None;
                OnRead::UpToDate
            }
            Read::Trimmed { first_available } => {
                s.needs_full_sync = true;
                s.pending_since = None;
                OnRead::NeedsFullSync {
                    needed: s.sent,
                    first_available,
                }
            }
            Read::Ops { first, mut ops } => {
                if ops.is_empty() {
                    s.pending_since = None;
                    return OnRead::UpToDate;
                }
                if first > s.sent {
                    // The log skipped what we need: same as trimmed.
                    s.needs_full_sync = true;
                    s.pending_since = None;
                    return OnRead::NeedsFullSync {
                        needed: s.sent,
                        first_available: first,
                    };
                }
                // A log that returns older ops than asked: drop the ones already sent.
                let skip = (s.sent - first) as usize;
                if skip >= ops.len() {
                    return OnRead::UpToDate;
                }
                ops.drain(..skip);
                let first = s.sent;
                let end = first + ops.len() as u64;
                let bytes = op_bytes(&ops);
                // Full when the read was cut short by its size limit, or big enough.
                let full = end < log_next || bytes >= batch_max;
                let since = *s.pending_since.get_or_insert(now);
                let deadline = since + delay;
                if !full && now < deadline {
                    return OnRead::WaitUntil(deadline);
                }
                s.pending_since = None;
                s.sent = end;
                s.inflight.push_back((end, bytes));
                s.inflight_bytes += bytes;
                OnRead::Send(Batch {
                    shard,
                    first_offset: first,
                    ops,
                })
            }
        }
    }

    /// The receiver has everything below `next_offset`; returns how many ops
    /// this ack newly covers.
    pub fn on_ack(&mut self, shard: u16, next_offset: u64) -> Result<u64, ProtoError> {
        let s = self
            .shards
            .get_mut(shard as usize)
            .ok_or(ProtoError::BadShard(shard))?;
        if next_offset > s.sent {
            return Err(ProtoError::AckBeyondSent {
                shard,
                ack: next_offset,
                sent: s.sent,
            });
        }
        if next_offset <= s.acked {
            // Stale or repeated ack: harmless.
            return Ok(0);
        }
        let newly = next_offset - s.acked;
        s.acked = next_offset;
        while let Some(&(end, bytes)) = s.inflight.front() {
            if end > next_offset {
                break;
            }
            s.inflight.pop_front();
            s.inflight_bytes -= bytes;
        }
        Ok(newly)
    }
}

/// Ops not yet acknowledged by the peer: `log_next - 1 - (acked - 1)`.
pub fn lag_ops(log_next: u64, acked: u64) -> u64 {
    log_next.saturating_sub(acked.max(1))
}

/// Age in ms of the oldest unacked op, from its HLC (upper 48 bits = wall ms).
pub fn lag_ms(now_ms: u64, oldest_unacked_hlc: Option<u64>) -> u64 {
    match oldest_unacked_hlc {
        Some(hlc) => now_ms.saturating_sub(hlc >> 16),
        None => 0,
    }
}

/// Which departed member (removed or force-unlinked) the dialer holds more of than we do,
/// if its position is ahead of ours: `None` when ours is the same or ahead.
///
/// A member that left stops being applied the moment each survivor learns it left, so the
/// survivors may hold different prefixes of its streams (a crash, a link that was down).
/// They must end up holding the same one, and none of them can send the rest (a region
/// logs only its own writes), so the survivor that is behind takes a full snapshot of one
/// that is ahead. "Ahead" is one total order that every survivor computes alike: per
/// departed member in id order, the sum of the stamps held of its streams, then the stamps
/// shard by shard. A snapshot makes the receiver hold exactly the source's position, so it
/// only ever moves up, and every survivor ends at the greatest.
///
/// `held`: `(region, shard, stamp of the last op held)` of each origin stream.
pub fn departed_ahead(
    departed: &[RegionId],
    ours: &[(RegionId, u16, u64)],
    theirs: &[(RegionId, u16, u64)],
) -> Option<RegionId> {
    let position = |held: &[(RegionId, u16, u64)], r: RegionId| {
        let mut stamps: Vec<u64> = Vec::new();
        for &(o, s, h) in held {
            if o == r {
                let s = s as usize;
                if stamps.len() <= s {
                    stamps.resize(s + 1, 0);
                }
                stamps[s] = h;
            }
        }
        while stamps.last() == Some(&0) {
            stamps.pop();
        }
        let sum: u128 = stamps.iter().map(|&h| h as u128).sum();
        (sum, stamps)
    };
    let mut departed = departed.to_vec();
    departed.sort_unstable();
    departed.dedup();
    for r in departed {
        match position(theirs, r).cmp(&position(ours, r)) {
            std::cmp::Ordering::Greater => return Some(r),
            std::cmp::Ordering::Less => return None,
            std::cmp::Ordering::Equal => {}
        }
    }
    None
}

/// What the receiver answers to a `Hello`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelloOutcome {
    Accept {
        /// Per shard: the next offset expected, or 0 when only `after` is known.
        resume: Vec<u64>,
        /// Per shard: with `resume` 0, the stamp everything up to which is held.
        after: Vec<u64>,
        /// Why this region wants a full snapshot from the dialer first, if it does, and
        /// the attempt's number (for [`ReceiverMemory::sync_failed`]).
        snapshot: Option<(String, u64)>,
        /// The origin restarted (or is new): offsets begin again at 1.
        new_incarnation: bool,
    },
    /// Another origin is sending this region a full snapshot; try again shortly.
    Busy(String),
    Refuse(String),
}

#[derive(Debug, Clone)]
struct OriginState {
    /// `None` after a full sync, until the origin's next `Hello`: its stream is then
    /// resumed by stamp (`after`), whatever its incarnation.
    incarnation: Option<u64>,
    /// Per shard: next expected offset; 0 = not known yet (take the first batch's).
    next: Vec<u64>,
    /// Per shard: stamp the state holds the stream up to (used while `next` is 0).
    after: Vec<u64>,
}

/// Whether this region waits for a full snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncState {
    Idle,
    /// Needed, for this reason; the next peer to connect is asked for one. With a cause:
    /// that origin could not resume its stream (a new process of it starts a new stream,
    /// which ends the need).
    Needed(String, Option<RegionId>),
    /// Being received from this origin (attempt number).
    InProgress(RegionId, String, u64),
}

/// Incarnations remembered per origin (the newest ones).
const SEEN_MAX: usize = 4;

/// What the receiver remembers per origin across connections (in memory): the next
/// expected offset per shard of the origin's current incarnation, which incarnations of
/// each region it holds ops of, and whether it waits for a full snapshot.
#[derive(Debug, Clone)]
pub struct ReceiverMemory {
    origins: HashMap<RegionId, OriginState>,
    seen: HashMap<RegionId, Vec<u64>>,
    /// This process's incarnation.
    me: u64,
    /// Whether full snapshots can be installed here.
    can_sync: bool,
    sync: SyncState,
    attempts: u64,
    /// The attempt asked of one dialer because it was ahead on a departed member.
    targeted: Option<u64>,
    /// Full snapshots installed since this process started (or its streams restarted).
    installs: u64,
}

impl Default for ReceiverMemory {
    fn default() -> Self {
        ReceiverMemory {
            origins: HashMap::new(),
            seen: HashMap::new(),
            me: 0,
            can_sync: false,
            sync: SyncState::Idle,
            attempts: 0,
            targeted: None,
            installs: 0,
        }
    }
}

/// Ops of a batch left to apply after dropping duplicates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToApply {
    pub ops: Vec<(u64, Bytes)>,
    /// Offset expected once they are applied.
    pub next: u64,
}

/// Largest shard count a peer may announce (each shard costs a slot).
pub const MAX_SHARDS: u16 = 16384;

fn remember(list: &mut Vec<u64>, incarnation: u64) {
    if !list.contains(&incarnation) {
        list.push(incarnation);
        if list.len() > SEEN_MAX {
            list.remove(0);
        }
    }
}

impl ReceiverMemory {
    pub fn new() -> Self {
        Self::default()
    }

    /// This process's incarnation, and whether it can install full snapshots.
    pub fn set_local(&mut self, incarnation: u64, can_sync: bool) {
        self.me = incarnation;
        self.can_sync = can_sync;
    }

    /// Handles a `Hello` (identity already checked by the shell). `seen`: the incarnations
    /// of this region the dialer holds ops of; one that is not ours means this process
    /// started after another one whose writes the dialer has, so it needs a full snapshot.
    /// `ahead`: the dialer holds more of a departed member's streams than we do (see
    /// [`departed_ahead`]), so, unless a snapshot is already wanted or under way, we want
    /// one of this very dialer (if that attempt fails, nobody else is asked instead: the
    /// next handshakes compare again).
    pub fn hello(
        &mut self,
        origin: RegionId,
        incarnation: u64,
        shards: u16,
        seen: &[u64],
        ahead: Option<String>,
    ) -> HelloOutcome {
        if shards == 0 || shards > MAX_SHARDS {
            return HelloOutcome::Refuse(format!("bad shard count {shards}"));
        }
        let mut snapshot = None;
        if self.can_sync {
            if let SyncState::InProgress(o, why, _) = &self.sync {
                if *o != origin {
                    return HelloOutcome::Busy(format!("taking a full sync from region {o}"));
                }
                // The same origin again: its last attempt failed.
                self.sync = if self.targeted == Some(self.attempts) {
                    SyncState::Idle
                } else {
                    SyncState::Needed(why.clone(), None)
                };
            }
            // A dialer we held ops of an earlier process of has restarted since: its
            // state may be empty, so it must not be our source.
            let dialer_restarted = self.restarted(origin, incarnation);
            if dialer_restarted {
                if let SyncState::Needed(_, Some(cause)) = &self.sync {
                    if *cause == origin {
                        // The stream we could not resume ended with that process.
                        self.sync = SyncState::Idle;
                    }
                }
            }
            if self.sync == SyncState::Idle
                && self.installs == 0
                && seen.iter().any(|&i| i != self.me)
            {
                self.sync = SyncState::Needed(
                    format!(
                        "region {origin} holds writes of an earlier process of this region \
                         (this one started with empty memory)"
                    ),
                    None,
                );
            }
            if let (SyncState::Idle, Some(why), false) = (&self.sync, &ahead, dialer_restarted) {
                self.attempts += 1;
                self.targeted = Some(self.attempts);
                snapshot = Some((why.clone(), self.attempts));
                self.sync = SyncState::InProgress(origin, why.clone(), self.attempts);
            } else if let SyncState::Needed(why, _) = &self.sync {
                if !dialer_restarted {
                    self.attempts += 1;
                    snapshot = Some((why.clone(), self.attempts));
                    self.sync = SyncState::InProgress(origin, why.clone(), self.attempts);
                }
            }
        }
        remember(self.seen.entry(origin).or_default(), incarnation);
        let n = shards as usize;
        let (resume, after, new_incarnation) = match self.origins.get_mut(&origin) {
            Some(o) if o.incarnation == Some(incarnation) => {
                if o.next.len() != n {
                    return HelloOutcome::Refuse(format!(
                        "shard count changed from {} to {shards} within one incarnation",
                        o.next.len()
                    ));
                }
                (o.next.clone(), o.after.clone(), false)
            }
            Some(o) if o.incarnation.is_none() => {
                // After a full sync: resume by stamp, whatever the incarnation.
                o.incarnation = Some(incarnation);
                o.next.resize(n, 0);
                o.after.resize(n, 0);
                (o.next.clone(), o.after.clone(), false)
            }
            _ => {
                let next = vec![1; n];
                self.origins.insert(
                    origin,
                    OriginState {
                        incarnation: Some(incarnation),
                        next: next.clone(),
                        after: vec![0; n],
                    },
                );
                (next, vec![0; n], true)
            }
        };
        HelloOutcome::Accept {
            resume,
            after,
            snapshot,
            new_incarnation,
        }
    }

    /// Whether `origin` restarted since we last held ops of it (`incarnation` is not one we
    /// know): its state may be empty.
    fn restarted(&self, origin: RegionId, incarnation: u64) -> bool {
        self.seen
            .get(&origin)
            .is_some_and(|l| !l.is_empty() && !l.contains(&incarnation))
    }

    /// This region's streams start again as incarnation `incarnation` and it holds nothing
    /// of any peer's streams any more (a purged or joining region); with `sync`, the first
    /// peer that connects is asked for a full snapshot, for that reason.
    pub fn restart(&mut self, incarnation: u64, sync: Option<String>) {
        self.me = incarnation;
        self.origins.clear();
        self.seen.clear();
        self.installs = 0;
        self.sync = match sync {
            Some(why) if self.can_sync => SyncState::Needed(why, None),
            _ => SyncState::Idle,
        };
    }

    /// The incarnations of `region` this region holds ops of (sent in our `Hello` to it).
    pub fn seen(&self, region: RegionId) -> Vec<u64> {
        self.seen.get(&region).cloned().unwrap_or_default()
    }

    /// Every region's remembered incarnations (sent with a snapshot), ours included.
    pub fn seen_all(&self, us: RegionId) -> Vec<(RegionId, Vec<u64>)> {
        let mut out: Vec<_> = self.seen.iter().map(|(&r, v)| (r, v.clone())).collect();
        out.push((us, vec![self.me]));
        out.sort();
        out
    }

    /// How many snapshots were installed since this process started.
    pub fn installs(&self) -> u64 {
        self.installs
    }

    /// Whether this region waits for (or is taking) a full snapshot: it must not serve one.
    pub fn sync_state(&self) -> &SyncState {
        &self.sync
    }

    /// Dialer `origin` cannot resume its stream to us: the next peer to connect is asked
    /// for a snapshot.
    pub fn need_sync(&mut self, origin: RegionId, reason: String) {
        if self.can_sync && self.sync == SyncState::Idle {
            self.sync = SyncState::Needed(reason, Some(origin));
        }
    }

    /// Snapshot attempt `attempt` failed midway: ask again (the next peer to connect), or,
    /// for an attempt asked of one dialer because it was ahead, nobody (the handshakes
    /// compare again).
    pub fn sync_failed(&mut self, attempt: u64) {
        if let SyncState::InProgress(_, why, a) = &self.sync {
            if *a == attempt {
                self.sync = if self.targeted == Some(attempt) {
                    SyncState::Idle
                } else {
                    SyncState::Needed(why.clone(), None)
                };
            }
        }
    }

    /// A snapshot from `source` (incarnation `incarnation`) is installed: its streams
    /// continue at the snapshot's offsets; every other origin's resume by stamp from what
    /// the snapshot holds of it (from the start for one it holds nothing of).
    pub fn synced(
        &mut self,
        us: RegionId,
        source: RegionId,
        incarnation: u64,
        meta: &crate::SnapshotMeta,
    ) {
        let shards_of: HashMap<RegionId, u16> = meta.origin_shards.iter().copied().collect();
        let mut regions: Vec<RegionId> = self.origins.keys().copied().collect();
        regions.extend(shards_of.keys().copied());
        regions.sort_unstable();
        regions.dedup();
        for r in regions {
            if r == us || r == source {
                continue;
            }
            let n = match (shards_of.get(&r), self.origins.get(&r)) {
                (Some(&n), _) => n as usize,
                (None, Some(o)) => o.next.len(),
                (None, None) => continue,
            };
            let mut after = vec![0; n];
            for &(o, s, h) in &meta.received {
                if o == r {
                    if let Some(a) = after.get_mut(s as usize) {
                        *a = h;
                    }
                }
            }
            self.origins.insert(
                r,
                OriginState {
                    incarnation: None,
                    next: vec![0; n],
                    after,
                },
            );
        }
        self.origins.insert(
            source,
            OriginState {
                incarnation: Some(incarnation),
                next: meta.offsets.iter().map(|&o| o.max(1)).collect(),
                after: vec![0; meta.offsets.len()],
            },
        );
        for (r, list) in &meta.seen {
            if *r != us {
                let mine = self.seen.entry(*r).or_default();
                for &i in list {
                    remember(mine, i);
                }
            }
        }
        self.installs += 1;
        self.sync = SyncState::Idle;
    }

    /// Next expected offset, if `origin`'s `incarnation` is the current one (0: the next
    /// batch's first offset, after a full sync).
    pub fn expected(&self, origin: RegionId, incarnation: u64, shard: u16) -> Option<u64> {
        let o = self.origins.get(&origin)?;
        if o.incarnation != Some(incarnation) {
            return None;
        }
        o.next.get(shard as usize).copied()
    }

    /// Checks a batch against the expected offset: `Ok(None)` when it is all
    /// duplicates, `Ok(Some((ops, next)))` with the ops to apply (duplicates
    /// dropped) and the offset expected after them, `Err` on a gap. Nothing
    /// is recorded until [`ReceiverMemory::applied`].
    pub fn check_batch(
        &self,
        origin: RegionId,
        incarnation: u64,
        shard: u16,
        first: u64,
        mut ops: Vec<(u64, Bytes)>,
    ) -> Result<Option<ToApply>, ProtoError> {
        let o = self
            .origins
            .get(&origin)
            .filter(|o| o.incarnation == Some(incarnation))
            .ok_or(ProtoError::Superseded)?;
        let expected = *o
            .next
            .get(shard as usize)
            .ok_or(ProtoError::BadShard(shard))?;
        // 0: resumed by stamp after a full sync; the sender chose the offset.
        let expected = if expected == 0 { first } else { expected };
        if first > expected {
            return Err(ProtoError::Gap {
                shard,
                expected,
                first,
            });
        }
        let end = first
            .checked_add(ops.len() as u64)
            .ok_or(ProtoError::Overflow)?;
        if end <= expected {
            return Ok(None);
        }
        ops.drain(..(expected - first) as usize);
        Ok(Some(ToApply { ops, next: end }))
    }

    /// Records that everything below `next` on `shard` was applied. Ignored
    /// if the origin moved to another incarnation meanwhile.
    pub fn applied(&mut self, origin: RegionId, incarnation: u64, shard: u16, next: u64) {
        if let Some(o) = self.origins.get_mut(&origin) {
            if o.incarnation == Some(incarnation) {
                if let Some(n) = o.next.get_mut(shard as usize) {
                    *n = (*n).max(next);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops(n: u64, start_hlc: u64) -> Vec<(u64, Bytes)> {
        (0..n)
            .map(|i| (start_hlc + i, Bytes::from(vec![b'x'; 10])))
            .collect()
    }

    /// A Vec-backed log to drive the sender: ops[i] has offset first + i.
    struct Log {
        first: u64,
        ops: Vec<(u64, Bytes)>,
    }
    impl Log {
        fn next(&self) -> u64 {
            self.first + self.ops.len() as u64
        }
        fn read(&self, from: u64, max: usize) -> Read {
            if from < self.first {
                return Read::Trimmed {
                    first_available: self.first,
                };
            }
            if from >= self.next() {
                return Read::UpToDate { next: self.next() };
            }
            let mut out = Vec::new();
            let mut bytes = 0;
            for op in &self.ops[(from - self.first) as usize..] {
                if !out.is_empty() && bytes + op.1.len() + 12 > max {
                    break;
                }
                bytes += op.1.len() + 12;
                out.push(op.clone());
            }
            Read::Ops {
                first: from,
                ops: out,
            }
        }
    }

    /// Polls and reads until the sender stops producing batches.
    fn drain(s: &mut Sender, log: &Log, now: Instant) -> Vec<Batch> {
        let mut out = Vec::new();
        loop {
            match s.poll(0, now, log.next()) {
                Poll::Read { from, max_bytes } => {
                    match s.on_read(0, log.read(from, max_bytes), now, log.next()) {
                        OnRead::Send(b) => out.push(b),
                        _ => return out,
                    }
                }
                _ => return out,
            }
        }
    }

    #[test]
    fn sends_in_order_and_resumes_from_acked_after_reconnect() {
        let now = Instant::now();
        let log = Log {
            first: 1,
            ops: ops(10, 1 << 16),
        };
        let mut s = Sender::new(1, 1 << 20, Duration::ZERO);
        s.on_hello_ack(&[1]).expect("resume");
        let b = drain(&mut s, &log, now);
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].first_offset, 1);
        assert_eq!(b[0].ops.len(), 10);
        assert_eq!(s.sent(0), 11);
        // The receiver acknowledged 1..=4, then the connection dropped.
        assert_eq!(s.on_ack(0, 5), Ok(4));
        let mut s = Sender::new(1, 1 << 20, Duration::ZERO);
        s.on_hello_ack(&[5]).expect("resume");
        let b = drain(&mut s, &log, now);
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].first_offset, 5);
        assert_eq!(b[0].ops, log.ops[4..].to_vec());
        assert_eq!(s.on_ack(0, 11), Ok(6));
        assert_eq!(s.inflight_bytes(0), 0);
        // Stale acks are harmless, acks beyond what was sent are errors.
        assert_eq!(s.on_ack(0, 7), Ok(0));
        assert!(s.on_ack(0, 12).is_err());
        assert!(s.on_ack(3, 1).is_err());
        assert!(s.on_hello_ack(&[1, 1]).is_err());
    }

    #[test]
    fn window_limits_inflight_and_acks_reopen_it() {
        let now = Instant::now();
        let log = Log {
            first: 1,
            ops: ops(100, 0),
        };
        // 22 bytes per op, batches of ~44 bytes = 2 ops, window 176 = 8 ops.
        let mut s = Sender::new(1, 44, Duration::ZERO);
        s.on_hello_ack(&[1]).expect("resume");
        let b = drain(&mut s, &log, now);
        let sent: usize = b.iter().map(|b| b.ops.len()).sum();
        assert_eq!(sent, 8);
        assert!(b.iter().all(|b| b.ops.len() == 2));
        assert_eq!(s.poll(0, now, log.next()), Poll::Idle);
        s.on_ack(0, 3).expect("ack");
        let b = drain(&mut s, &log, now);
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].first_offset, 9);
    }

    #[test]
    fn small_batches_wait_for_the_delay() {
        let t0 = Instant::now();
        let log = Log {
            first: 1,
            ops: ops(2, 0),
        };
        let mut s = Sender::new(1, 1 << 20, Duration::from_millis(5));
        s.on_hello_ack(&[1]).expect("resume");
        let Poll::Read { from, max_bytes } = s.poll(0, t0, log.next()) else {
            panic!("expected a read")
        };
        let r = s.on_read(0, log.read(from, max_bytes), t0, log.next());
        assert_eq!(r, OnRead::WaitUntil(t0 + Duration::from_millis(5)));
        assert_eq!(s.sent(0), 1);
        let b = drain(&mut s, &log, t0 + Duration::from_millis(5));
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].ops.len(), 2);
    }

    #[test]
    fn trimmed_log_needs_full_sync() {
        let now = Instant::now();
        let log = Log {
            first: 50,
            ops: ops(10, 0),
        };
        let mut s = Sender::new(1, 1 << 20, Duration::ZERO);
        s.on_hello_ack(&[20]).expect("resume");
        let Poll::Read { from, max_bytes } = s.poll(0, now, log.next()) else {
            panic!("expected a read")
        };
        assert_eq!(from, 20);
        assert_eq!(
            s.on_read(0, log.read(from, max_bytes), now, log.next()),
            OnRead::NeedsFullSync {
                needed: 20,
                first_available: 50
            }
        );
        assert!(s.needs_full_sync(0));
        // The shard stops streaming.
        assert_eq!(s.poll(0, now, log.next()), Poll::Idle);
        // A peer that is caught up with a trimmed log is fine.
        let mut s = Sender::new(1, 1 << 20, Duration::ZERO);
        s.on_hello_ack(&[55]).expect("resume");
        let b = drain(&mut s, &log, now);
        assert_eq!(b[0].first_offset, 55);
        assert!(!s.needs_full_sync(0));
    }

    #[test]
    fn receiver_skips_duplicates_and_refuses_gaps() {
        let mut m = ReceiverMemory::new();
        assert_eq!(
            m.hello(2, 7, 2, &[], None),
            HelloOutcome::Accept {
                resume: vec![1, 1],
                after: vec![0, 0],
                snapshot: None,
                new_incarnation: true
            }
        );
        let ToApply { ops: apply, next } = m
            .check_batch(2, 7, 0, 1, ops(5, 0))
            .expect("ok")
            .expect("something to apply");
        assert_eq!((apply.len(), next), (5, 6));
        m.applied(2, 7, 0, next);
        // Overlapping resend: only offsets 6..=7 are new.
        let ToApply { ops: apply, next } = m
            .check_batch(2, 7, 0, 4, ops(4, 100))
            .expect("ok")
            .expect("something to apply");
        assert_eq!(apply, ops(4, 100)[2..].to_vec());
        assert_eq!(next, 8);
        m.applied(2, 7, 0, next);
        // Pure duplicate.
        assert_eq!(m.check_batch(2, 7, 0, 1, ops(7, 0)), Ok(None));
        // Gap.
        assert_eq!(
            m.check_batch(2, 7, 0, 9, ops(1, 0)),
            Err(ProtoError::Gap {
                shard: 0,
                expected: 8,
                first: 9
            })
        );
        assert!(m.check_batch(2, 7, 5, 1, ops(1, 0)).is_err());
        // Reconnect of the same incarnation resumes where it was.
        assert_eq!(
            m.hello(2, 7, 2, &[], None),
            HelloOutcome::Accept {
                resume: vec![8, 1],
                after: vec![0, 0],
                snapshot: None,
                new_incarnation: false
            }
        );
        assert!(matches!(
            m.hello(2, 7, 3, &[], None),
            HelloOutcome::Refuse(_)
        ));
        // A new incarnation starts again at 1.
        assert_eq!(
            m.hello(2, 8, 3, &[], None),
            HelloOutcome::Accept {
                resume: vec![1, 1, 1],
                after: vec![0, 0, 0],
                snapshot: None,
                new_incarnation: true
            }
        );
        // Late commit from the old incarnation is ignored.
        m.applied(2, 7, 0, 100);
        assert_eq!(m.expected(2, 8, 0), Some(1));
        assert!(matches!(
            m.hello(2, 9, 0, &[], None),
            HelloOutcome::Refuse(_)
        ));
    }

    fn snapshot_of(o: HelloOutcome) -> Option<u64> {
        match o {
            HelloOutcome::Accept { snapshot, .. } => snapshot.map(|s| s.1),
            other => panic!("expected accept, got {other:?}"),
        }
    }

    #[test]
    fn a_restarted_region_takes_one_snapshot_then_resumes_every_stream_by_stamp() {
        let mut m = ReceiverMemory::new();
        m.set_local(50, true);
        // A fresh group: nobody holds ops of an earlier process of ours.
        assert_eq!(snapshot_of(m.hello(2, 7, 2, &[], None)), None);
        assert_eq!(snapshot_of(m.hello(3, 8, 1, &[50], None)), None);
        // Region 2 holds writes of our previous process (incarnation 40): one snapshot,
        // asked of the first peer that says so; the others wait meanwhile.
        let mut m = ReceiverMemory::new();
        m.set_local(50, true);
        let a = snapshot_of(m.hello(2, 7, 2, &[40, 50], None)).expect("snapshot asked");
        assert!(matches!(
            m.hello(3, 8, 1, &[40], None),
            HelloOutcome::Busy(_)
        ));
        // That attempt fails: the next peer is asked.
        m.sync_failed(a);
        let b = snapshot_of(m.hello(3, 8, 1, &[40], None)).expect("asked again");
        assert_ne!(a, b);
        m.sync_failed(a); // a stale failure changes nothing
        assert!(matches!(
            m.hello(2, 7, 2, &[40], None),
            HelloOutcome::Busy(_)
        ));
        let meta = crate::SnapshotMeta {
            offsets: vec![9],
            received: vec![(2, 0, 100), (2, 1, 200), (1, 0, 300)],
            origin_shards: vec![(2, 2), (1, 1), (3, 1)],
            seen: vec![(2, vec![7]), (1, vec![40])],
        };
        m.synced(1, 3, 8, &meta);
        assert_eq!(m.sync_state(), &SyncState::Idle);
        // The source's stream continues at the snapshot's offsets.
        assert_eq!(m.expected(3, 8, 0), Some(9));
        // Region 2 resumes by stamp whatever its incarnation, once, and is not asked for
        // another snapshot (we are synced).
        match m.hello(2, 7, 2, &[40], None) {
            HelloOutcome::Accept {
                resume,
                after,
                snapshot: None,
                new_incarnation: false,
            } => {
                assert_eq!(resume, vec![0, 0]);
                assert_eq!(after, vec![100, 200]);
            }
            other => panic!("unexpected {other:?}"),
        }
        // The first batch sets the offset; then gaps count again.
        let t = m
            .check_batch(2, 7, 1, 40, ops(2, 201))
            .expect("ok")
            .expect("ops");
        m.applied(2, 7, 1, t.next);
        assert_eq!(m.expected(2, 7, 1), Some(42));
        assert!(m.check_batch(2, 7, 1, 50, ops(1, 300)).is_err());
        // An old connection's batch of region 2's earlier incarnation is refused.
        assert_eq!(
            m.check_batch(2, 6, 0, 1, ops(1, 0)),
            Err(ProtoError::Superseded)
        );
        // What the source had seen is passed on: we now know region 2's incarnation 7.
        assert_eq!(m.seen(2), vec![7]);
        // A stream that cannot be resumed makes us ask for another snapshot.
        m.need_sync(2, "trimmed".into());
        assert!(snapshot_of(m.hello(2, 7, 2, &[], None)).is_some());
    }

    #[test]
    fn a_restarted_dialer_is_not_a_source_and_ends_the_need_it_caused() {
        let mut m = ReceiverMemory::new();
        m.set_local(50, true);
        assert_eq!(snapshot_of(m.hello(2, 7, 1, &[], None)), None);
        assert_eq!(snapshot_of(m.hello(3, 8, 1, &[], None)), None);
        // Region 3 cannot resume its stream; then region 2 restarts (incarnation 9): its
        // state may be empty, so it is not asked; region 3 is.
        m.need_sync(3, "trimmed".into());
        assert_eq!(snapshot_of(m.hello(2, 9, 1, &[], None)), None);
        assert!(snapshot_of(m.hello(3, 8, 1, &[], None)).is_some());
        // A need caused by a region that then restarts ends with its old stream.
        let mut m = ReceiverMemory::new();
        m.set_local(50, true);
        assert_eq!(snapshot_of(m.hello(2, 7, 1, &[], None)), None);
        m.need_sync(2, "trimmed".into());
        assert_eq!(snapshot_of(m.hello(2, 9, 1, &[], None)), None);
        assert_eq!(m.sync_state(), &SyncState::Idle);
    }

    #[test]
    fn the_survivor_behind_on_a_departed_member_takes_a_snapshot_of_one_ahead() {
        let a = [(3, 0, 100), (3, 1, 50), (4, 0, 7), (2, 0, 999)];
        let b = [(3, 0, 98), (3, 1, 60), (4, 0, 7), (2, 0, 5)];
        // Sum of stamps first (158 > 150), whatever the other origins.
        assert_eq!(departed_ahead(&[3], &a, &b), Some(3));
        assert_eq!(departed_ahead(&[3], &b, &a), None);
        // Equal positions: nothing to do; active origins (2) are not compared.
        assert_eq!(departed_ahead(&[4], &a, &b), None);
        assert_eq!(departed_ahead(&[], &a, &b), None);
        // Same sum: shard by shard decides; a missing stream counts as nothing held.
        let c = [(3, 0, 60), (3, 1, 98)];
        assert_eq!(departed_ahead(&[3], &b, &c), None);
        assert_eq!(departed_ahead(&[3], &c, &b), Some(3));
        assert_eq!(departed_ahead(&[3], &[], &c), Some(3));
        assert_eq!(departed_ahead(&[3], &[(3, 1, 0)], &[]), None);
        // Several departed: the lowest id decides first; it is a total order, so the
        // survivors agree on which of them is ahead.
        let d = [(3, 0, 98), (3, 1, 60), (4, 0, 9)];
        assert_eq!(departed_ahead(&[4, 3], &b, &d), Some(4));
        assert_eq!(departed_ahead(&[4, 3], &d, &b), None);

        // The receiver asks the dialer ahead for a snapshot in its Hello.
        let why = || Some("behind on region 3".to_string());
        let mut m = ReceiverMemory::new();
        m.set_local(1, true);
        assert_eq!(snapshot_of(m.hello(2, 7, 2, &[1], None)), None);
        let attempt = snapshot_of(m.hello(2, 7, 2, &[1], why())).expect("asked");
        assert_eq!(
            m.sync_state(),
            &SyncState::InProgress(2, "behind on region 3".into(), attempt)
        );
        // Not while one is under way.
        assert!(matches!(
            m.hello(4, 1, 1, &[1], why()),
            HelloOutcome::Busy(_)
        ));
        // A failed attempt asks nobody else: the next handshakes compare again.
        m.sync_failed(attempt);
        assert_eq!(m.sync_state(), &SyncState::Idle);
        assert_eq!(snapshot_of(m.hello(4, 1, 1, &[1], None)), None);
        // The same dialer redialing after a failure is asked again only if still ahead.
        let a2 = snapshot_of(m.hello(2, 7, 2, &[1], why())).expect("asked");
        assert!(a2 > attempt);
        assert_eq!(snapshot_of(m.hello(2, 7, 2, &[1], None)), None);
        assert_eq!(m.sync_state(), &SyncState::Idle);
        // Never of a dialer that restarted since we heard from it.
        assert_eq!(snapshot_of(m.hello(2, 8, 2, &[1], why())), None);
        assert_eq!(m.sync_state(), &SyncState::Idle);
        // Without a state to install into, nothing is asked.
        let mut m = ReceiverMemory::new();
        m.set_local(1, false);
        assert_eq!(snapshot_of(m.hello(2, 7, 2, &[], why())), None);
    }

    #[test]
    fn lag_math() {
        assert_eq!(lag_ops(11, 11), 0);
        assert_eq!(lag_ops(11, 5), 6);
        assert_eq!(lag_ops(1, 1), 0);
        assert_eq!(lag_ops(5, 0), 4);
        assert_eq!(lag_ms(10_000, Some(9_000 << 16 | 7)), 1_000);
        assert_eq!(lag_ms(10_000, Some(11_000 << 16)), 0);
        assert_eq!(lag_ms(10_000, None), 0);
    }
}
