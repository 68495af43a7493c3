//! The keyspace of one shard: a hash map per owned hash slot, plus an expiry index.
//!
//! Partitioning by slot (16384 small maps instead of one big one) gives `SCAN` a stable
//! cursor for free: the cursor is a slot number, and a slot is always returned whole, so a
//! key present for the whole scan is returned at least once however the maps resize. It also
//! makes a later slot migration or a per-slot snapshot a matter of moving one map.
//!
//! Entries without live content (tombstones that still carry removal floors for peers) stay
//! in the maps until garbage collection drops them; `live` counts only keys a client can see.

use std::collections::BTreeSet;

use crdt::Entry;
use hashbrown::HashMap;

/// Number of hash slots, as in Redis Cluster.
pub const SLOTS: usize = 16384;

type SlotMap = HashMap<Box<[u8]>, Entry>;

/// One shard's keys.
pub struct Keyspace {
    /// Indexed by slot. The maps sit inline (an empty map does not allocate), so a lookup
    /// goes straight from the slot to the map's table.
    slots: Vec<SlotMap>,
    /// Entries held (live keys and tombstones).
    entries: usize,
    /// `(deadline_ms, key)` for every key that had a TTL when last touched. Stale pairs are
    /// allowed (the entry is checked when a pair comes due), so updates never search it.
    expires: BTreeSet<(u64, Box<[u8]>)>,
}

impl Default for Keyspace {
    fn default() -> Self {
        Keyspace::new()
    }
}

impl Keyspace {
    /// An empty keyspace.
    pub fn new() -> Keyspace {
        let mut slots = Vec::with_capacity(SLOTS);
        slots.resize_with(SLOTS, SlotMap::default);
        Keyspace {
            slots,
            entries: 0,
            expires: BTreeSet::new(),
        }
    }

    /// The entry of `key` in `slot`, if any (live or tombstone).
    pub fn get(&self, slot: u16, key: &[u8]) -> Option<&Entry> {
        self.slots.get(slot as usize)?.get(key)
    }

    /// The entry of `key`, mutable.
    pub fn get_mut(&mut self, slot: u16, key: &[u8]) -> Option<&mut Entry> {
        self.slots.get_mut(slot as usize)?.get_mut(key)
    }

    /// The entry of `key`, created empty if missing.
    pub fn entry(&mut self, slot: u16, key: &[u8]) -> &mut Entry {
        let map = &mut self.slots[slot as usize % SLOTS];
        match map.entry_ref(key) {
            hashbrown::hash_map::EntryRef::Occupied(o) => o.into_mut(),
            hashbrown::hash_map::EntryRef::Vacant(v) => {
                self.entries += 1;
                v.insert(Entry::default())
            }
        }
    }

    /// Drops the entry of `key` (after garbage collection found it empty).
    pub fn remove(&mut self, slot: u16, key: &[u8]) {
        if let Some(map) = self.slots.get_mut(slot as usize) {
            if map.remove(key).is_some() {
                self.entries -= 1;
            }
            if map.is_empty() && map.capacity() > 0 {
                // Give an emptied slot's table back (a slot that held keys once may not
                // again).
                *map = SlotMap::default();
            }
        }
    }

    /// Entries held, tombstones included.
    pub fn entries(&self) -> usize {
        self.entries
    }

    /// Records that `key` may expire at `deadline_ms`.
    pub fn index_expiry(&mut self, deadline_ms: u64, key: &[u8]) {
        self.expires.insert((deadline_ms, key.into()));
    }

    /// Takes up to `max` index pairs due at `now_ms`.
    pub fn due_expiries(&mut self, now_ms: u64, max: usize) -> Vec<Box<[u8]>> {
        let mut out = Vec::new();
        while out.len() < max {
            match self.expires.first() {
                Some((deadline, _)) if *deadline <= now_ms => {
                    if let Some((_, key)) = self.expires.pop_first() {
                        out.push(key);
                    }
                }
                _ => break,
            }
        }
        out
    }

    /// Pairs in the expiry index (stale ones included).
    pub fn expiry_index_len(&self) -> usize {
        self.expires.len()
    }

    /// Iterates every entry of the slots in `range`, in slot order.
    pub fn iter_slots(
        &self,
        range: std::ops::Range<usize>,
    ) -> impl Iterator<Item = (u16, &[u8], &Entry)> + '_ {
        let end = range.end.min(SLOTS);
        let start = range.start.min(end);
        self.slots[start..end]
            .iter()
            .enumerate()
            .flat_map(move |(i, m)| m.iter().map(move |(k, e)| ((start + i) as u16, &k[..], e)))
    }

    /// Empties the keyspace.
    pub fn clear(&mut self) {
        for s in self.slots.iter_mut() {
            *s = SlotMap::default();
        }
        self.entries = 0;
        self.expires.clear();
    }

    /// Keys of `slot` (to collect garbage or scan), copied out.
    pub fn slot_keys(&self, slot: u16) -> Vec<Box<[u8]>> {
        match self.slots.get(slot as usize) {
            Some(m) => m.keys().cloned().collect(),
            None => Vec::new(),
        }
    }
}
