//! Per-region counter totals: the "number" half of the string/number type.
//!
//! Each region keeps running totals of its own increments on a key. Only that region ever
//! changes its record, so two records of one region are ordered by their op count and merge
//! keeps the larger. A *floor* is a snapshot of those records that a `SET` or `DEL` observed:
//! the value adds only what each region incremented past the floor.

use serde::{Deserialize, Serialize};

use crate::hlc::{Hlc, RegionId};

/// One region's running totals on one key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// Increments made (integer and float); orders the records of one region.
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

    /// Keeps the record with more ops.
    pub fn put(&mut self, region: RegionId, t: Totals) {
        match self.0.binary_search_by_key(&region, |e| e.0) {
            Ok(i) => {
                if t.ops > self.0[i].1.ops {
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

/// Sums, over regions, what `counters` holds past `max(floor_a, floor_b)`.
pub fn contribution(
    counters: &Counters,
    floor_a: &Counters,
    floor_b: Option<&Counters>,
) -> Contribution {
    let mut c = Contribution::default();
    for (r, t) in counters.iter() {
        let mut f = floor_a.get(r);
        if let Some(b) = floor_b {
            let fb = b.get(r);
            if fb.ops > f.ops {
                f = fb;
            }
        }
        if t.ops > f.ops {
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
