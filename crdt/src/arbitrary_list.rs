//! Proptest strategies for lists (feature `arbitrary`): random list writes, a plain
//! `VecDeque` model of their meaning, and a replica of one list key that applies them (with a
//! key-level floor standing in for `DEL`) the way a shard would.

use std::collections::{BTreeMap, VecDeque};

use proptest::prelude::*;

use crate::hlc::{Dot, Hlc, RegionId};
use crate::list::List;
use crate::vv::VersionVector;

/// One client write on a list key. Indices are taken modulo the visible length; writes that
/// need an element are refused on an empty list.
#[derive(Debug, Clone, PartialEq)]
pub enum ListOp {
    /// `LPUSH` (`left`) or `RPUSH`.
    Push {
        /// `LPUSH`.
        left: bool,
        /// The values, in command order.
        values: Vec<Vec<u8>>,
    },
    /// `LINSERT` relative to the element at `pivot`.
    Insert {
        /// Pivot index.
        pivot: usize,
        /// `AFTER` (else `BEFORE`).
        after: bool,
        /// The value.
        value: Vec<u8>,
    },
    /// `LSET`.
    Set {
        /// Index.
        index: usize,
        /// The value.
        value: Vec<u8>,
    },
    /// Removal of the elements at these indices (`LREM`, `LTRIM`).
    Remove(Vec<usize>),
    /// `LPOP`/`RPOP` with a count.
    Pop {
        /// `LPOP`.
        left: bool,
        /// How many.
        count: usize,
    },
    /// `DEL` of the key (a floor over everything observed).
    Del,
}

fn item() -> impl Strategy<Value = Vec<u8>> {
    prop::sample::select(vec![
        b"a".to_vec(),
        b"b".to_vec(),
        b"c".to_vec(),
        b"dd".to_vec(),
        b"".to_vec(),
    ])
}

/// Any list write.
pub fn list_op() -> impl Strategy<Value = ListOp> {
    prop_oneof![
        5 => (any::<bool>(), prop::collection::vec(item(), 1..=3))
            .prop_map(|(left, values)| ListOp::Push { left, values }),
        2 => (0usize..16, any::<bool>(), item())
            .prop_map(|(pivot, after, value)| ListOp::Insert { pivot, after, value }),
        2 => (0usize..16, item()).prop_map(|(index, value)| ListOp::Set { index, value }),
        2 => prop::collection::vec(0usize..16, 1..=3).prop_map(ListOp::Remove),
        2 => (any::<bool>(), 1usize..=2).prop_map(|(left, count)| ListOp::Pop { left, count }),
        1 => Just(ListOp::Del),
    ]
}

/// The indices a `Remove` touches on a list of `len` elements (sorted, distinct).
fn removal_indices(ixs: &[usize], len: usize) -> Vec<usize> {
    let mut v: Vec<usize> = ixs.iter().map(|i| i % len).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// What the write means on a plain list; returns whether it was accepted (as
/// [`ListReplica::write`] does).
pub fn apply_model(m: &mut VecDeque<Vec<u8>>, op: &ListOp) -> bool {
    let len = m.len();
    match op {
        ListOp::Push { left, values } => {
            for v in values {
                if *left {
                    m.push_front(v.clone());
                } else {
                    m.push_back(v.clone());
                }
            }
            true
        }
        _ if len == 0 => false,
        ListOp::Insert {
            pivot,
            after,
            value,
        } => {
            let i = pivot % len;
            m.insert(if *after { i + 1 } else { i }, value.clone());
            true
        }
        ListOp::Set { index, value } => {
            m[index % len] = value.clone();
            true
        }
        ListOp::Remove(ixs) => {
            for i in removal_indices(ixs, len).into_iter().rev() {
                m.remove(i);
            }
            true
        }
        ListOp::Pop { left, count } => {
            for _ in 0..(*count).min(len) {
                if *left {
                    m.pop_front();
                } else {
                    m.pop_back();
                }
            }
            true
        }
        ListOp::Del => {
            m.clear();
            true
        }
    }
}

/// What one write ships: the list delta, the floor of a `DEL`, and the sender's received
/// vector when it wrote (an in-stream acknowledgement, from which receivers derive a
/// causally stable vector).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListDelta {
    /// Touched records.
    pub list: List,
    /// A `DEL`'s floor (empty otherwise).
    pub floor: VersionVector,
    /// The sender's received vector.
    pub ack: VersionVector,
}

/// A replica of one list key in one region.
#[derive(Debug, Clone)]
pub struct ListReplica {
    /// This replica's region.
    pub region: RegionId,
    /// Its HLC.
    pub clock: Hlc,
    /// The list.
    pub list: List,
    /// The key floor (never pruned here).
    pub floor: VersionVector,
    /// Highest stamp merged from each origin (own region: everything).
    pub received: VersionVector,
    /// The last acknowledgement received from each other region.
    pub acks: BTreeMap<RegionId, VersionVector>,
}

impl ListReplica {
    /// An empty replica.
    pub fn new(region: u8) -> ListReplica {
        let mut received = VersionVector::new();
        received.set_max(RegionId(region), Hlc(u64::MAX));
        ListReplica {
            region: RegionId(region),
            clock: Hlc(0),
            list: List::new(),
            floor: VersionVector::new(),
            received,
            acks: BTreeMap::new(),
        }
    }

    /// The visible values.
    pub fn visible(&self) -> Vec<Vec<u8>> {
        self.list.iter(&self.floor).map(|v| v.to_vec()).collect()
    }

    /// Runs a client write at wall time `now`; returns `(stamp, delta)` if it was accepted.
    pub fn write(&mut self, now: u64, op: &ListOp) -> Option<(Hlc, ListDelta)> {
        self.clock = Hlc::tick(self.clock, now);
        let dot = Dot {
            hlc: self.clock,
            region: self.region,
        };
        let f = &self.floor;
        let len = self.list.len(f);
        let mut floor = VersionVector::new();
        let list = match op {
            ListOp::Push { left, values } => {
                let vs: Vec<&[u8]> = values.iter().map(|v| &v[..]).collect();
                self.list.push(f, dot, *left, &vs)
            }
            _ if len == 0 => return None,
            ListOp::Insert {
                pivot,
                after,
                value,
            } => self.list.insert(f, dot, pivot % len, *after, value),
            ListOp::Set { index, value } => self.list.set(f, dot, index % len, value),
            ListOp::Remove(ixs) => self.list.remove(f, dot, &removal_indices(ixs, len)),
            ListOp::Pop { left, count } => self.list.pop(f, dot, *left, *count).1,
            ListOp::Del => {
                self.list.observed(&mut floor);
                self.floor.merge(&floor);
                self.list.remove_covered(&floor, dot);
                List::new()
            }
        };
        Some((
            dot.hlc,
            ListDelta {
                list,
                floor,
                ack: self.received.clone(),
            },
        ))
    }

    /// Merges a delta from `origin` stamped `hlc` unless it was already merged (as the shard
    /// dedups by stream offset). Returns whether it was merged.
    pub fn receive(&mut self, origin: RegionId, hlc: Hlc, d: &ListDelta) -> bool {
        if hlc <= self.received.get(origin) {
            return false;
        }
        self.merge_raw(origin, hlc, d);
        self.received.set_max(origin, hlc);
        self.acks.insert(origin, d.ack.clone());
        true
    }

    /// Merges a delta without the duplicate check (to exercise idempotence).
    pub fn merge_raw(&mut self, origin: RegionId, hlc: Hlc, d: &ListDelta) {
        self.clock = self.clock.max(hlc).max(d.list.max_hlc());
        self.floor.merge(&d.floor);
        self.list.merge(&d.list);
        if !d.floor.is_empty() {
            self.list.remove_covered(
                &d.floor,
                Dot {
                    hlc,
                    region: origin,
                },
            );
        }
    }

    /// The causally stable vector over `regions`: the pointwise minimum of this replica's
    /// received vector and the last acknowledgement of every other region.
    pub fn stable(&self, regions: &[RegionId]) -> VersionVector {
        crate::arbitrary::stable_vector(self.region, &self.received, &self.acks, regions)
    }
}
