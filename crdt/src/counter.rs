//! Per-region counter totals: the "number" half of the string/number type.
//!
//! Each region keeps running totals of its own increments on a key. Only that region ever
//! changes its record, so two records of one region are ordered by their op count and merge
//! keeps the larger. A *floor* is a snapshot of those records that a `SET` or `DEL` observed:
//! the value adds only what each region incremented past the floor.
//!
//! A record belongs to an *epoch*, named by the stamp of its first increment (`since`). A
//! region whose own record is entirely floored (its increments were all deleted or
//! overwritten) starts a new epoch at its next increment instead of continuing the totals.
//! That is what lets garbage collection drop a dead record and its floor once the removal is
//! known everywhere: nobody adds to the old totals any more, and a record or floor of a newer
//! epoch says that every older epoch of that region is dead. Records compare by
//! `(since, ops)`; a floor applies to a record of its own epoch, covers every record of an
//! older one, and does not touch a newer one.

use serde::{Deserialize, Serialize};

use crate::hlc::{Hlc, RegionId};

/// One region's running totals on one key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// The epoch: stamp of the first increment of these totals.
    pub since: Hlc,
    /// Increments made in the epoch (integer and float); orders the records of one epoch.
    pub ops: u64,
    /// Stamp of the last increment (the counter's dot, for the type-conflict rule).
    pub last: Hlc,
    /// Sum of integer increments. `i128` because a region's increments can sum past `i64`
    /// even though every value they produced fitted.
    #[serde(with = "i128_pair")]
    pub isum: i128,
    /// Float increments made.
    pub fops: u64,
    /// Sum of float increments.
    pub fsum: f64,
}

/// Records per region, sorted by region.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Counters(Vec<(RegionId, Totals)>);

impl Counters {
    /// No records.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The record of `region` (zero when absent).
    pub fn get(&self, region: RegionId) -> Totals {
        match self.0.binary_search_by_key(&region, |e| e.0) {
            Ok(i) => self.0[i].1,
            Err(_) => Totals::default(),
        }
    }

    /// Keeps the later record (newer epoch, or more ops in the same epoch).
    pub fn put(&mut self, region: RegionId, t: Totals) {
        match self.0.binary_search_by_key(&region, |e| e.0) {
            Ok(i) => {
                if t.order() > self.0[i].1.order() {
                    self.0[i].1 = t;
                }
            }
            Err(i) => {
                if t.ops > 0 {
                    self.0.insert(i, (region, t));
                }
            }
        }
    }

    /// Merges record by record.
    pub fn merge(&mut self, other: &Counters) {
        for &(r, t) in &other.0 {
            self.put(r, t);
        }
    }

    /// Records in region order.
    pub fn iter(&self) -> impl Iterator<Item = (RegionId, Totals)> + '_ {
        self.0.iter().copied()
    }

    /// Keeps only the records `keep` accepts.
    pub fn retain(&mut self, mut keep: impl FnMut(RegionId, &Totals) -> bool) {
        self.0.retain(|(r, t)| keep(*r, t));
    }
}

impl Totals {
    fn order(&self) -> (Hlc, u64) {
        (self.since, self.ops)
    }

    /// Whether these totals hold increments that `floor` does not cover (see the module
    /// docs for how epochs compare).
    pub fn past(&self, floor: &Totals) -> bool {
        match self.since.cmp(&floor.since) {
            std::cmp::Ordering::Less => false,
            std::cmp::Ordering::Equal => self.ops > floor.ops,
            std::cmp::Ordering::Greater => self.ops > 0,
        }
    }
}

/// What the increments past a floor add up to.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Contribution {
    /// Increments past the floor (0 = nothing to add).
    pub ops: u64,
    /// Integer part.
    pub isum: i128,
    /// Float increments past the floor.
    pub fops: u64,
    /// Float part.
    pub fsum: f64,
}

/// The later of two floors' records for `region`.
pub fn floor_of(region: RegionId, a: &Counters, b: Option<&Counters>) -> Totals {
    let fa = a.get(region);
    match b.map(|b| b.get(region)) {
        Some(fb) if fb.order() > fa.order() => fb,
        _ => fa,
    }
}

/// Sums, over regions, what `counters` holds past `max(floor_a, floor_b)`.
pub fn contribution(
    counters: &Counters,
    floor_a: &Counters,
    floor_b: Option<&Counters>,
) -> Contribution {
    let mut c = Contribution::default();
    for (r, t) in counters.iter() {
        let f = floor_of(r, floor_a, floor_b);
        if !t.past(&f) {
            continue;
        }
        if t.since > f.since {
            // A floor of an older epoch does not touch this record.
            c.ops = c.ops.saturating_add(t.ops);
            c.isum = c.isum.saturating_add(t.isum);
            c.fops = c.fops.saturating_add(t.fops);
            c.fsum += t.fsum;
        } else {
            // Saturating: the records may come from a peer, and no peer input may panic.
            c.ops = c.ops.saturating_add(t.ops - f.ops);
            c.isum = c.isum.saturating_add(t.isum.saturating_sub(f.isum));
            c.fops = c.fops.saturating_add(t.fops.saturating_sub(f.fops));
            c.fsum += t.fsum - f.fsum;
        }
    }
    c
}

/// `i128` as two `i64` halves: MessagePack has no 128-bit integers.
mod i128_pair {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(v: &i128, s: S) -> Result<S::Ok, S::Error> {
        ((*v >> 64) as i64, *v as u64).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i128, D::Error> {
        let (hi, lo) = <(i64, u64)>::deserialize(d)?;
        Ok(((hi as i128) << 64) | lo as i128)
    }
}
