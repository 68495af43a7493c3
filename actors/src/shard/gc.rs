//! Group-wide garbage collection: which keys wait for which removals to become stable.
//!
//! A delta that removes something (`Entry::removes`) leaves metadata that only the
//! group-wide stable vector can free: floors until the ops they cover arrive, list
//! tombstones, dead counter records. The shard queues the key under the removal's stamp,
//! per origin region, oldest first. When the stable vector of the key's slot passes the
//! stamp, the key is collected (`Entry::compact_stable`); it is *settled* when every
//! removal merged into it is stable, which is what lets dead counters go.
//!
//! A key keeps one queue item per region (its latest removal from that region), so a hot
//! key costs at most five items, not one per write.

use std::collections::{BTreeSet, HashMap};

use crdt::{Dot, Entry, Hlc, Touched, VersionVector};

/// `(stamp, slot, key)`: one queued removal.
type Item = (u64, u16, Box<[u8]>);

/// The keys waiting for their removals to become stable.
#[derive(Default)]
pub(crate) struct Queue {
    /// Per key: the highest stamp, per region, of the removals merged into it since it was
    /// last settled.
    waiting: HashMap<(u16, Box<[u8]>), VersionVector>,
    /// Per region: `(stamp, slot, key)` of each waiting key's latest removal from it.
    order: HashMap<u8, BTreeSet<Item>>,
    /// Per key: the elements its queued removals and conflicts named, so collecting a big
    /// collection looks only at them. Kept until a settled collection finds nothing left.
    touched: HashMap<(u16, Box<[u8]>), Touched>,
}

/// A key whose latest removal from some region is now stable.
pub(crate) struct Due {
    pub slot: u16,
    pub key: Box<[u8]>,
    /// The slot's stable vector.
    pub stable: VersionVector,
    /// Every removal merged into the key is stable.
    pub settled: bool,
    /// The elements to look at (taken out of the queue when settled: give them back with
    /// [`Queue::retouch`] if something is left to collect).
    pub touched: Touched,
}

impl Queue {
    /// Records that `op`, a removal (or a merge that left a conflict), was merged into
    /// `key`; `delta` is what it merged, if known (its elements are then looked at).
    pub fn add(&mut self, slot: u16, key: &[u8], op: Dot, delta: Option<&Entry>) {
        let k: (u16, Box<[u8]>) = (slot, key.into());
        if let Some(d) = delta {
            self.touched.entry(k.clone()).or_default().add(d);
        }
        let vv = self.waiting.entry(k.clone()).or_default();
        let old = vv.get(op.region);
        if old >= op.hlc {
            return;
        }
        vv.set_max(op.region, op.hlc);
        let q = self.order.entry(op.region.0).or_default();
        if old > Hlc(0) {
            q.remove(&(old.0, slot, k.1.clone()));
        }
        q.insert((op.hlc.0, slot, k.1));
    }

    /// Like [`Queue::add`] for an entry whose history is not known (installed from a full
    /// snapshot): collection looks at all of it.
    pub fn add_everything(&mut self, slot: u16, key: &[u8], op: Dot) {
        self.touched.insert((slot, key.into()), Touched::all());
        self.add(slot, key, op, None);
    }

    /// Takes up to `limit` keys whose queued removal is stable by `stable_of(slot)`.
    pub fn due(
        &mut self,
        limit: usize,
        mut stable_of: impl FnMut(u16) -> VersionVector,
    ) -> Vec<Due> {
        let mut out = Vec::new();
        let mut requeue = Vec::new();
        for (&region, q) in self.order.iter_mut() {
            while out.len() < limit {
                let Some((hlc, slot, _)) = q.first() else {
                    break;
                };
                let stable = stable_of(*slot);
                if stable.get(crdt::RegionId(region)) < Hlc(*hlc) {
                    break;
                }
                let Some((_, slot, key)) = q.pop_first() else {
                    break;
                };
                let k = (slot, key);
                let mut settled = true;
                if let Some(vv) = self.waiting.get(&k) {
                    for (r, h) in vv.iter().filter(|(r, h)| stable.get(*r) < *h) {
                        settled = false;
                        // Normally still queued; make sure (the stable vector only grows,
                        // but a key must never wait without an item).
                        requeue.push((r.0, (h.0, k.0, k.1.clone())));
                    }
                }
                let touched = if settled {
                    self.waiting.remove(&k);
                    self.touched.remove(&k).unwrap_or_default()
                } else {
                    self.touched.get(&k).cloned().unwrap_or_default()
                };
                out.push(Due {
                    slot: k.0,
                    key: k.1,
                    stable,
                    settled,
                    touched,
                });
            }
        }
        for (r, item) in requeue {
            self.order.entry(r).or_default().insert(item);
        }
        out
    }

    /// Gives a key's touched elements back after a collection that left something to do
    /// (only while the key is queued: a key that left the queue has nothing waiting).
    pub fn retouch(&mut self, slot: u16, key: &[u8], touched: &Touched) {
        let k: (u16, Box<[u8]>) = (slot, key.into());
        if self.waiting.contains_key(&k) {
            self.touched.entry(k).or_default().merge(touched);
        }
    }

    /// Keys waiting, with the highest stamp per region of their removals not yet settled.
    pub fn waiting(&self) -> impl Iterator<Item = (&(u16, Box<[u8]>), &VersionVector)> + '_ {
        self.waiting.iter()
    }

    /// Keys waiting.
    pub fn len(&self) -> usize {
        self.waiting.len()
    }

    /// Forgets everything (FLUSHALL).
    pub fn clear(&mut self) {
        self.waiting.clear();
        self.order.clear();
        self.touched.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crdt::RegionId;

    fn vv(pairs: &[(u8, u64)]) -> VersionVector {
        pairs.iter().map(|&(r, h)| (RegionId(r), Hlc(h))).collect()
    }

    #[test]
    fn a_key_is_settled_once_every_region_s_removal_is_stable() {
        let mut q = Queue::default();
        q.add(7, b"k", Dot::new(1, 10), None);
        q.add(7, b"k", Dot::new(1, 20), None);
        q.add(7, b"k", Dot::new(2, 5), None);
        q.add(8, b"other", Dot::new(1, 30), None);
        assert_eq!(q.len(), 2);
        // One item per key and region: the older stamp of region 1 was replaced.
        assert_eq!(q.order[&1].len(), 2);
        // Region 2's removal is stable, region 1's latest is not: not settled yet.
        let due = q.due(10, |_| vv(&[(1, 15), (2, 5)]));
        assert_eq!(due.len(), 1);
        assert!(!due[0].settled);
        assert!(q.due(10, |_| vv(&[(1, 19), (2, 5)])).is_empty());
        let due = q.due(10, |_| vv(&[(1, 25), (2, 5)]));
        assert_eq!(due.len(), 1);
        assert!(due[0].settled);
        assert_eq!(q.len(), 1);
        // Even if the stable vector went back, a waiting key keeps an item.
        q.add(9, b"back", Dot::new(1, 40), None);
        q.add(9, b"back", Dot::new(2, 40), None);
        let back = |due: Vec<Due>| due.iter().find(|d| &*d.key == b"back").map(|d| d.settled);
        assert_eq!(back(q.due(10, |_| vv(&[(1, 40), (2, 39)]))), Some(false));
        assert_eq!(back(q.due(10, |_| vv(&[(1, 39), (2, 40)]))), Some(false));
        assert_eq!(back(q.due(10, |_| vv(&[(1, 40), (2, 40)]))), Some(true));
        assert_eq!(q.len(), 0);
    }

    #[test]
    fn a_key_remembers_the_elements_its_removals_named_until_settled() {
        let mut q = Queue::default();
        let mut h = Entry::default();
        let (_, _) = h.hset(
            Dot::new(1, 1),
            [(&b"f"[..], &b"1"[..]), (&b"g"[..], &b"1"[..])],
        );
        let (_, del) = h.hdel([&b"f"[..]]);
        let del = del.expect("f existed");
        q.add(7, b"h", Dot::new(1, 2), Some(&del));
        q.add(7, b"h", Dot::new(2, 3), None);
        let mut only = Touched::default();
        only.add(&del);
        // Not settled: a copy, the queue keeps them.
        let due = q.due(10, |_| vv(&[(1, 2), (2, 0)]));
        assert_eq!(due.len(), 1);
        assert!(!due[0].settled);
        assert_eq!(due[0].touched, only);
        assert_eq!(q.touched.len(), 1);
        let due = q.due(10, |_| vv(&[(1, 2), (2, 3)]));
        assert_eq!(due.len(), 1);
        assert!(due[0].settled);
        assert_eq!(due[0].touched, only);
        // Taken out when settled; given back only while the key is queued.
        q.retouch(7, b"h", &due[0].touched);
        assert!(q.touched.is_empty());
        q.add(7, b"h", Dot::new(1, 9), None);
        q.retouch(7, b"h", &due[0].touched);
        assert_eq!(q.touched.len(), 1);
    }
}
