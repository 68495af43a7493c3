//! Version vectors used as removal *floors* and as received/stable vectors.
//!
//! A floor `{r: h}` removes every element whose dot comes from region `r` with a stamp `≤ h`.
//! That is exact because the delivery contract is FIFO per origin: a region that observed a
//! dot from `r` had received every earlier write of `r` to the same key.

use serde::{Deserialize, Serialize};

use crate::hlc::{Dot, Hlc, RegionId};

/// A map region → stamp, kept sorted by region (at most five entries), merged pointwise by max.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct VersionVector(Vec<(RegionId, Hlc)>);

impl VersionVector {
    /// The empty vector.
    pub fn new() -> VersionVector {
        VersionVector(Vec::new())
    }

    /// Whether no region has an entry.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The stamp of `region` (zero when absent).
    pub fn get(&self, region: RegionId) -> Hlc {
        match self.0.binary_search_by_key(&region, |e| e.0) {
            Ok(i) => self.0[i].1,
            Err(_) => Hlc(0),
        }
    }

    /// Raises `region`'s entry to at least `hlc`.
    pub fn set_max(&mut self, region: RegionId, hlc: Hlc) {
        if hlc.0 == 0 {
            return;
        }
        match self.0.binary_search_by_key(&region, |e| e.0) {
            Ok(i) => self.0[i].1 = self.0[i].1.max(hlc),
            Err(i) => self.0.insert(i, (region, hlc)),
        }
    }

    /// Raises the entry of the dot's region to cover the dot.
    pub fn add(&mut self, dot: Dot) {
        self.set_max(dot.region, dot.hlc);
    }

    /// Whether the dot is covered (removed by this floor).
    pub fn covers(&self, dot: &Dot) -> bool {
        !self.0.is_empty() && self.get(dot.region) >= dot.hlc
    }

    /// Pointwise max.
    pub fn merge(&mut self, other: &VersionVector) {
        for &(r, h) in &other.0 {
            self.set_max(r, h);
        }
    }

    /// Drops entries `≤ bound[region]` (the floor no longer removes anything that could still
    /// arrive). Returns whether the vector is now empty.
    pub fn prune(&mut self, bound: &VersionVector) -> bool {
        self.0.retain(|&(r, h)| h > bound.get(r));
        self.0.is_empty()
    }

    /// Entries in region order.
    pub fn iter(&self) -> impl Iterator<Item = (RegionId, Hlc)> + '_ {
        self.0.iter().copied()
    }
}

impl FromIterator<(RegionId, Hlc)> for VersionVector {
    fn from_iter<T: IntoIterator<Item = (RegionId, Hlc)>>(iter: T) -> Self {
        let mut vv = VersionVector::new();
        for (r, h) in iter {
            vv.set_max(r, h);
        }
        vv
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_and_merge() {
        let mut a = VersionVector::new();
        a.add(Dot::new(1, 10));
        assert!(a.covers(&Dot::new(1, 10)));
        assert!(!a.covers(&Dot::new(1, 11)));
        assert!(!a.covers(&Dot::new(2, 1)));
        let mut b = VersionVector::new();
        b.add(Dot::new(2, 3));
        b.add(Dot::new(1, 4));
        a.merge(&b);
        assert_eq!(a.get(RegionId(1)), Hlc(10));
        assert_eq!(a.get(RegionId(2)), Hlc(3));
        let bound: VersionVector = [(RegionId(1), Hlc(10))].into_iter().collect();
        assert!(!a.prune(&bound));
        assert_eq!(a.get(RegionId(1)), Hlc(0));
    }
}
