//! List operations on an [`Entry`]: each wraps a [`List`] delta in an entry delta. The key
//! floor (an observed DEL or overwrite) hides the elements it covers, so every list call
//! passes it.
//!
//! The caller (the shard) has already checked the key's type and expired it if due.

use crate::entry::{Entry, Full};
use crate::hlc::Dot;
use crate::list::List;
use crate::vv::VersionVector;

impl Entry {
    fn list_parts(&self) -> Option<(&List, &VersionVector)> {
        match self {
            Entry::Full(f) => f.list.as_deref().map(|l| (l, &f.floor)),
            Entry::Plain { .. } | Entry::Packed(_) => None,
        }
    }

    /// Runs a list write on the local state and wraps its delta; `None` when it changed
    /// nothing. `emptied`: the write may have removed the last element, which deletes the
    /// key with its TTL (as in Redis), so a later write does not find the old TTL.
    fn list_write(
        &mut self,
        emptied: bool,
        f: impl FnOnce(&mut List, &VersionVector) -> List,
    ) -> Option<Entry> {
        let revive = self.full().dead_ttl_floor();
        let full = self.full_mut();
        let list = full.list.get_or_insert_with(Box::default);
        let delta = f(list, &full.floor);
        if delta.is_empty() {
            if list.is_empty() {
                full.list = None;
            }
            return None;
        }
        let mut xfloor = revive;
        if emptied && full.kind().is_none() {
            xfloor.merge(&full.observed_expiry());
        }
        // The list op already applied its records here; merging the wrapper applies the TTL
        // floor (merging the same records again is idempotent).
        Some(self.apply(Full {
            list: Some(Box::new(delta)),
            xfloor,
            ..Full::default()
        }))
    }

    /// `LPUSH` (`left`) / `RPUSH`: returns the new length and the delta.
    pub fn list_push(&mut self, dot: Dot, left: bool, values: &[&[u8]]) -> (usize, Option<Entry>) {
        let d = self.list_write(false, |l, floor| l.push(floor, dot, left, values));
        (self.list_len(), d)
    }

    /// Visible elements.
    pub fn list_len(&self) -> usize {
        self.list_parts().map_or(0, |(l, f)| l.len(f))
    }

    /// `LINDEX`.
    pub fn list_get(&self, index: i64) -> Option<&[u8]> {
        self.list_parts().and_then(|(l, f)| l.get(f, index))
    }

    /// `LRANGE` (Redis index rules).
    pub fn list_range(&self, start: i64, stop: i64) -> Vec<&[u8]> {
        self.list_parts()
            .map(|(l, f)| l.range(f, start, stop))
            .unwrap_or_default()
    }

    /// Visible elements in order.
    pub fn list_iter(&self) -> Box<dyn DoubleEndedIterator<Item = &[u8]> + '_> {
        match self.list_parts() {
            Some((l, f)) => Box::new(l.iter(f)),
            None => Box::new(std::iter::empty()),
        }
    }

    /// `LPOP`/`RPOP` of up to `count`: the values in pop order and the delta.
    pub fn list_pop(
        &mut self,
        dot: Dot,
        left: bool,
        count: usize,
    ) -> (Vec<Box<[u8]>>, Option<Entry>) {
        let mut out = Vec::new();
        let d = self.list_write(true, |l, floor| {
            let (v, d) = l.pop(floor, dot, left, count);
            out = v;
            d
        });
        (out, d)
    }

    /// `LSET` of a visible index (`None` when out of range).
    pub fn list_set(&mut self, dot: Dot, index: usize, value: &[u8]) -> Option<Entry> {
        self.list_write(false, |l, floor| l.set(floor, dot, index, value))
    }

    /// `LINSERT` relative to the visible element at `pivot`.
    pub fn list_insert(
        &mut self,
        dot: Dot,
        pivot: usize,
        after: bool,
        value: &[u8],
    ) -> Option<Entry> {
        self.list_write(false, |l, floor| l.insert(floor, dot, pivot, after, value))
    }

    /// Removes the visible elements at `indices` (`LREM`, `LTRIM`).
    pub fn list_remove(&mut self, dot: Dot, indices: &[usize]) -> Option<Entry> {
        self.list_write(true, |l, floor| l.remove(floor, dot, indices))
    }
}
