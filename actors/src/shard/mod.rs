//! The shard actor: owns the keyspace of its hash slots and executes commands on it.
//!
//! State: the [`Keyspace`] (which only this actor touches), the region's shared HLC, the
//! shard's replication log. Inbound messages: [`Exec`] (a batch of client commands from one
//! connection), [`ApplyRemote`] (deltas from another region), [`ScanSlots`], [`Keys`],
//! [`Digest`], [`Stats`], [`Dbsize`], [`Flush`]. Outbound: encoded deltas appended to the
//! [`ReplLog`] once per batch, read by the geo-links at their own pace.
//!
//! Each write is stamped with a fresh HLC and the region id (its *dot*), applied to the key's
//! CRDT entry, and the resulting delta is replicated. Remote deltas are merged with the same
//! `merge` that makes the entries converge, and advance the region clock past their stamps.

pub mod exec;
mod gc;
pub mod keyspace;
pub mod sync;
mod watch;

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use std::collections::HashMap;

use bytes::{Bytes, BytesMut};
use crdt::{Dot, Entry, Hlc, Leftovers, RegionId, VersionVector};

use crate::clock::RegionClock;
use crate::pubsub::Hub;
use crate::repl::{decode_op, encode_op, encode_report, Op, ReplLog};
pub use keyspace::{Keyspace, SLOTS};

/// Per origin stream `(region, shard)`: stamp of the last op merged from it.
type Received = HashMap<(u8, u16), u64>;

/// Per peer stream: the [`Received`] it last reported.
type Reports = HashMap<(u8, u16), Received>;

/// What a shard needs to know about its region.
#[derive(Clone)]
pub struct ShardContext {
    /// This shard's index in the node.
    pub index: u16,
    /// How many shards the node has.
    pub shards: u16,
    /// The region's id (the region part of every dot this shard makes).
    pub region: RegionId,
    /// Every region of the group, this one included (for garbage collection).
    pub regions: Vec<RegionId>,
    /// The region's clock.
    pub clock: Arc<RegionClock>,
    /// This shard's replication log, or `None` for a region that has no peers (nothing to ship).
    pub log: Option<Arc<ReplLog>>,
    /// Seed of the shard's random source (injected, so a simulation can repeat a run).
    pub seed: u64,
    /// The node's Pub/Sub hub (PUBLISH delivers local and replicated messages through it).
    pub hub: Arc<Hub>,
}

/// The shard actor.
pub struct Shard {
    pub(crate) ctx: ShardContext,
    pub(crate) keys: Keyspace,
    /// Deltas produced by the batch being executed, appended to the log at the end of it.
    pub(crate) pending: Vec<(u64, Bytes)>,
    /// Counters reported by INFO.
    pub(crate) stats: ShardStats,
    /// Per origin stream `(region, origin shard)`: stamp of the last op merged. Ops are
    /// stamped in increasing order within a stream, so this both deduplicates re-sent ops and
    /// tells compaction which removal floors can no longer matter.
    received: Received,
    /// Shard count of each origin region, to find which of its streams carries a slot.
    origin_shards: HashMap<u8, u16>,
    /// What each peer stream `(region, shard)` last reported it had received (per origin
    /// stream), read from that stream itself: see [`stable_vector`].
    reports: Reports,
    /// Whether `received` moved by a write since this shard last sent its report.
    report_due: bool,
    /// Group-wide garbage collection: see [`gc`].
    gc: gc::Queue,
    /// Random source of SPOP, SRANDMEMBER, HRANDFIELD, ZRANDMEMBER, RANDOMKEY.
    pub(crate) rng: exec::Prng,
    /// Keys watched by connections (WATCH), and whether they were touched since.
    pub(crate) watches: watch::Watches,
    /// A full snapshot being received (attempt, entries so far): see [`sync`].
    incoming: Option<(u64, Keyspace)>,
    /// The region is leaving its group: no writes, nothing more appended to the log (see
    /// [`Fence`]).
    fenced: bool,
}

/// Counters a shard keeps for INFO.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShardStats {
    /// Keys a client can see.
    pub keys: u64,
    /// Entries held, tombstones included.
    pub entries: u64,
    /// Visible keys that have a TTL.
    pub expires: u64,
    /// Commands executed.
    pub commands: u64,
    /// Keys deleted by expiry.
    pub expired_keys: u64,
    /// Remote ops merged.
    pub remote_ops: u64,
    /// Remote ops skipped because they were already merged (re-sent after a reconnect).
    pub duplicate_ops: u64,
    /// Remote ops that could not be decoded (a peer bug); they are logged and skipped.
    pub bad_remote_ops: u64,
    /// Hits and misses of read commands.
    pub keyspace_hits: u64,
    /// See `keyspace_hits`.
    pub keyspace_misses: u64,
    /// Replication-log bytes held.
    pub backlog_bytes: u64,
    /// Keys holding removal metadata that waits for other regions' ops.
    pub gc_pending: u64,
    /// Entries removed by garbage collection.
    pub gc_collected: u64,
    /// Collection ops made: conflict leftovers (TTL writes that lost, PERSIST markers,
    /// losing concurrent writes of a value) removed in every region.
    pub gc_leftover_ops: u64,
    /// Per peer region: keys waiting for collection because that peer has not reported
    /// one of their removals yet.
    pub gc_waiting_on: std::collections::BTreeMap<u8, u64>,
}

impl ShardStats {
    /// Adds another shard's counters (INFO reports the node's totals).
    pub fn add(&mut self, o: &ShardStats) {
        self.keys += o.keys;
        self.entries += o.entries;
        self.expires += o.expires;
        self.commands += o.commands;
        self.expired_keys += o.expired_keys;
        self.remote_ops += o.remote_ops;
        self.duplicate_ops += o.duplicate_ops;
        self.bad_remote_ops += o.bad_remote_ops;
        self.keyspace_hits += o.keyspace_hits;
        self.keyspace_misses += o.keyspace_misses;
        self.backlog_bytes += o.backlog_bytes;
        self.gc_pending += o.gc_pending;
        self.gc_collected += o.gc_collected;
        self.gc_leftover_ops += o.gc_leftover_ops;
        for (&p, &n) in &o.gc_waiting_on {
            *self.gc_waiting_on.entry(p).or_default() += n;
        }
    }
}

impl Shard {
    /// A shard with an empty keyspace.
    pub fn new(ctx: ShardContext) -> Shard {
        let seed = ctx.seed;
        Shard {
            ctx,
            keys: Keyspace::new(),
            pending: Vec::new(),
            stats: ShardStats::default(),
            received: HashMap::new(),
            origin_shards: HashMap::new(),
            reports: HashMap::new(),
            report_due: false,
            gc: gc::Queue::default(),
            rng: exec::Prng::new(seed),
            watches: watch::Watches::default(),
            incoming: None,
            fenced: false,
        }
    }

    /// A fresh dot for a local write.
    pub(crate) fn dot(&self) -> Dot {
        Dot {
            hlc: self.ctx.clock.tick(),
            region: self.ctx.region,
        }
    }

    /// Records the delta of a local write: queued for the replication log, indexed for
    /// expiry if the key now has a TTL, and the entry compacted.
    pub(crate) fn replicate(&mut self, slot: u16, key: &[u8], hlc: u64, delta: &Entry) {
        if self.ctx.log.is_some() {
            self.pending.push((hlc, encode_op(slot, key, delta)));
        }
        let op = Dot {
            hlc: Hlc(hlc),
            region: self.ctx.region,
        };
        self.settle(slot, key, delta, op);
    }

    /// After the delta of op `op` was merged into `key`'s entry: index its TTL, compact what
    /// the delta touched, drop the entry if empty, and queue it for group-wide collection if
    /// the op removed something. One keyspace lookup in the common case.
    fn settle(&mut self, slot: u16, key: &[u8], delta: &Entry, op: Dot) {
        self.watches.touch(key);
        let lone = self.ctx.log.is_none();
        let Some(e) = self.keys.get_mut(slot, key) else {
            return;
        };
        let deadline = e.expiry().map(|x| x.deadline_ms);
        let (empty, full, leftovers) = if matches!(e, Entry::Full(_)) {
            let received = received_vector(&self.ctx, &self.received, &self.origin_shards, slot);
            let empty = e.compact_after(delta, &received, lone);
            let leftovers = !lone && e.has_leftovers(delta);
            (empty, matches!(e, Entry::Full(_)), leftovers)
        } else {
            (false, false, false)
        };
        if let Some(d) = deadline {
            self.keys.index_expiry(d, key);
        }
        if empty {
            self.keys.remove(slot, key);
            self.stats.gc_collected += 1;
        } else if full && !lone && (delta.removes() || leftovers) {
            // A removal that left the entry plain or packed left nothing of itself (no
            // floor, no counter floor, no tombstone): nothing can wait for it. Nor can a
            // conflict in such an entry be left over.
            self.gc.add(slot, key, op, Some(delta));
        }
    }

    /// Removes an entry a refused write left empty (e.g. INCR on a missing key that failed).
    pub(crate) fn drop_if_empty(&mut self, slot: u16, key: &[u8]) {
        if self
            .keys
            .get(slot, key)
            .is_some_and(|e| *e == Entry::default())
        {
            self.keys.remove(slot, key);
        }
    }

    /// Pushes the batch's deltas to the replication log.
    pub(crate) fn flush_pending(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        if self.fenced {
            // Leaving the group: what the peers must acknowledge is final (a PUBLISH is
            // delivered here only).
            self.pending.clear();
            return;
        }
        if let Some(log) = &self.ctx.log {
            let ops = std::mem::take(&mut self.pending);
            log.append(ops);
        }
    }

    /// Collects the keys whose queued removals became stable (bounded work per call).
    fn collect_due(&mut self) {
        if self.fenced {
            return;
        }
        let (ctx, received, origin_shards, reports) = (
            &self.ctx,
            &self.received,
            &self.origin_shards,
            &self.reports,
        );
        let due = self.gc.due(10_000, |slot| {
            stable_vector(ctx, received, origin_shards, reports, slot)
        });
        for d in due {
            let received = received_vector(&self.ctx, &self.received, &self.origin_shards, d.slot);
            let Some(e) = self.keys.get_mut(d.slot, &d.key) else {
                continue;
            };
            if e.compact_stable_in(&received, &d.stable, d.settled, &d.touched) {
                self.keys.remove(d.slot, &d.key);
                self.stats.gc_collected += 1;
                continue;
            }
            if !d.settled {
                continue;
            }
            match e.leftovers_in(&d.stable, &d.touched) {
                Leftovers::None => {}
                Leftovers::Wait(dots) => {
                    for dot in dots {
                        self.gc.add(d.slot, &d.key, dot, None);
                    }
                    self.gc.retouch(d.slot, &d.key, &d.touched);
                }
                Leftovers::Collect(delta) => {
                    // An op like a write: every region drops the leftovers, so none can
                    // show them again through a later op that did not observe them.
                    e.merge(&delta);
                    let hlc = self.ctx.clock.tick().0;
                    self.stats.gc_leftover_ops += 1;
                    self.replicate(d.slot, &d.key, hlc, &delta);
                    self.gc.retouch(d.slot, &d.key, &d.touched);
                }
            }
        }
        self.flush_pending();
    }

    /// Appends a report of what this shard has received to its own stream, if a write
    /// arrived since the last one: peers compute the group-wide stable vector from it.
    fn send_report(&mut self) {
        if !self.report_due || self.fenced {
            return;
        }
        let Some(log) = &self.ctx.log else { return };
        self.report_due = false;
        let rep: crate::repl::Received = self
            .received
            .iter()
            .map(|(&(r, s), &h)| (r, s, h))
            .collect();
        log.append(vec![(self.ctx.clock.tick().0, encode_report(&rep))]);
    }

    /// Applies encoded remote ops of one origin stream.
    fn apply_remote(&mut self, msg: &ApplyRemote) -> usize {
        self.origin_shards.insert(msg.origin.0, msg.origin_shards);
        let stream = (msg.origin.0, msg.origin_shard);
        let mut applied = 0;
        for (hlc, raw) in &msg.ops {
            if self.received.get(&stream).is_some_and(|&h| *hlc <= h) {
                self.stats.duplicate_ops += 1;
                continue;
            }
            match decode_op(raw) {
                Ok((slot, Op::Write(op))) => {
                    self.ctx.clock.observe(Hlc(*hlc));
                    self.keys.entry(slot, &op.key).merge(&op.delta);
                    self.received.insert(stream, *hlc);
                    let dot = Dot {
                        hlc: Hlc(*hlc),
                        region: msg.origin,
                    };
                    self.settle(slot, &op.key, &op.delta, dot);
                    applied += 1;
                }
                Ok((_, Op::Publish { channel, message })) => {
                    self.ctx.clock.observe(Hlc(*hlc));
                    self.ctx.hub.publish(&channel, &message);
                    self.received.insert(stream, *hlc);
                    applied += 1;
                }
                Ok((_, Op::Report(rep))) => {
                    self.ctx.clock.observe(Hlc(*hlc));
                    self.reports.insert(
                        stream,
                        rep.into_iter().map(|(r, s, h)| ((r, s), h)).collect(),
                    );
                    self.received.insert(stream, *hlc);
                }
                Err(e) => {
                    self.stats.bad_remote_ops += 1;
                    tracing::error!(shard = self.ctx.index, error = %e, "skipping a remote op that does not decode");
                }
            }
        }
        if msg.last_hlc > 0 {
            let h = self.received.entry(stream).or_insert(0);
            *h = (*h).max(msg.last_hlc);
        }
        self.stats.remote_ops += applied as u64;
        if applied > 0 {
            self.report_due = true;
        }
        // Received vectors and reports moved: queued removals may be stable now.
        if self.gc.len() > 0 {
            self.collect_due();
        }
        applied
    }

    /// Deletes keys whose TTL this region owns and that are due (active expiry).
    fn expire_due(&mut self) {
        if self.fenced {
            // Leaving the group: the delete could not be replicated. Reads still treat
            // the key as expired; it is deleted once the region is standalone.
            return;
        }
        let now = self.ctx.clock.now_ms();
        // Bounded work per tick, like Redis's active expire cycle, so a burst of expiries
        // cannot stall client commands.
        let due = self.keys.due_expiries(now, 1000);
        for key in due {
            let slot = resp::key_slot(&key);
            let owner_due = match self.keys.get(slot, &key) {
                Some(e) if e.is_live() => match e.expiry() {
                    Some(x) => x.deadline_ms <= now && x.owner == self.ctx.region,
                    None => false,
                },
                _ => false,
            };
            if owner_due {
                self.expire_key(slot, &key);
            }
        }
        self.flush_pending();
    }

    /// Deletes an expired key and replicates the delete (observed-remove).
    pub(crate) fn expire_key(&mut self, slot: u16, key: &[u8]) {
        let dot = self.dot();
        let delta = self.keys.get_mut(slot, key).and_then(|e| e.delete());
        if let Some(delta) = delta {
            self.stats.expired_keys += 1;
            self.replicate(slot, key, dot.hlc.0, &delta);
        }
    }

    fn stats(&self) -> ShardStats {
        let mut s = self.stats.clone();
        let now = self.ctx.clock.now_ms();
        let mut keys = 0;
        let mut expires = 0;
        for (_, _, e) in self.keys.iter_slots(0..SLOTS) {
            if visible(e, now) {
                keys += 1;
                if e.expiry().is_some() {
                    expires += 1;
                }
            }
        }
        s.keys = keys;
        s.expires = expires;
        s.entries = self.keys.entries() as u64;
        s.backlog_bytes = self.ctx.log.as_ref().map(|l| l.bytes() as u64).unwrap_or(0);
        s.gc_pending = self.gc.len() as u64;
        s.gc_waiting_on = self.gc_waiting_on();
        s
    }

    /// Per peer: queued keys with a removal that peer has not reported yet (what force-
    /// unlinking it, or its return, would let go).
    fn gc_waiting_on(&self) -> std::collections::BTreeMap<u8, u64> {
        let mut out = std::collections::BTreeMap::new();
        for &p in self.ctx.regions.iter().filter(|&&p| p != self.ctx.region) {
            let n = self
                .gc
                .waiting()
                .filter(|((slot, _), vv)| {
                    vv.iter().any(|(r, h)| {
                        r != p
                            && reported(&self.ctx, &self.origin_shards, &self.reports, *slot, p, r)
                                < h.0
                    })
                })
                .count();
            if n > 0 {
                out.insert(p.0, n as u64);
            }
        }
        out
    }
}

/// What a shard has received of each region's ops on `slot`'s keys (own region: all).
fn received_vector(
    ctx: &ShardContext,
    received: &Received,
    origin_shards: &HashMap<u8, u16>,
    slot: u16,
) -> VersionVector {
    let mut vv = VersionVector::new();
    vv.set_max(ctx.region, Hlc(u64::MAX));
    for r in ctx.regions.iter().chain(&departed(ctx, origin_shards)) {
        if *r == ctx.region {
            continue;
        }
        let Some(&n) = origin_shards.get(&r.0) else {
            continue;
        };
        if let Some(&h) = received.get(&(r.0, slot_shard(slot, n))) {
            vv.set_max(*r, Hlc(h));
        }
    }
    vv
}

/// The group-wide stable vector for `slot`'s keys, as this shard knows it: for each member
/// region `r`, the pointwise minimum of what this shard received of `r`'s stream carrying
/// the slot and what every other member last reported (in its own stream carrying the slot)
/// it received of that stream. Reports travel in the reporter's stream, after every op it
/// sent before, so an op at or below this vector is at every member and every op made
/// concurrently with it has arrived here. Unknown entries count as 0 (nothing stable).
/// A region that left the group (removed or force-unlinked) sends nothing more: what this
/// shard received of it is all it will ever have, so that is stable, and it reports no more.
fn stable_vector(
    ctx: &ShardContext,
    received: &Received,
    origin_shards: &HashMap<u8, u16>,
    reports: &Reports,
    slot: u16,
) -> VersionVector {
    let mut vv = VersionVector::new();
    for r in departed(ctx, origin_shards) {
        if let Some(&h) =
            stream_of(ctx, origin_shards, slot, r).and_then(|rs| received.get(&(r.0, rs)))
        {
            vv.set_max(r, Hlc(h));
        }
    }
    for &r in &ctx.regions {
        let Some(rs) = stream_of(ctx, origin_shards, slot, r) else {
            continue;
        };
        let mut h = if r == ctx.region {
            u64::MAX
        } else {
            received.get(&(r.0, rs)).copied().unwrap_or(0)
        };
        for &j in &ctx.regions {
            if j == ctx.region || j == r {
                continue;
            }
            h = h.min(reported(ctx, origin_shards, reports, slot, j, r));
        }
        // Our own ops, with no other member left to wait for, are all stable.
        vv.set_max(r, Hlc(h));
    }
    vv
}

/// Regions this shard holds ops of that are no longer members of the group.
fn departed(ctx: &ShardContext, origin_shards: &HashMap<u8, u16>) -> Vec<RegionId> {
    origin_shards
        .keys()
        .map(|&r| RegionId(r))
        .filter(|r| *r != ctx.region && !ctx.regions.contains(r))
        .collect()
}

/// Which stream of region `r` carries `slot`'s keys (`None` while `r`'s shard count is not
/// known yet).
fn stream_of(
    ctx: &ShardContext,
    origin_shards: &HashMap<u8, u16>,
    slot: u16,
    r: RegionId,
) -> Option<u16> {
    if r == ctx.region {
        Some(slot_shard(slot, ctx.shards))
    } else {
        origin_shards.get(&r.0).map(|&n| slot_shard(slot, n))
    }
}

/// What member `j` last reported, in its stream carrying `slot`, to have received of
/// region `r`'s stream carrying `slot` (0: nothing known).
fn reported(
    ctx: &ShardContext,
    origin_shards: &HashMap<u8, u16>,
    reports: &Reports,
    slot: u16,
    j: RegionId,
    r: RegionId,
) -> u64 {
    let (Some(js), Some(rs)) = (
        stream_of(ctx, origin_shards, slot, j),
        stream_of(ctx, origin_shards, slot, r),
    ) else {
        return 0;
    };
    reports
        .get(&(j.0, js))
        .and_then(|m| m.get(&(r.0, rs)))
        .copied()
        .unwrap_or(0)
}

/// Which of `shards` shards owns `slot`: slots are split into contiguous, nearly equal
/// ranges, the same way in every region, so a receiver can tell which of an origin's
/// streams carries a key.
pub fn slot_shard(slot: u16, shards: u16) -> u16 {
    let shards = shards.max(1) as u32;
    ((slot as u32 * shards) / SLOTS as u32) as u16
}

/// The first slot of shard `index` of `shards` (inverse of [`slot_shard`]).
pub fn shard_first_slot(index: u16, shards: u16) -> u32 {
    let shards = shards.max(1) as u32;
    (index as u32 * SLOTS as u32).div_ceil(shards)
}

impl Actor for Shard {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // Larger than the default (16) so bursts from many connections queue rather than
        // making senders wait for capacity.
        ctx.set_mailbox_capacity(1024);
        ctx.run_interval(Duration::from_millis(100), |shard, _| {
            shard.expire_due();
            shard.send_report();
            if shard.gc.len() > 0 {
                shard.collect_due();
            }
        });
    }
}

/// A batch of client commands for this shard, from one connection, in arrival order.
#[derive(Message)]
#[rtype(result = "ExecReply")]
pub struct Exec {
    /// Protocol version of the connection (reply encoding).
    pub proto: resp::Protocol,
    /// The commands with their hash slot.
    pub cmds: Vec<(u16, resp::Command)>,
}

/// The encoded replies of an [`Exec`] batch.
pub struct ExecReply {
    /// All replies, concatenated.
    pub out: BytesMut,
    /// End offset in `out` of each command's reply.
    pub ends: Vec<u32>,
}

impl ExecReply {
    /// The reply of the batch's `k`-th command.
    pub fn get(&self, k: usize) -> Option<&[u8]> {
        let start = match k {
            0 => 0,
            _ => *self.ends.get(k - 1)? as usize,
        };
        self.out.get(start..*self.ends.get(k)? as usize)
    }
}

impl Handler<Exec> for Shard {
    type Result = MessageResult<Exec>;

    fn handle(&mut self, msg: Exec, _: &mut Self::Context) -> Self::Result {
        MessageResult(self.run(msg.proto, msg.cmds))
    }
}

impl Shard {
    /// Executes a batch and returns its replies.
    fn run(&mut self, proto: resp::Protocol, cmds: Vec<(u16, resp::Command)>) -> ExecReply {
        let mut out = BytesMut::with_capacity(64 * cmds.len());
        let mut ends = Vec::with_capacity(cmds.len());
        let now = self.ctx.clock.now_ms();
        for (slot, cmd) in cmds {
            let mut w = resp::ReplyWriter::new(&mut out, proto);
            if self.fenced && cmd.is_write() {
                w.error(FENCED);
            } else {
                self.execute(slot, cmd, now, &mut w);
            }
            ends.push(out.len() as u32);
        }
        self.stats.commands += ends.len() as u64;
        self.flush_pending();
        ExecReply { out, ends }
    }
}

/// WATCH: connection `conn` watches `keys` (all on this shard).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Watch {
    /// The connection's id.
    pub conn: u64,
    /// The keys with their slots.
    pub keys: Vec<(u16, Bytes)>,
}

impl Handler<Watch> for Shard {
    type Result = ();

    fn handle(&mut self, msg: Watch, _: &mut Self::Context) {
        let now = self.ctx.clock.now_ms();
        for (slot, key) in msg.keys {
            let deadline = self
                .keys
                .get(slot, &key)
                .filter(|e| visible(e, now))
                .and_then(|e| e.expiry())
                .map(|x| x.deadline_ms);
            self.watches.watch(msg.conn, &key, deadline);
        }
    }
}

/// UNWATCH, DISCARD, or a watching connection that went away.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Unwatch {
    /// The connection's id.
    pub conn: u64,
}

impl Handler<Unwatch> for Shard {
    type Result = ();

    fn handle(&mut self, msg: Unwatch, _: &mut Self::Context) {
        let now = self.ctx.clock.now_ms();
        self.watches.take(msg.conn, now);
    }
}

/// EXEC: a transaction's commands, run in one go (nothing else runs on the shard between
/// them) unless a key the connection watched was touched, in which case nothing runs and
/// the reply is `None`. Either way the connection's watches end.
#[derive(Message)]
#[rtype(result = "Option<ExecReply>")]
pub struct TxExec {
    /// The connection's id.
    pub conn: u64,
    /// Protocol version of the connection.
    pub proto: resp::Protocol,
    /// The queued commands with their slots.
    pub cmds: Vec<(u16, resp::Command)>,
}

impl Handler<TxExec> for Shard {
    type Result = MessageResult<TxExec>;

    fn handle(&mut self, msg: TxExec, _: &mut Self::Context) -> Self::Result {
        let now = self.ctx.clock.now_ms();
        if !self.watches.take(msg.conn, now) {
            return MessageResult(None);
        }
        MessageResult(Some(self.run(msg.proto, msg.cmds)))
    }
}

/// Deltas received from another region: this shard's part of one batch of one origin
/// stream (possibly none of its ops, to advance the received stamp).
#[derive(Message)]
#[rtype(result = "usize")]
pub struct ApplyRemote {
    /// The region that made the ops.
    pub origin: RegionId,
    /// How many shards (streams) the origin has.
    pub origin_shards: u16,
    /// Which of its streams this is.
    pub origin_shard: u16,
    /// Stamp of the batch's last op: everything of the stream up to it has been delivered.
    pub last_hlc: u64,
    /// Encoded ops (slot-prefixed) with their stamps, in the stream's order.
    pub ops: Vec<(u64, Bytes)>,
}

impl Handler<ApplyRemote> for Shard {
    type Result = usize;

    fn handle(&mut self, msg: ApplyRemote, _: &mut Self::Context) -> usize {
        self.apply_remote(&msg)
    }
}

/// Visible keys (DBSIZE).
#[derive(Message)]
#[rtype(result = "u64")]
pub struct Dbsize;

impl Handler<Dbsize> for Shard {
    type Result = u64;

    fn handle(&mut self, _: Dbsize, _: &mut Self::Context) -> u64 {
        let now = self.ctx.clock.now_ms();
        self.keys
            .iter_slots(0..SLOTS)
            .filter(|(_, _, e)| visible(e, now))
            .count() as u64
    }
}

/// Scan whole slots from `from_slot` up to (not including) `end_slot`, stopping after the
/// slot in which `count` keys were reached.
#[derive(Message)]
#[rtype(result = "(u32, Vec<Bytes>)")]
pub struct ScanSlots {
    /// First slot to scan.
    pub from_slot: u32,
    /// Slot after the last one this shard owns.
    pub end_slot: u32,
    /// Keys wanted (a hint: whole slots are returned).
    pub count: usize,
    /// MATCH pattern.
    pub pattern: Option<Bytes>,
    /// TYPE filter (`string`, `set`, …).
    pub kind: Option<Bytes>,
}

impl Handler<ScanSlots> for Shard {
    type Result = MessageResult<ScanSlots>;

    fn handle(&mut self, msg: ScanSlots, _: &mut Self::Context) -> Self::Result {
        let now = self.ctx.clock.now_ms();
        let mut keys = Vec::new();
        let mut slot = msg.from_slot;
        while slot < msg.end_slot {
            for (_, key, e) in self.keys.iter_slots(slot as usize..slot as usize + 1) {
                if visible(e, now)
                    && self.matches(key, e, msg.pattern.as_deref(), msg.kind.as_deref())
                {
                    keys.push(Bytes::copy_from_slice(key));
                }
            }
            slot += 1;
            if keys.len() >= msg.count {
                break;
            }
        }
        MessageResult((slot, keys))
    }
}

/// All visible keys matching a pattern (KEYS).
#[derive(Message)]
#[rtype(result = "Vec<Bytes>")]
pub struct Keys {
    /// Glob pattern.
    pub pattern: Bytes,
}

impl Handler<Keys> for Shard {
    type Result = MessageResult<Keys>;

    fn handle(&mut self, msg: Keys, _: &mut Self::Context) -> Self::Result {
        let now = self.ctx.clock.now_ms();
        let keys = self
            .keys
            .iter_slots(0..SLOTS)
            .filter(|(_, k, e)| visible(e, now) && self.matches(k, e, Some(&msg.pattern), None))
            .map(|(_, k, _)| Bytes::copy_from_slice(k))
            .collect();
        MessageResult(keys)
    }
}

/// A hash of the shard's logical contents (visible values and TTL deadlines), equal in
/// converged regions; shards' digests combine by XOR, so the order does not matter.
#[derive(Message)]
#[rtype(result = "u64")]
pub struct Digest;

impl Handler<Digest> for Shard {
    type Result = u64;

    fn handle(&mut self, _: Digest, _: &mut Self::Context) -> u64 {
        let now = self.ctx.clock.now_ms();
        let mut acc = 0u64;
        let mut buf = Vec::new();
        for (_, key, e) in self.keys.iter_slots(0..SLOTS) {
            if !visible(e, now) {
                continue;
            }
            buf.clear();
            buf.extend_from_slice(&(key.len() as u64).to_be_bytes());
            buf.extend_from_slice(key);
            e.logical_digest(&mut |b: &[u8]| buf.extend_from_slice(b));
            acc ^= crdt::fnv1a64(&buf);
        }
        acc
    }
}

/// Counters for INFO.
#[derive(Message)]
#[rtype(result = "ShardStats")]
pub struct Stats;

impl Handler<Stats> for Shard {
    type Result = MessageResult<Stats>;

    fn handle(&mut self, _: Stats, _: &mut Self::Context) -> Self::Result {
        MessageResult(self.stats())
    }
}

/// The group's members changed: `regions` are the members now (this one included), and
/// `log` is the shard's replication log while there is any other member (`None`: a lone
/// region ships nothing and compacts at once).
#[derive(Message)]
#[rtype(result = "()")]
pub struct SetRegions {
    /// The members, this region included.
    pub regions: Vec<RegionId>,
    /// The shard's log, when linked.
    pub log: Option<Arc<ReplLog>>,
}

impl Handler<SetRegions> for Shard {
    type Result = ();

    fn handle(&mut self, msg: SetRegions, _: &mut Self::Context) {
        let left: Vec<RegionId> = self
            .ctx
            .regions
            .iter()
            .filter(|r| !msg.regions.contains(r))
            .copied()
            .collect();
        // A member that left reports no more: its reports would hold collection back.
        self.reports
            .retain(|(r, _), _| !left.contains(&RegionId(*r)));
        self.ctx.regions = msg.regions;
        self.ctx.log = msg.log;
    }
}

/// The answer to a write while the region leaves its group.
const FENCED: &str = "READONLY this region is leaving its replication group: it takes no writes until every member has its earlier ones (then it is a standalone region)";

/// Fences the shard (`true`) while the region leaves its group gracefully: it refuses
/// writes and appends nothing more to its replication log (no received reports, no
/// collection ops), so the log's head is the last op every member must acknowledge.
/// `false` lifts it.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Fence(pub bool);

impl Handler<Fence> for Shard {
    type Result = ();

    fn handle(&mut self, msg: Fence, _: &mut Self::Context) {
        self.fenced = msg.0;
    }
}

/// Empties the shard and its replication log, and forgets every origin stream: the
/// region starts over (a purge, or joining a group whose snapshot replaces the data).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Purge {
    /// The shard's log (kept by the node also while the region is alone).
    pub log: Arc<ReplLog>,
}

impl Handler<Purge> for Shard {
    type Result = ();

    fn handle(&mut self, msg: Purge, _: &mut Self::Context) {
        self.keys.clear();
        self.gc.clear();
        self.watches.touch_all();
        self.pending.clear();
        self.received.clear();
        self.origin_shards.clear();
        self.reports.clear();
        self.report_due = false;
        msg.log.reset();
    }
}

/// Empties the shard (FLUSHALL on an unlinked region).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Flush;

impl Handler<Flush> for Shard {
    type Result = ();

    fn handle(&mut self, _: Flush, _: &mut Self::Context) {
        self.keys.clear();
        self.gc.clear();
        self.watches.touch_all();
    }
}

/// Whether a key is visible to clients at `now`: it has live content and has not expired.
pub(crate) fn visible(e: &Entry, now: u64) -> bool {
    e.is_live() && e.expiry().is_none_or(|x| x.deadline_ms > now)
}

/// The name TYPE prints for an entry.
pub(crate) fn type_name(e: &Entry) -> &'static str {
    match e.kind() {
        Some(crdt::Kind::String) => "string",
        Some(crdt::Kind::Set) => "set",
        Some(crdt::Kind::Hash) => "hash",
        Some(crdt::Kind::ZSet) => "zset",
        Some(crdt::Kind::List) => "list",
        None => "none",
    }
}

impl Shard {
    fn matches(&self, key: &[u8], e: &Entry, pattern: Option<&[u8]>, kind: Option<&[u8]>) -> bool {
        if let Some(p) = pattern {
            // Redis treats a lone `*` as "everything" before matching (the matcher itself
            // does not match `*` against the empty key).
            if p != b"*" && !resp::glob_match(p, key, false) {
                return false;
            }
        }
        if let Some(k) = kind {
            if !type_name(e).as_bytes().eq_ignore_ascii_case(k) {
                return false;
            }
        }
        true
    }
}
