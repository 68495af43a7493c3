//! Redis lists as a sequence CRDT: an RGA (replicated growable array).
//!
//! # Model
//!
//! Every element ever pushed is a record ([`Elem`]): a unique [`ElemId`] (the inserting op's
//! dot plus the element's index inside a multi-value push), the id of the element it was
//! inserted right after (its *origin*, `None` = the head), its value, the stamp of the write
//! that set the value (`LSET` moves it), and a removed flag. The visible list is a
//! deterministic function of the records: the tree "origin → children, children in
//! *descending* id order", read in pre-order, skipping removed records and records whose
//! insertion dot the key floor covers. So every concurrent insert survives, and concurrent
//! inserts at one spot land in id order, the same in every region.
//!
//! Ids are ordered by `(hlc, region, seq)`: an element inserted after observing `X` has a
//! larger id than `X` (the HLC moves past every stamp a replica merges, and later values of
//! one push have a larger `seq`), which is what lets [`List`] integrate records
//! incrementally (after the origin, skip the records with a larger id) into a `VecDeque`.
//! The region comes before `seq` so that two pushes with the same stamp do not interleave
//! their values.
//!
//! # Writes and deltas
//!
//! Local writes take the visible index under the key floor and the op's dot, change the list
//! and return a delta: a [`List`] holding only the touched records, in full (a removal or an
//! `LSET` that reaches a region before the insert still carries everything needed). A delta
//! is merged like a state: [`List::merge`] is a join (union of records by id; value
//! last-writer-wins by stamp; removal wins and is permanent). Records whose origin has not
//! arrived yet wait in an orphan buffer (invisible) and are placed as soon as it arrives.
//!
//! Where writes put their elements (every origin is an element that was *visible* to the
//! writer, never a tombstone, which is what makes tombstones collectable):
//! - `LPUSH`: origin = head, so each value becomes the first element (`LPUSH a b c` reads
//!   `c b a`); concurrent `LPUSH`es all land before every element either side had seen.
//! - `RPUSH`: origin = the last *visible* element (head if none), so the value goes right
//!   after it, before any trailing tombstones; later values of the same push chain after the
//!   previous one. Two regions that push concurrently after the same visible tail `v` both
//!   make children of `v`: both land after `v` and after everything either had seen (what
//!   follows `v` was removed there), in descending id order, the same everywhere.
//! - `LINSERT AFTER p`: origin = `p`. `LINSERT BEFORE p`: origin = the visible element before
//!   `p` (head if none).
//!
//! # Tombstones
//!
//! A removed record stays (value dropped) as long as an insert that refers to it or that is
//! placed next to it may still arrive; see [`List::compact`] (lone region: everything goes)
//! and [`List::compact_stable`] (linked group: only what is causally stable).
//!
//! # Costs
//!
//! A record is 56 bytes (plus the value's heap allocation; tombstones have none) in a
//! `VecDeque`, plus O(regions) of summaries. With an empty floor:
//! - `LPUSH`, `RPUSH`, `LPOP`, `RPOP` are O(1) when the list is compacted (lone region), and in
//!   a linked group between compactions for queues (`RPUSH`+`LPOP`, `LPUSH`+`RPOP`) and for
//!   `LPUSH`+`LPOP` stacks. An `RPUSH`+`RPOP` stack leaves tombstones after the tail that
//!   each `RPUSH` goes in front of: O(min(tail tombstones, length)) memmove until compacted.
//! - Index access is O(distance from the nearer end); `len` is O(1); `max_dot` is a scan.
//! - Merging a delta of `m` records is O(m) when they sit near an end, the cursor or a
//!   tombstone run edge, and O(n + m) at worst (a merge that would scan more finishes in
//!   one linear pass).
//!
//! A non-empty floor (a `DEL` not yet compacted into tombstones) makes reads and writes scan.
//!
//! # What the caller must do
//!
//! - Every local op's dot must be larger than every stamp merged here (advance the clock by
//!   [`List::max_hlc`] of what is merged): ids must grow along causality.
//! - Deltas may be merged in any order and more than once, until [`List::compact_stable`]
//!   has dropped something; after that, re-deliveries must be filtered out.
//! - Install a full snapshot into an *empty* list (merging into an empty list clones it,
//!   keeping its order). Merging a compacted state into a non-empty list is fine within the
//!   group it was compacted in, but a list that never had the dropped tombstones' inserts
//!   would keep the records placed after them as orphans (invisible).
//! - Before pruning a key floor that covers list elements, call [`List::compact`] (or
//!   [`List::remove_covered`]) with it, so the covered records become tombstones.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::hlc::{Dot, Hlc, RegionId};
use crate::vv::VersionVector;

/// An element's identity: the dot of the op that inserted it and its index within that op.
/// Ordered by `(hlc, region, seq)`; an element inserted after observing another has a larger
/// id.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct ElemId {
    /// The inserting op's stamp.
    pub hlc: Hlc,
    /// The inserting op's region.
    pub region: RegionId,
    /// Index of the element within the op (`LPUSH a b c` makes `seq` 0, 1, 2).
    pub seq: u32,
}

impl ElemId {
    const MIN: ElemId = ElemId {
        hlc: Hlc(0),
        region: RegionId(0),
        seq: 0,
    };
    const MAX: ElemId = ElemId {
        hlc: Hlc(u64::MAX),
        region: RegionId(u8::MAX),
        seq: u32::MAX,
    };

    /// The id of the `seq`-th element of the op `dot`.
    pub fn new(dot: Dot, seq: u32) -> ElemId {
        ElemId {
            hlc: dot.hlc,
            region: dot.region,
            seq,
        }
    }

    /// The inserting op's dot (what key floors cover).
    pub fn dot(self) -> Dot {
        Dot {
            hlc: self.hlc,
            region: self.region,
        }
    }
}

/// Record flag: removed (the stamp is the removal's dot, the value is empty).
const REMOVED: u8 = 1;
/// Record flag: removed by a key floor whose op is unknown (no removal stamp).
const NO_STAMP: u8 = 2;

/// One element record. Fields are packed by hand (56 bytes); read them through the methods.
///
/// The stamp is the value's write (insert or `LSET`) while the element is live, and the
/// removal's dot once it is removed (the earliest known, if several regions removed it; none
/// if only a key floor removed it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Elem {
    id_hlc: Hlc,
    /// `Hlc(0)` (never a real stamp): inserted at the head.
    origin_hlc: Hlc,
    stamp_hlc: Hlc,
    #[serde(with = "serde_bytes")]
    value: Box<[u8]>,
    id_seq: u32,
    origin_seq: u32,
    id_region: RegionId,
    origin_region: RegionId,
    stamp_region: RegionId,
    flags: u8,
}

impl Elem {
    fn new(id: ElemId, origin: Option<ElemId>, vdot: Dot, value: Box<[u8]>) -> Elem {
        let o = origin.unwrap_or(ElemId::MIN);
        Elem {
            id_hlc: id.hlc,
            origin_hlc: o.hlc,
            stamp_hlc: vdot.hlc,
            value,
            id_seq: id.seq,
            origin_seq: o.seq,
            id_region: id.region,
            origin_region: o.region,
            stamp_region: vdot.region,
            flags: 0,
        }
    }

    /// The element's id.
    pub fn id(&self) -> ElemId {
        ElemId {
            hlc: self.id_hlc,
            region: self.id_region,
            seq: self.id_seq,
        }
    }

    fn has_id(&self, id: ElemId) -> bool {
        self.id_hlc == id.hlc && self.id_seq == id.seq && self.id_region == id.region
    }

    /// The element it was inserted after (`None`: the head).
    pub fn origin(&self) -> Option<ElemId> {
        (self.origin_hlc != Hlc(0)).then_some(ElemId {
            hlc: self.origin_hlc,
            region: self.origin_region,
            seq: self.origin_seq,
        })
    }

    /// The insertion dot (what a key floor covers).
    pub fn dot(&self) -> Dot {
        Dot {
            hlc: self.id_hlc,
            region: self.id_region,
        }
    }

    /// The value (empty once removed).
    pub fn value(&self) -> &[u8] {
        &self.value
    }

    /// Whether the element was removed (pop, `LREM`, `LTRIM`, or a key floor at compaction).
    pub fn is_removed(&self) -> bool {
        self.flags & REMOVED != 0
    }

    /// The stamp of the value's write (the insert or the last `LSET`), while live.
    pub fn vdot(&self) -> Option<Dot> {
        (!self.is_removed()).then(|| self.stamp())
    }

    /// The removal's dot, if removed by a known op.
    pub fn removal(&self) -> Option<Dot> {
        (self.flags == REMOVED).then(|| self.stamp())
    }

    fn stamp(&self) -> Dot {
        Dot {
            hlc: self.stamp_hlc,
            region: self.stamp_region,
        }
    }

    /// Live and never `LSET`: a record as its inserting region first sent it.
    fn is_fresh(&self) -> bool {
        self.flags == 0 && self.stamp_hlc == self.id_hlc && self.stamp_region == self.id_region
    }

    /// The same record removed by `stamp` (`None`: by a key floor of unknown op).
    fn tombstone(&self, stamp: Option<Dot>) -> Elem {
        let s = stamp.unwrap_or_default();
        Elem {
            id_hlc: self.id_hlc,
            origin_hlc: self.origin_hlc,
            stamp_hlc: s.hlc,
            value: Box::default(),
            id_seq: self.id_seq,
            origin_seq: self.origin_seq,
            id_region: self.id_region,
            origin_region: self.origin_region,
            stamp_region: s.region,
            flags: if stamp.is_some() {
                REMOVED
            } else {
                REMOVED | NO_STAMP
            },
        }
    }

    fn take_removal(&mut self, o: &Elem) {
        self.flags = o.flags;
        self.stamp_hlc = o.stamp_hlc;
        self.stamp_region = o.stamp_region;
        self.value = Box::default();
    }

    /// Joins another version of the same record into this one. Returns whether this record
    /// just became removed.
    fn join(&mut self, o: &Elem) -> bool {
        match (self.is_removed(), o.is_removed()) {
            (false, false) => {
                if o.stamp() > self.stamp() {
                    self.stamp_hlc = o.stamp_hlc;
                    self.stamp_region = o.stamp_region;
                    self.value = o.value.clone();
                }
                false
            }
            (false, true) => {
                self.take_removal(o);
                true
            }
            (true, false) => false,
            (true, true) => {
                // Keep the earliest known removal: once it is stable, every region has the
                // element removed.
                let better = match (o.removal(), self.removal()) {
                    (Some(a), Some(b)) => a < b,
                    (Some(_), None) => true,
                    _ => false,
                };
                if better {
                    self.take_removal(o);
                }
                false
            }
        }
    }
}

/// Ids this list has held, summarized so that a record arriving for the first time is
/// recognized without a scan (and for [`List::observed`] and [`List::max_hlc`]).
#[derive(Debug, Clone, Default)]
struct Seen {
    /// Per region, the largest id of a *fresh* record held (fresh records of a region arrive
    /// in order, from that region).
    newest: Vec<(RegionId, ElemId)>,
    /// Every other record held whose id is above its region's `newest` (removals or `LSET`s
    /// forwarded by a third region ahead of the insert).
    early: BTreeSet<ElemId>,
    /// The largest stamp held.
    max_stamp: Hlc,
}

impl Seen {
    fn newest(&self, region: RegionId) -> Option<ElemId> {
        self.newest
            .iter()
            .find(|(r, _)| *r == region)
            .map(|&(_, id)| id)
    }

    fn note(&mut self, e: &Elem) {
        let id = e.id();
        self.max_stamp = self.max_stamp.max(id.hlc).max(e.stamp_hlc);
        let cur = self.newest(id.region);
        if cur.is_some_and(|c| id <= c) {
            return;
        }
        if e.is_fresh() {
            match self.newest.iter_mut().find(|(r, _)| *r == id.region) {
                Some(slot) => slot.1 = id,
                None => {
                    self.newest.push((id.region, id));
                    self.newest.sort_unstable_by_key(|x| x.0);
                }
            }
            if !self.early.is_empty() {
                self.early.retain(|x| x.region != id.region || *x > id);
            }
        } else {
            self.early.insert(id);
        }
    }

    /// Whether no record with this id is held (a `false` may still be absent).
    fn surely_new(&self, id: ElemId) -> bool {
        self.newest(id.region).is_none_or(|c| id > c) && !self.early.contains(&id)
    }
}

/// The merge scanned too much: finish with one linear pass.
struct OutOfBudget;

const NIL: usize = usize::MAX;

/// A list value: the element records in their sequence order, plus the orphans (records
/// whose origin has not arrived). See the [module docs](self).
///
/// Equality compares the records (sequence and orphans), not the caches.
#[derive(Debug, Clone, Default)]
pub struct List {
    seq: VecDeque<Elem>,
    /// Orphans by id.
    orphans: BTreeMap<ElemId, Elem>,
    /// `(origin, id)` of every orphan.
    waiting: BTreeSet<(ElemId, ElemId)>,
    /// Removed records in `seq`.
    dead: usize,
    /// `seq[..lead]` are all removed (and `seq[lead]` is not).
    lead: usize,
    /// When `lead < len`: `seq[lead + 1..=lead + gap]` are removed too (the run an `LPUSH`
    /// put a live element in front of), so the pop that follows skips it in O(1).
    gap: usize,
    /// The last `trail` records of `seq` are all removed (and the one before is not).
    trail: usize,
    /// Where the last record was placed or found: where the next lookup starts.
    cursor: usize,
    seen: Seen,
}

impl PartialEq for List {
    fn eq(&self, other: &Self) -> bool {
        self.seq == other.seq && self.orphans == other.orphans
    }
}

impl Eq for List {}

fn shows(e: &Elem, floor: &VersionVector) -> bool {
    !e.is_removed() && !floor.covers(&e.dot())
}

impl List {
    /// An empty list.
    pub fn new() -> List {
        List::default()
    }

    /// No records at all (not even tombstones or orphans): the key may be dropped.
    pub fn is_empty(&self) -> bool {
        self.seq.is_empty() && self.orphans.is_empty()
    }

    /// Records held, tombstones and orphans included.
    pub fn record_count(&self) -> usize {
        self.seq.len() + self.orphans.len()
    }

    /// Removed records still held in the sequence (what compaction could drop).
    pub fn tombstones(&self) -> usize {
        self.dead
    }

    /// Records waiting for their origin.
    pub fn orphan_count(&self) -> usize {
        self.orphans.len()
    }

    /// Every record: the sequence in order, then the orphans (each after its origin, if that
    /// is an orphan too).
    pub fn records(&self) -> impl Iterator<Item = &Elem> + '_ {
        self.seq.iter().chain(
            self.waiting
                .iter()
                .filter_map(|(_, id)| self.orphans.get(id)),
        )
    }

    fn live(&self) -> usize {
        self.seq.len() - self.dead
    }

    /// The part of `seq` that can hold visible elements.
    fn live_range(&self) -> (usize, usize) {
        let len = self.seq.len();
        let hi = len - self.trail.min(len);
        (self.lead.min(hi), hi)
    }

    fn shown<'a>(
        &'a self,
        floor: &'a VersionVector,
    ) -> impl DoubleEndedIterator<Item = &'a Elem> + 'a {
        let (lo, hi) = self.live_range();
        self.seq.range(lo..hi).filter(move |e| shows(e, floor))
    }

    /// Number of visible elements. O(1) when `floor` is empty, else a scan.
    pub fn len(&self, floor: &VersionVector) -> usize {
        if floor.is_empty() {
            self.live()
        } else {
            self.shown(floor).count()
        }
    }

    /// Visible values, head to tail (reversible).
    pub fn iter<'a>(
        &'a self,
        floor: &'a VersionVector,
    ) -> impl DoubleEndedIterator<Item = &'a [u8]> + 'a {
        self.shown(floor).map(|e| &e.value[..])
    }

    /// The value at a Redis index (negative: from the tail). O(distance from the nearer end)
    /// with an empty floor.
    pub fn get(&self, floor: &VersionVector, index: i64) -> Option<&[u8]> {
        let p = if index >= 0 {
            self.nth_pos(floor, usize::try_from(index).ok()?)
        } else {
            self.nth_back_pos(floor, usize::try_from(index.unsigned_abs() - 1).ok()?)
        }?;
        Some(&self.seq[p].value)
    }

    /// `LRANGE start stop` (inclusive, negative from the tail), read from the nearer end.
    pub fn range<'a>(&'a self, floor: &'a VersionVector, start: i64, stop: i64) -> Vec<&'a [u8]> {
        let len = self.len(floor) as i64;
        let s = if start < 0 {
            (len + start).max(0)
        } else {
            start
        };
        let e = if stop < 0 {
            len + stop
        } else {
            stop.min(len - 1)
        };
        if s > e || s >= len {
            return Vec::new();
        }
        let (s, e, len) = (s as usize, e as usize, len as usize);
        let n = e - s + 1;
        if s <= len - 1 - e {
            self.iter(floor).skip(s).take(n).collect()
        } else {
            let mut v: Vec<&[u8]> = self.iter(floor).rev().skip(len - 1 - e).take(n).collect();
            v.reverse();
            v
        }
    }

    /// The largest value stamp (insert or `LSET`) among visible elements: the list's latest
    /// live write, for the type-conflict rule. A scan.
    pub fn max_dot(&self, floor: &VersionVector) -> Option<Dot> {
        self.shown(floor).filter_map(Elem::vdot).max()
    }

    /// Adds the insertion dots of every record held (a key-level `DEL` floors them). O(regions).
    ///
    /// Per region it adds the largest insertion stamp ever held; a floor removes everything of
    /// that region up to it, which includes any earlier insert of that region not received
    /// yet (it happened before an element this replica saw, so before the `DEL`).
    pub fn observed(&self, into: &mut VersionVector) {
        for &(r, id) in &self.seen.newest {
            into.set_max(r, id.hlc);
        }
        for id in &self.seen.early {
            into.set_max(id.region, id.hlc);
        }
    }

    /// The largest stamp held (to advance a receiver's clock).
    pub fn max_hlc(&self) -> Hlc {
        self.seen.max_stamp
    }

    /// Feeds the visible values (each prefixed by its length as a big-endian `u64`).
    pub fn digest(&self, floor: &VersionVector, out: &mut dyn FnMut(&[u8])) {
        for v in self.iter(floor) {
            out(&(v.len() as u64).to_be_bytes());
            out(v);
        }
    }

    /// Checks the internal caches and indexes against the records (for tests and debug
    /// assertions; O(n)).
    #[doc(hidden)]
    pub fn check_invariants(&self) -> Result<(), String> {
        let dead = self.seq.iter().filter(|e| e.is_removed()).count();
        let lead = self.seq.iter().take_while(|e| e.is_removed()).count();
        let trail = if lead == self.seq.len() {
            lead
        } else {
            self.seq.iter().rev().take_while(|e| e.is_removed()).count()
        };
        if (self.dead, self.lead, self.trail) != (dead, lead, trail) {
            return Err(format!(
                "caches (dead, lead, trail) = {:?}, records say {:?}",
                (self.dead, self.lead, self.trail),
                (dead, lead, trail)
            ));
        }
        let len = self.seq.len();
        let gap_ok = if self.lead < len {
            self.lead + self.gap < len
                && self
                    .seq
                    .range(self.lead + 1..=self.lead + self.gap)
                    .all(Elem::is_removed)
        } else {
            self.gap == 0
        };
        if !gap_ok {
            return Err(format!(
                "gap {} after lead {} is not dead",
                self.gap, self.lead
            ));
        }
        let mut ids = BTreeSet::new();
        for e in self.records() {
            if !ids.insert(e.id()) {
                return Err(format!("duplicate record {:?}", e.id()));
            }
            if self.seen.surely_new(e.id()) {
                return Err(format!("held record {:?} looks new", e.id()));
            }
            if e.is_removed() && !e.value.is_empty() {
                return Err(format!("tombstone {:?} keeps its value", e.id()));
            }
        }
        if ids.len() != self.record_count() || self.waiting.len() != self.orphans.len() {
            return Err("orphan index out of step".into());
        }
        for &(o, id) in &self.waiting {
            if self.orphans.get(&id).and_then(Elem::origin) != Some(o) {
                return Err(format!("orphan {id:?} is not waiting for {o:?}"));
            }
            if self.seq.iter().any(|e| e.has_id(o)) {
                return Err(format!("orphan {id:?} waits for {o:?}, which is placed"));
            }
        }
        Ok(())
    }

    // ---- positions ----

    fn scan_fwd(&self, floor: &VersionVector, n: usize) -> Option<usize> {
        let (lo, hi) = self.live_range();
        self.seq
            .range(lo..hi)
            .enumerate()
            .filter(|(_, e)| shows(e, floor))
            .nth(n)
            .map(|(i, _)| lo + i)
    }

    fn scan_back(&self, floor: &VersionVector, k: usize) -> Option<usize> {
        let (lo, hi) = self.live_range();
        self.seq
            .range(lo..hi)
            .enumerate()
            .rev()
            .filter(|(_, e)| shows(e, floor))
            .nth(k)
            .map(|(i, _)| lo + i)
    }

    /// Position in `seq` of the `n`-th visible element.
    fn nth_pos(&self, floor: &VersionVector, n: usize) -> Option<usize> {
        if floor.is_empty() {
            let live = self.live();
            if n >= live {
                return None;
            }
            if n > live / 2 {
                return self.scan_back(floor, live - 1 - n);
            }
        }
        self.scan_fwd(floor, n)
    }

    /// Position in `seq` of the `k`-th visible element from the tail (0: the last).
    fn nth_back_pos(&self, floor: &VersionVector, k: usize) -> Option<usize> {
        if floor.is_empty() {
            let live = self.live();
            if k >= live {
                return None;
            }
            if k > live / 2 {
                return self.scan_fwd(floor, live - 1 - k);
            }
        }
        self.scan_back(floor, k)
    }

    /// Positions of the visible elements of these ranks (sorted, distinct) from the head.
    fn walk_fwd(&self, floor: &VersionVector, ranks: &[usize], out: &mut Vec<usize>) {
        if ranks.is_empty() {
            return;
        }
        let (lo, hi) = self.live_range();
        let mut k = 0;
        let shown = self
            .seq
            .range(lo..hi)
            .enumerate()
            .filter(|(_, e)| shows(e, floor));
        for (rank, (i, _)) in shown.enumerate() {
            if rank == ranks[k] {
                out.push(lo + i);
                k += 1;
                if k == ranks.len() {
                    break;
                }
            }
        }
    }

    /// Positions of the visible elements of these ranks (sorted, distinct) from the tail.
    fn walk_back(&self, floor: &VersionVector, ranks: &[usize], out: &mut Vec<usize>) {
        if ranks.is_empty() {
            return;
        }
        let (lo, hi) = self.live_range();
        let mut k = 0;
        let shown = self
            .seq
            .range(lo..hi)
            .enumerate()
            .rev()
            .filter(|(_, e)| shows(e, floor));
        for (rank, (i, _)) in shown.enumerate() {
            if rank == ranks[k] {
                out.push(lo + i);
                k += 1;
                if k == ranks.len() {
                    break;
                }
            }
        }
    }

    /// Positions of the visible elements at these indices (out-of-range ones ignored), each
    /// found from the nearer end.
    fn positions(&self, floor: &VersionVector, indices: &[usize]) -> Vec<usize> {
        let mut idx = indices.to_vec();
        idx.sort_unstable();
        idx.dedup();
        let mut out = Vec::with_capacity(idx.len());
        if floor.is_empty() {
            let live = self.live();
            idx.retain(|&i| i < live);
            let split = idx.partition_point(|&i| i <= live / 2);
            self.walk_fwd(floor, &idx[..split], &mut out);
            let back: Vec<usize> = idx[split..].iter().rev().map(|&i| live - 1 - i).collect();
            self.walk_back(floor, &back, &mut out);
        } else {
            self.walk_fwd(floor, &idx, &mut out);
        }
        out
    }

    fn last_visible(&self, floor: &VersionVector) -> Option<usize> {
        self.scan_back(floor, 0)
    }

    fn prev_visible(&self, floor: &VersionVector, p: usize) -> Option<usize> {
        let (lo, _) = self.live_range();
        (lo..p.max(lo)).rev().find(|&q| shows(&self.seq[q], floor))
    }

    // ---- placing records ----

    /// Where a record with this id goes when its origin is right before `start`: after the
    /// records with larger ids (later inserts after the same origin, and their subtrees).
    fn slot_after(&self, start: usize, id: ElemId) -> usize {
        let mut p = start.min(self.seq.len());
        while p < self.seq.len() && self.seq[p].id() > id {
            p += 1;
        }
        p
    }

    fn insert_at(&mut self, p: usize, e: Elem) {
        let old = self.seq.len();
        let removed = e.is_removed();
        let lead = self.lead;
        if p < lead || (p == lead && !removed) {
            if removed {
                self.lead += 1;
            } else {
                // The old run `[p, lead)` now follows the new live element.
                self.lead = p;
                self.gap = lead - p;
            }
        } else if p == lead {
            self.lead += 1;
        } else if lead < old && p <= lead + self.gap + 1 {
            if removed {
                self.gap += 1;
            } else {
                self.gap = p - lead - 1;
            }
        }
        if p + self.trail >= old {
            if removed {
                self.trail += 1;
            } else {
                self.trail = old - p;
            }
        }
        if removed {
            self.dead += 1;
        }
        self.seq.insert(p, e);
        self.cursor = p;
    }

    /// Bookkeeping after `seq[i]` became removed.
    fn after_kill(&mut self, i: usize) {
        self.dead += 1;
        let len = self.seq.len();
        if i == self.lead {
            self.lead += 1 + self.gap;
            self.gap = 0;
            while self.lead < len && self.seq[self.lead].is_removed() {
                self.lead += 1;
            }
        } else if self.lead < len && i == self.lead + self.gap + 1 {
            self.gap += 1;
            while self.lead + self.gap + 1 < len && self.seq[self.lead + self.gap + 1].is_removed()
            {
                self.gap += 1;
            }
        }
        if i + 1 + self.trail == len {
            self.trail += 1;
            while self.trail < len && self.seq[len - 1 - self.trail].is_removed() {
                self.trail += 1;
            }
        }
    }

    /// Places a record whose origin is right before `start` (or the head, with 0), then any
    /// orphans waiting for it. Returns the record's position.
    fn integrate(&mut self, e: Elem, start: usize) -> usize {
        let mut root = None;
        let mut stack = vec![(e, start)];
        // Depth first: a record's descendants are placed before its next sibling, and all of
        // them go after it, so the positions on the stack stay right.
        while let Some((e, start)) = stack.pop() {
            let id = e.id();
            let p = self.slot_after(start, id);
            self.seen.note(&e);
            self.insert_at(p, e);
            root.get_or_insert(p);
            for c in self.take_waiting(id) {
                stack.push((c, p + 1));
            }
        }
        root.unwrap_or(0)
    }

    fn add_orphan(&mut self, e: Elem) {
        self.seen.note(&e);
        let id = e.id();
        self.waiting.insert((e.origin().unwrap_or(ElemId::MIN), id));
        self.orphans.insert(id, e);
    }

    fn take_waiting(&mut self, origin: ElemId) -> Vec<Elem> {
        if self.waiting.is_empty() {
            return Vec::new();
        }
        let keys: Vec<(ElemId, ElemId)> = self
            .waiting
            .range((origin, ElemId::MIN)..=(origin, ElemId::MAX))
            .copied()
            .collect();
        keys.into_iter()
            .filter_map(|k| {
                self.waiting.remove(&k);
                self.orphans.remove(&k.1)
            })
            .collect()
    }

    /// Finds a record in `seq`, searching outwards from the cursor, both ends and the edges of
    /// the tombstone runs (where pops and pushes happen) at once: O(distance to the nearest).
    fn locate(&self, id: ElemId, budget: &mut usize) -> Result<Option<usize>, OutOfBudget> {
        let len = self.seq.len();
        if len == 0 {
            return Ok(None);
        }
        let c = self.cursor.min(len - 1);
        for p in [c, c + 1, c.wrapping_sub(1)] {
            if p < len && self.seq[p].has_id(id) {
                return Ok(Some(p));
            }
        }
        let mut cuts = [0, self.lead.min(len), c, len - self.trail.min(len), len];
        cuts.sort_unstable();
        let mut segs = [(0, 0); 4];
        for (i, s) in segs.iter_mut().enumerate() {
            *s = (cuts[i], cuts[i + 1]);
        }
        loop {
            let mut moved = false;
            for s in segs.iter_mut() {
                if s.0 < s.1 {
                    if self.seq[s.0].has_id(id) {
                        return Ok(Some(s.0));
                    }
                    s.0 += 1;
                    moved = true;
                }
                if s.0 < s.1 {
                    if self.seq[s.1 - 1].has_id(id) {
                        return Ok(Some(s.1 - 1));
                    }
                    s.1 -= 1;
                    moved = true;
                }
            }
            if !moved {
                return Ok(None);
            }
            *budget = budget.checked_sub(8).ok_or(OutOfBudget)?;
        }
    }

    /// Merges one record (the per-record path of [`List::merge`]).
    fn absorb(&mut self, rec: &Elem, budget: &mut usize) -> Result<(), OutOfBudget> {
        let id = rec.id();
        if !self.seen.surely_new(id) {
            if let Some(p) = self.locate(id, budget)? {
                if self.seq[p].join(rec) {
                    self.after_kill(p);
                }
                self.seen.note(rec);
                self.cursor = p;
                return Ok(());
            }
            if let Some(o) = self.orphans.get_mut(&id) {
                o.join(rec);
                self.seen.note(rec);
                return Ok(());
            }
        }
        let start = match rec.origin() {
            None => 0,
            Some(o) if self.seen.surely_new(o) || self.orphans.contains_key(&o) => {
                self.add_orphan(rec.clone());
                return Ok(());
            }
            Some(o) => match self.locate(o, budget)? {
                Some(q) => q + 1,
                None => {
                    self.add_orphan(rec.clone());
                    return Ok(());
                }
            },
        };
        self.integrate(rec.clone(), start);
        Ok(())
    }

    /// Merges many records in one pass: the sequence becomes a linked list indexed by id,
    /// new records are linked in, and the result is laid out again. O(n + m).
    fn weave<'a>(&mut self, recs: impl IntoIterator<Item = &'a Elem>) {
        let mut nodes: Vec<Elem> = Vec::from(std::mem::take(&mut self.seq));
        let n = nodes.len();
        let mut next: Vec<usize> = (1..=n).collect();
        if let Some(last) = next.last_mut() {
            *last = NIL;
        }
        let mut head = if n == 0 { NIL } else { 0 };
        let mut index: HashMap<ElemId, usize> =
            nodes.iter().enumerate().map(|(i, e)| (e.id(), i)).collect();
        let mut stack: Vec<Elem> = Vec::new();
        for rec in recs {
            let id = rec.id();
            if let Some(&i) = index.get(&id) {
                nodes[i].join(rec);
                self.seen.note(rec);
                continue;
            }
            if let Some(o) = self.orphans.get_mut(&id) {
                o.join(rec);
                self.seen.note(rec);
                continue;
            }
            stack.push(rec.clone());
            while let Some(e) = stack.pop() {
                let eid = e.id();
                let mut prev = match e.origin() {
                    None => None,
                    Some(o) => match index.get(&o) {
                        Some(&i) => Some(i),
                        None => {
                            self.add_orphan(e);
                            continue;
                        }
                    },
                };
                let mut cur = prev.map_or(head, |i| next[i]);
                while cur != NIL && nodes[cur].id() > eid {
                    prev = Some(cur);
                    cur = next[cur];
                }
                self.seen.note(&e);
                let k = nodes.len();
                nodes.push(e);
                next.push(cur);
                match prev {
                    None => head = k,
                    Some(i) => next[i] = k,
                }
                index.insert(eid, k);
                stack.extend(self.take_waiting(eid));
            }
        }
        let mut slots: Vec<Option<Elem>> = nodes.into_iter().map(Some).collect();
        let mut seq = VecDeque::with_capacity(slots.len());
        let mut cur = head;
        while cur != NIL {
            if let Some(e) = slots[cur].take() {
                seq.push_back(e);
            }
            cur = next[cur];
        }
        self.seq = seq;
        self.recount();
    }

    fn recount(&mut self) {
        self.dead = self.seq.iter().filter(|e| e.is_removed()).count();
        self.fix_ends();
    }

    fn fix_ends(&mut self) {
        let len = self.seq.len();
        self.lead = self.seq.iter().take_while(|e| e.is_removed()).count();
        self.gap = 0;
        self.trail = if self.lead == len {
            len
        } else {
            self.seq.iter().rev().take_while(|e| e.is_removed()).count()
        };
        self.cursor = 0;
    }

    /// A delta holding these records.
    fn from_records(recs: &[Elem]) -> List {
        let mut l = List::default();
        match recs {
            [] => {}
            [e] if e.origin().is_none() => {
                l.integrate(e.clone(), 0);
            }
            [e] => l.add_orphan(e.clone()),
            _ => l.weave(recs),
        }
        l
    }

    /// Merges another list (a state or a delta) into this one: a join (commutative,
    /// associative, idempotent). Merging into an empty list clones `other` as it is (that is
    /// how a full snapshot is installed; its order is kept even where compaction dropped
    /// tombstones).
    pub fn merge(&mut self, other: &List) {
        if other.is_empty() {
            return;
        }
        if self.is_empty() {
            *self = other.clone();
            return;
        }
        let total = other.record_count();
        let mut budget = 4 * (self.seq.len() + total) + 256;
        let mut done = 0;
        for rec in other.records() {
            if self.absorb(rec, &mut budget).is_err() {
                break;
            }
            done += 1;
        }
        if done < total {
            self.weave(other.records().skip(done));
        }
    }

    // ---- local writes ----

    /// `LPUSH` (`left`: each value becomes the head in turn, so `LPUSH a b c` reads `c b a`)
    /// or `RPUSH` (after the last visible element). `dot` is the op's dot, larger than every
    /// stamp merged here. Returns the delta (empty if `values` is).
    pub fn push(&mut self, floor: &VersionVector, dot: Dot, left: bool, values: &[&[u8]]) -> List {
        let mut recs = Vec::with_capacity(values.len());
        let (mut origin, mut start) = match (left, self.last_visible(floor)) {
            (false, Some(p)) => (Some(self.seq[p].id()), p + 1),
            _ => (None, 0),
        };
        for (i, v) in values.iter().enumerate() {
            let id = ElemId::new(dot, i as u32);
            let e = Elem::new(id, origin, dot, Box::from(*v));
            recs.push(e.clone());
            let p = self.integrate(e, start);
            if !left {
                origin = Some(id);
                start = p + 1;
            }
        }
        List::from_records(&recs)
    }

    /// `LINSERT`: inserts `value` after (or before) the visible element at `pivot_index`.
    /// Returns the delta (empty if there is no such element).
    pub fn insert(
        &mut self,
        floor: &VersionVector,
        dot: Dot,
        pivot_index: usize,
        after: bool,
        value: &[u8],
    ) -> List {
        let Some(pp) = self.nth_pos(floor, pivot_index) else {
            return List::default();
        };
        let (origin, start) = if after {
            (Some(self.seq[pp].id()), pp + 1)
        } else {
            match self.prev_visible(floor, pp) {
                Some(q) => (Some(self.seq[q].id()), q + 1),
                None => (None, 0),
            }
        };
        let e = Elem::new(ElemId::new(dot, 0), origin, dot, Box::from(value));
        let delta = List::from_records(std::slice::from_ref(&e));
        self.integrate(e, start);
        delta
    }

    /// `LSET`: sets the visible element at `index` (a later `LSET` wins; a removal wins over
    /// any). Returns the delta (empty if there is no such element).
    pub fn set(&mut self, floor: &VersionVector, dot: Dot, index: usize, value: &[u8]) -> List {
        let Some(p) = self.nth_pos(floor, index) else {
            return List::default();
        };
        let cur = &self.seq[p];
        let upd = Elem::new(cur.id(), cur.origin(), dot, Box::from(value));
        self.seq[p].join(&upd);
        self.seen.note(&upd);
        self.cursor = p;
        List::from_records(std::slice::from_ref(&upd))
    }

    fn kill(&mut self, p: usize, stamp: Option<Dot>) -> Elem {
        let t = self.seq[p].tombstone(stamp);
        if self.seq[p].join(&t) {
            self.after_kill(p);
        }
        self.seen.note(&t);
        self.cursor = p;
        t
    }

    /// Removes the visible elements at these indices (pops, `LREM`, `LTRIM`); `dot` is the
    /// op's dot (the removal stamp that stable compaction goes by). Out-of-range and repeated
    /// indices are ignored. Returns the delta (empty if nothing was removed).
    pub fn remove(&mut self, floor: &VersionVector, dot: Dot, indices: &[usize]) -> List {
        let ps = self.positions(floor, indices);
        let recs: Vec<Elem> = ps.into_iter().map(|p| self.kill(p, Some(dot))).collect();
        List::from_records(&recs)
    }

    /// `LPOP`/`RPOP` of up to `count` elements: returns their values in pop order (moved
    /// out, not copied) and the delta.
    pub fn pop(
        &mut self,
        floor: &VersionVector,
        dot: Dot,
        left: bool,
        count: usize,
    ) -> (Vec<Box<[u8]>>, List) {
        let ranks: Vec<usize> = (0..count.min(self.seq.len())).collect();
        let mut ps = Vec::with_capacity(ranks.len());
        if left {
            self.walk_fwd(floor, &ranks, &mut ps);
        } else {
            self.walk_back(floor, &ranks, &mut ps);
        }
        let mut values = Vec::with_capacity(ps.len());
        let mut recs = Vec::with_capacity(ps.len());
        for p in ps {
            values.push(std::mem::take(&mut self.seq[p].value));
            recs.push(self.kill(p, Some(dot)));
        }
        (values, List::from_records(&recs))
    }

    // ---- removal by key floors, compaction ----

    fn mark_covered(&mut self, floor: &VersionVector, stamp: Option<Dot>) {
        if floor.is_empty() {
            return;
        }
        for p in 0..self.seq.len() {
            let e = &self.seq[p];
            // Live records die; removed ones take the stamp if it is earlier than theirs.
            let news = !e.is_removed() || stamp.is_some_and(|s| e.removal().is_none_or(|r| s < r));
            if news && floor.covers(&e.dot()) {
                self.kill(p, stamp);
            }
        }
        for o in self.orphans.values_mut() {
            if floor.covers(&o.dot()) {
                let t = o.tombstone(stamp);
                o.join(&t);
            }
        }
    }

    /// Marks every record the key floor covers as removed by the key-level op `stamp` (a
    /// `DEL`, or a write of another type, whose floor is `floor`). Call it when such an op is
    /// made here (its dot) or merged (the dot of the delta that carried the floor): the
    /// records then carry a removal stamp and [`List::compact_stable`] can drop them once it
    /// is stable. Visible contents do not change.
    pub fn remove_covered(&mut self, floor: &VersionVector, stamp: Dot) {
        self.mark_covered(floor, Some(stamp));
    }

    /// Compaction. First, records the key `floor` covers become tombstones (with no removal
    /// stamp unless [`List::remove_covered`] gave one): call this *before* pruning the key
    /// floor, or the records it covers would show again.
    ///
    /// `lone` (this region is the whole group: nothing concurrent exists or can arrive): every
    /// tombstone and orphan is dropped. Cheap when the tombstones are at the ends (pops);
    /// a removal in the middle costs one pass. Without `lone`, nothing is dropped (see
    /// [`List::compact_stable`]).
    ///
    /// With a non-empty floor this scans the list.
    pub fn compact(&mut self, floor: &VersionVector, lone: bool) {
        self.mark_covered(floor, None);
        if !lone {
            return;
        }
        self.orphans.clear();
        self.waiting.clear();
        if self.dead == 0 {
            return;
        }
        let len = self.seq.len();
        if self.lead >= len {
            self.seq.clear();
        } else {
            let lead = self.lead;
            let trail = self.trail.min(len - lead);
            self.seq.truncate(len - trail);
            self.seq.drain(..lead);
            if self.dead > lead + trail {
                self.seq.retain(|e| !e.is_removed());
            }
        }
        self.dead = 0;
        self.lead = 0;
        self.gap = 0;
        self.trail = 0;
        self.cursor = 0;
    }

    /// Compaction in a linked group. Marks floored records as [`List::compact`] does, then
    /// drops a tombstone when
    /// 1. its removal stamp is covered by `stable`: every region has it removed, so no new
    ///    insert refers to it (writes only ever refer to visible elements); and
    /// 2. the next record kept after it is covered by `stable` (or there is none): inserts
    ///    still to come have larger ids than that record, so they are placed the same with or
    ///    without the tombstone.
    ///
    /// `stable` must be causally stable for this replica: every delta that can still arrive
    /// here (from any region, including re-deliveries, which must be filtered out before
    /// merging) was made by a region that had already merged every op at or below `stable`.
    /// With FIFO links that is the pointwise minimum, over all regions, of the received
    /// vector each region last reported *in its own stream* (and this replica's own).
    /// Orphans are kept; so are records a key floor removed without a stamp, unless
    /// `settled`: the caller knows every removal merged here is stable (then such a record's
    /// removal is too).
    ///
    /// Tombstones at the ends cost O(their number); any in the middle, one pass.
    pub fn compact_stable(&mut self, floor: &VersionVector, stable: &VersionVector, settled: bool) {
        self.mark_covered(floor, None);
        if self.dead == 0 || stable.is_empty() {
            return;
        }
        let len = self.seq.len();
        // The head region: the leading run, and the run after the first live element if
        // known (an `LPUSH`ed element in front of the popped ones).
        let (head, head_dead) = if self.gap > 0 && self.lead + self.gap + 1 + self.trail <= len {
            (self.lead + self.gap + 1, self.lead + self.gap)
        } else {
            (self.lead, self.lead)
        };
        let dropped = if self.lead < len && self.dead == head_dead + self.trail {
            let mut dropped = 0;
            if self.trail > 0 {
                let run: Vec<Elem> = self.seq.drain(len - self.trail..).collect();
                let (kept, d) = sweep(run, true, stable, settled);
                dropped += d;
                self.seq.extend(kept);
            }
            if head > 0 {
                let run: Vec<Elem> = self.seq.drain(..head).collect();
                let next_ok = self.seq.front().is_none_or(|e| stable.covers(&e.dot()));
                let (kept, d) = sweep(run, next_ok, stable, settled);
                dropped += d;
                for e in kept.into_iter().rev() {
                    self.seq.push_front(e);
                }
            }
            dropped
        } else {
            let all: Vec<Elem> = self.seq.drain(..).collect();
            let (kept, d) = sweep(all, true, stable, settled);
            self.seq = kept.into();
            d
        };
        self.dead -= dropped;
        self.fix_ends();
    }
}

/// Drops the stable tombstones of a run of records (see [`List::compact_stable`]);
/// `next_ok`: the record after the run is stable or absent. Returns what is kept and how
/// many were dropped.
fn sweep(
    run: Vec<Elem>,
    mut next_ok: bool,
    stable: &VersionVector,
    settled: bool,
) -> (Vec<Elem>, usize) {
    let mut kept = Vec::with_capacity(run.len());
    let mut dropped = 0;
    for e in run.into_iter().rev() {
        let gone = match e.removal() {
            Some(d) => stable.covers(&d),
            None => settled && e.is_removed(),
        };
        if next_ok && gone {
            dropped += 1;
            continue;
        }
        next_ok = stable.covers(&e.dot());
        kept.push(e);
    }
    kept.reverse();
    (kept, dropped)
}

impl Serialize for List {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Orphans<'a>(&'a List);
        impl Serialize for Orphans<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(self.0.records().skip(self.0.seq.len()))
            }
        }
        let mut st = s.serialize_struct("List", 2)?;
        st.serialize_field("seq", &self.seq)?;
        st.serialize_field("orphans", &Orphans(self))?;
        st.end()
    }
}

#[derive(Deserialize)]
struct ListWire {
    seq: Vec<Elem>,
    orphans: Vec<Elem>,
}

impl<'de> Deserialize<'de> for List {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = ListWire::deserialize(d)?;
        let mut l = List {
            seq: w.seq.into(),
            ..List::default()
        };
        for e in &l.seq {
            l.seen.note(e);
        }
        l.recount();
        let mut budget = usize::MAX;
        for e in &w.orphans {
            let _ = l.absorb(e, &mut budget);
        }
        Ok(l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dot(r: u8, h: u64) -> Dot {
        Dot::new(r, h)
    }

    fn show(l: &List) -> Vec<Vec<u8>> {
        l.iter(&VersionVector::new()).map(|v| v.to_vec()).collect()
    }

    /// Both merge paths (record by record, and the one-pass weave) give the same state.
    mod paths {
        use super::*;
        use crate::arbitrary_list::{list_op, ListReplica};
        use proptest::prelude::*;

        fn state(ops: &[(u8, crate::arbitrary_list::ListOp, bool)], base: u8) -> (List, Vec<List>) {
            let mut reps: Vec<ListReplica> = (base..base + 2).map(ListReplica::new).collect();
            let mut log: Vec<(RegionId, Hlc, crate::arbitrary_list::ListDelta)> = Vec::new();
            for (i, (r, op, sync)) in ops.iter().enumerate() {
                let r = *r as usize % 2;
                if *sync {
                    for (o, h, d) in &log {
                        if *o != reps[r].region {
                            reps[r].receive(*o, *h, d);
                        }
                    }
                }
                if let Some((h, d)) = reps[r].write(1000 + i as u64, op) {
                    log.push((reps[r].region, h, d));
                }
            }
            let mut s = List::new();
            for (_, _, d) in &log {
                s.merge(&d.list);
            }
            (s, log.into_iter().map(|(_, _, d)| d.list).collect())
        }

        fn steps() -> impl Strategy<Value = Vec<(u8, crate::arbitrary_list::ListOp, bool)>> {
            prop::collection::vec((0u8..2, list_op(), prop::bool::weighted(0.3)), 0..30)
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

            #[test]
            fn weave_equals_absorb(a in steps(), b in steps(), rev in any::<bool>()) {
                let (a, _) = state(&a, 1);
                let (b, mut deltas) = state(&b, 3);
                if rev {
                    deltas.reverse();
                }
                // Merge b's deltas into a three ways.
                let mut one = a.clone();
                let mut woven = a.clone();
                let mut all = a.clone();
                for d in &deltas {
                    one.merge(d);
                    let mut budget = usize::MAX;
                    for r in d.records() {
                        let _ = all.absorb(r, &mut budget);
                    }
                    woven.weave(d.records());
                    prop_assert_eq!(one.check_invariants(), Ok(()));
                    prop_assert_eq!(woven.check_invariants(), Ok(()));
                    prop_assert_eq!(all.check_invariants(), Ok(()));
                }
                prop_assert_eq!(&one, &woven);
                prop_assert_eq!(&one, &all);
                // A state merge that runs out of budget finishes with a weave.
                let mut s1 = a.clone();
                s1.merge(&b);
                let mut s2 = a.clone();
                let mut budget = 16;
                let mut done = 0;
                for r in b.records() {
                    if s2.absorb(r, &mut budget).is_err() {
                        break;
                    }
                    done += 1;
                }
                s2.weave(b.records().skip(done));
                prop_assert_eq!(s2.check_invariants(), Ok(()));
                prop_assert_eq!(&s1, &s2);
                prop_assert_eq!(&s1, &one);
            }
        }
    }

    #[test]
    fn elem_is_small() {
        assert_eq!(std::mem::size_of::<Elem>(), 56);
        assert_eq!(std::mem::size_of::<ElemId>(), 16);
    }

    #[test]
    fn push_pop_both_ends() {
        let f = VersionVector::new();
        let mut l = List::new();
        l.push(&f, dot(1, 1), true, &[b"a", b"b", b"c"]);
        assert_eq!(show(&l), vec![b"c".to_vec(), b"b".to_vec(), b"a".to_vec()]);
        l.push(&f, dot(1, 2), false, &[b"x", b"y"]);
        assert_eq!(l.len(&f), 5);
        assert_eq!(l.get(&f, -1), Some(&b"y"[..]));
        assert_eq!(l.get(&f, 0), Some(&b"c"[..]));
        let (v, _) = l.pop(&f, dot(1, 3), true, 2);
        assert_eq!(v, vec![Box::from(&b"c"[..]), Box::from(&b"b"[..])]);
        let (v, _) = l.pop(&f, dot(1, 4), false, 1);
        assert_eq!(v, vec![Box::from(&b"y"[..])]);
        assert_eq!(show(&l), vec![b"a".to_vec(), b"x".to_vec()]);
        assert_eq!((l.lead, l.trail, l.dead), (2, 1, 3));
        l.compact(&f, true);
        assert_eq!(l.record_count(), 2);
        assert_eq!(show(&l), vec![b"a".to_vec(), b"x".to_vec()]);
    }
}
