//! A key's CRDT entry: the string/number register, the add-wins set, key-level observed
//! delete, the type-conflict rule and the expiry rule, in one lattice.
//!
//! Every local write is expressed as a small *delta* entry that is merged into the local
//! entry and shipped to the other regions, where the same `merge` is applied: so "delta
//! application equals state merge" holds by construction. `merge` is a join: commutative,
//! associative and idempotent.
//!
//! Removal is by *floors* (see [`VersionVector`]): a write that overwrites or deletes records
//! the dots it observed, and the floor removes exactly those everywhere. Floors only matter
//! until every op they cover has arrived, so [`Entry::compact`] drops them once the
//! receiver's per-origin received vector passes them. That keeps the common case small: a
//! string written in one region is an [`Entry::Plain`] of a dot and the bytes.
//!
//! Delivery contract: ops from one origin region about one key arrive in the order they were
//! made (FIFO per origin); duplicates are harmless to `merge`, but once [`Entry::compact`] has
//! pruned floors a duplicate must not be merged again (the receiver dedups by stream offset).

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::counter::{contribution, Counters, Totals};
use crate::hlc::{Dot, Hlc, RegionId};
use crate::num;
use crate::vv::VersionVector;

/// The data type a key holds, as `TYPE` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Strings and numbers.
    String,
    /// Add-wins sets.
    Set,
}

/// A key's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Entry {
    /// The common case: one string value from one write, no TTL, no removal metadata.
    Plain {
        /// The write.
        dot: Dot,
        /// The value.
        #[serde(with = "serde_bytes")]
        value: Box<[u8]>,
    },
    /// Everything else.
    Full(Box<Full>),
}

impl Default for Entry {
    fn default() -> Self {
        Entry::Full(Box::default())
    }
}

/// A byte string usable as a map key and encoded as MessagePack bin.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Member(#[serde(with = "serde_bytes")] pub Box<[u8]>);

impl std::borrow::Borrow<[u8]> for Member {
    fn borrow(&self) -> &[u8] {
        &self.0
    }
}

/// A value written by `SET` (or `APPEND`, `GETSET`, …): one write of the register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Base {
    /// The write.
    pub dot: Dot,
    /// The bytes written.
    #[serde(with = "serde_bytes")]
    pub value: Box<[u8]>,
    /// Counter totals the write observed: increments up to them are part of `value`.
    pub cfloor: Counters,
}

/// One set member: the adds that are still live, and the removals' floor.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MemberState {
    /// Dots of the adds not yet removed, sorted.
    pub dots: Vec<Dot>,
    /// Removes the adds an `SREM` observed.
    pub floor: VersionVector,
}

/// One TTL write: a deadline, or `None` for `PERSIST`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpiryWrite {
    /// The write.
    pub dot: Dot,
    /// Unix milliseconds, or `None` for PERSIST.
    pub deadline: Option<u64>,
}

/// The general form of an entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Full {
    /// Removes register bases and set adds observed by a DEL or an overwrite.
    pub floor: VersionVector,
    /// Counter totals observed by a DEL.
    pub cfloor: Counters,
    /// Register writes not removed, winner first (concurrent ones are kept until observed).
    pub bases: Vec<Base>,
    /// Per-region increment totals.
    pub counters: Counters,
    /// Set members.
    pub members: BTreeMap<Member, MemberState>,
    /// Removes TTL writes observed by a DEL, an overwrite or a later EXPIRE/PERSIST.
    pub xfloor: VersionVector,
    /// TTL writes not removed, sorted by dot.
    pub xents: Vec<ExpiryWrite>,
}

/// The TTL in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    /// Unix milliseconds.
    pub deadline_ms: u64,
    /// The region whose TTL won: it deletes the key when the time comes.
    pub owner: RegionId,
}

/// Why a numeric write was refused (the caller maps each to Redis's error text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumError {
    /// "ERR value is not an integer or out of range"
    NotInteger,
    /// "ERR increment or decrement would overflow"
    Overflow,
    /// "ERR value is not a valid float"
    NotFloat,
    /// "ERR increment would produce NaN or Infinity"
    NanOrInfinity,
}

impl Full {
    fn live_member_count(&self) -> usize {
        self.members.values().filter(|m| !m.dots.is_empty()).count()
    }

    fn counter_contribution(&self) -> crate::counter::Contribution {
        contribution(
            &self.counters,
            &self.cfloor,
            self.bases.first().map(|b| &b.cfloor),
        )
    }

    fn string_dot(&self) -> Option<Dot> {
        let mut best = self.bases.first().map(|b| b.dot);
        for (r, t) in self.counters.iter() {
            if t.ops > self.cfloor.get(r).ops {
                let d = Dot {
                    hlc: t.last,
                    region: r,
                };
                if best.is_none_or(|b| d > b) {
                    best = Some(d);
                }
            }
        }
        best
    }

    fn set_dot(&self) -> Option<Dot> {
        self.members
            .values()
            .filter_map(|m| m.dots.last().copied())
            .max()
    }

    fn has_live_member(&self) -> bool {
        self.members.values().any(|m| !m.dots.is_empty())
    }

    fn kind(&self) -> Option<Kind> {
        // The common cases stay cheap: a set without string content, or a string without
        // members. Only a type conflict needs the latest member dot (a scan of the set).
        match (self.string_dot(), self.has_live_member()) {
            (None, false) => None,
            (Some(_), false) => Some(Kind::String),
            (None, true) => Some(Kind::Set),
            (Some(s), true) => match self.set_dot() {
                Some(m) if m > s => Some(Kind::Set),
                _ => Some(Kind::String),
            },
        }
    }

    /// Dots of content (register writes and set adds) this entry holds.
    fn observed(&self) -> VersionVector {
        let mut vv = VersionVector::new();
        for b in &self.bases {
            vv.add(b.dot);
        }
        for m in self.members.values() {
            for d in &m.dots {
                vv.add(*d);
            }
        }
        vv
    }

    /// TTL writes left on a key with no live content (a concurrent EXPIRE that survived a
    /// DEL): a write that brings the key back must not inherit them, so it floors them.
    fn dead_ttl_floor(&self) -> VersionVector {
        if self.kind().is_none() {
            self.observed_expiry()
        } else {
            VersionVector::new()
        }
    }

    fn observed_expiry(&self) -> VersionVector {
        let mut vv = VersionVector::new();
        for x in &self.xents {
            vv.add(x.dot);
        }
        vv
    }

    fn merge(&mut self, o: &Full) {
        let floor_grew = !o.floor.is_empty();
        self.floor.merge(&o.floor);
        self.cfloor.merge(&o.cfloor);
        self.counters.merge(&o.counters);
        for b in &o.bases {
            if !self.bases.iter().any(|x| x.dot == b.dot) {
                self.bases.push(b.clone());
            }
        }
        let floor = &self.floor;
        self.bases.retain(|b| !floor.covers(&b.dot));
        self.bases.sort_by_key(|b| std::cmp::Reverse(b.dot));
        for (k, m) in &o.members {
            let mine = self.members.entry(k.clone()).or_default();
            mine.floor.merge(&m.floor);
            for d in &m.dots {
                if let Err(i) = mine.dots.binary_search(d) {
                    mine.dots.insert(i, *d);
                }
            }
            let (mf, kf) = (&mine.floor, &self.floor);
            mine.dots.retain(|d| !mf.covers(d) && !kf.covers(d));
            // Only each region's newest add matters (floors are per-region maxima), so
            // re-adding a member does not grow it.
            if mine.dots.len() > 1 {
                let dots = std::mem::take(&mut mine.dots);
                mine.dots = dots
                    .iter()
                    .filter(|d| !dots.iter().any(|o| o.region == d.region && o.hlc > d.hlc))
                    .copied()
                    .collect();
            }
        }
        if floor_grew {
            let kf = &self.floor;
            for m in self.members.values_mut() {
                m.dots.retain(|d| !kf.covers(d));
            }
        }
        self.xfloor.merge(&o.xfloor);
        for x in &o.xents {
            if let Err(i) = self.xents.binary_search_by(|y| y.dot.cmp(&x.dot)) {
                self.xents.insert(i, *x);
            }
        }
        let xf = &self.xfloor;
        self.xents.retain(|x| !xf.covers(&x.dot));
    }

    fn expiry(&self) -> Option<Expiry> {
        if self.xents.is_empty() || self.xents.iter().any(|x| x.deadline.is_none()) {
            return None;
        }
        self.xents
            .iter()
            .filter_map(|x| x.deadline.map(|d| (d, x.dot)))
            .max()
            .map(|(deadline_ms, dot)| Expiry {
                deadline_ms,
                owner: dot.region,
            })
    }
}

impl Entry {
    /// A string written once, with no TTL.
    pub fn plain(dot: Dot, value: &[u8]) -> Entry {
        Entry::Plain {
            dot,
            value: value.into(),
        }
    }

    fn full(&self) -> Cow<'_, Full> {
        match self {
            Entry::Plain { dot, value } => Cow::Owned(Full {
                bases: vec![Base {
                    dot: *dot,
                    value: value.clone(),
                    cfloor: Counters::default(),
                }],
                ..Full::default()
            }),
            Entry::Full(f) => Cow::Borrowed(f),
        }
    }

    fn full_mut(&mut self) -> &mut Full {
        if let Entry::Plain { .. } = self {
            let f = self.full().into_owned();
            *self = Entry::Full(Box::new(f));
        }
        match self {
            Entry::Full(f) => f,
            // Converted just above.
            Entry::Plain { .. } => unreachable!("plain entry converted to full"),
        }
    }

    /// Turns a full entry that is just one plain write back into [`Entry::Plain`], so equal
    /// states have one representation and the common case stays small.
    fn normalize(&mut self) {
        let Entry::Full(f) = self else { return };
        let plain = f.bases.len() == 1
            && f.bases[0].cfloor.is_empty()
            && f.floor.is_empty()
            && f.cfloor.is_empty()
            && f.counters.is_empty()
            && f.members.is_empty()
            && f.xfloor.is_empty()
            && f.xents.is_empty();
        if plain {
            if let Some(b) = f.bases.pop() {
                *self = Entry::Plain {
                    dot: b.dot,
                    value: b.value,
                };
            }
        }
    }

    /// Merges another state (or a delta) into this one.
    pub fn merge(&mut self, other: &Entry) {
        if let (Entry::Plain { dot, .. }, Entry::Plain { dot: od, .. }) = (&*self, other) {
            if dot == od {
                return;
            }
        }
        let o = other.full();
        self.full_mut().merge(&o);
        self.normalize();
    }

    /// Whether a client can see anything in this key (ignoring its TTL).
    pub fn is_live(&self) -> bool {
        match self {
            Entry::Plain { .. } => true,
            Entry::Full(f) => f.kind().is_some(),
        }
    }

    /// The type that wins (the one with the latest live write), if any content is live.
    pub fn kind(&self) -> Option<Kind> {
        match self {
            Entry::Plain { .. } => Some(Kind::String),
            Entry::Full(f) => f.kind(),
        }
    }

    /// The TTL in force, if any.
    pub fn expiry(&self) -> Option<Expiry> {
        match self {
            Entry::Plain { .. } => None,
            Entry::Full(f) => f.expiry(),
        }
    }

    /// The string value, if the key holds a live string (whatever the winning type; the
    /// caller checks [`Entry::kind`] first).
    pub fn string_value(&self) -> Option<Cow<'_, [u8]>> {
        let f = match self {
            Entry::Plain { value, .. } => return Some(Cow::Borrowed(value)),
            Entry::Full(f) => f,
        };
        let c = f.counter_contribution();
        let base = f.bases.first();
        if c.ops == 0 {
            return base.map(|b| Cow::Borrowed(&b.value[..]));
        }
        let raw: &[u8] = base.map(|b| &b.value[..]).unwrap_or(b"0");
        if c.fops == 0 {
            if let Some(i) = num::parse_i64(raw) {
                let v = (i as i128)
                    .saturating_add(c.isum)
                    .clamp(i64::MIN as i128, i64::MAX as i128);
                return Some(Cow::Owned(v.to_string().into_bytes()));
            }
        }
        match num::parse_f64(raw) {
            Some(x) => {
                let v = x + c.isum as f64 + c.fsum;
                let v = if v.is_finite() {
                    v
                } else {
                    v.clamp(f64::MIN, f64::MAX)
                };
                Some(Cow::Owned(num::format_float_human(v).into_bytes()))
            }
            // A winning SET of a non-number drops the increments it did not observe.
            None => base.map(|b| Cow::Borrowed(&b.value[..])),
        }
    }

    /// Live set members, in byte order.
    pub fn members(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let map = match self {
            Entry::Full(f) => Some(&f.members),
            Entry::Plain { .. } => None,
        };
        map.into_iter()
            .flat_map(|m| m.iter())
            .filter(|(_, m)| !m.dots.is_empty())
            .map(|(k, _)| &k.0[..])
    }

    /// Number of live members.
    pub fn card(&self) -> usize {
        match self {
            Entry::Full(f) => f.live_member_count(),
            Entry::Plain { .. } => 0,
        }
    }

    /// Whether `m` is a live member.
    pub fn is_member(&self, m: &[u8]) -> bool {
        match self {
            Entry::Full(f) => f.members.get(m).is_some_and(|s| !s.dots.is_empty()),
            Entry::Plain { .. } => false,
        }
    }

    fn apply(&mut self, delta: Full) -> Entry {
        let d = Entry::Full(Box::new(delta));
        self.merge(&d);
        let mut d = d;
        d.normalize();
        d
    }

    /// `SET`-like write of the whole value: an observed delete of the old content (all types),
    /// of the observed TTL unless `keep_ttl`, plus the new value and optional deadline.
    /// Returns the delta.
    pub fn set(&mut self, dot: Dot, value: &[u8], keep_ttl: bool, deadline: Option<u64>) -> Entry {
        // Fast path: overwriting a plain value needs no metadata beyond the old dot.
        if let (Entry::Plain { dot: old, .. }, None) = (&*self, deadline) {
            let mut floor = VersionVector::new();
            floor.add(*old);
            *self = Entry::plain(dot, value);
            return Entry::Full(Box::new(Full {
                floor,
                bases: vec![Base {
                    dot,
                    value: value.into(),
                    cfloor: Counters::default(),
                }],
                ..Full::default()
            }));
        }
        let cur = self.full();
        let delta = Full {
            floor: cur.observed(),
            bases: vec![Base {
                dot,
                value: value.into(),
                cfloor: cur.counters.clone(),
            }],
            xfloor: if keep_ttl {
                cur.dead_ttl_floor()
            } else {
                cur.observed_expiry()
            },
            xents: deadline
                .map(|d| {
                    vec![ExpiryWrite {
                        dot,
                        deadline: Some(d),
                    }]
                })
                .unwrap_or_default(),
            ..Full::default()
        };
        drop(cur);
        self.apply(delta)
    }

    /// Observed delete of everything in the key (content, counters, TTL). `None` when there
    /// is nothing to delete.
    pub fn delete(&mut self) -> Option<Entry> {
        if !self.is_live() {
            return None;
        }
        let cur = self.full();
        let delta = Full {
            floor: cur.observed(),
            cfloor: cur.counters.clone(),
            xfloor: cur.observed_expiry(),
            ..Full::default()
        };
        drop(cur);
        Some(self.apply(delta))
    }

    /// Records one increment in this region's counter record (`add` puts the amount in the
    /// integer or float sum) and returns the delta. A key revived by it drops TTL writes
    /// left on the dead key.
    fn count(&mut self, dot: Dot, add: impl FnOnce(&mut Totals)) -> Entry {
        let f = self.full();
        let mut t: Totals = f.counters.get(dot.region);
        let xfloor = f.dead_ttl_floor();
        drop(f);
        t.ops = t.ops.saturating_add(1);
        t.last = dot.hlc;
        add(&mut t);
        let mut counters = Counters::default();
        counters.put(dot.region, t);
        self.apply(Full {
            counters,
            xfloor,
            ..Full::default()
        })
    }

    /// `INCRBY`: adds to this region's counter. Returns the new value and the delta.
    pub fn incr_by(&mut self, dot: Dot, by: i64) -> Result<(i64, Entry), NumError> {
        let cur = match self.string_value() {
            Some(v) => num::parse_i64(&v).ok_or(NumError::NotInteger)?,
            None => 0,
        };
        let new = cur.checked_add(by).ok_or(NumError::Overflow)?;
        let delta = self.count(dot, |t| t.isum = t.isum.saturating_add(by as i128));
        Ok((new, delta))
    }

    /// `INCRBYFLOAT`: adds to this region's float counter. Returns the printed new value and
    /// the delta.
    pub fn incr_by_float(&mut self, dot: Dot, by: f64) -> Result<(Vec<u8>, Entry), NumError> {
        let cur = match self.string_value() {
            Some(v) => num::parse_f64(&v).ok_or(NumError::NotFloat)?,
            None => 0.0,
        };
        let new = cur + by;
        if !new.is_finite() || !by.is_finite() {
            return Err(NumError::NanOrInfinity);
        }
        let delta = self.count(dot, |t| {
            t.fops = t.fops.saturating_add(1);
            t.fsum += by;
        });
        let shown = self
            .string_value()
            .map(|v| v.into_owned())
            .unwrap_or_default();
        Ok((shown, delta))
    }

    /// `SADD`: a new add dot for every member (a re-add wins over a concurrent remove).
    /// Returns how many members were new, and the delta.
    pub fn sadd<'a>(
        &mut self,
        dot: Dot,
        members: impl IntoIterator<Item = &'a [u8]>,
    ) -> (usize, Entry) {
        let mut added = 0;
        let mut delta = Full {
            xfloor: self.full().dead_ttl_floor(),
            ..Full::default()
        };
        for m in members {
            let key = Member(m.into());
            if delta.members.contains_key(&key) {
                continue;
            }
            if !self.is_member(m) {
                added += 1;
            }
            delta.members.insert(
                key,
                MemberState {
                    dots: vec![dot],
                    floor: VersionVector::new(),
                },
            );
        }
        (added, self.apply(delta))
    }

    /// `SREM`: removes the adds observed of each member. Returns how many were members, and
    /// the delta (`None` if nothing was removed).
    pub fn srem<'a>(
        &mut self,
        members: impl IntoIterator<Item = &'a [u8]>,
    ) -> (usize, Option<Entry>) {
        let Entry::Full(f) = &*self else {
            return (0, None);
        };
        let mut delta = Full::default();
        for m in members {
            if let Some(s) = f.members.get(m) {
                if !s.dots.is_empty() && !delta.members.contains_key(m) {
                    let floor = s.dots.iter().map(|d| (d.region, d.hlc)).collect();
                    delta.members.insert(
                        Member(m.into()),
                        MemberState {
                            dots: Vec::new(),
                            floor,
                        },
                    );
                }
            }
        }
        let removed = delta.members.len();
        if removed == 0 {
            return (0, None);
        }
        // Removing the last member deletes the key, as in Redis: its TTL goes with it, so a
        // later write does not find the old TTL again.
        let others = f
            .members
            .iter()
            .any(|(k, m)| !m.dots.is_empty() && !delta.members.contains_key(k));
        if !others && f.string_dot().is_none() {
            delta.xfloor = f.observed_expiry();
        }
        (removed, Some(self.apply(delta)))
    }

    /// `EXPIRE` (a deadline) or `PERSIST` (`None`): replaces the TTL writes observed.
    pub fn set_expiry(&mut self, dot: Dot, deadline: Option<u64>) -> Entry {
        let xfloor = self.full().observed_expiry();
        self.apply(Full {
            xfloor,
            xents: vec![ExpiryWrite { dot, deadline }],
            ..Full::default()
        })
    }

    /// The largest stamp in the entry (used to advance a receiver's clock).
    pub fn max_hlc(&self) -> Hlc {
        let f = match self {
            Entry::Plain { dot, .. } => return dot.hlc,
            Entry::Full(f) => f,
        };
        let mut h = Hlc(0);
        for b in &f.bases {
            h = h.max(b.dot.hlc);
        }
        for (_, t) in f.counters.iter() {
            h = h.max(t.last);
        }
        for m in f.members.values() {
            if let Some(d) = m.dots.last() {
                h = h.max(d.hlc);
            }
        }
        for x in &f.xents {
            h = h.max(x.dot.hlc);
        }
        h
    }

    /// Drops metadata that can no longer matter and reports whether the entry is now empty
    /// (may be removed from the keyspace).
    ///
    /// `received[r]`: this replica has merged every op of region `r` on this key with a stamp
    /// up to it (own region: everything). Floors at or below it remove nothing that can still
    /// arrive, so they go.
    ///
    /// `lone`: this replica is the whole group (a region without peers). Then nothing
    /// concurrent can exist or arrive: losing-type content, PERSIST markers, counters folded
    /// into the value and dead entries go too. (Collecting those in a linked group needs the
    /// group-wide stable vector and is not done here.)
    pub fn compact(&mut self, received: &VersionVector, lone: bool) -> bool {
        self.compact_members(received, lone, None)
    }

    /// [`Entry::compact`] after applying `delta`: only the set members the delta touched can
    /// have new removal metadata, so only they are looked at (a write to a big set stays
    /// proportional to the write, not to the set).
    pub fn compact_after(&mut self, delta: &Entry, received: &VersionVector, lone: bool) -> bool {
        match delta {
            // A grown key floor may have emptied any member: look at all of them.
            Entry::Full(d) if !d.floor.is_empty() => self.compact_members(received, lone, None),
            Entry::Full(d) => self.compact_members(received, lone, Some(&d.members)),
            Entry::Plain { .. } => self.compact_members(received, lone, Some(&BTreeMap::new())),
        }
    }

    fn compact_members(
        &mut self,
        received: &VersionVector,
        lone: bool,
        only: Option<&BTreeMap<Member, MemberState>>,
    ) -> bool {
        let Entry::Full(f) = self else { return false };
        f.floor.prune(received);
        f.xfloor.prune(received);
        let keep = |m: &mut MemberState| {
            m.floor.prune(received);
            !(m.dots.is_empty() && m.floor.is_empty())
        };
        match only {
            None => f.members.retain(|_, m| keep(m)),
            Some(touched) => {
                for k in touched.keys() {
                    if let Some(m) = f.members.get_mut(k) {
                        if !keep(m) {
                            f.members.remove(k);
                        }
                    }
                }
            }
        }
        if lone {
            match f.kind() {
                Some(Kind::String) => f.members.clear(),
                Some(Kind::Set) => {
                    f.bases.clear();
                    f.counters = Counters::default();
                    f.cfloor = Counters::default();
                }
                None => {
                    *self = Entry::default();
                    return true;
                }
            }
            f.bases.truncate(1);
            if f.xents.iter().any(|x| x.deadline.is_none()) {
                f.xents.clear();
            }
            f.xents.sort_by_key(|x| (x.deadline, x.dot));
            let keep = f.xents.len().saturating_sub(1);
            f.xents.drain(..keep);
            // Fold the counters into the value when it is printed as an integer or has no
            // counters left to add: the next increment starts a fresh record.
            if !f.counters.is_empty() {
                let c = f.counter_contribution();
                if c.ops == 0 {
                    f.counters = Counters::default();
                    f.cfloor = Counters::default();
                    if let Some(b) = f.bases.first_mut() {
                        b.cfloor = Counters::default();
                    }
                } else if c.fops == 0
                    && f.bases
                        .first()
                        .is_none_or(|b| crate::num::parse_i64(&b.value).is_some())
                {
                    let v = Entry::Full(f.clone())
                        .string_value()
                        .map(|v| v.into_owned());
                    if let Some(v) = v {
                        let dot = f.string_dot().unwrap_or_default();
                        f.counters = Counters::default();
                        f.cfloor = Counters::default();
                        f.bases = vec![Base {
                            dot,
                            value: v.into(),
                            cfloor: Counters::default(),
                        }];
                    }
                }
            }
        }
        self.normalize();
        match self {
            Entry::Plain { .. } => false,
            Entry::Full(f) => **f == Full::default(),
        }
    }

    /// Whether compaction could still shrink this entry (it holds removal metadata).
    pub fn has_metadata(&self) -> bool {
        match self {
            Entry::Plain { .. } => false,
            Entry::Full(f) => {
                !f.floor.is_empty()
                    || !f.xfloor.is_empty()
                    || f.members
                        .values()
                        .any(|m| !m.floor.is_empty() || m.dots.is_empty())
                    || (f.kind().is_none())
            }
        }
    }

    /// Like [`Entry::has_metadata`], looking only at the key-level floors and the set members
    /// `delta` touched (so a write to a big set does not scan it).
    pub fn has_metadata_after(&self, delta: &Entry) -> bool {
        let (Entry::Full(f), Entry::Full(d)) = (self, delta) else {
            return self.has_metadata();
        };
        !f.floor.is_empty()
            || !f.xfloor.is_empty()
            || d.members.keys().any(|k| {
                f.members
                    .get(k)
                    .is_some_and(|m| !m.floor.is_empty() || m.dots.is_empty())
            })
            || (f.string_dot().is_none() && d.members.is_empty() && !f.has_live_member())
    }

    /// Feeds the client-visible contents (type, value or members, TTL deadline) to `out`, for
    /// digests that must be equal in converged regions whatever metadata each still holds.
    pub fn logical_digest(&self, out: &mut dyn FnMut(&[u8])) {
        match self.kind() {
            Some(Kind::String) => {
                out(b"s");
                if let Some(v) = self.string_value() {
                    out(&(v.len() as u64).to_be_bytes());
                    out(&v);
                }
            }
            Some(Kind::Set) => {
                out(b"S");
                for m in self.members() {
                    out(&(m.len() as u64).to_be_bytes());
                    out(m);
                }
            }
            None => return out(b"-"),
        }
        match self.expiry() {
            Some(x) => {
                out(b"x");
                out(&x.deadline_ms.to_be_bytes());
            }
            None => out(b"p"),
        }
    }
}
