//! Proptest strategies (feature `arbitrary`): random writes and a replica that applies them,
//! so other crates' tests can drive entries the way a shard does.

use proptest::prelude::*;

use crate::entry::{Entry, Leftovers, Touched};
use crate::hlc::{Dot, Hlc, RegionId};
use crate::vv::VersionVector;

/// One client write on a key.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// `SET k v` (with `KEEPTTL` when the flag is set).
    Set(Vec<u8>, bool),
    /// `SET k v PX ms` as an absolute deadline.
    SetWithDeadline(Vec<u8>, u64),
    /// `INCRBY k n`.
    IncrBy(i64),
    /// `INCRBYFLOAT k x`.
    IncrByFloat(f64),
    /// `DEL k`.
    Del,
    /// `SADD k m…`.
    SAdd(Vec<Vec<u8>>),
    /// `SREM k m…`.
    SRem(Vec<Vec<u8>>),
    /// `PEXPIREAT k ms`.
    Expire(u64),
    /// `PERSIST k`.
    Persist,
    /// `HSET k f v …`.
    HSet(Vec<(Vec<u8>, Vec<u8>)>),
    /// `HDEL k f…`.
    HDel(Vec<Vec<u8>>),
    /// `HINCRBY k f n`.
    HIncrBy(Vec<u8>, i64),
    /// `HINCRBYFLOAT k f x`.
    HIncrByFloat(Vec<u8>, f64),
    /// `ZADD k score m`.
    ZAdd(Vec<u8>, f64),
    /// `ZINCRBY k x m`.
    ZIncrBy(Vec<u8>, f64),
    /// `ZREM k m…`.
    ZRem(Vec<Vec<u8>>),
    /// `LPUSH` (true) / `RPUSH` (false) `k v…`.
    Push(bool, Vec<Vec<u8>>),
    /// `LPOP` (true) / `RPOP` (false) `k count`.
    Pop(bool, usize),
    /// `LSET k index v` (index taken modulo the length).
    LSet(usize, Vec<u8>),
    /// `LINSERT k AFTER|BEFORE pivot v` on the element at an index (modulo the length).
    LInsert(usize, bool, Vec<u8>),
    /// `LREM`/`LTRIM`-like removal of the elements at these indices (modulo the length).
    LRemove(Vec<usize>),
}

fn member() -> impl Strategy<Value = Vec<u8>> {
    prop::sample::select(vec![
        b"a".to_vec(),
        b"b".to_vec(),
        b"c".to_vec(),
        b"d".to_vec(),
    ])
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::sample::select(vec![b"x".to_vec(), b"hello".to_vec(), b"".to_vec()]),
        (-1000i64..1000).prop_map(|n| n.to_string().into_bytes()),
        Just(b"2.5".to_vec()),
    ]
}

/// Any write.
pub fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (value(), any::<bool>()).prop_map(|(v, k)| Op::Set(v, k)),
        (value(), 1_000u64..2_000).prop_map(|(v, d)| Op::SetWithDeadline(v, d)),
        (-100i64..100).prop_map(Op::IncrBy),
        prop::sample::select(vec![0.5f64, -1.25, 3.0]).prop_map(Op::IncrByFloat),
        Just(Op::Del),
        prop::collection::vec(member(), 1..3).prop_map(Op::SAdd),
        prop::collection::vec(member(), 1..3).prop_map(Op::SRem),
        (1_000u64..2_000).prop_map(Op::Expire),
        Just(Op::Persist),
        prop::collection::vec((member(), value()), 1..3).prop_map(Op::HSet),
        prop::collection::vec(member(), 1..3).prop_map(Op::HDel),
        (member(), -100i64..100).prop_map(|(f, n)| Op::HIncrBy(f, n)),
        (member(), prop::sample::select(vec![0.5f64, -1.25, 3.0]))
            .prop_map(|(f, x)| Op::HIncrByFloat(f, x)),
        (member(), prop::sample::select(vec![1.5f64, -2.0, 0.0, 1e9]))
            .prop_map(|(m, x)| Op::ZAdd(m, x)),
        (member(), prop::sample::select(vec![0.5f64, -1.0, 2.0]))
            .prop_map(|(m, x)| Op::ZIncrBy(m, x)),
        prop::collection::vec(member(), 1..3).prop_map(Op::ZRem),
        (any::<bool>(), prop::collection::vec(value(), 1..3)).prop_map(|(l, v)| Op::Push(l, v)),
        (any::<bool>(), 1usize..3).prop_map(|(l, n)| Op::Pop(l, n)),
        (0usize..8, value()).prop_map(|(i, v)| Op::LSet(i, v)),
        (0usize..8, any::<bool>(), value()).prop_map(|(i, a, v)| Op::LInsert(i, a, v)),
        prop::collection::vec(0usize..8, 1..3).prop_map(Op::LRemove),
    ]
}

/// Whether a write of this op is allowed on the entry's current type (Redis's WRONGTYPE).
fn type_ok(e: &Entry, op: &Op) -> bool {
    use crate::entry::Kind;
    let needs = match op {
        Op::IncrBy(_) | Op::IncrByFloat(_) => Kind::String,
        Op::SAdd(_) | Op::SRem(_) => Kind::Set,
        Op::HSet(_) | Op::HDel(_) | Op::HIncrBy(..) | Op::HIncrByFloat(..) => Kind::Hash,
        Op::ZAdd(..) | Op::ZIncrBy(..) | Op::ZRem(_) => Kind::ZSet,
        Op::Push(..) | Op::Pop(..) | Op::LSet(..) | Op::LInsert(..) | Op::LRemove(_) => Kind::List,
        // SET replaces any type; DEL, EXPIRE and PERSIST apply to all.
        _ => return true,
    };
    e.kind().is_none_or(|k| k == needs)
}

/// Applies a client write at a replica the way a shard does: refuses what Redis would refuse
/// (wrong type, non-numeric value), otherwise returns the delta to ship.
pub fn apply_local(e: &mut Entry, dot: Dot, op: &Op) -> Option<Entry> {
    if !type_ok(e, op) {
        return None;
    }
    match op {
        Op::Set(v, keep) => Some(e.set(dot, v, *keep, None)),
        Op::SetWithDeadline(v, d) => Some(e.set(dot, v, false, Some(*d))),
        Op::IncrBy(n) => e.incr_by(dot, *n).ok().map(|(_, d)| d),
        Op::IncrByFloat(x) => e.incr_by_float(dot, *x).ok().map(|(_, d)| d),
        Op::Del => e.delete(),
        Op::SAdd(ms) => Some(e.sadd(dot, ms.iter().map(|m| &m[..])).1),
        Op::SRem(ms) => e.srem(ms.iter().map(|m| &m[..])).1,
        Op::Expire(d) => e.is_live().then(|| e.set_expiry(dot, Some(*d))),
        Op::Persist => e.expiry().is_some().then(|| e.set_expiry(dot, None)),
        Op::HSet(pairs) => Some(e.hset(dot, pairs.iter().map(|(k, v)| (&k[..], &v[..]))).1),
        Op::HDel(fs) => e.hdel(fs.iter().map(|f| &f[..])).1,
        Op::HIncrBy(f, n) => e.hincr_by(dot, f, *n).ok().map(|(_, d)| d),
        Op::HIncrByFloat(f, x) => e.hincr_by_float(dot, f, *x).ok().map(|(_, d)| d),
        Op::ZAdd(m, x) => Some(e.zadd(dot, [(&m[..], *x)])),
        Op::ZIncrBy(m, x) => e.zincr_by(dot, m, *x).ok().map(|(_, d)| d),
        Op::ZRem(ms) => e.zrem(ms.iter().map(|m| &m[..])).1,
        Op::Push(left, vs) => {
            let vs: Vec<&[u8]> = vs.iter().map(|v| &v[..]).collect();
            e.list_push(dot, *left, &vs).1
        }
        Op::Pop(left, n) => e.list_pop(dot, *left, *n).1,
        Op::LSet(i, v) => {
            let n = e.list_len();
            (n > 0).then(|| e.list_set(dot, i % n, v)).flatten()
        }
        Op::LInsert(i, after, v) => {
            let n = e.list_len();
            (n > 0)
                .then(|| e.list_insert(dot, i % n, *after, v))
                .flatten()
        }
        Op::LRemove(is) => {
            let n = e.list_len();
            let is: Vec<usize> = is.iter().map(|i| i % n.max(1)).collect();
            (n > 0).then(|| e.list_remove(dot, &is)).flatten()
        }
    }
}

/// A replica of one key in one region, with its clock and what it received from each origin.
#[derive(Debug, Clone)]
pub struct Replica {
    /// This replica's region.
    pub region: RegionId,
    /// Its HLC.
    pub clock: Hlc,
    /// The key's state.
    pub entry: Entry,
    /// Highest stamp merged from each origin (own region: everything).
    pub received: VersionVector,
    /// The received vector each other region last reported in its own stream.
    pub acks: std::collections::BTreeMap<RegionId, VersionVector>,
    /// Stamps (per region, the highest) of the merged ops that removed something and left
    /// the entry in the general form: the entry is *settled* once the stable vector covers
    /// them (what the shard tracks per key).
    pub removals: VersionVector,
    /// The last op merged, if it removed something (or left a conflict), with its delta:
    /// recorded in `removals` and `touched` by [`Replica::compact`] unless compaction leaves
    /// a plain or packed entry (as the shard does: such a removal left nothing of itself).
    pub last_removal: Option<(Dot, Entry)>,
    /// The elements the recorded removals named (collection looks only at them, as the
    /// shard's does); kept until a settled collection finds no leftover.
    pub touched: Touched,
}

impl Replica {
    /// An empty replica.
    pub fn new(region: u8) -> Replica {
        let mut received = VersionVector::new();
        received.set_max(RegionId(region), Hlc(u64::MAX));
        Replica {
            region: RegionId(region),
            clock: Hlc(0),
            entry: Entry::default(),
            received,
            acks: std::collections::BTreeMap::new(),
            removals: VersionVector::new(),
            last_removal: None,
            touched: Touched::default(),
        }
    }

    /// Runs a client write at wall time `now`; returns `(stamp, delta)` if it wrote anything.
    pub fn write(&mut self, now: u64, op: &Op) -> Option<(Hlc, Entry)> {
        self.clock = Hlc::tick(self.clock, now);
        let dot = Dot {
            hlc: self.clock,
            region: self.region,
        };
        let d = apply_local(&mut self.entry, dot, op).map(|d| (dot.hlc, d));
        if let Some((_, delta)) = &d {
            if delta.removes() || self.entry.has_leftovers(delta) {
                self.last_removal = Some((dot, delta.clone()));
            }
        }
        d
    }

    /// Merges a delta from `origin` stamped `hlc`, unless it was already merged: a region's
    /// stamps increase, so a stamp at or below what was received from that origin is a
    /// re-delivery (the shard makes the same check per origin stream). Returns whether it
    /// was merged.
    pub fn receive(&mut self, origin: RegionId, hlc: Hlc, delta: &Entry) -> bool {
        if hlc <= self.received.get(origin) {
            return false;
        }
        self.clock = self.clock.max(hlc);
        self.entry.merge(delta);
        self.received.set_max(origin, hlc);
        if delta.removes() || self.entry.has_leftovers(delta) {
            let dot = Dot {
                hlc,
                region: origin,
            };
            self.last_removal = Some((dot, delta.clone()));
        }
        true
    }

    /// Records the received vector `origin` reported in its stream (after every op it sent
    /// before the report).
    pub fn ack(&mut self, origin: RegionId, received: &VersionVector) {
        self.acks.insert(origin, received.clone());
    }

    /// The causally stable vector over `regions` (see [`stable_vector`]).
    pub fn stable(&self, regions: &[RegionId]) -> VersionVector {
        stable_vector(self.region, &self.received, &self.acks, regions)
    }

    /// Group-wide garbage collection over `regions`, as the shard does it. Returns the op
    /// that removes conflict leftovers ([`Entry::leftovers`]), stamped, if this replica
    /// made one: it is to be shipped to the others like a write.
    pub fn collect(&mut self, regions: &[RegionId]) -> Option<(Hlc, Entry)> {
        let stable = self.stable(regions);
        let settled = self.removals.iter().all(|(r, h)| stable.get(r) >= h);
        self.entry
            .compact_stable_in(&self.received, &stable, settled, &self.touched);
        if !settled {
            return None;
        }
        self.removals = VersionVector::new();
        match self.entry.leftovers_in(&stable, &self.touched) {
            Leftovers::None => {
                self.touched = Touched::default();
                None
            }
            Leftovers::Wait(dots) => {
                for d in dots {
                    self.removals.add(d);
                }
                None
            }
            Leftovers::Collect(d) => {
                self.clock = Hlc::tick(self.clock, 0);
                self.entry.merge(&d);
                let dot = Dot {
                    hlc: self.clock,
                    region: self.region,
                };
                self.last_removal = Some((dot, d.clone()));
                self.compact();
                Some((self.clock, d))
            }
        }
    }

    /// Compacts with this replica's received vector.
    pub fn compact(&mut self) {
        self.entry.compact(&self.received, false);
        if let Some((dot, delta)) = self.last_removal.take() {
            if matches!(self.entry, Entry::Full(_)) {
                self.removals.add(dot);
                self.touched.add(&delta);
            }
        }
    }
}

/// The causally stable vector of replica `me` over `regions`: the pointwise minimum of its
/// own received vector and the received vector every other region last reported in its
/// own stream.
pub fn stable_vector(
    me: RegionId,
    received: &VersionVector,
    acks: &std::collections::BTreeMap<RegionId, VersionVector>,
    regions: &[RegionId],
) -> VersionVector {
    let empty = VersionVector::new();
    regions
        .iter()
        .map(|&r| {
            let h = regions
                .iter()
                .map(|&x| {
                    if x == me {
                        received.get(r)
                    } else {
                        acks.get(&x).unwrap_or(&empty).get(r)
                    }
                })
                .min()
                .unwrap_or_default();
            (r, h)
        })
        .collect()
}
